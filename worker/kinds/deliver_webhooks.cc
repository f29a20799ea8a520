#include "worker/kinds/deliver_webhooks.h"

#include <string>

#include "common/db/outbox_store.h"

namespace chime::worker::kinds {
namespace {

using nlohmann::json;

std::string Prefixed(std::string message) { return std::string(kDeliverWebhooksKind) + ": " + std::move(message); }

Result<std::vector<int64_t>> ParseOutboxIds(const json& value) {
  if (!value.is_array() || value.empty() || value.size() > kMaxOutboxIdsPerJob) {
    return Fail(ErrorCode::kInvalidArgument,
                "outboxIds: must be an array of 1-" + std::to_string(kMaxOutboxIdsPerJob) + " outbox row ids");
  }
  std::vector<int64_t> ids;
  for (size_t i = 0; i < value.size(); ++i) {
    const auto& v = value[i];
    if (!v.is_number_integer() || v.get<int64_t>() < 1) {
      return Fail(ErrorCode::kInvalidArgument, "outboxIds[" + std::to_string(i) + "]: must be a positive integer");
    }
    ids.push_back(v.get<int64_t>());
  }
  return ids;
}

}  // namespace

Result<DeliverWebhooksPayload> ParseDeliverWebhooksPayload(const json& payload) {
  if (!payload.is_object()) return Fail(ErrorCode::kInvalidArgument, "payload: must be a JSON object");
  for (const auto& [key, value] : payload.items()) {
    if (key != "outboxIds" && key != "sweep" && key != "limit") {
      return Fail(ErrorCode::kInvalidArgument,
                  "unknown field \"" + key + "\" (expected outboxIds, or sweep with an optional limit)");
    }
  }
  const bool named = payload.contains("outboxIds");
  const bool sweep = payload.contains("sweep");
  if (named == sweep) {
    return Fail(ErrorCode::kInvalidArgument,
                "payload: give exactly one of outboxIds (the rows to deliver) or sweep: true (every due row)");
  }
  DeliverWebhooksPayload out;
  if (named) {
    if (payload.contains("limit")) {
      return Fail(ErrorCode::kInvalidArgument, "limit: only a sweep takes a limit; outboxIds names every row");
    }
    auto ids = ParseOutboxIds(payload["outboxIds"]);
    if (!ids) return std::unexpected(ids.error());
    out.outbox_ids = std::move(*ids);
    return out;
  }
  if (payload["sweep"] != true) {
    return Fail(ErrorCode::kInvalidArgument, "sweep: must be true (or left out, with outboxIds)");
  }
  out.sweep = true;
  if (const auto it = payload.find("limit"); it != payload.end()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > kMaxSweepLimit) {
      return Fail(ErrorCode::kInvalidArgument,
                  "limit: must be an integer from 1 to " + std::to_string(kMaxSweepLimit));
    }
    out.limit = it->get<int64_t>();
  }
  return out;
}

HandlerResult DeliverWebhooks::Run(JobContext& ctx) {
  auto payload = ParseDeliverWebhooksPayload(ctx.payload());
  if (!payload) return HandlerResult::Fail({}, {Prefixed(payload.error().message)}, /*retryable=*/false);
  auto db = ctx.Database();
  if (!db) return HandlerResult::Fail({}, {Prefixed("database: " + db.error().ToString())}, true);
  std::vector<int64_t> ids = std::move(payload->outbox_ids);
  if (payload->sweep) {
    auto due = db::OutboxStore(**db).OutboxListDue(payload->limit);
    if (!due) return HandlerResult::Fail({}, {Prefixed("outbox: " + due.error().ToString())}, true);
    ids = std::move(*due);
  }
  if (ctx.dry_run()) {
    // Sends nothing: the rows it would try (undelivered or not, when named).
    json summary = {{"delivered", 0}, {"candidates", ids.size()}, {"dryRun", true}};
    if (payload->sweep) summary["swept"] = ids.size();
    return HandlerResult::Success(summary);
  }
  if (!http_) return HandlerResult::Fail({}, {Prefixed("no HTTP client configured")}, true);
  WebhookSender sender(*http_, secrets_.get(), targets_, clock_);
  auto delivery = OutboxDeliver(**db, sender, ids, ctx.stop_token(), ctx.logger());
  if (!delivery) return HandlerResult::Fail({}, {Prefixed("outbox: " + delivery.error().ToString())}, true);
  json summary = {{"delivered", delivery->delivered.size()},
                  {"alreadyDelivered", delivery->already_delivered},
                  {"pending", delivery->pending()}};
  if (payload->sweep) summary["swept"] = ids.size();
  std::vector<std::string> errors;
  for (int64_t id : delivery->missing) {
    errors.push_back(Prefixed("outbox row " + std::to_string(id) + ": no such row"));
  }
  // A row another deliverer claimed after the sweep found it is that
  // deliverer's to finish; the rows a job names are its own until delivered.
  const int64_t unfinished = payload->sweep ? static_cast<int64_t>(delivery->failed.size()) + delivery->skipped
                                            : delivery->pending();
  if (unfinished == 0) {
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
                              std::to_string(ctx.job_id()) + "` or the next sweep resumes"));
  }
  return HandlerResult::Fail(summary, std::move(errors), /*retryable=*/true);
}

}  // namespace chime::worker::kinds
