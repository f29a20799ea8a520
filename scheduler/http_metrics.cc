#include "scheduler/http_metrics.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace chime::scheduler {
namespace {

using web::GaugeFamilyBuilder;

prometheus::MetricFamily CounterFamily(std::string name, std::string help) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = prometheus::MetricType::Counter;
  return f;
}

}  // namespace

std::string OutcomeLabel(v1::Outcome outcome) {
  std::string name = v1::Outcome_Name(outcome);
  if (name.empty()) return "unknown";
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

SchedulerMetrics::SchedulerMetrics(const CronRunner& cron, const RouterServer& router,
                                   ClusterCache& cluster)
    : cron_(cron),
      router_(router),
      cluster_(cluster),
      results_(registry_.Counter("chime_scheduler_job_results_total",
                                 "Job attempt results workers reported to this scheduler")),
      duration_(registry_.Histogram("chime_scheduler_job_duration_seconds",
                                    "Handler wall time of the attempts reported to this scheduler")),
      pickup_(registry_.Histogram(
          "chime_scheduler_job_pickup_latency_seconds",
          "From a job's run_at to its attempt's start, for attempts reported to this scheduler")) {
  registry_.AddSource(this);
}

void SchedulerMetrics::OnResult(const v1::JobResult& result) {
  const std::string queue = queues_(result.queue());
  const std::string kind = router_.KnowsKind(result.kind()) ? kinds_(result.kind()) : web::kOtherLabel;
  results_series_.Get({queue, kind, OutcomeLabel(result.outcome())}).Increment();
  if (result.outcome() == v1::RELEASED || result.outcome() == v1::LEASE_EXPIRED) return;
  duration_series_.Get({queue, kind}).Observe(static_cast<double>(result.duration_ms()) / 1000.0);
  pickup_series_.Get({queue, kind})
      .Observe(static_cast<double>(std::max<int64_t>(0, result.pickup_latency_ms())) / 1000.0);
}

std::vector<prometheus::MetricFamily> SchedulerMetrics::Collect() {
  std::vector<prometheus::MetricFamily> out;

  auto fires = CounterFamily("chime_scheduler_fires_total",
                             "Schedule ticks this scheduler recorded as leader");
  for (const auto& [key, n] : cron_.fire_counts()) {
    prometheus::ClientMetric m;
    m.label = {{"origin", key.origin}, {"outcome", key.outcome}, {"schedule", key.schedule}};
    m.counter.value = static_cast<double>(n);
    fires.metric.push_back(std::move(m));
  }
  out.push_back(std::move(fires));

  const CronRunnerStatus status = cron_.status();
  out.push_back(GaugeFamilyBuilder("chime_scheduler_leader",
                                   "1 while this scheduler holds the leader term")
                    .Add({}, status.leader ? 1 : 0)
                    .Build());
  out.push_back(GaugeFamilyBuilder("chime_scheduler_leader_epoch",
                                   "Epoch (fencing token) of the leader term as last read")
                    .Add({}, static_cast<double>(status.epoch))
                    .Build());

  const auto workers = router_.WorkersSnapshot();
  std::map<std::string, std::pair<int64_t, int64_t>> slots;  // queue -> (slots, free)
  for (const auto& w : workers) {
    for (const auto& q : w.queues()) {
      slots[q].first += w.slots();
      slots[q].second += std::max(0, w.free_slots());
    }
  }
  out.push_back(GaugeFamilyBuilder("chime_scheduler_workers_connected",
                                   "Workers registered with this scheduler")
                    .Add({}, static_cast<double>(workers.size()))
                    .Build());
  GaugeFamilyBuilder total("chime_scheduler_worker_slots",
                           "Slots of the connected workers serving the queue");
  GaugeFamilyBuilder free("chime_scheduler_worker_free_slots",
                          "Free slots of the connected workers serving the queue");
  for (const auto& [queue, n] : slots) {
    total.Add({{"queue", queue}}, static_cast<double>(n.first));
    free.Add({{"queue", queue}}, static_cast<double>(n.second));
  }
  out.push_back(total.Build());
  out.push_back(free.Build());

  auto cluster = cluster_.Get();
  out.push_back(GaugeFamilyBuilder("chime_database_up",
                                   "1 when this scrape could read the cluster's figures from the database")
                    .Add({}, cluster ? 1 : 0)
                    .Build());
  // The cluster's figures, once: from the leader term's holder as last read.
  if (status.holder != cron_.holder()) return out;
  std::shared_ptr<const ClusterSnapshot> snap;
  {
    std::lock_guard lock(mu_);
    if (cluster) last_good_ = *cluster;
    snap = last_good_;
  }
  out.push_back(GaugeFamilyBuilder("chime_cluster_metrics_stale",
                                   "1 when the database figures (chime_queue_*, chime_jobs*, "
                                   "chime_alerts_firing) are from an older read: the last read failed")
                    .Add({}, cluster ? 0 : 1)
                    .Build());
  if (!snap) return out;  // Never read: nothing to say.
  AddClusterFamilies(*snap, out);
  return out;
}

void SchedulerMetrics::AddClusterFamilies(const ClusterSnapshot& snap, std::vector<prometheus::MetricFamily>& out) {
  out.push_back(GaugeFamilyBuilder("chime_cluster_metrics_last_success_timestamp_seconds",
                                   "Unix time of the database read the chime_queue_*, chime_jobs* and "
                                   "chime_alerts_firing figures come from")
                    .Add({}, static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                     snap.read_at.time_since_epoch())
                                                     .count()) /
                                 1000.0)
                    .Build());
  // Every queue seen keeps its gauges: 0 when it has no ready job.
  std::map<std::string, std::pair<double, double>> queues;  // queue -> (ready, age s)
  const auto workers = router_.WorkersSnapshot();
  {
    std::lock_guard lock(mu_);
    auto see = [&](const std::string& queue) {
      if (queues_seen_.size() < kMaxQueues) queues_seen_.insert(queue);
    };
    for (const auto& row : snap.stats.rows) see(row.queue);
    for (const auto& q : snap.stats.queues) see(q.queue);
    if (snap.enqueued) {
      for (const auto& e : *snap.enqueued) see(e.queue);
    }
    for (const auto& w : workers) {
      for (const auto& q : w.queues()) see(q);
    }
    if (snap.paused_queues) {
      for (const auto& q : *snap.paused_queues) see(q);
    }
    for (const auto& q : queues_seen_) queues[q] = {0, 0};
  }
  const auto is_paused = [&](const std::string& queue) {
    return snap.paused_queues && std::ranges::binary_search(*snap.paused_queues, queue);
  };
  for (const auto& q : snap.stats.queues) {
    // A paused queue's jobs are not claimable: no signal to add workers.
    queues[q.queue] = {is_paused(q.queue) ? 0 : static_cast<double>(q.ready),
                       static_cast<double>(q.oldest_ready_age.count()) / 1000.0};
  }
  GaugeFamilyBuilder ready("chime_queue_ready_jobs",
                           "Jobs claimable now per queue (the worker autoscaling signal); 0 when none "
                           "or while the queue is paused");
  GaugeFamilyBuilder age("chime_queue_oldest_ready_age_seconds",
                         "Age of the oldest claimable job per queue, since its run_at; 0 when none");
  for (const auto& [queue, figures] : queues) {
    ready.Add({{"queue", queue}}, figures.first);
    age.Add({{"queue", queue}}, figures.second);
  }
  out.push_back(ready.Build());
  out.push_back(age.Build());
  if (snap.paused_queues) {
    GaugeFamilyBuilder paused("chime_queue_paused",
                              "1 while the queue is paused (jobctl queue pause): its jobs wait; 0 otherwise");
    for (const auto& [queue, figures] : queues) {
      paused.Add({{"queue", queue}}, is_paused(queue) ? 1 : 0);
    }
    out.push_back(paused.Build());
  }
  GaugeFamilyBuilder jobs("chime_jobs",
                          "Jobs in the table by queue, kind and state (finished jobs leave "
                          "with the retention cleanup)");
  for (const auto& row : snap.stats.rows) {
    jobs.Add({{"queue", row.queue}, {"kind", row.kind}, {"state", std::string(db::JobStateName(row.state))}},
             static_cast<double>(row.count));
  }
  out.push_back(jobs.Build());
  if (snap.enqueued) {
    GaugeFamilyBuilder enqueued("chime_jobs_enqueued_total",
                                "Jobs enqueued per queue and kind by every route (jobctl, fires, "
                                "child jobs, applications' SQL), since the database was made",
                                GaugeFamilyBuilder::Type::kCounter);
    for (const auto& e : *snap.enqueued) {
      enqueued.Add({{"queue", e.queue}, {"kind", e.kind}}, static_cast<double>(e.count));
    }
    out.push_back(enqueued.Build());
  }
  if (snap.limits && !snap.limits->empty()) {
    GaugeFamilyBuilder limit_running("chime_limit_running_jobs",
                               "Attempts running under each cluster-wide limit (all its partitions)");
    GaugeFamilyBuilder limit_ready("chime_limit_ready_jobs",
                             "Ready jobs each limit applies to, claimable or held back by it");
    GaugeFamilyBuilder partitions("chime_limit_partitions_in_use",
                                  "Partitions of each limit with a job running or a start in its rate window");
    GaugeFamilyBuilder capacity("chime_limit_concurrency", "Each limit's concurrency per partition");
    GaugeFamilyBuilder held_back("chime_limit_held_back_total",
                                 "Ready jobs claims passed over because their partition of the limit was full "
                                 "(a job passed over by three claims counts three times)",
                                 GaugeFamilyBuilder::Type::kCounter);
    for (const auto& l : *snap.limits) {
      limit_running.Add({{"limit", l.spec.name}}, static_cast<double>(l.running));
      limit_ready.Add({{"limit", l.spec.name}}, static_cast<double>(l.ready));
      partitions.Add({{"limit", l.spec.name}}, static_cast<double>(l.partitions_total));
      if (l.spec.concurrency) capacity.Add({{"limit", l.spec.name}}, *l.spec.concurrency);
      held_back.Add({{"limit", l.spec.name}}, static_cast<double>(l.held_back));
    }
    out.push_back(limit_running.Build());
    out.push_back(limit_ready.Build());
    out.push_back(partitions.Build());
    out.push_back(capacity.Build());
    out.push_back(held_back.Build());
  }
  if (snap.alerts) {
    GaugeFamilyBuilder alerts("chime_alerts_firing", "Schedule health alerts in state firing");
    for (const auto& a : *snap.alerts) {
      alerts.Add({{"schedule", a.schedule}, {"rule", a.rule}}, static_cast<double>(a.count));
    }
    out.push_back(alerts.Build());
  }
}

}  // namespace chime::scheduler
