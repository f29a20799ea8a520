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
  // Any peer that reaches the router can report results, so made-up queues
  // and kinds must not grow memory or the stats reply without bound: past
  // this many distinct (queue, kind, outcome) counters, a new one is counted
  // under queue and kind kOther (so at most one more per outcome). 4,096 counters of the longest names are
  // ~1.1 MB, well inside a reply frame (wire::kMaxFrameBytes).
  static constexpr size_t kMaxCounters = 4096;
  static constexpr const char* kOther = "_other";

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
