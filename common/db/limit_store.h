// Cluster-wide limits (common/schedule/limit_spec.h; migration 0022 says how
// the claim keeps them): their definitions and what each partition uses
// now. Each method is one statement. Thread-compatible: one LimitStore per
// thread, like its Connection.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/db/job.h"
#include "common/base/error.h"
#include "common/db/connection.h"
#include "common/schedule/limit_spec.h"

namespace chime::db {

enum class LimitSource { kFile, kApi };  // limits.source: 'file' | 'api'.

// One partition's use: its payload value ("" when the job has no such
// field, or when the limit is not partitioned).
struct LimitPartitionUse {
  std::string partition;
  int64_t running = 0;            // Attempts running under it now.
  int64_t started_in_window = 0;  // Starts in the rate's current window.
};

struct LimitRow {
  schedule::LimitSpec spec;
  LimitSource source = LimitSource::kApi;
  TimePoint created_at;
  TimePoint updated_at;
  int64_t running = 0;  // Over all partitions.
  // Ready jobs it applies to (whether or not their partition is full).
  int64_t ready = 0;
  // The busiest partitions (most running, then most started), at most
  // kMaxPartitionsShown; partitions_total counts them all.
  std::vector<LimitPartitionUse> partitions;
  int64_t partitions_total = 0;
};

// Why a ready job is not being claimed: a limit whose partition is full.
struct LimitWait {
  std::string limit;
  std::string partition;
  std::optional<int> concurrency;
  int64_t running = 0;
  std::optional<schedule::LimitRate> rate;
  int64_t started_in_window = 0;
  // When the rate's window next lets a start through (rate-bound only).
  std::optional<TimePoint> next_slot;
};

class LimitStore {
 public:
  static constexpr size_t kMaxPartitionsShown = 20;

  explicit LimitStore(Connection& conn) : conn_(conn) {}

  // Creates or replaces the limit of that name (source api: a schedule
  // file's limit becomes the API's once changed here). InvalidArgument
  // names the field.
  [[nodiscard]] Result<LimitRow> LimitSet(const schedule::LimitSpec& spec);
  // Every limit by name, with its use.
  [[nodiscard]] Result<std::vector<LimitRow>> LimitsList();
  // NotFound when there is no such limit. Jobs it held become claimable.
  [[nodiscard]] Result<void> LimitDelete(const std::string& name);
  // The limits holding ready job `job_id` back now (empty: none; also for a
  // job that is not ready). NotFound if there is no such job.
  [[nodiscard]] Result<std::vector<LimitWait>> LimitWaits(int64_t job_id);
  // The earliest time a rate window on one of `queues` lets another start
  // through, when a start in some window is what holds jobs back; nullopt
  // when no rate limit on them has a start in its window. A claimer that
  // came back short sleeps until then instead of polling.
  [[nodiscard]] Result<std::optional<TimePoint>> LimitsNextSlot(std::span<const std::string> queues);

 private:
  Connection& conn_;
};

}  // namespace chime::db
