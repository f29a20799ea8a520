// The jobctl CLI tests' fake AdminBackend and fixture: RunCli with a fixed
// clock, captured output and a backend factory that counts its calls.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "jobctl/cli.h"

namespace chime::jobctl::test_support {

// Records what the CLI asked for and answers with canned results.
class FakeBackend final : public AdminBackend {
 public:
  Result<db::MigrationStatus> Migrate() override {
    ++migrate_calls;
    return migration;
  }
  Result<db::MigrationStatus> MigrationState() override { return migration; }
  Result<db::EnqueueResult> Enqueue(const db::EnqueueParams& params) override {
    if (enqueued.size() == enqueue_fails_at) return Fail(ErrorCode::kUnavailable, "scheduler went away");
    enqueued.push_back(params);
    db::EnqueueResult r = enqueue_result;
    r.id += id_step * (static_cast<int64_t>(enqueued.size()) - 1);
    return r;
  }
  Result<db::JobPage> List(const db::ListParams& params) override {
    listed.push_back(params);
    return page;
  }
  Result<db::JobWithRuns> Show(int64_t id) override {
    if (id != job.job.id) return Fail(ErrorCode::kNotFound, "job " + std::to_string(id) + " not found");
    return job;
  }
  Result<db::CancelOutcome> Cancel(int64_t id) override {
    if (id != job.job.id) return Fail(ErrorCode::kNotFound, "job not found");
    return cancel_result;
  }
  Result<db::Job> Retry(int64_t) override {
    return Fail(ErrorCode::kFailedPrecondition, "job 7 is succeeded");
  }
  Result<db::Stats> Stats() override {
    if (unavailable) return Fail(ErrorCode::kUnavailable, "cannot connect to database");
    return stats;
  }
  Result<db::StatsReport> RunStats(const db::StatsParams& params) override {
    run_stats_calls.push_back(params);
    if (auto ok = params.Validate(); !ok) return std::unexpected(ok.error());
    return run_stats;
  }
  Result<std::vector<db::AlertRow>> Alerts(const db::AlertListParams& params) override {
    alert_calls.push_back(params);
    return alerts;
  }
  Result<std::vector<WorkerView>> Workers() override { return workers; }
  Result<db::RunPage> Runs(const db::RunListParams& params) override {
    runs_calls.push_back(params);
    return run_page;
  }
  Result<db::FirePage> ScheduleFires(const db::FireListParams& params) override {
    fires_calls.push_back(params);
    if (!schedules.contains(params.schedule)) return NoSchedule(params.schedule);
    return fire_page;
  }

  // Schedules live in `schedules`, by name, like the store keeps them.
  Result<db::ScheduleRow> ScheduleCreate(const schedule::ScheduleSpec& spec) override {
    create_calls.push_back(spec);
    if (auto it = create_errors.find(spec.name); it != create_errors.end()) {
      return std::unexpected(it->second);
    }
    if (schedules.contains(spec.name)) {
      return Fail(ErrorCode::kAlreadyExists, "schedule \"" + spec.name + "\" already exists");
    }
    db::ScheduleRow row;
    row.id = next_schedule_id++;
    row.spec = spec;
    row.created_at = row.updated_at = created_at;
    schedules[spec.name] = row;
    return row;
  }
  Result<db::ScheduleRow> ScheduleUpdate(const schedule::ScheduleSpec& spec) override {
    update_calls.push_back(spec);
    auto it = schedules.find(spec.name);
    if (it == schedules.end()) return NoSchedule(spec.name);
    const bool paused = it->second.spec.paused;
    it->second.spec = spec;
    it->second.spec.paused = paused;  // Update never changes paused.
    return it->second;
  }
  Result<void> ScheduleDelete(const std::string& name) override {
    if (schedules.erase(name) == 0) return NoSchedule(name);
    return {};
  }
  Result<db::ScheduleRow> ScheduleShow(const std::string& name) override {
    ++show_calls;
    auto it = schedules.find(name);
    if (it == schedules.end()) return NoSchedule(name);
    return it->second;
  }
  Result<std::vector<db::ScheduleStatus>> ScheduleList() override { return statuses; }
  Result<db::ScheduleRow> SchedulePause(const std::string& name, bool paused) override {
    auto it = schedules.find(name);
    if (it == schedules.end()) return NoSchedule(name);
    it->second.spec.paused = paused;
    return it->second;
  }
  Result<db::FireResult> ScheduleTrigger(const std::string& name) override {
    triggered.push_back(name);
    return trigger_result;
  }
  Result<std::vector<db::FireResult>> ScheduleBackfill(const std::string& name, db::TimePoint from,
                                                       db::TimePoint to) override {
    backfills.push_back({name, from, to});
    return backfill_result;
  }
  Result<std::optional<db::LeaderState>> Leader() override { return leader; }

  // Tokens live in `tokens`, by name; what TokenCreate was given is kept.
  Result<db::ApiTokenRow> TokenCreate(const auth::ApiToken& token, auth::Scope scope,
                                      std::optional<std::chrono::milliseconds> expires_in) override {
    token_creates.push_back({token.name(), token.Verifiers(), scope, expires_in});
    if (tokens.contains(token.name())) {
      return Fail(ErrorCode::kAlreadyExists, "token '" + token.name() + "' exists");
    }
    db::ApiTokenRow row;
    row.name = token.name();
    row.scope = std::string(auth::ScopeName(scope));
    row.created_at = created_at;
    row.created_by = "database";
    if (expires_in) row.expires_at = created_at + *expires_in;
    tokens[row.name] = row;
    return row;
  }
  Result<std::vector<db::ApiTokenRow>> TokensList() override {
    std::vector<db::ApiTokenRow> out;
    for (const auto& [name, row] : tokens) out.push_back(row);
    return out;
  }
  Result<db::ApiTokenRow> TokenRevoke(const std::string& name) override {
    auto it = tokens.find(name);
    if (it == tokens.end()) return Fail(ErrorCode::kNotFound, "no token named '" + name + "'");
    if (!it->second.revoked_at) it->second.revoked_at = created_at;
    return it->second;
  }
  Result<auth::Principal> Whoami() override { return whoami; }

  // Commands jobctl runs with AdminBackend::Run<C> and no named method (see
  // common/admin/commands.h): each request is recorded and answered with
  // what Reply<C> set for its case, through C's own codec.
  template <typename C>
  void Reply(const typename C::Out& out) {
    v1::AdminReply reply;
    C::ToReply(out, reply);
    replies[C::kRequest] = reply;
  }
  template <typename C>
  void ReplyError(const Error& error) {
    *replies[C::kRequest].mutable_error() = wire::ToProto(error);
  }
  Result<v1::AdminReply> Answer(const v1::AdminRequest& request) {
    requests.push_back(request);
    auto it = replies.find(request.command_case());
    if (it == replies.end()) {
      return Fail(ErrorCode::kFailedPrecondition,
                  "fake backend: no reply for request " + std::to_string(request.command_case()));
    }
    return it->second;
  }

  static std::unexpected<Error> NoSchedule(const std::string& name) {
    return Fail(ErrorCode::kNotFound, "schedule \"" + name + "\" not found");
  }

  db::MigrationStatus migration{1, 1, {}};
  int migrate_calls = 0;
  db::EnqueueResult enqueue_result{42, false, db::JobState::kAvailable};
  std::vector<db::EnqueueParams> enqueued;
  size_t enqueue_fails_at = SIZE_MAX;  // This call (0-based) fails.
  int64_t id_step = 0;                 // Successive enqueues return ids this far apart.
  db::JobPage page;
  std::vector<db::ListParams> listed;
  db::JobWithRuns job;
  db::CancelOutcome cancel_result = db::CancelOutcome::kCancelled;
  db::Stats stats;
  std::vector<WorkerView> workers;
  bool unavailable = false;
  std::vector<db::StatsParams> run_stats_calls;
  Result<db::StatsReport> run_stats = db::StatsReport{};
  std::vector<db::AlertListParams> alert_calls;
  std::vector<db::AlertRow> alerts;
  std::vector<db::RunListParams> runs_calls;
  db::RunPage run_page;
  std::vector<db::FireListParams> fires_calls;
  db::FirePage fire_page;

  std::map<std::string, db::ScheduleRow> schedules;
  std::map<std::string, Error> create_errors;  // ScheduleCreate of this name fails so.
  std::vector<schedule::ScheduleSpec> create_calls, update_calls;
  int show_calls = 0;
  int64_t next_schedule_id = 1;
  db::TimePoint created_at;
  std::vector<db::ScheduleStatus> statuses;
  std::vector<std::string> triggered;
  Result<db::FireResult> trigger_result = db::FireResult{};
  struct Backfill {
    std::string name;
    db::TimePoint from, to;
  };
  std::vector<Backfill> backfills;
  Result<std::vector<db::FireResult>> backfill_result = std::vector<db::FireResult>{};
  Result<std::optional<db::LeaderState>> leader = std::optional<db::LeaderState>{};
  struct TokenCreateCall {
    std::string name;
    auth::TokenVerifiers verifiers;
    auth::Scope scope;
    std::optional<std::chrono::milliseconds> expires_in;
  };
  std::vector<TokenCreateCall> token_creates;
  std::map<std::string, db::ApiTokenRow> tokens;
  Result<auth::Principal> whoami = auth::BootstrapPrincipal();
  std::vector<v1::AdminRequest> requests;     // Sent with Run<C>, in order.
  std::map<int, v1::AdminReply> replies;      // By request case.

 protected:
  Result<v1::AdminReply> Send(const v1::AdminRequest& request, bool) override { return Answer(request); }
};

// Hands the test's fake to RunCli, which owns its backend.
class Forwarder final : public AdminBackend {
 public:
  explicit Forwarder(FakeBackend& f) : f_(f) {}
  Result<db::MigrationStatus> Migrate() override { return f_.Migrate(); }
  Result<db::MigrationStatus> MigrationState() override { return f_.MigrationState(); }
  Result<db::EnqueueResult> Enqueue(const db::EnqueueParams& p) override { return f_.Enqueue(p); }
  Result<db::JobPage> List(const db::ListParams& p) override { return f_.List(p); }
  Result<db::JobWithRuns> Show(int64_t id) override { return f_.Show(id); }
  Result<db::CancelOutcome> Cancel(int64_t id) override { return f_.Cancel(id); }
  Result<db::Job> Retry(int64_t id) override { return f_.Retry(id); }
  Result<db::Stats> Stats() override { return f_.Stats(); }
  Result<std::vector<WorkerView>> Workers() override { return f_.Workers(); }
  Result<db::StatsReport> RunStats(const db::StatsParams& p) override { return f_.RunStats(p); }
  Result<std::vector<db::AlertRow>> Alerts(const db::AlertListParams& p) override { return f_.Alerts(p); }
  Result<db::RunPage> Runs(const db::RunListParams& p) override { return f_.Runs(p); }
  Result<db::FirePage> ScheduleFires(const db::FireListParams& p) override { return f_.ScheduleFires(p); }
  Result<db::ScheduleRow> ScheduleCreate(const schedule::ScheduleSpec& s) override {
    return f_.ScheduleCreate(s);
  }
  Result<db::ScheduleRow> ScheduleUpdate(const schedule::ScheduleSpec& s) override {
    return f_.ScheduleUpdate(s);
  }
  Result<void> ScheduleDelete(const std::string& n) override { return f_.ScheduleDelete(n); }
  Result<db::ScheduleRow> ScheduleShow(const std::string& n) override { return f_.ScheduleShow(n); }
  Result<std::vector<db::ScheduleStatus>> ScheduleList() override { return f_.ScheduleList(); }
  Result<db::ScheduleRow> SchedulePause(const std::string& n, bool p) override {
    return f_.SchedulePause(n, p);
  }
  Result<db::FireResult> ScheduleTrigger(const std::string& n) override { return f_.ScheduleTrigger(n); }
  Result<std::vector<db::FireResult>> ScheduleBackfill(const std::string& n, db::TimePoint from,
                                                       db::TimePoint to) override {
    return f_.ScheduleBackfill(n, from, to);
  }
  Result<std::optional<db::LeaderState>> Leader() override { return f_.Leader(); }
  Result<db::ApiTokenRow> TokenCreate(const auth::ApiToken& t, auth::Scope s,
                                      std::optional<std::chrono::milliseconds> e) override {
    return f_.TokenCreate(t, s, e);
  }
  Result<std::vector<db::ApiTokenRow>> TokensList() override { return f_.TokensList(); }
  Result<db::ApiTokenRow> TokenRevoke(const std::string& n) override { return f_.TokenRevoke(n); }
  Result<auth::Principal> Whoami() override { return f_.Whoami(); }

 protected:
  Result<v1::AdminReply> Send(const v1::AdminRequest& request, bool) override { return f_.Answer(request); }

 private:
  FakeBackend& f_;
};

class CliTest : public ::testing::Test {
 protected:
  CliTest() {
    job.id = 7;
    job.kind = "noop";
    job.queue = "default";
    job.payload = R"({"a":1})";
    job.created_at = job.run_at = Now();
    fake.job.job = job;
    fake.created_at = Now();
  }

  // 2026-01-31T02:00:00Z.
  static TimePoint Now() {
    using namespace std::chrono;
    return sys_days(year(2026) / 1 / 31) + hours(2);
  }

  int Run(std::vector<std::string> args, const std::string& stdin_text = "") {
    args.insert(args.begin(), "jobctl");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    out.str("");
    err.str("");
    std::istringstream in(stdin_text);
    CliEnvironment env{.out = out, .err = err, .in = in};
    env.database_url = env_url;
    env.now = [] { return Now(); };
    env.scheduler = env_scheduler;
    env.make_backend = [this](const BackendTarget& target) -> Result<std::unique_ptr<AdminBackend>> {
      backend_url = target.database_url;
      backend_scheduler = target.scheduler;
      backend_token_file = target.token_file;
      ++backends_made;
      return std::unique_ptr<AdminBackend>(new Forwarder(fake));
    };
    env.init_logging = [](const std::string&) {};
    env.out_is_terminal = out_is_terminal;
    env.pause = [this](std::chrono::milliseconds d) {
      paused.push_back(d);
      if (on_pause) on_pause();
    };
    return RunCli(static_cast<int>(argv.size()), argv.data(), env);
  }

  FakeBackend fake;
  db::Job job;
  std::optional<std::string> env_url = "postgresql://from-env";
  std::optional<std::string> env_scheduler;
  std::vector<std::chrono::milliseconds> paused;
  std::function<void()> on_pause;
  std::string backend_url;
  std::string backend_scheduler;
  std::optional<std::string> backend_token_file;
  int backends_made = 0;
  bool out_is_terminal = false;  // What RunCli is told stdout is.
  std::ostringstream out, err;
};

}  // namespace chime::jobctl::test_support
