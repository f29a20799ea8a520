#include "worker/kinds/webhook_outbox.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "common/base/text_format.h"
#include "common/http/webhook.h"

namespace chime::worker::kinds {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

// A delivery claim outlives the request it covers by this much before
// another deliverer may take the row.
constexpr milliseconds kClaimMargin{30'000};

}  // namespace

std::string_view AuthStyleName(AuthStyle auth) {
  switch (auth) {
    case AuthStyle::kStandardWebhooks: return "standard-webhooks";
    case AuthStyle::kBearer: return "bearer";
    case AuthStyle::kCronSecretHeader: return "x-cron-secret";
    case AuthStyle::kNone: return "none";
  }
  return "none";
}

std::optional<AuthStyle> ParseAuthStyle(std::string_view name) {
  for (AuthStyle a : {AuthStyle::kStandardWebhooks, AuthStyle::kBearer, AuthStyle::kCronSecretHeader,
                      AuthStyle::kNone}) {
    if (AuthStyleName(a) == name) return a;
  }
  return std::nullopt;
}

WebhookTargets WebhookTargetsOf(const AppConfig& config) {
  WebhookTargets targets;
  if (config.capacity_webhook) targets.emplace(kCapacityWebhookTarget, *config.capacity_webhook);
  for (const WebhookTarget& target : config.webhook_targets) targets.emplace(target.name, target.endpoint);
  return targets;
}

db::OutboxTarget OutboxTargetOf(std::string_view target, const Endpoint& endpoint) {
  return {.name = std::string(target), .timeout = endpoint.timeout};
}

db::EnqueueParams DeliveryJob(const DeliveryJobSpec& spec, std::span<const int64_t> outbox_ids) {
  db::EnqueueParams job;
  job.kind = std::string(kDeliverWebhooksKind);
  job.queue = spec.queue;
  job.payload = nlohmann::json{{"outboxIds", outbox_ids}}.dump();
  job.delay = spec.delay;
  job.max_attempts = spec.max_attempts;
  if (spec.parent_id > 0) job.parent_id = spec.parent_id;
  job.invocation = spec.invocation;
  return job;
}

Result<const http::Secret*> WebhookSender::SecretFor(const Endpoint& endpoint) {
  if (auto it = resolved_.find(endpoint.secret_ref); it != resolved_.end()) return &it->second;
  if (secrets_ == nullptr) {
    return Fail(ErrorCode::kFailedPrecondition, endpoint.secret_ref + ": no secret resolver configured");
  }
  auto secret = secrets_->Resolve(endpoint.secret_ref);
  if (!secret) return std::unexpected(secret.error());
  if (endpoint.auth == AuthStyle::kStandardWebhooks) {
    // Checked here once, so that Send cannot fail on the key's shape.
    if (auto key = http::WebhookKey::FromSecret(*secret); !key) {
      return Fail(key.error().code, endpoint.secret_ref + ": " + key.error().message);
    }
  }
  return &resolved_.emplace(endpoint.secret_ref, std::move(*secret)).first->second;
}

Result<void> WebhookSender::Prepare(const Endpoint& endpoint) {
  if (endpoint.auth == AuthStyle::kNone) return {};
  auto secret = SecretFor(endpoint);
  if (!secret) return std::unexpected(secret.error());
  return {};
}

Result<http::HttpResponse> WebhookSender::Send(const db::OutboxRow& row, std::stop_token stop) {
  if (stop.stop_requested()) {
    return Fail(ErrorCode::kUnavailable, "the job was stopped before the webhook was sent");
  }
  const auto target = targets_->find(row.target);
  if (target == targets_->end()) {
    return Fail(ErrorCode::kFailedPrecondition,
                "unknown webhook target \"" + OneLine(row.target, 64) +
                    "\": this worker's kinds file has no target of that name (capacity_webhook, "
                    "webhook_targets); nothing was sent");
  }
  const Endpoint& endpoint = target->second;
  http::HttpRequest request;
  request.method = "POST";
  request.url = endpoint.url;
  request.timeout = endpoint.timeout;
  request.headers.push_back({"Content-Type", "application/json"});
  request.body = row.body;
  if (endpoint.auth != AuthStyle::kNone) {
    auto secret = SecretFor(endpoint);
    if (!secret) return std::unexpected(secret.error());
    switch (endpoint.auth) {
      case AuthStyle::kStandardWebhooks: {
        // AddWebhookSignature would mint a new id; a retry must keep the
        // row's, so the three headers are written here.
        auto key = http::WebhookKey::FromSecret(**secret);
        if (!key) return std::unexpected(key.error());
        const int64_t timestamp =
            duration_cast<std::chrono::seconds>(clock_->WallNow().time_since_epoch()).count();
        request.headers.push_back({"webhook-id", row.webhook_id});
        request.headers.push_back({"webhook-timestamp", std::to_string(timestamp)});
        request.headers.push_back(
            {"webhook-signature", key->Sign(row.webhook_id, timestamp, request.body), true});
        break;
      }
      case AuthStyle::kBearer:
        http::AddBearerAuth(request, **secret);
        break;
      case AuthStyle::kCronSecretHeader:
        http::AddCronSecretHeader(request, **secret);
        break;
      case AuthStyle::kNone:
        break;
    }
  } else {
    // Receivers still de-duplicate on the id.
    request.headers.push_back({"webhook-id", row.webhook_id});
  }
  return client_->Send(request, stop);
}

bool IsSuccess(const http::HttpResponse& response) {
  return response.status >= 200 && response.status <= 299;
}

std::string DeliveryError(const Result<http::HttpResponse>& sent) {
  if (!sent) return sent.error().ToString();
  return "the webhook answered HTTP " + std::to_string(sent->status);
}

Result<OutboxDelivery> OutboxDeliver(db::Connection& conn, WebhookSender& sender,
                                     std::span<const int64_t> ids, std::stop_token stop,
                                     spdlog::logger& log, OutboxDeliverOptions options) {
  db::OutboxStore outbox(conn);
  OutboxDelivery out;
  std::vector<int64_t> todo(ids.begin(), ids.end());
  std::sort(todo.begin(), todo.end());
  todo.erase(std::unique(todo.begin(), todo.end()), todo.end());
  auto done = outbox.OutboxDeliveredAmong(todo);
  if (!done) return std::unexpected(done.error());
  out.already_delivered = static_cast<int64_t>(done->size());
  std::erase_if(todo, [&](int64_t id) { return std::find(done->begin(), done->end(), id) != done->end(); });

  for (size_t i = 0; i < todo.size(); ++i) {
    const int64_t id = todo[i];
    if (stop.stop_requested()) {
      out.skipped += static_cast<int64_t>(todo.size() - i);
      break;
    }
    auto claimed = outbox.OutboxClaim(id, kClaimMargin);
    if (!claimed) return std::unexpected(claimed.error());
    switch (claimed->status) {
      case db::OutboxClaimed::Status::kMissing:
        out.missing.push_back(id);
        continue;
      case db::OutboxClaimed::Status::kDelivered:
        ++out.already_delivered;
        continue;
      case db::OutboxClaimed::Status::kBusy:
        ++out.busy;
        continue;
      case db::OutboxClaimed::Status::kClaimed:
        break;
    }
    const db::OutboxRow& row = *claimed->row;
    auto sent = sender.Send(row, stop);
    const bool ok = sent && IsSuccess(*sent);
    std::optional<int> status;
    if (sent) status = sent->status;
    const std::string error = ok ? std::string() : DeliveryError(sent);
    auto marked = ok ? outbox.OutboxMarkDelivered(id, sent->status) : outbox.OutboxMarkFailed(id, status, error);
    if (!marked) return std::unexpected(marked.error());
    if (ok) {
      log.info("webhook {} delivered (attempt {}): HTTP {} ({} ms)", row.webhook_id, row.attempts,
               sent->status, sent->duration.count() / 1000);
      out.delivered.push_back(id);
      continue;
    }
    log.warn("webhook {} not delivered (attempt {}): {}", row.webhook_id, row.attempts, error);
    out.failed.emplace(id, error);
    if (options.stop_after_timeout && !sent && sent.error().code == ErrorCode::kRetryable) {
      out.skipped += static_cast<int64_t>(todo.size() - i - 1);
      break;
    }
  }
  return out;
}

}  // namespace chime::worker::kinds
