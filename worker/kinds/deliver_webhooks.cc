#include "worker/kinds/deliver_webhooks.h"

#include <string>

namespace chime::worker::kinds {
namespace {

std::string Prefixed(std::string message) { return std::string(kDeliverWebhooksKind) + ": " + std::move(message); }

}  // namespace

Result<std::vector<int64_t>> ParseDeliverWebhooksPayload(const nlohmann::json& payload) {
  if (!payload.is_object()) return Fail(ErrorCode::kInvalidArgument, "payload: must be a JSON object");
  for (const auto& [key, value] : payload.items()) {
    if (key != "outboxIds") {
      return Fail(ErrorCode::kInvalidArgument, "unknown field \"" + key + "\" (expected outboxIds)");
    }
  }
  const auto it = payload.find("outboxIds");
  if (it == payload.end() || !it->is_array() || it->empty() || it->size() > kMaxOutboxIdsPerJob) {
    return Fail(ErrorCode::kInvalidArgument,
                "outboxIds: must be an array of 1-" + std::to_string(kMaxOutboxIdsPerJob) + " outbox row ids");
  }
  std::vector<int64_t> ids;
  for (size_t i = 0; i < it->size(); ++i) {
    const auto& v = (*it)[i];
    if (!v.is_number_integer() || v.get<int64_t>() < 1) {
      return Fail(ErrorCode::kInvalidArgument, "outboxIds[" + std::to_string(i) + "]: must be a positive integer");
    }
    ids.push_back(v.get<int64_t>());
  }
  return ids;
}

HandlerResult DeliverWebhooks::Run(JobContext& ctx) {
  auto ids = ParseDeliverWebhooksPayload(ctx.payload());
  if (!ids) return HandlerResult::Fail({}, {Prefixed(ids.error().message)}, /*retryable=*/false);
  auto db = ctx.Database();
  if (!db) return HandlerResult::Fail({}, {Prefixed("database: " + db.error().ToString())}, true);
  if (!http_) return HandlerResult::Fail({}, {Prefixed("no HTTP client configured")}, true);
  WebhookSender sender(*http_, secrets_.get(), clock_);
  auto delivery = OutboxDeliver(**db, sender, *ids, ctx.stop_token(), ctx.logger());
  if (!delivery) return HandlerResult::Fail({}, {Prefixed("outbox: " + delivery.error().ToString())}, true);
  const nlohmann::json summary = {{"delivered", delivery->delivered.size()},
                                  {"alreadyDelivered", delivery->already_delivered},
                                  {"pending", delivery->pending()}};
  std::vector<std::string> errors;
  for (int64_t id : delivery->missing) {
    errors.push_back(Prefixed("outbox row " + std::to_string(id) + ": no such row"));
  }
  if (delivery->pending() == 0) {
    if (errors.empty()) return HandlerResult::Success(summary);
    return HandlerResult::Partial(summary, std::move(errors));
  }
  for (const auto& [id, error] : delivery->failed) {
    errors.push_back(Prefixed("outbox row " + std::to_string(id) + ": " + error));
  }
  if (delivery->busy > 0) {
    errors.push_back(Prefixed(std::to_string(delivery->busy) + " rows are being delivered elsewhere or not due yet"));
  }
  if (delivery->skipped > 0) {
    errors.push_back(Prefixed(std::to_string(delivery->skipped) + " rows left for the next attempt"));
  }
  if (ctx.attempt() >= ctx.max_attempts()) {
    errors.push_back(Prefixed("out of attempts: " + std::to_string(delivery->pending()) +
                              " webhooks stay undelivered in chime.webhook_outbox; `jobctl retry " +
                              std::to_string(ctx.job_id()) + "` resumes"));
  }
  return HandlerResult::Fail(summary, std::move(errors), /*retryable=*/true);
}

}  // namespace chime::worker::kinds
