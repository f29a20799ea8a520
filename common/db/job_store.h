// The job store: a job's life - enqueue, claim, heartbeat, completion,
// release, rescue, cancel, cleanup - and its reads. (Fires write jobs in
// ScheduleStore, and the statistics stores read runs.)
// Each method is one round trip unless it says otherwise, and either applies
// completely or not at all. Thread-compatible: one JobStore per thread (it
// owns one Connection); make several for concurrency.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base/backoff.h"
#include "common/base/clock.h"
#include "common/base/error.h"
#include "common/db/connection.h"
#include "common/db/job.h"

namespace pqxx {
class transaction_base;
}

namespace chime::db {

struct JobStoreConfig {
  size_t max_payload_bytes = 1 << 20;  // Larger payloads are InvalidArgument.
  BackoffPolicy retry_backoff{std::chrono::seconds(1), std::chrono::hours(1), 0.1};
  // JobsInsertMany writes a batch of at least this many jobs with COPY when
  // none of them has a unique key, a run-at or a delay (about 1.5 times the
  // rate of the array statement). 0: never. COPY names the ids, taken from
  // the jobs sequence first, so the role needs INSERT on chime.jobs(id) and
  // USAGE on its sequence: chime_admin and chime_scheduler have both,
  // chime_worker neither (workers set 0).
  size_t copy_min_batch = 500;

  [[nodiscard]] Result<void> Validate() const;
};

// A fresh random UUID for ClaimParams::claim_id.
std::string NewClaimId();

class JobStore {
 public:
  // `conn` must outlive the store. `rng` drives retry jitter.
  JobStore(Connection& conn, JobStoreConfig config = {}, Rng* rng = nullptr);
  ~JobStore();

  // Inserts one job. With a unique key held by a live job of the same kind,
  // returns that job with existing=true instead (also under concurrency).
  [[nodiscard]] Result<EnqueueResult> JobInsert(const EnqueueParams& params);

  // Inserts many jobs in one statement; results are in input order. Any
  // invalid item rejects the whole batch and names its index.
  [[nodiscard]] Result<std::vector<EnqueueResult>> JobsInsertMany(
      std::span<const EnqueueParams> params);

  // JobInsert and JobsInsertMany inside `tx`, a transaction the caller
  // holds (River's InsertTx): the jobs commit with the caller's own writes
  // (an outbox row, a counter it corrected) and vanish if it aborts, so a
  // job exists exactly when the change it follows does. Validation and
  // unique keys as above; an invalid job returns its error before any
  // statement runs, leaving `tx` as it was. A database error throws, like
  // any statement in `tx`, for the Connection::Run around it to map; `tx`
  // is then aborted. Statements go by text (`tx`'s session need not have
  // prepared this store's), never by COPY, and not through this store's
  // connection. `tx` should be READ COMMITTED (pqxx::work): a unique key's
  // holder is looked up after the insert conflicts.
  [[nodiscard]] Result<EnqueueResult> JobInsertTx(pqxx::transaction_base& tx, const EnqueueParams& params);
  [[nodiscard]] Result<std::vector<EnqueueResult>> JobsInsertManyTx(pqxx::transaction_base& tx,
                                                                    std::span<const EnqueueParams> params);

  // Runs sql::InsertSelected(ctes, result) (job_store_sql.h): inserts the
  // children the caller's query selects, server-side, no row travelling
  // through this process (a fan-out of 100,000s: worker/kinds/
  // fan_out_lanes.h), and returns the first row of `result`, as text (NULL:
  // nullopt). `params` are $1, $2, ... as text. The children skip
  // ValidateEnqueue: the caller answers for them. One statement, committed
  // on its own.
  [[nodiscard]] Result<std::vector<std::optional<std::string>>> JobsInsertSelected(
      std::string_view ctes, std::string_view result, std::span<const std::string> params);

  // Claims up to params.limit ready jobs (priority, run_at, id order) with
  // FOR UPDATE SKIP LOCKED; each gets attempt+1 and a fresh lease.
  [[nodiscard]] Result<std::vector<ClaimedJob>> JobsClaim(const ClaimParams& params);

  // The jobs the claim named params.claim_id took and still holds (running
  // under its leases), their leases renewed by params.lease. For a claimer
  // whose claim failed with an unknown outcome: the connection dropped after
  // the statement was sent, so it may have committed. Empty when it did not,
  // or its jobs were since rescued or finished.
  [[nodiscard]] Result<std::vector<ClaimedJob>> JobsClaimRecover(const ClaimParams& params);

  // Extends every lease still held to now() + extension.
  [[nodiscard]] Result<HeartbeatResult> JobsHeartbeat(std::span<const Lease> leases,
                                                      std::chrono::milliseconds extension);

  // Records the outcome of each attempt and writes its run, only where the
  // job is running under that lease token; others are reported not applied.
  [[nodiscard]] Result<std::vector<CompletionResult>> JobsCompleteIfLeased(
      std::span<const Completion> completions);

  // Of completions refused above, those that were in fact recorded earlier
  // (a run of that attempt by that worker): a completion that committed but
  // whose answer was lost with the connection, then sent again. Maps (job
  // id, attempt) to the state that completion gave the job.
  [[nodiscard]] Result<std::map<std::pair<int64_t, int>, JobState>> JobsCompletionRecorded(
      std::span<const Completion> completions);

  // Stores a running job's latest progress report (a JSON text, validated
  // like a payload) while the lease holds. False: the lease was lost.
  [[nodiscard]] Result<bool> JobProgressSetIfLeased(const Lease& lease,
                                                    const std::string& progress_json);

  // Hands leased jobs back to available without using up an attempt (used on
  // shutdown). Returns the ids released.
  [[nodiscard]] Result<std::vector<int64_t>> JobsReleaseIfLeased(std::span<const Lease> leases,
                                                                 const std::string& worker_id);

  // Moves running jobs whose lease expired back to retryable, or discards
  // them when out of attempts or rescued more than max_rescues times.
  [[nodiscard]] Result<RescueResult> JobsRescue(const RescueParams& params);
  // What JobsRescue would do now, changing nothing.
  [[nodiscard]] Result<RescueResult> JobsRescuePreview(const RescueParams& params);

  // Deletes finished jobs and runs older than the retention in bounded batches.
  [[nodiscard]] Result<CleanupResult> JobsCleanup(const CleanupParams& params);
  // How many jobs and runs JobsCleanup would delete now (all of them, past
  // max_batches too), deleting nothing.
  [[nodiscard]] Result<CleanupResult> JobsCleanupPreview(std::chrono::hours retention);

  // Cancels a job that is not running; flags a running one. NotFound if no
  // such job; FailedPrecondition if it already finished.
  [[nodiscard]] Result<CancelOutcome> JobCancel(int64_t id);

  // Makes a discarded, cancelled, retryable or scheduled job available now.
  // NotFound / FailedPrecondition (running or succeeded).
  [[nodiscard]] Result<Job> JobRetry(int64_t id);

  [[nodiscard]] Result<JobWithRuns> JobGet(int64_t id);
  // The job row alone, in one statement (JobGet also reads its runs and
  // children in a transaction of its own). NotFound.
  [[nodiscard]] Result<Job> JobFind(int64_t id);
  [[nodiscard]] Result<JobPage> JobsList(const ListParams& params);

  // Counts per (queue, kind, state) and ready depth per queue. Live states
  // are counted through a partial index; finished ones come from counters the
  // database maintains, so the cost does not grow with finished rows.
  [[nodiscard]] Result<Stats> JobsStats();

  Connection& connection() { return conn_; }

 private:
  [[nodiscard]] Result<RescueResult> Rescue(const RescueParams& params, const char* statement);
  // JobsInsertMany's COPY path (job_store_copy.cc), for validated jobs that
  // CopyEligible() accepts.
  [[nodiscard]] Result<std::vector<EnqueueResult>> JobsInsertByCopy(std::span<const EnqueueParams> params);
  bool CopyEligible(std::span<const EnqueueParams> params) const;

  Connection& conn_;
  JobStoreConfig config_;
  std::unique_ptr<Rng> owned_rng_;
  Rng* rng_;
};

// Checks one job's fields without touching the database; the message names
// the field ("queue: ..."). Exposed for jobctl and the tests.
[[nodiscard]] Result<void> ValidateEnqueue(const EnqueueParams& params, size_t max_payload_bytes);

// True when a payload's top level has "dry_run": true or "dryRun": true (the
// seeds' spellings): every insert marks such a job a dry run, whichever way
// it was enqueued (jobctl, the scheduler's API, a handler's children; a
// schedule's fires do the same in SQL).
bool PayloadAsksDryRun(std::string_view payload);
inline bool DryRun(const EnqueueParams& p) { return p.dry_run || PayloadAsksDryRun(p.payload); }

}  // namespace chime::db
