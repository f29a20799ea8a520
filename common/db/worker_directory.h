// The cluster's directory of workers (chime.workers, migration 0011): each
// scheduler replica publishes the workers it hears from, and anyone lists
// the union, one row per worker id with its freshest sighting. Times are the
// database's: a replica says how long ago it heard from a worker, so replicas
// whose clocks disagree still order their sightings correctly.
// Thread-compatible: one WorkerDirectory per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/base/error.h"
#include "common/db/connection.h"
#include "common/db/job.h"

namespace chime::db {

// A worker as it describes itself (its hello and heartbeats) and when it
// was last heard from.
struct WorkerRow {
  std::string worker_id;
  std::string host;
  int pid = 0;
  std::vector<std::string> queues;
  int slots = 0;
  int free_slots = 0;
  std::vector<int64_t> running_jobs;
  std::string version;
  // Publish: by the publishing replica's clock. List: the database's.
  TimePoint last_seen;
  // List only: the replica whose sighting this is, and when the worker
  // was first published (again after a restart with a new pid).
  std::string seen_by;
  TimePoint started_at;
};

class WorkerDirectory {
 public:
  explicit WorkerDirectory(Connection& conn) : conn_(conn) {}

  // Records what `replica` heard from these workers, in one statement; `now`
  // is the replica's clock, which their last_seen is on (the row gets the
  // same age in database time). A row keeps whichever sighting is fresher,
  // this one or another replica's; a worker listed twice keeps its fresher
  // entry. InvalidArgument for an empty worker id or replica.
  [[nodiscard]] Result<void> Publish(std::span<const WorkerRow> workers, const std::string& replica,
                                     TimePoint now);

  // Deletes workers no replica has heard from for `silent_for`; returns how many.
  [[nodiscard]] Result<int64_t> ForgetSilent(std::chrono::milliseconds silent_for);

  // Every worker, by id.
  [[nodiscard]] Result<std::vector<WorkerRow>> List();

 private:
  Connection& conn_;
};

}  // namespace chime::db
