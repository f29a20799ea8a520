#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {

int64_t Micros(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

int64_t JobStoreTestBase::Enqueue(const EnqueueParams& params) {
  auto r = store().JobInsert(params);
  if (!r) {
    ADD_FAILURE() << "JobInsert(" << params.kind << "): " << r.error().ToString();
    return 0;
  }
  return r->id;
}

std::vector<ClaimedJob> JobStoreTestBase::Claim(int limit, std::vector<std::string> queues,
                                                milliseconds lease, const std::string& worker) {
  ClaimParams p;
  p.worker_id = worker;
  p.queues = std::move(queues);
  p.limit = limit;
  p.lease = lease;
  auto r = store().JobsClaim(p);
  if (!r) {
    ADD_FAILURE() << "JobsClaim: " << r.error().ToString();
    return {};
  }
  return *r;
}

ClaimedJob JobStoreTestBase::ClaimOne(const std::string& queue, const std::string& worker) {
  auto jobs = Claim(1, {queue}, std::chrono::seconds(30), worker);
  if (jobs.size() != 1) {
    ADD_FAILURE() << "expected to claim one job from " << queue << ", got " << jobs.size();
    return {};
  }
  return jobs[0];
}

Completion JobStoreTestBase::MakeCompletion(const ClaimedJob& job, CompletionKind kind,
                                            std::vector<std::string> errors,
                                            std::string summary, std::string worker) {
  Completion c;
  c.lease = job.lease;
  c.kind = kind;
  c.attempt = job.attempt;
  c.summary = std::move(summary);
  c.errors = std::move(errors);
  c.worker_id = std::move(worker);
  return c;
}

CompletionResult JobStoreTestBase::Complete(const ClaimedJob& job, CompletionKind kind,
                                            std::vector<std::string> errors, std::string summary,
                                            std::string worker) {
  const Completion c =
      MakeCompletion(job, kind, std::move(errors), std::move(summary), std::move(worker));
  auto r = store().JobsCompleteIfLeased(std::span<const Completion>(&c, 1));
  if (!r) {
    ADD_FAILURE() << "JobsCompleteIfLeased: " << r.error().ToString();
    return {};
  }
  if (r->size() != 1) {
    ADD_FAILURE() << "JobsCompleteIfLeased returned " << r->size() << " results for one completion";
    return {};
  }
  return (*r)[0];
}

void JobStoreTestBase::ExpireLease(int64_t id) {
  sql_.Exec(
      "UPDATE chime.jobs SET lease_expires_at = now() - interval '1 second' "
      "WHERE id = $1 AND state = 'running'",
      id);
}

void JobStoreTestBase::MakeDue(int64_t id) {
  sql_.Exec("UPDATE chime.jobs SET run_at = now() - interval '1 millisecond' WHERE id = $1", id);
}

std::string JobStoreTestBase::State(int64_t id) {
  return sql_.Scalar("SELECT state FROM chime.jobs_all WHERE id = $1", id);
}

std::string JobStoreTestBase::Snapshot(int64_t id) {
  return sql_.Scalar("SELECT to_jsonb(j)::text FROM chime.jobs_all j WHERE id = $1", id);
}

}  // namespace chime::db::testing
