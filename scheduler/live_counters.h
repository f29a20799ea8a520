// Results received from workers since this scheduler started, by queue,
// kind and outcome: the live counters jobctl stats and the metrics read.
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "chime/v1/chime.pb.h"

namespace chime::scheduler {

class LiveCounters {
 public:
  void Add(const v1::JobResult& result);
  std::vector<v1::LiveCounter> Snapshot() const;
  int64_t total() const;

 private:
  using Key = std::tuple<std::string, std::string, int>;  // queue, kind, outcome
  mutable std::mutex mu_;
  std::map<Key, int64_t> counts_;  // Guarded by mu_.
  int64_t total_ = 0;              // Guarded by mu_.
};

}  // namespace chime::scheduler
