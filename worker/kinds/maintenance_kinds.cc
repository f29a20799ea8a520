#include "worker/kinds/maintenance_kinds.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "common/db/job_rescuer.h"
#include "common/db/job_store.h"
#include "common/db/outbox_store.h"

namespace chime::worker::kinds {
namespace {

using nlohmann::json;

constexpr size_t kMaxIdsReported = 1000;
constexpr int kCleanupBatchesPerStep = 50;  // Progress is reported between steps.
constexpr int kRescuePagesPerRun = 1000;     // Of RescueParams::limit (1,000) jobs each.

HandlerResult BadPayload(std::string_view kind, const std::string& message) {
  return HandlerResult::Fail({}, {std::string(kind) + ": " + message}, /*retryable=*/false);
}

// Reads an optional integer parameter in [min, max]; unknown keys are refused
// by CheckKeys so a misspelt parameter never silently takes its default.
Result<int64_t> IntParam(const json& payload, const char* key, int64_t fallback, int64_t min,
                         int64_t max) {
  if (!payload.contains(key)) return fallback;
  const json& v = payload[key];
  if (!v.is_number_integer() || v.get<int64_t>() < min || v.get<int64_t>() > max) {
    return Fail(ErrorCode::kInvalidArgument, std::string(key) + ": must be an integer from " +
                                                 std::to_string(min) + " to " + std::to_string(max));
  }
  return v.get<int64_t>();
}

Result<void> CheckKeys(const json& payload, std::initializer_list<std::string_view> known) {
  if (!payload.is_object()) return Fail(ErrorCode::kInvalidArgument, "payload must be a JSON object");
  for (const auto& [key, _] : payload.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      return Fail(ErrorCode::kInvalidArgument, "unknown parameter \"" + key + "\"");
    }
  }
  return {};
}

json Common(const JobContext& ctx) {
  return {{"dryRun", ctx.dry_run()}, {"invocation", db::InvocationName(ctx.invocation())}};
}

// A database error: retried, since the next attempt may find it reachable.
HandlerResult DatabaseFailure(json summary, const Error& error) {
  return HandlerResult::Fail(std::move(summary), {error.ToString()}, /*retryable=*/true);
}

HandlerResult Stopped(json summary) {
  return HandlerResult::Fail(std::move(summary), {"cleanup_old_jobs: stopped before the end"},
                             /*retryable=*/true);
}

json Ids(const std::vector<int64_t>& ids) {
  return json(std::vector<int64_t>(ids.begin(), ids.begin() + std::min(ids.size(), kMaxIdsReported)));
}

}  // namespace

HandlerResult CleanupOldJobs::Run(JobContext& ctx) {
  const json& payload = ctx.payload();
  if (auto ok = CheckKeys(payload, {"retentionDays"}); !ok) return BadPayload(Kind(), ok.error().message);
  auto days = IntParam(payload, "retentionDays", 7, 1, 3650);
  if (!days) return BadPayload(Kind(), days.error().message);
  auto store = ctx.Store();
  if (!store) return DatabaseFailure({}, store.error());
  auto conn = ctx.Database();
  if (!conn) return DatabaseFailure({}, conn.error());

  const std::chrono::hours retention(24 * *days);
  json summary = Common(ctx);
  summary["retentionDays"] = *days;
  if (ctx.dry_run()) {
    auto preview = (*store)->JobsCleanupPreview(retention);
    if (!preview) return DatabaseFailure(summary, preview.error());
    summary["jobsDeleted"] = preview->jobs_deleted;
    summary["runsDeleted"] = preview->runs_deleted;
    auto webhooks = db::OutboxStore(**conn).OutboxPrunePreview(retention);
    if (!webhooks) return DatabaseFailure(summary, webhooks.error());
    summary["webhooksDeleted"] = *webhooks;
    return HandlerResult::Success(summary);
  }
  int64_t jobs = 0, runs = 0, webhooks = 0;
  const auto record = [&] {
    summary["jobsDeleted"] = jobs;
    summary["runsDeleted"] = runs;
    summary["webhooksDeleted"] = webhooks;
  };
  // Jobs and runs first, then delivered webhooks, a bounded step at a time.
  // Deleted batches stay deleted; a stop between steps leaves the rest to
  // the retry.
  while (true) {
    auto step = (*store)->JobsCleanup(
        db::CleanupParams{.retention = retention, .max_batches = kCleanupBatchesPerStep});
    if (step) {
      jobs += step->jobs_deleted;
      runs += step->runs_deleted;
    }
    record();
    if (!step) return DatabaseFailure(summary, step.error());
    if (!step->more) break;
    if (ctx.stop_requested()) return Stopped(summary);
    (void)ctx.ReportProgress(summary);  // Best effort: a lost lease shows at completion.
  }
  while (true) {
    auto step = db::OutboxStore(**conn).OutboxPrune(
        db::OutboxPruneParams{.retention = retention, .max_batches = kCleanupBatchesPerStep});
    if (step) webhooks += step->deleted;
    record();
    if (!step) return DatabaseFailure(summary, step.error());
    if (!step->more) return HandlerResult::Success(summary);
    if (ctx.stop_requested()) return Stopped(summary);
    (void)ctx.ReportProgress(summary);
  }
}

HandlerResult ResetStaleJobs::Run(JobContext& ctx) {
  const json& payload = ctx.payload();
  if (auto ok = CheckKeys(payload, {"staleAfterMinutes", "maxRescues"}); !ok) {
    return BadPayload(Kind(), ok.error().message);
  }
  auto minutes = IntParam(payload, "staleAfterMinutes", 30, 1, 7 * 24 * 60);
  if (!minutes) return BadPayload(Kind(), minutes.error().message);
  auto max_rescues = IntParam(payload, "maxRescues", 3, 0, 100);
  if (!max_rescues) return BadPayload(Kind(), max_rescues.error().message);
  auto store = ctx.Store();
  if (!store) return DatabaseFailure({}, store.error());

  const db::RescueParams params{.max_rescues = static_cast<int>(*max_rescues),
                                .silent_for = std::chrono::minutes(*minutes)};
  // The maintainer's rescue path, run to the end of the backlog (bounded).
  auto rescued = db::JobRescuer(**store).Run(
      params, {.dry_run = ctx.dry_run(), .max_pages = kRescuePagesPerRun,
               .stop = [&ctx] { return ctx.stop_requested(); }});
  if (!rescued) return DatabaseFailure(Common(ctx), rescued.error());
  const db::RescueResult& total = *rescued;
  json summary = Common(ctx);
  summary["staleAfterMinutes"] = *minutes;
  summary["reset"] = total.rescued.size();
  summary["discarded"] = total.discarded.size();
  summary["resetJobIds"] = Ids(total.rescued);
  summary["discardedJobIds"] = Ids(total.discarded);
  summary["idsTruncated"] = total.rescued.size() > kMaxIdsReported ||
                            total.discarded.size() > kMaxIdsReported;
  return HandlerResult::Success(summary);
}

}  // namespace chime::worker::kinds
