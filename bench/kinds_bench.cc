#include "bench/kinds_bench.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "bench/cluster.h"
#include "bench/http_request_bench.h"
#include "bench/interrupt.h"
#include "bench/pq.h"
#include "common/db/connection.h"
#include "worker/kinds/app_config.h"
#include "common/app/app_schema.h"
#include "worker/kinds/reconcile_exam_capacity.h"

namespace chime::bench {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// The workers claim from these two queues only. process_all_users enqueues
// its sync_integration children on "default" (EnqueueParams' default queue),
// so they wait unclaimed; reconcile_exam_capacity's children inherit the
// parent's queue and run.
constexpr const char* kFanOutQueue = "bench-fanout";
constexpr const char* kReconcileQueue = "bench-reconcile";
constexpr int64_t kMaxUsersPayload = 1'000'000;  // No cap for any --users allowed.
constexpr auto kDeadline = std::chrono::minutes(10);

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// A PostgreSQL text[] literal of `names`, each quoted.
std::string TextArray(const std::vector<std::string>& names) {
  std::string out = "{";
  for (const auto& name : names) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : name) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

Result<void> Exec(PqConnection& pq, const std::string& sql,
                  const std::vector<std::optional<std::string>>& params = {}) {
  auto r = params.empty() ? pq.Exec(sql) : pq.ExecParams(sql, params);
  if (!r) return std::unexpected(r.error());
  return {};
}

// Users 1..users, all active, each with one integration per provider, every
// one active and never synced: all due.
Result<void> LoadUsers(PqConnection& pq, int users, const std::vector<std::string>& providers) {
  const std::string n = std::to_string(users);
  if (auto ok = Exec(pq, "INSERT INTO chime_app.users (id, email) SELECT g, 'bench-' || g || "
                         "'@example.invalid' FROM generate_series(1, $1::int) g", {n});
      !ok) {
    return ok;
  }
  if (auto ok = Exec(pq, "INSERT INTO chime_app.integrations (user_id, provider) SELECT g, p "
                         "FROM generate_series(1, $1::int) g CROSS JOIN unnest($2::text[]) p",
                     {n, TextArray(providers)});
      !ok) {
    return ok;
  }
  return Exec(pq, "ANALYZE chime_app.users, chime_app.integrations");
}

// Exams 1..exams, every 20th inactive, each with 5-15 bookings of which every
// 4th is cancelled. Counters match the active bookings except on exams whose
// id is 3 (two too many) or 13 (one too few) modulo 20: 10% drifted.
Result<void> LoadExams(PqConnection& pq, int exams) {
  const std::string n = std::to_string(exams);
  if (auto ok = Exec(pq, "INSERT INTO chime_app.exams (id, exam_date, mock_type, active) "
                         "SELECT e, current_date + 1 + e % 365, (ARRAY['Situational Judgment', "
                         "'Clinical Skills', 'Calculations'])[1 + e % 3], e % 20 <> 0 "
                         "FROM generate_series(1, $1::int) e", {n});
      !ok) {
    return ok;
  }
  if (auto ok = Exec(pq, "INSERT INTO chime_app.bookings (id, exam_id, active) "
                         "SELECT e::bigint * 100 + k, e, k % 4 <> 0 FROM generate_series(1, $1::int) e "
                         "CROSS JOIN LATERAL generate_series(1, 5 + e % 11) k", {n});
      !ok) {
    return ok;
  }
  if (auto ok = Exec(pq, "UPDATE chime_app.exams x SET booking_count = b.n + "
                         "CASE x.id % 20 WHEN 3 THEN 2 WHEN 13 THEN -1 ELSE 0 END "
                         "FROM (SELECT exam_id, count(*)::int AS n FROM chime_app.bookings WHERE active "
                         "GROUP BY exam_id) b WHERE b.exam_id = x.id");
      !ok) {
    return ok;
  }
  return Exec(pq, "ANALYZE chime_app.exams, chime_app.bookings");
}

// Active exams, how many of them have a counter that differs from their
// active bookings, and the sum of the differences' sizes.
struct Drift {
  int64_t active = 0;
  int64_t drifted = 0;
  int64_t corrections = 0;
};

Result<Drift> MeasureDrift(PqConnection& pq) {
  auto r = pq.Exec(
      "SELECT count(*), count(*) FILTER (WHERE x.booking_count <> b.n), "
      "coalesce(sum(abs(x.booking_count - b.n)), 0) FROM chime_app.exams x "
      "CROSS JOIN LATERAL (SELECT count(*) AS n FROM chime_app.bookings k "
      "WHERE k.exam_id = x.id AND k.active) b WHERE x.active");
  if (!r) return std::unexpected(r.error());
  return Drift{.active = r->int64(0, 0), .drifted = r->int64(0, 1), .corrections = r->int64(0, 2)};
}

// Inserts one job as an application would (plain SQL); its id.
Result<int64_t> EnqueueJob(PqConnection& pq, const std::string& kind, const std::string& queue,
                           const std::string& payload) {
  auto r = pq.ExecParams("INSERT INTO chime.jobs (kind, queue, payload) VALUES ($1, $2, $3::jsonb) "
                         "RETURNING id",
                         {kind, queue, payload});
  if (!r) return std::unexpected(r.error());
  return r->int64(0, 0);
}

// Polls `done_sql` (one boolean) every 10 ms until it holds; the seconds
// from `t0` to then.
Result<double> WaitUntil(PqConnection& pq, const std::string& done_sql, Clock::time_point t0,
                         const std::string& what) {
  while (true) {
    if (Interrupt::StopRequested()) return std::unexpected(Interrupt::Interrupted());
    auto r = pq.Exec(done_sql);
    if (!r) return std::unexpected(r.error());
    if (std::string_view(r->text(0, 0)) == "t") return SecondsSince(t0);
    if (Clock::now() - t0 > kDeadline) {
      return Fail(ErrorCode::kInternal, "kinds bench: " + what + " did not finish in 10 minutes");
    }
    std::this_thread::sleep_for(milliseconds(10));
  }
}

std::string Terminal(const std::string& condition) {
  return "state IN ('succeeded', 'discarded', 'cancelled') AND " + condition;
}

struct FanOutFigures {
  double wall_s = 0;     // Enqueue to the parent's success, seen by polling.
  double handler_s = 0;  // The parent's attempted_at to finished_at.
  int64_t children = 0;
};

Result<FanOutFigures> RunFanOut(PqConnection& pq, int64_t expected_children, int parallelism) {
  // maxUsers above every --users: no cap in effect, but the capped path.
  const std::string payload = parallelism == 0
                                  ? "{\"maxUsers\": " + std::to_string(kMaxUsersPayload) + "}"
                                  : "{\"parallelism\": " + std::to_string(parallelism) + "}";
  const auto t0 = Clock::now();
  auto parent = EnqueueJob(pq, "process_all_users", kFanOutQueue, payload);
  if (!parent) return std::unexpected(parent.error());
  const std::string id = std::to_string(*parent);
  auto wall = WaitUntil(pq, "SELECT count(*) = 1 FROM chime.jobs_all WHERE id = " + id + " AND " +
                                Terminal("true"),
                        t0, "process_all_users");
  if (!wall) return std::unexpected(wall.error());
  FanOutFigures f{.wall_s = *wall};

  auto parent_row = pq.Exec("SELECT state, extract(epoch FROM finished_at - attempted_at), "
                            "coalesce(last_error, '') FROM chime.jobs_all WHERE id = " + id);
  if (!parent_row) return std::unexpected(parent_row.error());
  if (std::string_view(parent_row->text(0, 0)) != "succeeded") {
    return Fail(ErrorCode::kInternal, std::string("kinds bench: process_all_users ended ") +
                                          parent_row->text(0, 0) + ": " + parent_row->text(0, 2));
  }
  f.handler_s = std::stod(parent_row->text(0, 1));
  auto children = pq.Exec(
      "SELECT count(*), count(*) FILTER (WHERE attempted_at IS NOT NULL OR queue <> 'default') "
      "FROM chime.jobs_all WHERE parent_id = " + id + " AND kind = 'sync_integration'");
  if (!children) return std::unexpected(children.error());
  f.children = children->int64(0, 0);
  auto queued = Count(pq, "SELECT (summary->>'jobsQueued')::bigint FROM chime.runs WHERE job_id = " +
                              id + " ORDER BY id DESC LIMIT 1");
  if (!queued) return std::unexpected(queued.error());
  // What was measured is what happened: every due integration got exactly
  // one child, none of which ran while the parent was timed.
  if (f.children != expected_children || *queued != expected_children) {
    return Fail(ErrorCode::kInternal,
                "kinds bench: " + std::to_string(f.children) + " children in chime.jobs, " +
                    std::to_string(*queued) + " reported queued, " +
                    std::to_string(expected_children) + " integrations due");
  }
  if (children->int64(0, 1) != 0) {
    return Fail(ErrorCode::kInternal, "kinds bench: " + std::to_string(children->int64(0, 1)) +
                                          " sync_integration children ran or left queue 'default'");
  }
  return f;
}

struct ReconcileFigures {
  double wall_s = 0;  // Enqueue until the parent and every child finished.
  int64_t children = 0;
  int64_t exams_updated = 0;      // Sum of the runs' summary.updated.
  int64_t total_corrections = 0;  // Sum of the runs' summary.totalCorrections.
};

Result<ReconcileFigures> RunReconcile(PqConnection& pq, const Drift& before, int batch_size) {
  const auto t0 = Clock::now();
  auto parent = EnqueueJob(pq, std::string(worker::kinds::kReconcileExamCapacityKind), kReconcileQueue, "{}");
  if (!parent) return std::unexpected(parent.error());
  const std::string id = std::to_string(*parent);
  // Children exist before the parent finishes, so a finished parent with no
  // unfinished child means the whole run is done.
  auto wall = WaitUntil(pq,
                        "SELECT NOT EXISTS (SELECT 1 FROM chime.jobs WHERE (id = " + id +
                            " OR parent_id = " + id +
                            ") AND state NOT IN ('succeeded', 'discarded', 'cancelled'))",
                        t0, "reconcile_exam_capacity");
  if (!wall) return std::unexpected(wall.error());
  ReconcileFigures f{.wall_s = *wall};

  auto jobs = pq.Exec("SELECT count(*) FILTER (WHERE id <> " + id +
                      "), count(*) FILTER (WHERE state <> 'succeeded') FROM chime.jobs_all WHERE id = " + id +
                      " OR parent_id = " + id);
  if (!jobs) return std::unexpected(jobs.error());
  f.children = jobs->int64(0, 0);
  if (jobs->int64(0, 1) != 0) {
    return Fail(ErrorCode::kInternal, "kinds bench: " + std::to_string(jobs->int64(0, 1)) +
                                          " reconcile jobs did not succeed");
  }
  auto runs = pq.Exec(
      "SELECT coalesce(sum((r.summary->'summary'->>'processed')::bigint), 0), "
      "coalesce(sum((r.summary->'summary'->>'updated')::bigint), 0), "
      "coalesce(sum((r.summary->'summary'->>'totalCorrections')::bigint), 0) "
      "FROM chime.runs r JOIN chime.jobs_all j ON j.id = r.job_id WHERE j.id = " + id +
      " OR j.parent_id = " + id);
  if (!runs) return std::unexpected(runs.error());
  f.exams_updated = runs->int64(0, 1);
  f.total_corrections = runs->int64(0, 2);
  auto after = MeasureDrift(pq);
  if (!after) return std::unexpected(after.error());
  const int64_t expected_children =
      before.active > batch_size ? (before.active + batch_size - 1) / batch_size : 0;
  if (runs->int64(0, 0) != before.active || f.children != expected_children ||
      f.exams_updated != before.drifted || f.total_corrections != before.corrections ||
      after->drifted != 0) {
    return Fail(ErrorCode::kInternal,
                "kinds bench: reconcile processed " + std::to_string(runs->int64(0, 0)) + " of " +
                    std::to_string(before.active) + " active exams in " + std::to_string(f.children) +
                    " children (expected " + std::to_string(expected_children) + "), corrected " +
                    std::to_string(f.exams_updated) + " of " + std::to_string(before.drifted) +
                    " drifted (" + std::to_string(f.total_corrections) + " of " +
                    std::to_string(before.corrections) + "); " + std::to_string(after->drifted) +
                    " still drifted");
  }
  return f;
}

}  // namespace

Result<void> KindsBenchConfig::Validate() const {
  if (users < 0 || users > kMaxUsersPayload) return Fail(ErrorCode::kInvalidArgument, "--users: 1-1000000");
  if (exams < 0 || exams > 1'000'000) return Fail(ErrorCode::kInvalidArgument, "--exams: 1-1000000");
  if (workers < 1 || workers > 64) return Fail(ErrorCode::kInvalidArgument, "--workers: 1-64");
  if (slots < 1 || slots > 1000) return Fail(ErrorCode::kInvalidArgument, "--slots: 1-1000");
  if (fanout_parallelism < 0 || fanout_parallelism > 16) {
    return Fail(ErrorCode::kInvalidArgument, "--fanout-parallelism: 0-16");
  }
  if (http_calls < 0 || http_calls > 10'000'000) return Fail(ErrorCode::kInvalidArgument, "--http-calls: 1-10000000");
  if (http_prefetch < -1 || http_prefetch > 1000) {
    return Fail(ErrorCode::kInvalidArgument, "--http-prefetch: 0-1000 (-1: the worker's default, auto)");
  }
  for (const auto& part : parts) {
    if (part != "fanout" && part != "reconcile" && part != "http") {
      return Fail(ErrorCode::kInvalidArgument, "--parts: \"" + part + "\" is not fanout, reconcile or http");
    }
  }
  return {};
}

std::string KindsBench::description() const {
  return "process_all_users fan-out (100,000 users x 4 providers), reconcile_exam_capacity "
         "(10,000 exams) and http_request calls per second (20,000 against a keep-alive endpoint) on "
         "worker processes";
}

void KindsBench::AddOptions(CLI::App& command) {
  command.add_option("--users", config_.users, "Users, each with every provider due (default 100000; --quick 2000)");
  command.add_option("--exams", config_.exams, "Exams, 95% active, 10% drifted (default 10000; --quick 1000)");
  command.add_option("--workers", config_.workers, "Worker processes")->capture_default_str();
  command.add_option("--slots", config_.slots, "Slots per worker")->capture_default_str();
  command.add_option("--fanout-parallelism", config_.fanout_parallelism,
                     "process_all_users' parallelism payload; 0: the capped one-session path")
      ->capture_default_str();
  command.add_option("--http-calls", config_.http_calls,
                     "http_request jobs against the local endpoint (default 20000; --quick 1000)");
  command.add_option("--http-prefetch", config_.http_prefetch,
                     "Jobs the http part's workers claim beyond their slots (worker --prefetch; -1: auto)")
      ->capture_default_str();
  command.add_option("--parts", config_.parts, "Which to run: fanout, reconcile, http (default all)")
      ->delimiter(',');
}

Result<void> KindsBench::Run(const BenchEnv& env) {
  EnsureBinDir();
  const auto wants = [&](std::string_view part) {
    return std::find(config_.parts.begin(), config_.parts.end(), part) != config_.parts.end();
  };
  if (wants("fanout") || wants("reconcile")) {
    if (auto ok = RunSeedKinds(env); !ok) return ok;
  }
  if (!wants("http")) return {};
  const int calls = config_.http_calls > 0 ? config_.http_calls : (env.quick ? 1'000 : 20'000);
  auto http = RunHttpRequestCalls(env.conninfo, calls, config_.workers, config_.slots, config_.http_prefetch);
  if (!http) return std::unexpected(http.error());
  const double rate = static_cast<double>(http->calls) / http->wall_s;
  Report& report = *env.report;
  report.BeginSection("kinds", "http_request calls against a local keep-alive endpoint, insert to last finished");
  const std::vector<Param> params{{"calls", http->calls},
                                  {"workers", config_.workers},
                                  {"slots", config_.slots},
                                  {"prefetch", config_.http_prefetch < 0 ? nlohmann::ordered_json("auto")
                                                                         : nlohmann::ordered_json(config_.http_prefetch)}};
  report.Add({"http_wall", http->wall_s, "s", params});
  report.Add({"http_calls_per_second", rate, "calls/s", params});
  report.Add({"http_connections", static_cast<double>(http->connections), "connections", params});
  report.Add({"http_requests_per_connection",
              static_cast<double>(http->requests) / static_cast<double>(std::max<int64_t>(1, http->connections)),
              "requests", params});
  report.Add({"target_met_2000_calls_per_second", rate >= 2'000 ? 1.0 : 0.0, "bool", params});
  report.EndSection();
  return {};
}

Result<void> KindsBench::RunSeedKinds(const BenchEnv& env) {
  const int users = config_.users > 0 ? config_.users : (env.quick ? 2'000 : 100'000);
  const int exams = config_.exams > 0 ? config_.exams : (env.quick ? 1'000 : 10'000);
  const auto app = worker::kinds::DefaultAppConfig();  // What the workers run with.
  std::vector<std::string> providers;
  for (const auto& p : app.providers) providers.push_back(p.name);
  const int batch_size = worker::kinds::ReconcileExamCapacityConfig{}.default_batch_size;

  {
    db::Connection conn(db::ConnectionConfig{.url = env.conninfo});
    if (auto ok = app::ApplyAppSchema(conn); !ok) return ok;
  }
  auto pq = PqConnection::Open(env.conninfo);
  if (!pq) return std::unexpected(pq.error());
  spdlog::info("kinds: loading {} users x {} providers and {} exams", users, providers.size(), exams);
  if (auto ok = LoadUsers(*pq, users, providers); !ok) return ok;
  if (auto ok = LoadExams(*pq, exams); !ok) return ok;
  auto before = MeasureDrift(*pq);
  if (!before) return std::unexpected(before.error());

  Cluster cluster(env.conninfo, config_.slots, std::string(kFanOutQueue) + "," + kReconcileQueue);
  if (auto ok = cluster.StartScheduler(); !ok) return ok;
  for (int i = 0; i < config_.workers; ++i) {
    if (auto ok = cluster.StartWorker(); !ok) return ok;
  }
  if (auto ok = cluster.WaitForIdleWorkers(); !ok) return ok;

  Report& report = *env.report;
  const int64_t expected_children = static_cast<int64_t>(users) * static_cast<int64_t>(providers.size());
  spdlog::info("kinds: process_all_users over {} due integrations", expected_children);
  auto fan = RunFanOut(*pq, expected_children, config_.fanout_parallelism);
  if (!fan) return std::unexpected(fan.error());
  const double children_rate = static_cast<double>(fan->children) / fan->wall_s;
  report.BeginSection("kinds", "process_all_users fan-out, enqueue to parent succeeded");
  const std::vector<Param> fan_params{{"users", users},
                                      {"providers", static_cast<int64_t>(providers.size())},
                                      {"workers", config_.workers},
                                      {"parallelism", config_.fanout_parallelism}};
  report.Add({"fanout_wall", fan->wall_s, "s", fan_params});
  report.Add({"fanout_handler", fan->handler_s, "s", fan_params});
  report.Add({"children_created", static_cast<double>(fan->children), "jobs", fan_params});
  report.Add({"children_per_second", children_rate, "jobs/s", fan_params});
  report.EndSection();

  // The fan-out's 400,000 queued children are not the reconcile's business.
  if (auto ok = Exec(*pq, "TRUNCATE chime.jobs, chime.runs, chime.job_counts"); !ok) return ok;
  spdlog::info("kinds: reconcile_exam_capacity over {} active exams, {} drifted", before->active,
               before->drifted);
  auto rec = RunReconcile(*pq, *before, batch_size);
  if (!rec) return std::unexpected(rec.error());
  cluster.Stop();
  const double exams_rate = static_cast<double>(before->active) / rec->wall_s;
  report.BeginSection("kinds", "reconcile_exam_capacity, enqueue to parent and children finished");
  const std::vector<Param> rec_params{{"active_exams", before->active},
                                      {"batch_size", batch_size},
                                      {"workers", config_.workers}};
  report.Add({"reconcile_wall", rec->wall_s, "s", rec_params});
  report.Add({"child_jobs", static_cast<double>(rec->children), "jobs", rec_params});
  report.Add({"exams_per_second", exams_rate, "exams/s", rec_params});
  report.Add({"exams_corrected", static_cast<double>(rec->exams_updated), "exams", rec_params});
  report.Add({"total_corrections", static_cast<double>(rec->total_corrections), "bookings", rec_params});
  report.EndSection();

  // The targets as rates, so that a run of another size is judged alike:
  // 400,000 children in 5 s and 10,000 exams in 10 s.
  report.BeginSection("kinds", "summary");
  report.Add({"target_met_400k_children_under_5s", children_rate >= 80'000 ? 1.0 : 0.0, "bool", fan_params});
  report.Add({"target_met_10k_exams_under_10s", exams_rate >= 1'000 ? 1.0 : 0.0, "bool", rec_params});
  report.EndSection();
  return {};
}

}  // namespace chime::bench
