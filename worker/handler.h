// The handler API: one class per job kind and one registration line.
//
//   class ResizeImage final : public chime::worker::Handler {
//    public:
//     std::string_view Kind() const override { return "resize_image"; }
//     chime::worker::HandlerResult Run(chime::worker::JobContext& ctx) override {
//       ctx.logger().info("resizing {}", ctx.payload()["path"].get<std::string>());
//       if (ctx.stop_requested()) return HandlerResult::Fail({}, {"stopped"}, /*retryable=*/true);
//       return HandlerResult::Success({{"resized", 1}});
//     }
//   };
//   CHIME_REGISTER_HANDLER(ResizeImage);
//
// A handler runs on one of the worker's slot threads. It must honour
// ctx.stop_token() (timeout, cancel request, lost lease, shutdown): a
// handler still running past its timeout plus the hard-stop grace is
// abandoned - its attempt fails and its late result is ignored. A thrown
// exception is a retryable failure carrying the exception's text.
#pragma once

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include <chrono>
#include <memory>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"
#include "common/db/job.h"

namespace chime::db {
class Connection;
class JobStore;
}  // namespace chime::db

namespace chime::worker {

// What a handler returns: success, partial success (errors listed), a
// skip (the work declined this run, e.g. an endpoint's {"skipped": true,
// "reason": "locked"}: the job ends, counted neither as a success nor as a
// failure), or a failure that is retried with backoff or discarded at once.
struct HandlerResult {
  enum class Kind { kSuccess, kFailure, kSkipped };
  Kind kind = Kind::kSuccess;
  nlohmann::json summary = nlohmann::json::object();
  std::vector<std::string> errors;  // Non-empty on success: a partial success.
  bool retryable = true;            // Failures only.
  std::string skip_reason;          // Skips only; recorded as the summary's "skipReason".

  static HandlerResult Success(nlohmann::json summary = nlohmann::json::object());
  static HandlerResult Partial(nlohmann::json summary, std::vector<std::string> errors);
  static HandlerResult Skipped(nlohmann::json summary, std::string reason);
  static HandlerResult Fail(nlohmann::json summary, std::vector<std::string> errors,
                            bool retryable);
};

// Everything a handler may use while it runs. Owned by the slot running the
// job; valid only during Run().
class JobContext {
 public:
  // Services the slot provides; tests may supply their own.
  struct Services {
    std::function<Result<db::Connection*>()> database;  // Lazily connected, per slot.
    std::function<Result<db::JobStore*>()> store;       // On that connection.
  };

  JobContext(const db::ClaimedJob& job, nlohmann::json payload, std::stop_token stop,
             std::shared_ptr<spdlog::logger> logger, Services services);

  int64_t job_id() const { return job_.id; }
  const std::string& kind() const { return job_.kind; }
  const std::string& queue() const { return job_.queue; }
  const nlohmann::json& payload() const { return payload_; }
  int attempt() const { return job_.attempt; }
  int max_attempts() const { return job_.max_attempts; }
  bool dry_run() const { return job_.dry_run; }
  // Whether a schedule's tick or a person started this job (or its parent).
  db::Invocation invocation() const { return job_.invocation; }
  // The schedule that fired this job (its tick, trigger or backfill), and
  // the tick's logical time; unset for a job no schedule made.
  std::optional<int64_t> schedule_id() const { return job_.schedule_id; }
  const std::string& schedule_name() const { return job_.schedule_name; }
  std::optional<db::TimePoint> scheduled_for() const { return job_.scheduled_for; }
  std::stop_token stop_token() const { return stop_; }
  bool stop_requested() const { return stop_.stop_requested(); }
  spdlog::logger& logger() { return *logger_; }

  // The slot's own database connection, for the handler's SQL.
  [[nodiscard]] Result<db::Connection*> Database() { return services_.database(); }

  // The job store on that connection, for kinds that work on Chime's own
  // tables (cleanup_old_jobs, reset_stale_jobs).
  [[nodiscard]] Result<db::JobStore*> Store() { return services_.store(); }

  // Records progress (stored on the job while the lease holds; jobctl show
  // prints it). FailedPrecondition when the lease was lost.
  [[nodiscard]] Result<void> ReportProgress(const nlohmann::json& progress);

  // Enqueues child jobs of this one in one round trip: parent_id set, the
  // invocation inherited, and a dry run's children are dry runs too. Returns
  // their ids (a live unique key returns the existing job's id).
  [[nodiscard]] Result<std::vector<int64_t>> EnqueueChildren(std::vector<db::EnqueueParams> children);

 private:
  const db::ClaimedJob& job_;
  nlohmann::json payload_;
  std::stop_token stop_;
  std::shared_ptr<spdlog::logger> logger_;
  Services services_;
};

class Handler {
 public:
  virtual ~Handler() = default;
  virtual std::string_view Kind() const = 0;
  virtual HandlerResult Run(JobContext& ctx) = 0;
  // What a job of this kind does, for its start and finish log lines (e.g.
  // "POST https://app.example.com/api/cron"); credentials redacted, one
  // line, short. Empty by default. Must not throw.
  virtual std::string Describe(const nlohmann::json& payload) const {
    (void)payload;
    return {};
  }
  // How long a job of this payload may need, for a job without a timeout of
  // its own (jobs.timeout_ms): the executor's deadline is the longer of this
  // and the worker's default. nullopt: the default. Must not throw.
  virtual std::optional<std::chrono::milliseconds> Timeout(const nlohmann::json& payload) const {
    (void)payload;
    return std::nullopt;
  }
};

// Kind -> handler. Handlers are stateless or thread-safe: one instance
// serves every slot. Thread-safe.
class HandlerRegistry {
 public:
  // The process-wide registry CHIME_REGISTER_HANDLER fills.
  static HandlerRegistry& Global();

  // Aborts on a duplicate kind: two handlers for one kind is a bug.
  void Register(std::unique_ptr<Handler> handler);
  Handler* Find(std::string_view kind) const;
  std::vector<std::string> Kinds() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Handler>, std::less<>> handlers_;  // Guarded by mu_.
};

namespace internal {
struct Registrar {
  explicit Registrar(std::unique_ptr<Handler> handler) {
    HandlerRegistry::Global().Register(std::move(handler));
  }
};
}  // namespace internal

}  // namespace chime::worker

// Registers a default-constructible Handler subclass at static init.
#define CHIME_REGISTER_HANDLER(Class)                                       \
  static const ::chime::worker::internal::Registrar chime_registrar_##Class( \
      std::make_unique<Class>())
