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
  // Jobs due now that it applies to (whether or not their partition is
  // full); jobs waiting for their run_at are not counted.
  int64_t ready = 0;
  // The busiest partitions (most running, then most started), at most
  // kMaxPartitionsShown; partitions_total counts them all.
  std::vector<LimitPartitionUse> partitions;
  int64_t partitions_total = 0;
  // Ready jobs claims passed over because their partition was full, since
  // the limit was made (a job passed over by three claims counts three
  // times): a counter; its rate is the pressure the limit puts on its jobs.
  int64_t held_back = 0;
};

struct LimitSyncResult {
  size_t applied = 0;             // Created or replaced from the file.
  std::vector<std::string> kept;  // File limits not in the file: kept.
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
  // A schedule file's `limits:`, in one transaction: each created or
  // replaced (source file). A file limit the file no longer lists is kept,
  // as file schedules are (a truncated file must not lift a limit); delete
  // it with LimitDelete. InvalidArgument names the limit and field.
  [[nodiscard]] Result<LimitSyncResult> LimitsSyncFile(std::span<const schedule::LimitSpec> specs);
  // NotFound when there is no such limit. Jobs it held become claimable:
  // LimitSet, LimitsSyncFile and LimitDelete wake the workers of the
  // limit's queue (every worker for a limit on every queue) at commit.
  [[nodiscard]] Result<void> LimitDelete(const std::string& name);
  // The earliest time a rate window on one of `queues` lets another start
  // through, when a start in some window is what holds jobs back; nullopt
  // when no rate limit on them has a start in its window. A claimer that
  // came back short sleeps until then instead of polling.
  [[nodiscard]] Result<std::optional<TimePoint>> LimitsNextSlot(std::span<const std::string> queues);

 private:
  Connection& conn_;
};

}  // namespace chime::db
