#include "bench/stats_api.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "bench/cluster.h"
#include "bench/interrupt.h"
#include "common/db/job_state_sql.h"

namespace chime::bench {
namespace {

constexpr int64_t kLoadChunk = 100'000;
constexpr int64_t kFanOutChildren = 10'000;
constexpr double kTargetMs = 50.0;

struct Reply {
  int status = 0;
  size_t bytes = 0;
  std::string head;  // The body's first bytes, for errors.
};

// One HTTP/1.0 GET on a fresh loopback connection, as a browser's first
// request would pay it.
Reply Get(const std::string& address, const std::string& path, const std::string& token) {
  Reply reply;
  const size_t colon = address.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  inet_pton(AF_INET, address.substr(0, colon).c_str(), &addr.sin_addr);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{60, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: " + address +
                                "\r\nAuthorization: Bearer " + token + "\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
      std::string raw;
      char buf[65536];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) raw.append(buf, static_cast<size_t>(n));
      const size_t end = raw.find("\r\n\r\n");
      if (raw.starts_with("HTTP/1.") && raw.size() > 12 && end != std::string::npos) {
        reply.status = std::stoi(raw.substr(9, 3));
        reply.bytes = raw.size() - end - 4;
        reply.head = raw.substr(end + 4, 300);
      }
    }
  }
  ::close(fd);
  return reply;
}

std::string Range(int64_t first, int64_t count) {
  return std::to_string(first) + " AND " + std::to_string(first + count - 1);
}

// The hot table's jobs for runs [first, first + count): one job per run
// with the state and outcome its run ended with (released: still ready),
// jobs 2..10,001 the children of job 1.
std::string JobsSql(int64_t first, int64_t count) {
  return "INSERT INTO chime.jobs (id, kind, queue, state, outcome, payload, attempt, max_attempts, parent_id, "
         "schedule_id, scheduled_for, created_at, run_at, attempted_at, finished_at, last_error) "
         "SELECT r.job_id, r.kind, r.queue, "
         "CASE r.outcome WHEN 'succeeded' THEN 'succeeded' WHEN 'partial' THEN 'succeeded' "
         "  WHEN 'cancelled' THEN 'cancelled' WHEN 'released' THEN 'available' ELSE 'discarded' END, "
         "CASE r.outcome WHEN 'succeeded' THEN 'succeeded' WHEN 'partial' THEN 'partial' "
         "  WHEN 'cancelled' THEN 'cancelled' WHEN 'released' THEN NULL ELSE 'failed' END, "
         "jsonb_build_object('userId', r.job_id % 5000, 'provider', 'github'), r.attempt, 3, "
         "CASE WHEN r.job_id BETWEEN 2 AND " + std::to_string(kFanOutChildren + 1) + " THEN 1 END, "
         "r.schedule_id, CASE WHEN r.schedule_id IS NOT NULL THEN r.started_at END, "
         "r.started_at - interval '2 seconds', r.started_at - interval '2 seconds', r.started_at, "
         "CASE WHEN r.outcome = 'released' THEN NULL ELSE r.finished_at END, r.errors[1] "
         "FROM chime.runs r WHERE r.job_id BETWEEN " + Range(first, count);
}

// Where the completions since migration 0029 leave a finished job: in its
// final run (holds_job, with the job's columns), not in the hot table. A
// finished job whose run is not final stays in chime.jobs, as an install
// upgraded from before 0029 keeps its older history.
constexpr const char* kHoldFinishedJobsSql = R"sql(
WITH moved AS (
  DELETE FROM chime.jobs j USING chime.runs r
  WHERE r.job_id = j.id AND r.final AND j.state IN )sql" CHIME_SQL_FINISHED_STATES R"sql(
  RETURNING j.*)
UPDATE chime.runs r SET holds_job = true, parent_id = m.parent_id, priority = m.priority,
  payload = m.payload, max_attempts = m.max_attempts, rescue_count = m.rescue_count,
  timeout_ms = m.timeout_ms, unique_key = m.unique_key, invocation = m.invocation,
  created_at = m.created_at, run_at = m.run_at, last_error = m.last_error,
  progress = m.progress, fan_out = m.fan_out
FROM moved m WHERE r.job_id = m.id AND r.final)sql";

// A fire per scheduled run, and for one schedule in 50 an overlap skipped
// just after it.
std::string FiresSql(int64_t first, int64_t count) {
  return "INSERT INTO chime.fires (schedule_id, scheduled_for, job_id, leader_epoch, outcome, fired_at, origin) "
         "SELECT r.schedule_id, r.started_at + x.d * interval '1 millisecond', "
         "CASE WHEN x.d = 0 THEN r.job_id END, 1, CASE WHEN x.d = 0 THEN 'enqueued' ELSE 'skipped_overlap' END, "
         "r.started_at + x.d * interval '1 millisecond', 'cron' "
         "FROM chime.runs r CROSS JOIN (VALUES (0), (1)) x(d) "
         "WHERE r.schedule_id IS NOT NULL AND (x.d = 0 OR r.job_id % 50 = 7) AND r.job_id BETWEEN " +
         Range(first, count) + " ON CONFLICT DO NOTHING";
}

// A week of samples of 5 queues, as the leader leaves them.
constexpr const char* kQueueSamplesSql = R"sql(
INSERT INTO chime.queue_samples (span, at, queue, ready, running, oldest_ready_ms, ready_sum, samples)
SELECT s.span, date_bin(s.step, now(), timestamptz 'epoch') - g * s.step, q.name,
       (abs(hashint4(g + q.i * 7919)) % 400)::bigint, (abs(hashint4(g * 3 + q.i)) % 16)::bigint,
       (abs(hashint4(g * 5 + q.i)) % 60000)::bigint, (abs(hashint4(g + q.i * 7919)) % 400)::bigint, 1
FROM (VALUES ('sample', interval '15 seconds', 480), ('five_min', interval '5 minutes', 312),
             ('hour', interval '1 hour', 192)) s(span, step, n)
CROSS JOIN LATERAL generate_series(0, s.n - 1) g
CROSS JOIN (VALUES (1, 'default'), (2, 'mail'), (3, 'reports'), (4, 'sync'), (5, 'webhooks')) q(i, name)
)sql";

}  // namespace

Result<void> TimeDashboardApi(const BenchEnv& env, PqConnection& pq, int64_t runs, int repeats) {
  Report& report = *env.report;
  report.BeginSection("stats", "dashboard API: what a deployment with that ledger also holds");
  const auto load_started = std::chrono::steady_clock::now();
  for (int64_t first = 1; first <= runs; first += kLoadChunk) {
    if (Interrupt::StopRequested()) return std::unexpected(Interrupt::Interrupted());
    const int64_t count = std::min(kLoadChunk, runs - first + 1);
    for (const std::string& sql : {JobsSql(first, count), FiresSql(first, count)}) {
      if (auto ok = pq.Exec(sql); !ok) return std::unexpected(ok.error());
    }
  }
  for (const char* sql :
       {"SELECT setval(pg_get_serial_sequence('chime.jobs', 'id'), (SELECT max(id) FROM chime.jobs))",
        kHoldFinishedJobsSql,
        // The move rewrote the held runs: vacuum them, as a ledger whose
        // runs were written held once has no dead versions to walk.
        "VACUUM chime.runs", kQueueSamplesSql,
        // Paused: the scheduler under test fires nothing during the bench.
        "UPDATE chime.schedules SET paused = true",
        "ANALYZE chime.jobs", "ANALYZE chime.runs", "ANALYZE chime.fires", "ANALYZE chime.queue_samples"}) {
    if (auto ok = pq.Exec(sql); !ok) return std::unexpected(ok.error());
  }
  auto sizes = pq.Exec("SELECT (SELECT count(*) FROM chime.jobs), (SELECT count(*) FROM chime.fires), "
                       "(SELECT count(*) FROM chime.queue_samples), (SELECT min(id) FROM chime.jobs_all "
                       "WHERE state = 'discarded' AND id > 20000), "
                       "(SELECT count(*) FROM chime.runs WHERE holds_job)");
  if (!sizes) return std::unexpected(sizes.error());
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_started).count();
  const std::vector<Param> sized{{"jobs", sizes->int64(0, 0)}, {"held_jobs", sizes->int64(0, 4)},
                                 {"fires", sizes->int64(0, 1)},
                                 {"queue_samples", sizes->int64(0, 2)}};
  report.Add({"load_wall", load_ms, "ms", sized});
  report.EndSection();

  EnsureBinDir();
  Cluster cluster(env.conninfo, 1);
  if (auto ok = cluster.StartScheduler({"--retention-hours", "8760"}); !ok) {
    return std::unexpected(ok.error());
  }
  const std::string one = "bench-schedule-07";
  const std::string failed_job = std::to_string(sizes->int64(0, 3));
  // Each page's calls (dashboard.js), in the order the pages make them.
  const std::vector<std::pair<std::string, std::string>> calls{
      {"whoami", "/api/whoami"},
      {"overview.queues", "/api/queues"},
      {"overview.stats_24h", "/api/stats?by=schedule&hours=24"},
      {"overview.stats_168h", "/api/stats?by=schedule&hours=168"},
      {"overview.alerts", "/api/alerts"},
      {"overview.schedules", "/api/schedules"},
      {"overview.series_runs_1h", "/api/series/runs?range=1h"},
      {"overview.series_runs_24h", "/api/series/runs?range=24h"},
      {"overview.series_runs_7d", "/api/series/runs?range=7d"},
      {"overview.series_queues_1h", "/api/series/queues?range=1h"},
      {"overview.series_queues_24h", "/api/series/queues?range=24h"},
      {"overview.series_queues_7d", "/api/series/queues?range=7d"},
      {"overview.workers", "/api/workers"},
      {"overview.failures", "/api/jobs?state=retryable,discarded&limit=8"},
      {"jobs.all", "/api/jobs?limit=50"},
      {"jobs.discarded", "/api/jobs?limit=50&state=discarded"},
      {"jobs.outcome_partial", "/api/jobs?limit=50&outcome=partial"},
      {"jobs.kind", "/api/jobs?limit=50&kind=kind_3"},
      {"jobs.queue", "/api/jobs?limit=50&queue=default"},
      {"jobs.schedule", "/api/jobs?limit=50&schedule=" + one},
      {"jobs.schedule_failed", "/api/jobs?limit=50&schedule=" + one + "&outcome=failed"},
      {"jobs.children", "/api/jobs?limit=50&parent=1"},
      {"jobs.page_deep", "/api/jobs?limit=50&state=discarded&cursor=500000"},
      {"job.detail", "/api/jobs/" + failed_job},
      {"job.fan_out_10k", "/api/jobs/1"},
      {"schedule.detail", "/api/schedules/" + one},
      {"schedule.stats_24h", "/api/stats?by=schedule&hours=24&name=" + one},
      {"schedule.fires", "/api/fires?limit=15&schedule=" + one},
      {"schedule.series_1h", "/api/series/runs?range=1h&schedule=" + one},
      {"schedule.series_24h", "/api/series/runs?range=24h&schedule=" + one},
      {"schedule.series_7d", "/api/series/runs?range=7d&schedule=" + one},
  };
  report.BeginSection("stats", "dashboard API over HTTP (ms), " + std::to_string(repeats) + " calls each");
  double worst = 0;
  std::string worst_name;
  for (const auto& [name, path] : calls) {
    if (Interrupt::StopRequested()) return std::unexpected(Interrupt::Interrupted());
    const Reply warm = Get(cluster.http(), path, kBenchAdminSecret);
    if (warm.status != 200) {
      return Fail(ErrorCode::kInternal, path + ": HTTP " + std::to_string(warm.status) + " " + warm.head);
    }
    std::vector<double> ms;
    for (int i = 0; i < repeats; ++i) {
      const auto started = std::chrono::steady_clock::now();
      const Reply r = Get(cluster.http(), path, kBenchAdminSecret);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
      if (r.status != 200) return Fail(ErrorCode::kInternal, path + ": HTTP " + std::to_string(r.status));
    }
    const double p95 = RoundedPercentile(ms, 0.95);
    if (p95 > worst) {
      worst = p95;
      worst_name = name;
    }
    const std::vector<Param> params{{"call", name}, {"bytes", static_cast<int64_t>(warm.bytes)}};
    report.Add({"p50", RoundedPercentile(ms, 0.50), "ms", params});
    report.Add({"p95", p95, "ms", params});
    report.Add({"target_met", p95 < kTargetMs ? 1.0 : 0.0, "bool", params});
  }
  report.EndSection();
  report.BeginSection("stats", "dashboard API summary");
  report.Add({"worst_p95", worst, "ms", {{"call", worst_name}}});
  report.Add({"target_met_all_under_50ms", worst < kTargetMs ? 1.0 : 0.0, "bool", sized});
  report.EndSection();
  cluster.Stop();
  return {};
}

}  // namespace chime::bench
