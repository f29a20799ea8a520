// Delivers health-alert transitions to a Slack-compatible incoming webhook
// (CHIME_ALERT_WEBHOOK_URL): one POST of {"text": ..., "blocks": [...]} per
// transition still to deliver, as chime.alerts records them. A FIRING notice
// carries the rule's message (the newest failed run: job, error, response)
// and a link to that job on the dashboard when CHIME_PUBLIC_URL is set; a
// RESOLVED one says which run recovered and after how many failed runs.
// Everything that came from a job (errors, responses, names) is escaped as
// Slack documents (&, <, > as HTML entities), so an error holding
// "<!channel>" or "<https://evil|click>" is shown, never acted on. A failed POST is
// recorded on the alert and retried with exponential backoff (database time)
// by whichever scheduler leads next, until max_attempts, so nothing is lost
// across restarts or leader changes; delivery is at least once.
//
// The webhook URL is a secret (a Slack URL's path is its credential): it is
// never logged, never stored, and scrubbed from every error message.
// Address policy: the operator configured this URL, but a redirect or a DNS
// answer could still lead it inward, so the connect-time policy of
// common/http applies (public addresses) plus the ranges the operator lists
// in `allow` (e.g. 10.0.0.0/8 for an in-cluster relay). Redirects are not
// followed. Thread-compatible.
#pragma once

#include <chrono>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "common/base/backoff.h"
#include "common/base/clock.h"
#include "common/base/error.h"
#include "common/db/alert_store.h"
#include "common/http/client.h"

namespace chime::scheduler {

struct AlertNotifierConfig {
  std::string webhook_url;         // http(s) URL; empty: no notifications.
  // The dashboard's address as people reach it (CHIME_PUBLIC_URL), without
  // a trailing '/'; empty: notices carry no links.
  std::string public_url;
  std::vector<std::string> allow;  // CIDRs opened beyond public addresses.
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  BackoffPolicy backoff{std::chrono::seconds(10), std::chrono::minutes(10), 0.2};
  int max_attempts = 20;  // Per transition; then delivery = 'failed'.
  int batch = 20;         // Alerts sent per pass at most.

  // InvalidArgument naming the setting; never echoes the URL.
  [[nodiscard]] Result<void> Validate() const;
};

// The JSON body for one alert in its current state (Slack-compatible: `text`
// and Block Kit `blocks`). With `public_url`, it links the alert's job
// (JobLink) and its schedule (DashboardLink: a line of `text` and a button).
std::string WebhookBody(const db::AlertRow& alert, const std::string& public_url = "");

// `text` with &, < and > replaced by &amp;, &lt; and &gt;: what Slack's
// formatting reference asks of any text not meant as its markup.
std::string SlackEscape(std::string_view text);

// "<public_url>/#/jobs/<id>", the dashboard's view of a job.
std::string JobLink(const std::string& public_url, int64_t job_id);

// The dashboard's page of the alert's schedule: `public_url` (trailing
// slashes dropped) + "/#/schedules/" + the name, percent-encoded.
std::string DashboardLink(std::string_view public_url, const db::AlertRow& alert);

// `text` with every occurrence of `url`, of its userinfo-free form and of
// its path and query replaced by "<webhook>".
std::string RedactWebhook(std::string text, const std::string& url);

struct DeliveryCounts {
  int sent = 0;
  int failed = 0;    // Attempts that failed (and will be retried or gave up).
  int gave_up = 0;
};

class AlertNotifier {
 public:
  // Validates the config and builds the client; the error never names the URL.
  [[nodiscard]] static Result<AlertNotifier> Create(AlertNotifierConfig config);

  bool enabled() const { return !config_.webhook_url.empty(); }

  // Sends every alert due for delivery (up to batch) and records each
  // outcome. A stop request aborts the POST in flight (recorded as failed).
  [[nodiscard]] Result<DeliveryCounts> DeliverDue(db::AlertStore& store, Rng& rng,
                                                  std::stop_token stop = {});

 private:
  AlertNotifier(AlertNotifierConfig config, http::HttpClient client)
      : config_(std::move(config)), client_(std::move(client)) {}

  AlertNotifierConfig config_;
  http::HttpClient client_;
};

}  // namespace chime::scheduler
