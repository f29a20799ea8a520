// Publishes the workers this replica hears from to the cluster's directory
// (chime.workers, db::WorkerDirectory) every interval, and forgets workers
// no replica has heard from within forget_after, so that `jobctl workers`
// lists every replica's workers. Owns one database connection and one
// thread. Start()/Stop() from one controlling thread; Stop() idempotent.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "chime/v1/chime.pb.h"
#include "common/base/error.h"
#include "common/base/loop_thread.h"
#include "common/db/connection.h"
#include "common/db/worker_directory.h"

namespace chime::scheduler {

struct WorkerPublisherConfig {
  std::string replica;  // This scheduler's id, recorded with its sightings.
  std::chrono::milliseconds interval{1000};
  std::chrono::milliseconds forget_after{10'000};  // As the router forgets them.
};

class WorkerPublisher {
 public:
  // The replica's workers now (RouterServer::WorkersSnapshot).
  using Snapshot = std::function<std::vector<v1::WorkerInfo>()>;

  WorkerPublisher(db::ConnectionConfig db, WorkerPublisherConfig config, Snapshot snapshot);
  ~WorkerPublisher();

  void Start();
  void Stop();

  // One pass on the caller's thread: publish, then forget the silent.
  [[nodiscard]] Result<void> PublishOnce();

 private:
  void Loop(std::stop_token stop);

  db::Connection conn_;  // Owned by the publishing thread (or PublishOnce's caller).
  db::WorkerDirectory directory_;
  const WorkerPublisherConfig config_;
  const Snapshot snapshot_;
  std::mutex mu_;
  std::condition_variable_any wake_;
  LoopThread loop_;
};

// Every replica's workers by id: the directory's rows, overridden by this
// replica's own view (`own`, fresher for the workers it hears from itself).
// When the directory cannot be read, `own` alone, and the error is logged.
std::vector<db::WorkerRow> AllWorkers(const Result<std::vector<db::WorkerRow>>& directory,
                                      const std::vector<v1::WorkerInfo>& own);

}  // namespace chime::scheduler
