// Time series for the dashboard's charts: runs per bucket by outcome with
// their durations, and each queue's depth over time. Runs come from the
// hourly rollup (chime.run_stats, migration 0005) for the 24-hour and 7-day
// views and from the ledger's last hour (runs_finished_idx) for the 1-hour
// view, so no view costs more with a bigger ledger (chime-bench stats times
// them with 1,000,000 runs). Queue depth is sampled by the leader into
// chime.queue_samples (migration 0020) and read back at the resolution of
// the view.
//
// Counting (as common/db/stats_store.h, per bucket): runs, each finished
// job once by its final outcome (chime.runs.job_outcome, migration 0018),
// in the bucket its final attempt ended: succeeded; partial; failed (retries
// used up, discarded or timed out for good); cancelled; skipped = ticks the
// overlap or misfire policy skipped (chime.fires) plus runs the work itself
// declined. A retried job counts once; a fan-out parent when it settles.
// Durations (p50, p95) only for one schedule: across kinds they mean
// little. Every bucket of the range is present, oldest first; empty ones
// are zero.
//
// Thread-compatible: one SeriesStore per thread, like the connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"
#include "common/db/connection.h"
#include "common/db/job.h"

namespace chime::db {

// The views: the last hour (1-minute buckets), day (hours) and week (hours).
enum class SeriesRange { kHour, kDay, kWeek };
std::string_view SeriesRangeName(SeriesRange range);  // "1h" | "24h" | "7d".
std::optional<SeriesRange> ParseSeriesRange(std::string_view name);

struct RunSeriesParams {
  SeriesRange range = SeriesRange::kDay;
  std::optional<std::string> schedule;  // A schedule's name; NotFound when unknown.
};

struct RunBucket {
  TimePoint start;
  int64_t succeeded = 0;
  int64_t partial = 0;
  int64_t failed = 0;
  int64_t skipped = 0;
  int64_t cancelled = 0;
  // Durations of the attempts a handler ended in the bucket; for one
  // schedule only.
  std::optional<double> p50_ms;
  std::optional<double> p95_ms;
};

struct RunSeries {
  SeriesRange range = SeriesRange::kDay;
  std::chrono::seconds bucket{3600};
  TimePoint since;  // The first bucket's start.
  TimePoint until;  // The database's now().
  std::vector<RunBucket> buckets;
};

struct QueueSampleParams {
  std::chrono::seconds interval{15};  // The sampling slot: one sample per slot however many leaders.
  int max_queues = 100;               // The busiest queues first.
};

struct QueueSampleResult {
  int queues = 0;       // Queues seen.
  bool recorded = false;  // False: this slot had been sampled already.
  int64_t pruned = 0;   // Rows past their span's retention, deleted.
};

struct QueueSeriesParams {
  SeriesRange range = SeriesRange::kHour;
  std::optional<std::string> queue;  // One queue; unset: every sampled queue.
};

struct QueuePoint {
  TimePoint at;
  int64_t ready = 0;
  int64_t running = 0;
  int64_t oldest_ready_ms = 0;
};

struct QueueLine {
  std::string queue;
  std::vector<QueuePoint> points;  // Oldest first; missing slots are gaps.
};

struct QueueSeries {
  SeriesRange range = SeriesRange::kHour;
  std::chrono::seconds step{15};  // 15 s samples, 5-minute or hourly peaks.
  TimePoint since, until;
  std::vector<QueueLine> queues;  // By name.
};

class SeriesStore {
 public:
  // `conn` must outlive the store.
  explicit SeriesStore(Connection& conn);

  // Runs per bucket, in one read-only snapshot. InvalidArgument for a bad
  // schedule name; NotFound for an unknown one.
  [[nodiscard]] Result<RunSeries> RunsSeries(const RunSeriesParams& params);

  // Takes one sample of every queue (ready, running, oldest ready) into
  // each span, and deletes what its span no longer keeps (at most 10,000
  // rows a call), in one transaction. Two leaders in one slot write it once.
  [[nodiscard]] Result<QueueSampleResult> QueueSamplesRecord(const QueueSampleParams& params);

  // The samples of the range at its resolution. InvalidArgument for a bad
  // queue name; an unknown queue has no line.
  [[nodiscard]] Result<QueueSeries> QueueSamplesSeries(const QueueSeriesParams& params);

 private:
  Connection& conn_;
};

}  // namespace chime::db
