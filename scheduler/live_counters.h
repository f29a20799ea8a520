// Results received from workers since this scheduler started, by queue,
// kind and outcome: the live counters jobctl stats and the metrics read.
// Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "chime/v1/chime.pb.h"

namespace chime::scheduler {

// Told about every result after it is counted (the HTTP metrics feed their
// histograms from it). Called on the router thread; must not block.
class ResultObserver {
 public:
  virtual ~ResultObserver() = default;
  virtual void OnResult(const v1::JobResult& result) = 0;
};

class LiveCounters {
 public:
  void Add(const v1::JobResult& result);
  // Set before results arrive (before the router starts); null: none.
  void set_observer(ResultObserver* observer) { observer_.store(observer); }
  std::vector<v1::LiveCounter> Snapshot() const;
  int64_t total() const;

 private:
  using Key = std::tuple<std::string, std::string, int>;  // queue, kind, outcome
  mutable std::mutex mu_;
  std::map<Key, int64_t> counts_;  // Guarded by mu_.
  int64_t total_ = 0;              // Guarded by mu_.
  std::atomic<ResultObserver*> observer_{nullptr};
};

}  // namespace chime::scheduler
