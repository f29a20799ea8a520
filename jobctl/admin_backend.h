// The operations jobctl performs, independent of how they reach the system.
// Every command is declared once in common/admin/commands.h and implemented
// once in common/admin/operations.cc; Run<C> takes it there: in process on
// DbBackend (the database path), as a signed request to a scheduler on
// ZmqBackend, whose AdminService runs the same implementation. A backend
// supplies only its transport (InProcess or Send). A command calls
// backend.Run<admin::LimitList>({}) (jobctl/limit_commands.cc); the named
// methods below are one-line wrappers over Run kept for the commands whose
// CLI tests stub them by name (tests/jobctl/cli_harness.h). A new command
// needs none: the fake answers Run<C> through C's codec (FakeBackend::Reply).
// Implementations are thread-compatible: one command uses one backend at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "chime/v1/chime.pb.h"
#include "common/admin/dispatch.h"
#include "common/auth/api_token.h"
#include "common/auth/scope.h"
#include "common/base/error.h"
#include "common/db/alert_store.h"
#include "common/db/auth_store.h"
#include "common/db/job.h"
#include "common/db/limit_store.h"
#include "common/db/migrations.h"
#include "common/db/observe_store.h"
#include "common/db/schedule_store.h"
#include "common/db/stats_store.h"
#include "common/view/json_view.h"
#include "common/app/app_schema.h"
#include "common/wire/token_convert.h"

namespace chime::jobctl {

// A worker as a scheduler sees it (jobctl workers); shared with the HTTP API.
using WorkerView = view::WorkerView;

class AdminBackend {
 public:
  virtual ~AdminBackend() = default;

  // Runs command C (common/admin/commands.h): its own check of `in`, then
  // its implementation in process, or a request to a scheduler.
  template <typename C>
  [[nodiscard]] Result<typename C::Out> Run(const typename C::In& in) {
    if (auto ok = admin::CheckArgs<C>(in); !ok) return std::unexpected(ok.error());
    auto local = InProcess(admin::NeedsOf<C>());
    if (!local) return std::unexpected(local.error());
    if (*local != nullptr) return C::Run(**local, in);
    auto reply = Send(admin::RequestFor<C>(in), admin::SendOnceOf<C>());
    if (!reply) return std::unexpected(reply.error());
    return admin::ReplyOutcome<C>(*reply);
  }

  // Applies pending schema migrations; reports the versions and files applied.
  // The database path only (schedulers apply migrations at start).
  [[nodiscard]] virtual Result<db::MigrationStatus> Migrate() = 0;
  // Reports schema versions without changing anything.
  [[nodiscard]] virtual Result<db::MigrationStatus> MigrationState() { return Run<admin::MigrateStatus>({}); }

  // Creates the default application schema chime_app the seeds' kinds read
  // (common/app/app_schema.sql) and, with demo_data, inserts the demo rows
  // that are missing; returns the rows inserted. Needs the database itself:
  // FailedPrecondition from backends that only reach a scheduler.
  [[nodiscard]] virtual Result<app::DemoCounts> AppSchemaApply(bool demo_data) {
    (void)demo_data;
    return Fail(ErrorCode::kFailedPrecondition, "app-schema needs the database (--database-url)");
  }

  // The commands of common/admin/commands.h, where each one's contract is.
  [[nodiscard]] virtual Result<db::EnqueueResult> Enqueue(const db::EnqueueParams& params) {
    auto done = Run<admin::Enqueue>(params);
    if (!done) return std::unexpected(done.error());
    return db::EnqueueResult{done->job.id, done->existing, done->job.state};
  }
  [[nodiscard]] virtual Result<db::JobPage> List(const db::ListParams& params) { return Run<admin::JobList>(params); }
  [[nodiscard]] virtual Result<db::JobWithRuns> Show(int64_t id) { return Run<admin::JobShow>(id); }
  [[nodiscard]] virtual Result<db::CancelOutcome> Cancel(int64_t id) { return Run<admin::JobCancel>(id); }
  [[nodiscard]] virtual Result<db::Job> Retry(int64_t id) { return Run<admin::JobRetry>(id); }
  [[nodiscard]] virtual Result<db::Stats> Stats() {
    auto out = Run<admin::JobStats>({});
    if (!out) return std::unexpected(out.error());
    return std::move(out->stats);
  }
  [[nodiscard]] virtual Result<db::StatsReport> RunStats(const db::StatsParams& params) {
    return Run<admin::RunStats>(params);
  }
  [[nodiscard]] virtual Result<db::RunPage> Runs(const db::RunListParams& params) { return Run<admin::Runs>(params); }
  [[nodiscard]] virtual Result<std::vector<db::AlertRow>> Alerts(const db::AlertListParams& params) {
    return Run<admin::Alerts>(params);
  }
  [[nodiscard]] virtual Result<std::vector<WorkerView>> Workers() { return Run<admin::Workers>({}); }
  [[nodiscard]] virtual Result<db::ScheduleRow> ScheduleCreate(const schedule::ScheduleSpec& spec) {
    return Run<admin::ScheduleCreate>(spec);
  }
  [[nodiscard]] virtual Result<db::ScheduleRow> ScheduleUpdate(const schedule::ScheduleSpec& spec) {
    return Run<admin::ScheduleUpdate>(spec);
  }
  [[nodiscard]] virtual Result<void> ScheduleDelete(const std::string& name) {
    auto done = Run<admin::ScheduleDelete>(name);
    if (!done) return std::unexpected(done.error());
    return {};
  }
  [[nodiscard]] virtual Result<db::ScheduleRow> ScheduleShow(const std::string& name) {
    return Run<admin::ScheduleShow>(name);
  }
  [[nodiscard]] virtual Result<std::vector<db::ScheduleStatus>> ScheduleList() { return Run<admin::ScheduleList>({}); }
  [[nodiscard]] virtual Result<db::ScheduleRow> SchedulePause(const std::string& name, bool paused) {
    return Run<admin::SchedulePause>({name, paused});
  }
  [[nodiscard]] virtual Result<db::FireResult> ScheduleTrigger(const std::string& name) {
    return Run<admin::ScheduleTrigger>(name);
  }
  [[nodiscard]] virtual Result<std::vector<db::FireResult>> ScheduleBackfill(const std::string& name,
                                                                             db::TimePoint from, db::TimePoint to) {
    return Run<admin::ScheduleBackfill>({name, from, to});
  }
  [[nodiscard]] virtual Result<db::FirePage> ScheduleFires(const db::FireListParams& params) {
    return Run<admin::ScheduleFires>(params);
  }
  [[nodiscard]] virtual Result<std::optional<db::LeaderState>> Leader() { return Run<admin::Leader>({}); }
  // `token` was made here; only its digest and public key leave this process.
  [[nodiscard]] virtual Result<db::ApiTokenRow> TokenCreate(const auth::ApiToken& token, auth::Scope scope,
                                                            std::optional<std::chrono::milliseconds> expires_in) {
    return Run<admin::TokenCreate>(wire::TokenCreateParamsFor(token, scope, expires_in, ""));
  }
  [[nodiscard]] virtual Result<std::vector<db::ApiTokenRow>> TokensList() { return Run<admin::TokenList>({}); }
  [[nodiscard]] virtual Result<db::ApiTokenRow> TokenRevoke(const std::string& name) {
    return Run<admin::TokenRevoke>(name);
  }
  // The credential the scheduler sees; FailedPrecondition on the database path.
  [[nodiscard]] virtual Result<auth::Principal> Whoami() { return Run<admin::Whoami>({}); }

 protected:
  // The database path: the context to run a command in, with what `needs`
  // asks for (connected, schema checked). nullptr: this backend sends
  // commands to a scheduler (Send) instead.
  [[nodiscard]] virtual Result<admin::Context*> InProcess(admin::Needs needs) {
    (void)needs;
    return nullptr;
  }
  // Sends one request to a scheduler; its reply, or the transport's error.
  // `once`: not to another replica after one may have received it.
  [[nodiscard]] virtual Result<v1::AdminReply> Send(const v1::AdminRequest& request, bool once) {
    (void)once;
    return Fail(ErrorCode::kFailedPrecondition,
                "admin request " + std::to_string(request.command_case()) + ": not supported by this backend");
  }
};

}  // namespace chime::jobctl
