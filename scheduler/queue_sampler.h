// Samples every queue's depth (ready, running, oldest ready) into
// chime.queue_samples every `interval` while this scheduler leads, for the
// dashboard's queue charts: a depth is a state, so its history exists only
// if someone writes it down. Standbys wait; two schedulers that both believe
// they lead write one sample per slot (db::SeriesStore). Each pass also
// prunes what the table no longer keeps, so it stays bounded (migration
// 0020). Owns one database connection, used by its own thread (or
// RunOnce's caller). Start()/Stop() are thread-safe; Stop() is idempotent.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

#include "common/base/error.h"
#include "common/base/loop_thread.h"
#include "common/db/connection.h"
#include "common/db/series_store.h"

namespace chime::scheduler {

struct QueueSamplerConfig {
  std::chrono::seconds interval{15};  // The dashboard's 1-hour view draws these.
  int max_queues = 100;               // Busiest first.

  // InvalidArgument naming the flag: "queue-sample-interval: must be 1s-5m".
  [[nodiscard]] Result<void> Validate() const;
};

class QueueSampler {
 public:
  QueueSampler(db::ConnectionConfig db, QueueSamplerConfig config, std::function<bool()> is_leader);
  ~QueueSampler();

  void Start();
  void Stop();

  // One pass on the caller's thread: nothing (queues 0, not recorded) when
  // not leading. Exposed for tests; not with Start().
  [[nodiscard]] Result<db::QueueSampleResult> RunOnce();

  // Slots this scheduler wrote since start.
  int64_t recorded() const;

 private:
  void Loop(std::stop_token stop);

  db::Connection conn_;  // Owned by the sampler thread (or RunOnce's caller).
  db::SeriesStore store_;
  const QueueSamplerConfig config_;
  const std::function<bool()> is_leader_;

  mutable std::mutex mu_;
  std::condition_variable_any wake_;
  int64_t recorded_ = 0;  // Guarded by mu_.
  LoopThread loop_;  // Last: stopped before the state it uses goes away.
};

}  // namespace chime::scheduler
