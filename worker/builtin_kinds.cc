#include "worker/builtin_kinds.h"

#include <condition_variable>
#include <cstdlib>
#include <mutex>

#include "common/history/history.h"

namespace chime::worker {
namespace {

class Noop final : public Handler {
 public:
  std::string_view Kind() const override { return "noop"; }
  HandlerResult Run(JobContext&) override { return HandlerResult::Success(); }
};

// Sleeps `ms`, waking at once when the job's stop token fires.
HandlerResult SleepFor(JobContext& ctx, std::chrono::milliseconds ms, std::string_view kind) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  const bool stopped = cv.wait_for(lock, ctx.stop_token(), ms, [] { return false; });
  (void)stopped;
  if (ctx.stop_requested()) {
    return HandlerResult::Fail({{"slept_ms_of", ms.count()}},
                               {std::string(kind) + ": stopped before the end"},
                               /*retryable=*/true);
  }
  return HandlerResult::Success({{"slept_ms", ms.count()}});
}

class Sleep final : public Handler {
 public:
  std::string_view Kind() const override { return "sleep"; }
  HandlerResult Run(JobContext& ctx) override {
    const auto& p = ctx.payload();
    if (!p.is_object() || !p.contains("ms") || !p["ms"].is_number_integer() || p["ms"].get<int64_t>() < 0) {
      return HandlerResult::Fail({}, {"sleep: payload must be {\"ms\": <non-negative integer>}"},
                                 /*retryable=*/false);
    }
    return SleepFor(ctx, std::chrono::milliseconds(p["ms"].get<int64_t>()), "sleep");
  }
};

// The reliability tests' handler: its side effect is a history event, so
// the checker can count executions against attempts.
class HistoryEffect final : public Handler {
 public:
  std::string_view Kind() const override { return "history_effect"; }
  HandlerResult Run(JobContext& ctx) override {
    const auto& p = ctx.payload();
    int64_t ms = 0;
    if (p.is_object() && p.contains("ms")) {
      if (!p["ms"].is_number_integer() || p["ms"].get<int64_t>() < 0) {
        return HandlerResult::Fail({}, {"history_effect: ms must be a non-negative integer"},
                                   /*retryable=*/false);
      }
      ms = p["ms"].get<int64_t>();
    }
    if (auto* h = history::Process()) h->SideEffect(ctx.job_id(), ctx.attempt());
    return SleepFor(ctx, std::chrono::milliseconds(ms), "history_effect");
  }
};

// The poison pill: takes its worker down on every attempt.
class AbortWorker final : public Handler {
 public:
  std::string_view Kind() const override { return "abort_worker"; }
  HandlerResult Run(JobContext&) override { std::abort(); }
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

// Ends each attempt the way its payload says, for trying out runs, health
// rules and fan-outs without an endpoint:
//   {"failTimes": N, "error": "...", "permanent": true}  attempts 1..N fail
//       with that error (retried unless permanent);
//   {"response": <any JSON>}   put into the summary, as an endpoint's answer;
//   {"children": [{"kind": K, "payload": {...}, "maxAttempts": N}, ...]}
//       enqueued as this job's children (a fan-out) once the attempt passes;
//   {"skip": "reason"}         the run is skipped;
//   {"errors": ["...", ...]}   the run is partial, with these errors;
//   otherwise it succeeds.
class Outcome final : public Handler {
 public:
  std::string_view Kind() const override { return "outcome"; }
  HandlerResult Run(JobContext& ctx) override {
    const auto& p = ctx.payload();
    if (!p.is_object()) return Bad("the payload must be an object");
    nlohmann::json summary{{"attempt", ctx.attempt()}};
    if (p.contains("response")) summary["response"] = p["response"];
    const int64_t fail_times = p.value("failTimes", nlohmann::json(0)).is_number_integer()
                                   ? p.value("failTimes", nlohmann::json(0)).get<int64_t>()
                                   : -1;
    if (fail_times < 0) return Bad("failTimes must be a non-negative integer");
    if (ctx.attempt() <= fail_times) {
      const auto error = p.value("error", nlohmann::json("outcome: attempt " + std::to_string(ctx.attempt()) +
                                                         " fails on purpose"));
      return HandlerResult::Fail(summary, {error.is_string() ? error.get<std::string>() : error.dump()},
                                 /*retryable=*/!(p.contains("permanent") && p["permanent"] == true));
    }
    if (p.contains("children")) {
      if (!p["children"].is_array()) return Bad("children must be an array");
      std::vector<db::EnqueueParams> children;
      for (const auto& c : p["children"]) {
        if (!c.is_object() || !c.contains("kind") || !c["kind"].is_string()) {
          return Bad("each child needs a \"kind\"");
        }
        db::EnqueueParams child;
        child.kind = c["kind"].get<std::string>();
        child.payload = c.value("payload", nlohmann::json::object()).dump();
        if (c.contains("maxAttempts") && c["maxAttempts"].is_number_integer()) {
          child.max_attempts = c["maxAttempts"].get<int>();
        }
        children.push_back(std::move(child));
      }
      auto ids = ctx.EnqueueChildren(std::move(children));
      if (!ids) return HandlerResult::Fail(summary, {"outcome: children: " + ids.error().message}, true);
      summary["children"] = ids->size();
    }
    if (p.contains("skip")) {
      return HandlerResult::Skipped(summary, p["skip"].is_string() ? p["skip"].get<std::string>() : "skipped");
    }
    if (p.contains("errors") && p["errors"].is_array() && !p["errors"].empty()) {
      std::vector<std::string> errors;
      for (const auto& e : p["errors"]) errors.push_back(e.is_string() ? e.get<std::string>() : e.dump());
      return HandlerResult::Partial(summary, std::move(errors));
    }
    return HandlerResult::Success(summary);
  }

 private:
  static HandlerResult Bad(const std::string& why) {
    return HandlerResult::Fail({}, {"outcome: " + why}, /*retryable=*/false);
  }
};

}  // namespace

void RegisterBuiltinKinds(HandlerRegistry& registry) {
  if (registry.Find("noop") == nullptr) registry.Register(std::make_unique<Noop>());
  if (registry.Find("sleep") == nullptr) registry.Register(std::make_unique<Sleep>());
  if (registry.Find("fail") == nullptr) registry.Register(std::make_unique<FailTimes>());
  if (registry.Find("outcome") == nullptr) registry.Register(std::make_unique<Outcome>());
  if (registry.Find("history_effect") == nullptr) registry.Register(std::make_unique<HistoryEffect>());
  if (registry.Find("abort_worker") == nullptr) registry.Register(std::make_unique<AbortWorker>());
}

}  // namespace chime::worker
