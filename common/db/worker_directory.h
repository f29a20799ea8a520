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

// One worker as a replica sees it now.
struct WorkerSighting {
  std::string worker_id;
  std::string host;
  int pid = 0;
  std::vector<std::string> queues;
  int slots = 0;
  int free_slots = 0;
  std::vector<int64_t> running_jobs;
  std::string version;
  std::chrono::milliseconds silent_for{0};  // Since the replica last heard from it.
};

struct WorkerRow {
  std::string worker_id;
  std::string host;
  int pid = 0;
  std::vector<std::string> queues;
  int slots = 0;
  int free_slots = 0;
  std::vector<int64_t> running_jobs;
  std::string version;
  std::string seen_by;  // The replica whose sighting this is.
  TimePoint started_at;  // First published (again after a restart with a new pid).
  TimePoint last_seen_at;
};

class WorkerDirectory {
 public:
  explicit WorkerDirectory(Connection& conn) : conn_(conn) {}

  // Records `replica`'s sightings in one statement. A row keeps whichever
  // sighting is fresher, this one or another replica's. A worker id listed
  // twice keeps its fresher entry. InvalidArgument for an empty id or replica.
  [[nodiscard]] Result<void> Publish(std::span<const WorkerSighting> sightings, const std::string& replica);

  // Deletes workers no replica has heard from for `silent_for`; returns how many.
  [[nodiscard]] Result<int64_t> ForgetSilent(std::chrono::milliseconds silent_for);

  // Every worker, by id.
  [[nodiscard]] Result<std::vector<WorkerRow>> List();

 private:
  Connection& conn_;
};

}  // namespace chime::db
