#include "scheduler/live_counters.h"

namespace chime::scheduler {

void LiveCounters::Add(const v1::JobResult& result) {
  {
    std::lock_guard lock(mu_);
    Key key{result.queue(), result.kind(), result.outcome()};
    auto it = counts_.find(key);
    if (it == counts_.end()) {
      // Past the cap only the fold keys are added, one per outcome.
      if (counts_.size() >= kMaxCounters) key = {kOther, kOther, result.outcome()};
      it = counts_.try_emplace(std::move(key), 0).first;
    }
    ++it->second;
    ++total_;
  }
  if (ResultObserver* observer = observer_.load()) observer->OnResult(result);
}

std::vector<v1::LiveCounter> LiveCounters::Snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<v1::LiveCounter> out;
  for (const auto& [key, n] : counts_) {
    v1::LiveCounter c;
    c.set_queue(std::get<0>(key));
    c.set_kind(std::get<1>(key));
    c.set_outcome(static_cast<v1::Outcome>(std::get<2>(key)));
    c.set_count(n);
    out.push_back(std::move(c));
  }
  return out;
}

int64_t LiveCounters::total() const {
  std::lock_guard lock(mu_);
  return total_;
}

}  // namespace chime::scheduler
