// This worker's /metrics: process counters and histograms of what this
// process ran (reset on restart; a query sums them over workers), plus its
// slots read at scrape time.
//   chime_worker_jobs_started_total{queue,kind}             counter
//   chime_worker_jobs_finished_total{queue,kind,outcome}    counter (outcome:
//       succeeded, partial, failed, discarded, cancelled, lease_expired)
//   chime_worker_job_duration_seconds{queue,kind}           histogram, handler wall time
//   chime_worker_job_pickup_latency_seconds{queue,kind}     histogram, run_at -> claim
//   chime_worker_slots, chime_worker_slots_busy             gauges
//   chime_worker_claiming                                   gauge: 1 while it claims jobs
// plus the process_* metrics and chime_build_info of every registry.
// The kind label names the kinds this worker has handlers for; a job of any
// other kind (discarded as unknown) counts as "_other", so made-up kinds add
// no series (each kind costs ~40: two histograms and the counters).
// Thread-safe.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/web/metrics.h"
#include "worker/job_observer.h"

namespace chime::worker {

struct SlotCounts {
  int slots = 0;
  int busy = 0;
  bool claiming = false;
};

class WorkerMetrics final : public JobObserver, public web::ScrapeSource {
 public:
  // `known_kinds`: the kinds of this worker's handlers (HandlerRegistry::Kinds()).
  explicit WorkerMetrics(const std::vector<std::string>& known_kinds);

  void JobStarted(const db::ClaimedJob& job) override;
  void JobFinished(const v1::JobResult& result) override;

  // Where scrapes read the slots from; unset: the slot gauges are left out.
  void set_slots(std::function<SlotCounts()> slots);
  std::vector<prometheus::MetricFamily> Collect() override;

  web::MetricsRegistry& registry() { return registry_; }

 private:
  const std::set<std::string, std::less<>> known_kinds_;
  web::MetricsRegistry registry_;
  prometheus::Family<prometheus::Counter>& started_;
  prometheus::Family<prometheus::Counter>& finished_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Histogram>& pickup_;
  // Their series, found once per label set (web::SeriesCache).
  web::SeriesCache<prometheus::Counter> started_series_{started_, {"queue", "kind"}};
  web::SeriesCache<prometheus::Counter> finished_series_{finished_, {"queue", "kind", "outcome"}};
  web::SeriesCache<prometheus::Histogram> duration_series_{duration_, {"queue", "kind"}, web::DurationBuckets()};
  web::SeriesCache<prometheus::Histogram> pickup_series_{pickup_, {"queue", "kind"}, web::LatencyBuckets()};
  // The kind label of `kind`: itself when known, else "_other".
  std::string KindLabel(std::string_view kind) const;

  web::LabelCap queues_{200};
  std::mutex mu_;
  std::function<SlotCounts()> slots_;  // Guarded by mu_.
};

}  // namespace chime::worker
