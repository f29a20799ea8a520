// Queues as operators see them (migration 0024): each queue with live jobs
// or a pause on record, with its ready, scheduled and running jobs, and
// pausing and resuming one. A paused queue accepts jobs but no claim takes
// them (chime.jobs_claim_limited drops it from the claim's queues); running
// jobs finish. Each method is one transaction. Thread-compatible: one
// QueueStore per thread, like its Connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/base/error.h"
#include "common/db/connection.h"
#include "common/db/job.h"

namespace chime::db {

struct QueueRow {
  std::string name;
  std::optional<TimePoint> paused_at;  // Set while paused.
  // Who paused or resumed it last ("" if nobody ever did) and when.
  std::string changed_by;
  std::optional<TimePoint> changed_at;
  int64_t ready = 0;      // Due now (claimable unless paused).
  int64_t scheduled = 0;  // Waiting for their run_at.
  int64_t running = 0;
  std::chrono::milliseconds oldest_ready_age{0};  // 0 when none is ready.

  bool paused() const { return paused_at.has_value(); }
};

class QueueStore {
 public:
  explicit QueueStore(Connection& conn) : conn_(conn) {}

  // Every queue with live jobs or a row in chime.queues, by name.
  [[nodiscard]] Result<std::vector<QueueRow>> QueuesList();
  // The names of the paused queues (a primary-key walk of chime.queues).
  [[nodiscard]] Result<std::vector<std::string>> QueuesPaused();
  // One queue (a queue nobody named and without jobs is open and empty).
  // InvalidArgument for a malformed name.
  [[nodiscard]] Result<QueueRow> QueueGet(const std::string& name);
  // Pauses the queue (it need not have jobs yet); pausing a paused queue
  // keeps its paused_at. `by` names the caller, never a secret (at most
  // 200 bytes). InvalidArgument for a malformed name.
  [[nodiscard]] Result<QueueRow> QueuePause(const std::string& name, const std::string& by);
  // Resumes it and wakes the workers serving it (its ready jobs are
  // notified as an insert notifies them); resuming an open queue changes
  // nothing. InvalidArgument for a malformed name.
  [[nodiscard]] Result<QueueRow> QueueResume(const std::string& name, const std::string& by);

 private:
  // Runs kPause or kResume ($1 name, $2 by) and reads the queue back, in one
  // transaction.
  Result<QueueRow> Change(const char* statement, const std::string& name, const std::string& by);

  Connection& conn_;
};

}  // namespace chime::db
