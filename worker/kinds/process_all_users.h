// process_all_users (002_6edd4868f68be00e.txt, "Enqueue sync jobs for all
// users with active integrations"): one sync_integration child per (user,
// provider) that is due, linked to this job. Thread-safe (immutable after
// construction; one instance serves every slot).
//
// Payload (every key optional):
//   maxUsers       positive integer: syncs are queued for at most this many
//                  users per run (the seed's "start conservative, maxUsers:
//                  50"); the rest wait for the next run, which finds them
//                  still due. Default: no cap.
//   jobType        scheduled-sync (default) | manual-sync | initial-backfill,
//                  passed on to every child.
//   timeframeDays  lookback window in days, 1-365, passed on to every child.
//                  Default 1, the seed's nightly sync.
//   operation      accepted only as "process_all_users", so a request body
//                  copied from the seed works as a payload.
//   parallelism    1-16: database sessions the fan-out may use at once
//                  (default 4); see below.
// Anything else, or a bad value, fails the job permanently, naming the key.
//
// Due: the user and the integration are active, the integration does not
// need re-authentication, its provider is in the kinds file, and it was
// never synced or last synced at least its cadence ago (its own
// cadence_minutes, else the provider's). Users are handled in id order.
//
// Idempotent: each child carries the unique key "user:<id>:provider:<name>",
// so a due integration whose sync is still pending (queued, waiting for a
// retry, or running) is counted as skipped and gets no second job, also when
// two runs overlap.
//
// Speed: a live run without maxUsers splits the users into id ranges, one
// per session (up to `parallelism`, at least 1,000 user ids each), and
// inserts each page of children with one server-side statement
// (fan_out_lanes.h). A dry run or a capped run reads the due rows into the
// worker instead, one session, because its counts and its cap depend on
// which rows are pending before anything is inserted.
//
// Result: {usersProcessed, jobsQueued, jobsSkipped, jobType, timeframeDays,
// maxUsers, invocation, dryRun}. usersProcessed counts users who got at
// least one sync queued; jobsSkipped counts due integrations whose sync was
// still pending. A dry run computes the same numbers and enqueues nothing.
// (In a dry or capped run, an integration whose sync another process
// enqueues between this run's read and its insert is counted as queued; the
// unique key still keeps it to one job. The parallel path counts what its
// insert actually did.)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/error.h"
#include "worker/handler.h"
#include "worker/kinds/app_config.h"
#include "worker/kinds/fan_out_lanes.h"

namespace chime::worker::kinds {

inline constexpr std::string_view kSyncIntegrationKind = "sync_integration";
inline constexpr int kDefaultTimeframeDays = 1;
inline constexpr int kMaxTimeframeDays = 365;

// True for scheduled-sync, manual-sync and initial-backfill.
bool IsSyncJobType(std::string_view job_type);

// The unique key of (user, provider)'s sync job.
std::string SyncUniqueKey(int64_t user_id, std::string_view provider);

inline constexpr int kDefaultFanOutParallelism = 4;
inline constexpr int kMaxFanOutParallelism = 16;

struct FanOutParams {
  std::optional<int64_t> max_users;
  int parallelism = kDefaultFanOutParallelism;
  std::string job_type = "scheduled-sync";
  int timeframe_days = kDefaultTimeframeDays;
};

// InvalidArgument naming the key, e.g. "jobType: \"nightly\" is not one of ...".
[[nodiscard]] Result<FanOutParams> ParseFanOutParams(const nlohmann::json& payload);

class ProcessAllUsers final : public Handler {
 public:
  // Rows per page: one query and one EnqueueChildren call each.
  static constexpr int kPageSize = 5000;
  // Attempts of each child: transient provider failures are retried a few
  // times; past that the next cadence's run enqueues a fresh sync anyway.
  static constexpr int kChildMaxAttempts = 5;

  explicit ProcessAllUsers(const AppConfig& config);

  std::string_view Kind() const override { return "process_all_users"; }
  HandlerResult Run(JobContext& ctx) override;

 private:
  const AppConfig config_;
  const std::string page_sql_;         // Built once from the configured names.
  const PageSql insert_page_sql_;  // Likewise, for the parallel insert.
};

}  // namespace chime::worker::kinds
