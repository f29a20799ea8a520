#include "worker/builtin_kinds.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <thread>

namespace chime::worker {
namespace {

db::Completion Failed(db::Completion c, db::CompletionKind kind, std::string error) {
  c.kind = kind;
  c.errors.push_back(std::move(error));
  return c;
}

}  // namespace

db::Completion RunBuiltin(const db::ClaimedJob& job, const std::string& worker_id,
                          const std::atomic<bool>& stop) {
  db::Completion c{.lease = job.lease, .attempt = job.attempt, .worker_id = worker_id};
  const auto payload = nlohmann::json::parse(job.payload, nullptr, /*allow_exceptions=*/false);
  if (job.kind == "noop") return c;
  if (job.kind == "sleep") {
    if (!payload.is_object() || !payload.contains("ms") || !payload["ms"].is_number_integer() ||
        payload["ms"].get<int64_t>() < 0) {
      return Failed(c, db::CompletionKind::kFailedPermanent,
                    "sleep: payload must be {\"ms\": <non-negative integer>}");
    }
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::milliseconds(payload["ms"].get<int64_t>());
    while (std::chrono::steady_clock::now() < until) {
      if (stop.load()) return Failed(c, db::CompletionKind::kFailed, "sleep: interrupted");
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          std::chrono::milliseconds(10), until - std::chrono::steady_clock::now()));
    }
    return c;
  }
  if (job.kind == "fail") {
    if (!payload.is_object() || !payload.contains("times") || !payload["times"].is_number_integer()) {
      return Failed(c, db::CompletionKind::kFailedPermanent,
                    "fail: payload must be {\"times\": <integer>}");
    }
    if (job.attempt <= payload["times"].get<int64_t>()) {
      return Failed(c, db::CompletionKind::kFailed,
                    "fail: attempt " + std::to_string(job.attempt) + " fails on purpose");
    }
    return c;
  }
  return Failed(c, db::CompletionKind::kFailedPermanent, "unknown job kind '" + job.kind + "'");
}

}  // namespace chime::worker
