#include "scheduler/alert_notifier.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cctype>
#include <algorithm>

#include "common/base/text_format.h"
#include "common/base/utf8.h"

namespace chime::scheduler {
namespace {

using json = nlohmann::ordered_json;

void ReplaceAll(std::string& text, const std::string& what, std::string_view with) {
  if (what.empty()) return;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + with.size())) {
    text.replace(pos, what.size(), with);
  }
}

// The path and query of an http(s) URL ("/services/T0/B0/XXXX"), or "".
std::string PathOf(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  const size_t path = url.find_first_of("/?#", scheme + 3);
  return path == std::string::npos ? "" : url.substr(path);
}

// A public URL Slack can show as a link: http(s), printable ASCII without
// the characters its link syntax uses (<, >, |) or quotes and spaces.
bool LinkableUrl(std::string_view url) {
  if (!url.starts_with("https://") && !url.starts_with("http://")) return false;
  return std::ranges::all_of(url, [](char c) {
    return c > ' ' && c < 0x7f && c != '<' && c != '>' && c != '|' && c != '"' && c != '\\' && c != '#';
  });
}

// The job a notice links to: the recovering run's for a resolved alert,
// else the newest failure the rule saw (values "job_id").
std::optional<int64_t> LinkedJob(const db::AlertRow& a) {
  if (a.state == "resolved" && a.resolved_by_job) return a.resolved_by_job;
  const auto values = json::parse(a.values_json, nullptr, /*allow_exceptions=*/false);
  if (values.is_object() && values.contains("job_id") && values["job_id"].is_number_integer()) {
    return values["job_id"].get<int64_t>();
  }
  return std::nullopt;
}

}  // namespace

std::string SlackEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string JobLink(const std::string& public_url, int64_t job_id) {
  return public_url + "/#/jobs/" + std::to_string(job_id);
}

Result<void> AlertNotifierConfig::Validate() const {
  if (!public_url.empty() && (!LinkableUrl(public_url) || public_url.size() > 2048)) {
    return Fail(ErrorCode::kInvalidArgument,
                "CHIME_PUBLIC_URL: must be an http(s) URL of at most 2048 printable characters "
                "without spaces, quotes, <, >, | or a #fragment");
  }
  if (!webhook_url.empty()) {
    if (!webhook_url.starts_with("https://") && !webhook_url.starts_with("http://")) {
      return Fail(ErrorCode::kInvalidArgument,
                  "CHIME_ALERT_WEBHOOK_URL: must start with https:// or http:// (value not shown)");
    }
    if (webhook_url.size() > 2048) {
      return Fail(ErrorCode::kInvalidArgument, "CHIME_ALERT_WEBHOOK_URL: longer than 2048 bytes");
    }
  }
  if (timeout < std::chrono::milliseconds(100) || timeout > std::chrono::minutes(5)) {
    return Fail(ErrorCode::kInvalidArgument, "alert-webhook-timeout: must be 100ms-5m");
  }
  if (max_attempts < 1 || max_attempts > 1000) {
    return Fail(ErrorCode::kInvalidArgument, "alert-max-attempts: must be 1-1000");
  }
  if (batch < 1 || batch > 1000) return Fail(ErrorCode::kInvalidArgument, "alert batch: must be 1-1000");
  if (auto cidrs = http::Cidr::ParseList(allow); !cidrs) {
    return Fail(ErrorCode::kInvalidArgument, "CHIME_ALERT_WEBHOOK_ALLOW: " + cidrs.error().message);
  }
  if (backoff.base.count() <= 0 || backoff.cap < backoff.base) {
    return Fail(ErrorCode::kInvalidArgument, "alert backoff: base must be positive and at most the cap");
  }
  return {};
}

std::string WebhookBody(const db::AlertRow& a, const std::string& public_url) {
  const bool firing = a.state == "firing";
  // What the notice says, before escaping: the rule's message, and for a
  // resolved alert what ended it.
  const std::string what = !firing && a.resolution ? *a.resolution : a.message;
  std::string headline = firing ? ":rotating_light: *FIRING* " : ":white_check_mark: *RESOLVED* ";
  headline += "`" + SlackEscape(a.schedule_name) + "` " + SlackEscape(a.rule);
  std::string detail = SlackEscape(what);
  if (!firing && a.resolution) detail += "\n(it was: " + SlackEscape(a.message) + ")";
  detail += "\nfired " + FormatRfc3339(a.fired_at);
  if (a.resolved_at) detail += ", resolved " + FormatRfc3339(*a.resolved_at);
  if (!firing && a.delivered_state != std::optional<std::string>("firing")) {
    detail += " (the firing notice was not delivered)";
  }
  std::string text = std::string(firing ? "[FIRING] " : "[RESOLVED] ") + SlackEscape(a.schedule_name) +
                     " " + SlackEscape(a.rule) + ": " + SlackEscape(what);
  const std::optional<int64_t> job = LinkedJob(a);
  if (!public_url.empty() && job) {
    const std::string link = SlackEscape(JobLink(public_url, *job));
    detail += "\n<" + link + "|job " + std::to_string(*job) + " on the dashboard>";
    text += " (" + link + ")";
  }
  json blocks = json::array({json{{"type", "section"}, {"text", json{{"type", "mrkdwn"}, {"text", headline}}}},
                             json{{"type", "section"}, {"text", json{{"type", "mrkdwn"}, {"text", detail}}}}});
  if (!public_url.empty()) {
    // Block Kit: a link button to the schedule (text at most 75 characters,
    // url at most 3000); receivers without Block Kit get the line in `text`.
    const std::string schedule = DashboardLink(public_url, a);
    text += "\n" + schedule;
    blocks.push_back(json{{"type", "actions"},
                          {"elements", json::array({json{{"type", "button"},
                                                         {"action_id", "chime_open_schedule"},
                                                         {"text", json{{"type", "plain_text"}, {"text", "Open in Chime"}}},
                                                         {"url", schedule}}})}});
  }
  json body{{"text", text}, {"blocks", std::move(blocks)}};
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string DashboardLink(std::string_view public_url, const db::AlertRow& alert) {
  while (public_url.ends_with('/')) public_url.remove_suffix(1);
  std::string link(public_url);
  link += "/#/schedules/";
  for (unsigned char c : alert.schedule_name) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      link.push_back(static_cast<char>(c));
    } else {
      link += fmt::format("%{:02X}", c);
    }
  }
  return link;
}

std::string RedactWebhook(std::string text, const std::string& url) {
  ReplaceAll(text, url, "<webhook>");
  ReplaceAll(text, http::RedactUrl(url), "<webhook>");
  const std::string path = PathOf(url);
  if (path.size() > 1) ReplaceAll(text, path, "<webhook>");
  return text;
}

Result<AlertNotifier> AlertNotifier::Create(AlertNotifierConfig config) {
  if (auto ok = config.Validate(); !ok) return std::unexpected(ok.error());
  auto policy = http::AddressPolicy::FromLists(config.allow, {});
  if (!policy) {
    return Fail(ErrorCode::kInvalidArgument, "CHIME_ALERT_WEBHOOK_ALLOW: " + policy.error().message);
  }
  return AlertNotifier(std::move(config), http::HttpClient(std::move(*policy)));
}

Result<DeliveryCounts> AlertNotifier::DeliverDue(db::AlertStore& store, Rng& rng, std::stop_token stop) {
  DeliveryCounts counts;
  if (!enabled()) return counts;
  auto due = store.AlertsDueForDelivery(config_.batch);
  if (!due) return std::unexpected(due.error());
  for (const db::AlertRow& alert : *due) {
    if (stop.stop_requested()) break;
    http::HttpRequest request;
    request.method = "POST";
    request.url = config_.webhook_url;
    request.headers.push_back({"Content-Type", "application/json", false});
    request.body = WebhookBody(alert, config_.public_url);
    request.timeout = config_.timeout;
    request.follow_redirects = false;
    request.max_body_excerpt = 512;
    auto response = client_.Send(request, stop);
    db::DeliveryResult result{.alert_id = alert.id, .state = alert.state};
    if (response && response->status >= 200 && response->status < 300) {
      result.ok = true;
    } else {
      result.error = response ? "HTTP " + std::to_string(response->status) + ": " +
                                    OneLine(response->body_excerpt, 200)
                              : response.error().message;
      result.error = RedactWebhook(OneLine(result.error, 500), config_.webhook_url);
      const int attempt = alert.delivery_attempts + 1;
      result.give_up = attempt >= config_.max_attempts;
      result.retry_in = BackoffDelay(config_.backoff, attempt, rng);
    }
    if (auto ok = store.AlertDeliveryRecord(result); !ok) return std::unexpected(ok.error());
    if (result.ok) {
      ++counts.sent;
      spdlog::info("alert {} ({} {}) {} notice delivered", alert.id, alert.schedule_name, alert.rule,
                   alert.state);
    } else {
      ++counts.failed;
      counts.gave_up += result.give_up ? 1 : 0;
      spdlog::warn("alert {} ({} {}) {} notice not delivered (attempt {}{}): {}", alert.id,
                   alert.schedule_name, alert.rule, alert.state, alert.delivery_attempts + 1,
                   result.give_up ? ", giving up" : "", result.error);
    }
  }
  return counts;
}

}  // namespace chime::scheduler
