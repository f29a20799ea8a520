#include "worker/builtin_kinds.h"

#include <condition_variable>
#include <mutex>

namespace chime::worker {
namespace {

class Noop final : public Handler {
 public:
  std::string_view Kind() const override { return "noop"; }
  HandlerResult Run(JobContext&) override { return HandlerResult::Success(); }
};

class Sleep final : public Handler {
 public:
  std::string_view Kind() const override { return "sleep"; }
  HandlerResult Run(JobContext& ctx) override {
    const auto& p = ctx.payload();
    if (!p.is_object() || !p.contains("ms") || !p["ms"].is_number_integer() || p["ms"].get<int64_t>() < 0) {
      return HandlerResult::Fail({}, {"sleep: payload must be {\"ms\": <non-negative integer>}"},
                                 /*retryable=*/false);
    }
    const auto ms = std::chrono::milliseconds(p["ms"].get<int64_t>());
    // Wakes at once when the job's stop token fires.
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    const bool stopped = cv.wait_for(lock, ctx.stop_token(), ms, [] { return false; });
    (void)stopped;
    if (ctx.stop_requested()) {
      return HandlerResult::Fail({{"slept_ms_of", ms.count()}}, {"sleep: stopped before the end"},
                                 /*retryable=*/true);
    }
    return HandlerResult::Success({{"slept_ms", ms.count()}});
  }
};

class FailTimes final : public Handler {
 public:
  std::string_view Kind() const override { return "fail"; }
  HandlerResult Run(JobContext& ctx) override {
    const auto& p = ctx.payload();
    if (!p.is_object() || !p.contains("times") || !p["times"].is_number_integer()) {
      return HandlerResult::Fail({}, {"fail: payload must be {\"times\": <integer>}"},
                                 /*retryable=*/false);
    }
    if (ctx.attempt() <= p["times"].get<int64_t>()) {
      return HandlerResult::Fail({{"attempt", ctx.attempt()}},
                                 {"fail: attempt " + std::to_string(ctx.attempt()) + " fails on purpose"},
                                 /*retryable=*/true);
    }
    return HandlerResult::Success({{"attempt", ctx.attempt()}});
  }
};

}  // namespace

void RegisterBuiltinKinds(HandlerRegistry& registry) {
  if (registry.Find("noop") == nullptr) registry.Register(std::make_unique<Noop>());
  if (registry.Find("sleep") == nullptr) registry.Register(std::make_unique<Sleep>());
  if (registry.Find("fail") == nullptr) registry.Register(std::make_unique<FailTimes>());
}

}  // namespace chime::worker
