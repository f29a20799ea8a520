#include "worker/http_metrics.h"

#include <cctype>

namespace chime::worker {
namespace {

std::string OutcomeLabel(v1::Outcome outcome) {
  std::string name = v1::Outcome_Name(outcome);
  if (name.empty()) return "unknown";
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace

WorkerMetrics::WorkerMetrics(const std::vector<std::string>& known_kinds)
    : known_kinds_(known_kinds.begin(), known_kinds.end()),
      started_(registry_.Counter("chime_worker_jobs_started_total",
                                 "Job attempts this worker started")),
      finished_(registry_.Counter("chime_worker_jobs_finished_total",
                                  "Job attempts this worker finished, by outcome")),
      duration_(registry_.Histogram("chime_worker_job_duration_seconds",
                                    "Handler wall time of this worker's attempts")),
      pickup_(registry_.Histogram("chime_worker_job_pickup_latency_seconds",
                                  "From a job's run_at to this worker's claim (database time)")) {
  registry_.AddSource(this);
}

std::string WorkerMetrics::KindLabel(std::string_view kind) const {
  return known_kinds_.contains(kind) ? std::string(kind) : web::kOtherLabel;
}

void WorkerMetrics::JobStarted(const db::ClaimedJob& job) {
  const std::string queue = queues_(job.queue);
  const std::string kind = KindLabel(job.kind);
  started_series_.Get({queue, kind}).Increment();
  pickup_series_.Get({queue, kind}).Observe(static_cast<double>(PickupLatencyMs(job)) / 1000.0);
}

void WorkerMetrics::JobFinished(const v1::JobResult& result) {
  const std::string queue = queues_(result.queue());
  const std::string kind = KindLabel(result.kind());
  finished_series_.Get({queue, kind, OutcomeLabel(result.outcome())}).Increment();
  if (result.outcome() == v1::LEASE_EXPIRED) return;  // Its end is the rescue's clock.
  duration_series_.Get({queue, kind}).Observe(static_cast<double>(result.duration_ms()) / 1000.0);
}

void WorkerMetrics::set_slots(std::function<SlotCounts()> slots) {
  std::lock_guard lock(mu_);
  slots_ = std::move(slots);
}

std::vector<prometheus::MetricFamily> WorkerMetrics::Collect() {
  std::function<SlotCounts()> read;
  {
    std::lock_guard lock(mu_);
    read = slots_;
  }
  if (!read) return {};
  const SlotCounts s = read();
  std::vector<prometheus::MetricFamily> out;
  out.push_back(web::GaugeFamilyBuilder("chime_worker_slots", "Slots (concurrent jobs) of this worker")
                    .Add({}, s.slots)
                    .Build());
  out.push_back(web::GaugeFamilyBuilder("chime_worker_slots_busy", "Slots running or holding a claimed job")
                    .Add({}, s.busy)
                    .Build());
  out.push_back(web::GaugeFamilyBuilder("chime_worker_claiming", "1 while this worker claims jobs (not draining)")
                    .Add({}, s.claiming ? 1 : 0)
                    .Build());
  return out;
}

}  // namespace chime::worker
