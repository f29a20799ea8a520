// The one rescue path: hands running jobs whose job lease expired (or whose
// worker has not heartbeated for RescueParams::silent_for) back to the queue,
// and discards those out of attempts or rescued more than max_rescues times
// (poison pills that kill their worker). The scheduler's Maintainer calls it
// every rescue interval; the reset_stale_jobs job kind calls it on demand,
// dry runs included. The SQL is JobStore's (JobsRescue, JobsRescuePreview);
// this is the paging around it, written once. Thread-compatible: it uses the
// store's connection on the caller's thread.
//
// A worker's heartbeater giving up on a job it can no longer heartbeat
// (worker/heartbeater.h) is the other side of the same contract: the worker
// stops, and this path hands the job on once its lease has expired.
#pragma once

#include <functional>

#include "common/base/error.h"
#include "common/db/job.h"
#include "common/db/job_store.h"

namespace chime::db {

struct RescueRunOptions {
  // Change nothing: report what one page would rescue and discard now.
  bool dry_run = false;
  // Pages of RescueParams::limit jobs handled at most (each its own
  // transaction); a backlog beyond that waits for the next run.
  int max_pages = 100;
  // Asked between pages; true stops the run (a stopping worker).
  std::function<bool()> stop;
};

class JobRescuer {
 public:
  explicit JobRescuer(JobStore& store) : store_(store) {}

  // Rescues page after page until a page comes back short (nothing stale is
  // left), max_pages pages are done, or options.stop() says so. Ids are
  // sorted. A failed page returns its error; the pages before it stay done.
  [[nodiscard]] Result<RescueResult> Run(const RescueParams& params, const RescueRunOptions& options = {});

 private:
  JobStore& store_;
};

}  // namespace chime::db
