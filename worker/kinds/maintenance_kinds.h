// The seeds' housekeeping operations as job kinds (002_6edd4868f68be00e.txt:
// "cleanup_old_jobs: remove completed/failed jobs older than 7 days",
// "reset_stale_jobs: reset jobs running longer than 30 minutes"), run on
// Chime's own tables through the job store.
//
// cleanup_old_jobs  {retentionDays: 1..3650 = 7}
//   Deletes finished jobs and runs older than the retention, then webhook
//   outbox rows delivered longer ago than the same retention (undelivered
//   rows are never deleted), in bounded batches (each its own short
//   transaction), reporting progress between them. Runs go by whole UTC
//   days: a day of the ledger wholly past the retention is one DROP of its
//   partition (migration 0025). Result: {retentionDays,
//   jobsDeleted, runsDeleted, webhooksDeleted, dryRun, invocation}. A dry
//   run counts what would go. Deletes through the functions
//   chime.delete_finished_jobs / chime.delete_old_runs (migration 0004) and
//   chime.delete_delivered_webhooks (0010), so the chime_worker role (which
//   may not DELETE) can run it.
//
// reset_stale_jobs  {staleAfterMinutes: 1..10080 = 30, maxRescues: 0..100 = 3}
//   Hands running jobs back to retryable when their job lease expired or
//   their worker has not heartbeated for staleAfterMinutes; discards those
//   out of attempts or rescued more than maxRescues times (poison pills).
//   The scheduler maintainer's rescue path (db::JobRescuer), pages of 1,000
//   until none is left (at most 1,000 pages a run). Result:
//   {staleAfterMinutes, reset, discarded, resetJobIds, discardedJobIds
//   (each at most 1,000 ids; idsTruncated says when more), dryRun,
//   invocation}.
#pragma once

#include "worker/handler.h"

namespace chime::worker::kinds {

class CleanupOldJobs final : public Handler {
 public:
  std::string_view Kind() const override { return "cleanup_old_jobs"; }
  HandlerResult Run(JobContext& ctx) override;
};

class ResetStaleJobs final : public Handler {
 public:
  std::string_view Kind() const override { return "reset_stale_jobs"; }
  HandlerResult Run(JobContext& ctx) override;
};

}  // namespace chime::worker::kinds
