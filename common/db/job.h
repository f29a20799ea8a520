// Plain job, run and parameter types of the job store. No libpqxx here.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace chime::db {

using TimePoint = std::chrono::system_clock::time_point;

// Job states, as stored in jobs.state.
enum class JobState {
  kScheduled,  // Waiting for run_at.
  kAvailable,  // Ready to claim.
  kRunning,    // Claimed under a lease.
  kRetryable,  // Failed; waits for its backoff (run_at), then claimable again.
  kSucceeded,
  kDiscarded,  // Failed permanently, out of attempts, unknown kind, or poison pill.
  kCancelled,
};
std::string_view JobStateName(JobState state);
std::optional<JobState> ParseJobState(std::string_view name);
// Every state, in the lifecycle's order. The SQL's sets of states are in
// job_state_sql.h.
inline constexpr std::array<JobState, 7> kJobStates = {
    JobState::kScheduled, JobState::kAvailable, JobState::kRunning,  JobState::kRetryable,
    JobState::kSucceeded, JobState::kDiscarded, JobState::kCancelled};

// Who started a job: a schedule's tick, or a person (jobctl enqueue, a
// schedule trigger or backfill). Children inherit their parent's.
enum class Invocation { kManual, kCron };
std::string_view InvocationName(Invocation invocation);  // "manual" | "cron"
std::optional<Invocation> ParseInvocation(std::string_view name);
bool IsFinished(JobState state);

// How a finished job's run ended, as stored in jobs.outcome (NULL while the
// job is live). A skipped job has state succeeded; a failed one discarded.
enum class JobOutcome { kSucceeded, kPartial, kFailed, kSkipped, kCancelled };
std::string_view JobOutcomeName(JobOutcome outcome);
std::optional<JobOutcome> ParseJobOutcome(std::string_view name);

// Outcome of one attempt, as stored in runs.outcome.
enum class RunOutcome {
  kSucceeded,
  kPartial,       // Succeeded with a non-empty errors list.
  kSkipped,       // The work declined to run (not retried; neither success nor failure).
  kFailed,        // Failed; the job will be retried.
  kDiscarded,     // Failed; the job will not be retried.
  kCancelled,
  kLeaseExpired,  // The worker vanished; the job was rescued.
  kReleased,      // Handed back at shutdown; the attempt does not count.
};
std::string_view RunOutcomeName(RunOutcome outcome);
std::optional<RunOutcome> ParseRunOutcome(std::string_view name);

struct EnqueueParams {
  std::string kind;
  std::string queue = "default";
  int priority = 0;                // 0 (first) .. 9 (last).
  std::string payload = "{}";      // A JSON object or value, validated.
  std::optional<TimePoint> run_at;  // Absolute time; wins over delay.
  std::chrono::milliseconds delay{0};
  int max_attempts = 20;
  std::optional<std::chrono::milliseconds> timeout;  // Unset: the worker's default.
  std::optional<std::string> unique_key;  // Unique per kind while the job is live.
  std::optional<int64_t> parent_id;
  bool dry_run = false;
  Invocation invocation = Invocation::kManual;
};

struct EnqueueResult {
  int64_t id = 0;
  bool existing = false;  // True when a live job with the same unique key was returned.
  JobState state = JobState::kAvailable;
};

struct ClaimParams {
  std::string worker_id;
  std::vector<std::string> queues{"default"};
  int limit = 1;  // Claims at most this many; 1..1000.
  std::chrono::milliseconds lease{std::chrono::seconds(30)};
  // A UUID naming this claim (NewClaimId()); empty: the store picks one. A
  // claimer that keeps it can recover what the claim took when its reply
  // was lost (JobStore::JobsClaimRecover).
  std::string claim_id;
};

struct Lease {
  int64_t job_id = 0;
  std::string token;  // UUID text.
};

struct ClaimedJob {
  int64_t id = 0;
  std::string kind;
  std::string queue;
  int priority = 0;
  std::string payload;
  int attempt = 0;  // 1 on the first attempt.
  int max_attempts = 0;
  std::optional<std::chrono::milliseconds> timeout;
  std::optional<int64_t> parent_id;
  bool dry_run = false;
  Invocation invocation = Invocation::kManual;
  Lease lease;
  TimePoint lease_expires_at;
  TimePoint attempted_at;
  TimePoint run_at;  // When it became due; attempted_at - run_at is the pickup latency.
  // Set on a schedule's fire (and its trigger or backfill): the schedule and
  // the tick's logical time. The name is empty when the schedule was deleted.
  std::optional<int64_t> schedule_id;
  std::string schedule_name;
  std::optional<TimePoint> scheduled_for;
  // Counted under a cluster-wide limit (migration 0022): its end frees a
  // slot that jobs of other claims may be waiting for.
  bool limited = false;
};

// How an attempt ended, reported by the worker holding the lease.
enum class CompletionKind {
  kSucceeded,       // Errors list may be non-empty: a partial success.
  kFailed,          // Retry with backoff unless out of attempts.
  kFailedPermanent, // Discard now.
  kCancelled,       // The handler honoured a cancel request.
  kSkipped,         // The work declined this run; the job ends, outcome 'skipped'.
};

struct Completion {
  Lease lease;
  CompletionKind kind = CompletionKind::kSucceeded;
  int attempt = 0;                // The attempt being completed (for backoff).
  std::string summary = "{}";     // JSON.
  std::vector<std::string> errors;
  std::string worker_id;
};

struct CompletionResult {
  int64_t job_id = 0;
  bool applied = false;  // False: the lease was lost; nothing changed.
  std::optional<JobState> new_state;
};

struct HeartbeatResult {
  std::vector<int64_t> extended;          // Leases still held, now extended.
  std::vector<int64_t> lost;              // No longer running under that token.
  std::vector<int64_t> cancel_requested;  // Held, but an operator asked to cancel.
};

struct RescueParams {
  int max_rescues = 3;  // A job rescued more often than this is discarded.
  int limit = 1000;     // Rows handled per call.
  // Also stale: running jobs whose worker has not heartbeated for this long,
  // although their lease has not run out. Unset: expired leases only.
  std::optional<std::chrono::seconds> silent_for;
};

struct RescueResult {
  std::vector<int64_t> rescued;    // Back to available/retryable.
  std::vector<int64_t> discarded;  // Out of attempts or poison pills.
};

struct CleanupParams {
  std::chrono::hours retention{24 * 7};
  int batch_size = 1000;  // Rows per statement (1-100,000); each batch is its own transaction.
  int max_batches = 1000;  // Bound on one call's work.
};

struct CleanupResult {
  int64_t jobs_deleted = 0;
  int64_t runs_deleted = 0;
  bool more = false;  // True when max_batches stopped it before the end.
};

// One attempt, as the run ledger holds it. The attempt that ended its job
// is the job's final row and carries the job's outcome: a run (a job through
// all its attempts) is read from its final row (DESIGN.md rule 7).
struct Run {
  int64_t id = 0;
  int64_t job_id = 0;
  int attempt = 0;
  std::string worker_id;
  TimePoint started_at;
  TimePoint finished_at;
  RunOutcome outcome = RunOutcome::kSucceeded;  // This attempt's.
  std::string summary;
  std::vector<std::string> errors;
  bool dry_run = false;
  // This attempt ended the job. A fan-out parent's final row has no
  // job_outcome until its children are done.
  bool final = false;
  std::optional<JobOutcome> job_outcome;
};

struct Job {
  int64_t id = 0;
  std::string kind;
  std::string queue;
  int priority = 0;
  JobState state = JobState::kAvailable;
  std::string payload;
  int attempt = 0;
  int max_attempts = 0;
  int rescue_count = 0;
  std::optional<std::chrono::milliseconds> timeout;
  std::optional<std::string> unique_key;
  std::optional<int64_t> parent_id;
  bool dry_run = false;
  bool cancel_requested = false;
  std::optional<std::string> worker_id;
  TimePoint created_at;
  TimePoint run_at;
  std::optional<TimePoint> attempted_at;
  std::optional<TimePoint> finished_at;
  std::optional<std::string> last_error;
  std::optional<std::string> progress;  // JSON text of the latest progress report.
  Invocation invocation = Invocation::kManual;
  // Set once finished; a fan-out parent's stays unset after its own attempt
  // ended, until its children are done (waiting).
  std::optional<JobOutcome> outcome;
  // The schedule that fired it and the tick; the name is unset when the
  // schedule was deleted or none fired it.
  std::optional<int64_t> schedule_id;
  std::optional<std::string> schedule_name;
  std::optional<TimePoint> scheduled_for;
  bool fan_out = false;  // It enqueued children; its outcome is theirs too.
  // Children without an outcome yet, for a waiting fan-out (JobGet only).
  std::optional<int64_t> children_live;

  // Finished as an attempt, its outcome waiting for its children.
  bool Waiting() const { return IsFinished(state) && !outcome.has_value(); }
};

// Why a ready job is not being claimed: a cluster-wide limit whose
// partition is full (migration 0022).
struct LimitWait {
  std::string limit;
  std::string partition;  // The payload value; "" when not partitioned.
  std::optional<int> concurrency;
  int64_t running = 0;
  std::optional<int> rate;  // Starts per rate_window.
  std::chrono::milliseconds rate_window{0};
  int64_t started_in_window = 0;
  // When the rate's window next lets a start through (rate-bound only).
  std::optional<TimePoint> next_slot;
};

struct JobWithRuns {
  Job job;
  std::vector<Run> runs;  // Oldest first.
  // A fan-out's progress: its child jobs counted by state (children already
  // cleaned up are gone from the counts). Empty for a job without children.
  std::map<JobState, int64_t> children;
  // The same children by outcome, "" for those still live.
  std::map<std::string, int64_t> children_outcomes;
  // A ready job held back by limits: each one that is full.
  std::vector<LimitWait> waiting_on;
  // A job waiting in a paused queue (migration 0024): since when, by whom.
  std::optional<TimePoint> queue_paused_at;
  std::string queue_paused_by;
};

struct ListParams {
  std::vector<JobState> states;  // Empty: all.
  std::optional<std::string> kind;
  std::optional<std::string> queue;
  std::optional<std::string> schedule;  // The schedule's name; NotFound when unknown.
  std::vector<JobOutcome> outcomes;     // Empty: all (live jobs have none).
  std::optional<int64_t> parent_id;     // A fan-out's children.
  std::optional<TimePoint> since;  // created_at >= since
  std::optional<TimePoint> until;  // created_at < until
  std::optional<int64_t> before_id;  // Keyset cursor: ids below this (newest first).
  int limit = 50;  // 1..1000.
  // Examine at most this many ids below the cursor (a page of a filter
  // that matches little then ends early, with next_before_id where the
  // search stopped), so a page costs the same however many jobs the table
  // holds. Unset: search until `limit` rows match. Filters on a schedule
  // or a parent read that index instead and ignore it.
  std::optional<int64_t> scan_ids;
};

struct JobPage {
  std::vector<Job> jobs;  // Newest first.
  std::optional<int64_t> next_before_id;  // Set when more rows may follow.
  // With scan_ids: the lowest id this page examined, when it stopped there
  // before filling the page (older jobs were not searched yet).
  std::optional<int64_t> searched_to_id;
};

struct StateCount {
  std::string queue;
  std::string kind;
  JobState state = JobState::kAvailable;
  int64_t count = 0;
};

struct QueueDepth {
  std::string queue;
  int64_t ready = 0;  // Claimable now.
  std::chrono::milliseconds oldest_ready_age{0};
};

struct Stats {
  std::vector<StateCount> rows;     // Every (queue, kind, state) with count > 0.
  std::vector<QueueDepth> queues;   // Ready work per queue.
};

enum class CancelOutcome {
  kCancelled,         // It was not running; now cancelled.
  kCancelRequested,   // Running; its worker is asked to stop.
};

}  // namespace chime::db
