// The scheduler's /metrics. Two kinds of figures, kept apart on purpose:
//
// Process metrics - what this scheduler saw since it started; they reset on
// restart. Ticks are fired by one scheduler, so a query sums fires over
// replicas; a worker sends each result to every scheduler it is given, so
// each replica counts every result: query results with max, not sum:
//   chime_scheduler_job_results_total{queue,kind,outcome}    counter
//       results workers reported to this scheduler (outcome: succeeded,
//       partial, failed, discarded, cancelled, lease_expired)
//   chime_scheduler_job_duration_seconds{queue,kind}         histogram
//   chime_scheduler_job_pickup_latency_seconds{queue,kind}   histogram
//       handler wall time and run_at -> attempt start, from those results
//   chime_scheduler_fires_total{schedule,outcome,origin}     counter
//       ticks this scheduler recorded as leader (outcome: enqueued,
//       skipped_overlap, skipped_misfire, buffered; origin: cron, misfire)
//   chime_scheduler_leader, chime_scheduler_leader_epoch     gauges
//   chime_scheduler_workers_connected                        gauge
//   chime_scheduler_worker_slots{queue}, chime_scheduler_worker_free_slots{queue}
//       slots of the workers connected here that serve the queue
//
// Database gauges - cluster-wide truths read at scrape time through
// ClusterCache (at most one read per second):
//   chime_queue_ready_jobs{queue}                 claimable now: the autoscaling signal
//   chime_queue_oldest_ready_age_seconds{queue}
//   chime_jobs{queue,kind,state}                  jobs in the table by state (finished
//                                                 ones leave with the retention cleanup)
//   chime_jobs_enqueued_total{queue,kind}         every route's inserts, since the
//                                                 database was made
//   chime_alerts_firing{schedule,rule}            health alerts in state firing
//   chime_cluster_metrics_stale                   1 when the figures above are from an
//                                                 older read (the last read failed)
//   chime_cluster_metrics_last_success_timestamp_seconds
//                                                 Unix time of the read they come from
// Only the leader exports them - the replica that holds the leader term as
// it last read it, so through a database outage the replica that led - and
// the others leave them out: each figure is in the scrape once, and a sum()
// over replicas counts it once. Every queue this process has seen (in the
// table, its counters, its workers' hellos) keeps its two queue gauges,
// reading 0 when it has no ready job. When the read fails, the last good
// read stays exported, marked stale, instead of vanishing or reading 0: an
// autoscaler holds its position instead of scaling workers away while the
// database is down, and an alert can watch the staleness gauges.
//
// On every replica:
//   chime_database_up                             1 when this scrape's read succeeded
//
// The kind label of the process metrics names the kinds that workers which
// said hello here have handlers for; any other counts as "_other" (a job
// of a kind nobody runs is discarded): made-up kinds add no series.
//
// Thread-safe: OnResult on the router thread, Collect on HTTP threads.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/web/metrics.h"
#include "scheduler/cluster_cache.h"
#include "scheduler/cron_runner.h"
#include "scheduler/live_counters.h"
#include "scheduler/router_server.h"

namespace chime::scheduler {

class SchedulerMetrics final : public ResultObserver, public web::ScrapeSource {
 public:
  // Every argument must outlive this object.
  SchedulerMetrics(const CronRunner& cron, const RouterServer& router, ClusterCache& cluster);

  void OnResult(const v1::JobResult& result) override;
  std::vector<prometheus::MetricFamily> Collect() override;

  // The registry /metrics renders (this object is one of its sources).
  web::MetricsRegistry& registry() { return registry_; }

 private:
  // The database gauges of `snap` (this read's or the last good one).
  void AddClusterFamilies(const ClusterSnapshot& snap, std::vector<prometheus::MetricFamily>& out);

  const CronRunner& cron_;
  const RouterServer& router_;
  ClusterCache& cluster_;
  web::MetricsRegistry registry_;
  prometheus::Family<prometheus::Counter>& results_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Histogram>& pickup_;
  // Their series, found once per label set (web::SeriesCache).
  web::SeriesCache<prometheus::Counter> results_series_{results_, {"queue", "kind", "outcome"}};
  web::SeriesCache<prometheus::Histogram> duration_series_{duration_, {"queue", "kind"}, web::DurationBuckets()};
  web::SeriesCache<prometheus::Histogram> pickup_series_{pickup_, {"queue", "kind"}, web::LatencyBuckets()};
  web::LabelCap kinds_{500};  // Behind RouterServer::KnowsKind, in case hellos name many.
  web::LabelCap queues_{200};
  std::mutex mu_;
  std::shared_ptr<const ClusterSnapshot> last_good_;  // Guarded by mu_.
  // Queues whose gauges stay (0 when empty), at most kMaxQueues. Guarded by mu_.
  std::set<std::string> queues_seen_;
  static constexpr size_t kMaxQueues = 200;
};

// "succeeded", "lease_expired", ...: the result outcome as a label value.
std::string OutcomeLabel(v1::Outcome outcome);

}  // namespace chime::scheduler
