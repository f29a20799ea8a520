// The scheduler's /metrics. Two kinds of figures, kept apart on purpose:
//
// Process metrics - what this scheduler saw since it started; they reset on
// restart and a query sums them over replicas (each result and each tick
// reaches exactly one scheduler):
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
//   chime_alerts_firing{schedule,rule}            health alerts in state firing
//   chime_database_up                             1 when the read above succeeded
//
// Thread-safe: OnResult on the router thread, Collect on HTTP threads.
#pragma once

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
  const CronRunner& cron_;
  const RouterServer& router_;
  ClusterCache& cluster_;
  web::MetricsRegistry registry_;
  prometheus::Family<prometheus::Counter>& results_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Histogram>& pickup_;
  web::LabelCap kinds_{500};
  web::LabelCap queues_{200};
};

// "succeeded", "lease_expired", ...: the result outcome as a label value.
std::string OutcomeLabel(v1::Outcome outcome);

}  // namespace chime::scheduler
