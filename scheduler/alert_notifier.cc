#include "scheduler/alert_notifier.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cctype>

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

}  // namespace

Result<void> AlertNotifierConfig::Validate() const {
  if (!webhook_url.empty()) {
    if (!webhook_url.starts_with("https://") && !webhook_url.starts_with("http://")) {
      return Fail(ErrorCode::kInvalidArgument,
                  "CHIME_ALERT_WEBHOOK_URL: must start with https:// or http:// (value not shown)");
    }
    if (webhook_url.size() > 2048) {
      return Fail(ErrorCode::kInvalidArgument, "CHIME_ALERT_WEBHOOK_URL: longer than 2048 bytes");
    }
  }
  if (!public_url.empty()) {
    if (!public_url.starts_with("https://") && !public_url.starts_with("http://")) {
      return Fail(ErrorCode::kInvalidArgument, "CHIME_PUBLIC_URL: must start with https:// or http://");
    }
    if (public_url.size() > 2000 || !IsPrintableUtf8(public_url) || public_url.find_first_of(" #") != std::string::npos) {
      return Fail(ErrorCode::kInvalidArgument,
                  "CHIME_PUBLIC_URL: must be at most 2000 printable bytes without spaces or a #fragment");
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

std::string WebhookBody(const db::AlertRow& a) {
  const bool firing = a.state == "firing";
  std::string headline = firing ? ":rotating_light: *FIRING* " : ":white_check_mark: *RESOLVED* ";
  headline += "`" + a.schedule_name + "` " + a.rule;
  std::string detail = a.message;
  detail += "\nfired " + FormatRfc3339(a.fired_at);
  if (a.resolved_at) detail += ", resolved " + FormatRfc3339(*a.resolved_at);
  if (!firing && a.delivered_state != std::optional<std::string>("firing")) {
    detail += " (the firing notice was not delivered)";
  }
  const std::string text = std::string(firing ? "[FIRING] " : "[RESOLVED] ") + a.schedule_name + " " +
                           a.rule + ": " + a.message;
  json body{{"text", text},
            {"blocks", json::array({json{{"type", "section"},
                                         {"text", json{{"type", "mrkdwn"}, {"text", headline}}}},
                                    json{{"type", "section"},
                                         {"text", json{{"type", "mrkdwn"}, {"text", detail}}}}})}};
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string DashboardLink(std::string_view public_url, const db::AlertRow& alert) {
  while (public_url.ends_with('/')) public_url.remove_suffix(1);
  std::string link(public_url);
  link += "/#schedule=";
  for (unsigned char c : alert.schedule_name) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      link.push_back(static_cast<char>(c));
    } else {
      link += fmt::format("%{:02X}", c);
    }
  }
  return link;
}

// The only change issue 22 makes to alert texts, kept in this one function
// so the texts themselves can change without it.
std::string WithDashboardLink(std::string body, const db::AlertRow& alert, std::string_view public_url) {
  if (public_url.empty()) return body;
  json j = json::parse(body, nullptr, false);
  if (!j.is_object()) return body;
  const std::string link = DashboardLink(public_url, alert);
  j["text"] = j.value("text", "") + "\n" + link;
  if (!j["blocks"].is_array()) j["blocks"] = json::array();
  // Block Kit: a link button (text at most 75 characters, url at most 3000).
  j["blocks"].push_back(json{
      {"type", "actions"},
      {"elements", json::array({json{{"type", "button"},
                                     {"action_id", "chime_open_schedule"},
                                     {"text", json{{"type", "plain_text"}, {"text", "Open in Chime"}}},
                                     {"url", link}}})}});
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
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
    request.body = WithDashboardLink(WebhookBody(alert), alert, config_.public_url);
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
