// reconcile_exam_capacity's config check and payload parsing.
#include <charconv>
#include <limits>
#include <string>
#include <unordered_set>

#include "worker/kinds/reconcile_exam_capacity.h"

namespace chime::worker::kinds {
namespace {

using nlohmann::json;

Result<int64_t> ParseExamId(const json& value, const std::string& where) {
  const auto bad = [&] {
    return Fail(ErrorCode::kInvalidArgument,
                where + ": must be an exam id (an integer or a string of digits)");
  };
  if (value.is_number_unsigned()) {
    if (value.get<uint64_t>() > uint64_t{std::numeric_limits<int64_t>::max()}) return bad();
    return static_cast<int64_t>(value.get<uint64_t>());
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  if (!value.is_string()) return bad();
  const auto& text = value.get_ref<const std::string&>();
  int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || text.front() == '-' || ec != std::errc() || end != text.data() + text.size()) {
    return bad();
  }
  return id;
}

// The ids in the given order, each once.
Result<std::vector<int64_t>> ParseExamIds(const std::string& key, const json& value) {
  if (!value.is_array()) return Fail(ErrorCode::kInvalidArgument, key + ": must be an array of exam ids");
  if (value.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                key + ": is empty; leave it out to reconcile every active exam");
  }
  std::vector<int64_t> ids;
  std::unordered_set<int64_t> seen;
  for (size_t i = 0; i < value.size(); ++i) {
    auto id = ParseExamId(value[i], key + "[" + std::to_string(i) + "]");
    if (!id) return std::unexpected(id.error());
    if (seen.insert(*id).second) ids.push_back(*id);
  }
  return ids;
}

}  // namespace

Result<void> ReconcileExamCapacityConfig::Validate() const {
  if (default_batch_size < 1 || default_batch_size > kReconcileMaxBatchSize) {
    return Fail(ErrorCode::kInvalidArgument,
                "reconcile_exam_capacity.default_batch_size: must be from 1 to " +
                    std::to_string(kReconcileMaxBatchSize));
  }
  if (redelivery_delay.count() < 0) {
    return Fail(ErrorCode::kInvalidArgument, "reconcile_exam_capacity.redelivery_delay: must not be negative");
  }
  if (redelivery_max_attempts < 1) {
    return Fail(ErrorCode::kInvalidArgument, "reconcile_exam_capacity.redelivery_max_attempts: must be at least 1");
  }
  if (!webhook) return {};
  if (webhook->url.empty()) return Fail(ErrorCode::kInvalidArgument, "capacity_webhook.url: is empty");
  if (webhook->timeout.count() <= 0) {
    return Fail(ErrorCode::kInvalidArgument, "capacity_webhook.timeout: must be positive");
  }
  if (webhook->auth == AuthStyle::kNone) return {};
  if (auto ref = http::SecretRef::Parse(webhook->secret_ref); !ref) {
    return Fail(ErrorCode::kInvalidArgument, "capacity_webhook.secret_ref: " + ref.error().message);
  }
  return {};
}

Result<ReconcileExamCapacityRequest> ParseReconcileExamCapacityPayload(const json& payload,
                                                                       bool job_dry_run,
                                                                       int default_batch_size) {
  if (!payload.is_object()) return Fail(ErrorCode::kInvalidArgument, "payload: must be a JSON object");
  ReconcileExamCapacityRequest request;
  request.dry_run = job_dry_run;
  request.batch_size = default_batch_size;
  for (const auto& [key, value] : payload.items()) {
    if (key == "examIds" || key == "mock_exam_ids") {
      if (request.exam_ids) {
        return Fail(ErrorCode::kInvalidArgument, key + ": give examIds or mock_exam_ids, not both");
      }
      auto ids = ParseExamIds(key, value);
      if (!ids) return std::unexpected(ids.error());
      request.exam_ids = std::move(*ids);
    } else if (key == "dryRun" || key == "dry_run") {
      if (!value.is_boolean()) return Fail(ErrorCode::kInvalidArgument, key + ": must be true or false");
      request.dry_run = request.dry_run || value.get<bool>();
    } else if (key == "batchSize") {
      if (!value.is_number_integer() || value.get<int64_t>() < 1 ||
          value.get<int64_t>() > kReconcileMaxBatchSize) {
        return Fail(ErrorCode::kInvalidArgument,
                    "batchSize: must be an integer from 1 to " + std::to_string(kReconcileMaxBatchSize));
      }
      request.batch_size = value.get<int>();
    } else {
      return Fail(ErrorCode::kInvalidArgument,
                  "unknown field \"" + key + "\" (expected examIds, dryRun, batchSize)");
    }
  }
  return request;
}

}  // namespace chime::worker::kinds
