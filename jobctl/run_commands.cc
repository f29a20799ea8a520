#include "jobctl/run_commands.h"

#include <nlohmann/json.hpp>

#include <ostream>

#include "common/base/text_format.h"
#include "jobctl/json_view.h"
#include "jobctl/text_view.h"

namespace chime::jobctl {
namespace {

constexpr size_t kDetailWidth = 80;

std::string Time(TimePoint t) { return FormatRfc3339(t); }

std::string Took(const db::Run& run) {
  return FormatDuration(std::chrono::duration_cast<std::chrono::milliseconds>(run.finished_at - run.started_at));
}

// What a run ended with, in a few words: a failure's last error, a
// partial's errors, a skip's reason, a fan-out's children, else its summary.
std::string Detail(const db::Run& run) {
  const auto summary = nlohmann::json::parse(run.summary, nullptr, /*allow_exceptions=*/false);
  const bool object = summary.is_object();
  if (object && summary.contains("childOutcomes") && summary["childOutcomes"].is_object()) {
    std::string out = "children:";
    for (const char* k : {"succeeded", "partial", "failed", "skipped", "cancelled"}) {
      const auto& v = summary["childOutcomes"].value(k, nlohmann::json(0));
      if (v.is_number_integer() && v.get<int64_t>() > 0) out += " " + std::to_string(v.get<int64_t>()) + " " + k;
    }
    return OneLine(out, kDetailWidth);
  }
  if (run.outcome == db::RunOutcome::kSkipped && object && summary.contains("skipReason") &&
      summary["skipReason"].is_string()) {
    return OneLine("skipped: " + summary["skipReason"].get<std::string>(), kDetailWidth);
  }
  if (!run.errors.empty()) {
    const std::string count = run.errors.size() == 1 ? "" : std::to_string(run.errors.size()) + " errors: ";
    return OneLine(count + run.errors.back(), kDetailWidth);
  }
  if (summary.is_discarded() || (object && summary.empty())) return "";
  return OneLine(summary.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), kDetailWidth);
}

std::string JobOutcomeCell(const db::Run& run) {
  if (run.job_outcome) return std::string(db::JobOutcomeName(*run.job_outcome));
  return run.final ? "waiting" : "-";
}

}  // namespace

Result<db::RunListParams> BuildRunListParams(const RunsOptions& o, TimePoint now) {
  db::RunListParams p;
  auto name = [](const char* flag, const std::optional<std::string>& v,
                 std::optional<std::string>& out) -> Result<void> {
    if (!v) return {};
    if (v->empty()) return Fail(ErrorCode::kInvalidArgument, std::string(flag) + ": must not be empty");
    out = v;
    return {};
  };
  if (auto ok = name("--schedule", o.schedule, p.schedule); !ok) return std::unexpected(ok.error());
  if (auto ok = name("--kind", o.kind, p.kind); !ok) return std::unexpected(ok.error());
  if (o.outcome) {
    if (!db::ParseJobOutcome(*o.outcome) && *o.outcome != "waiting") {
      return Fail(ErrorCode::kInvalidArgument, "--outcome: \"" + OneLine(*o.outcome, 64) +
                                                   "\" is not one of " + db::kRunOutcomeFilters);
    }
    p.outcome = o.outcome;
  }
  if (o.since) {
    auto t = ParseTimeOrAgo(*o.since, now);
    if (!t) return Fail(ErrorCode::kInvalidArgument, "--since: " + t.error().message);
    p.since = *t;
  }
  if (o.limit < 1 || o.limit > 1000) {
    return Fail(ErrorCode::kInvalidArgument, "--limit: " + std::to_string(o.limit) + " is out of range 1-1000");
  }
  p.limit = o.limit;
  if (o.before_id) {
    if (*o.before_id <= 0) return Fail(ErrorCode::kInvalidArgument, "--before-id: must be positive");
    p.before_id = o.before_id;
  }
  p.attempts = o.attempts;
  return p;
}

std::string RenderRunPage(const db::RunPage& page, bool attempts) {
  if (page.runs.empty()) return attempts ? "no attempts\n" : "no runs\n";
  std::string out;
  if (attempts) {
    Table table({"RUN", "JOB", "SCHEDULE", "KIND", "ATTEMPT", "OUTCOME", "RUN_OUTCOME", "FINISHED", "DURATION",
                 "DETAIL"},
                {true, true, false, false, true, false, false, false, true, false});
    for (const auto& item : page.runs) {
      const db::Run& r = item.run;
      table.AddRow({std::to_string(r.id), std::to_string(r.job_id), OneLine(item.schedule.value_or("-"), 64),
                    OneLine(item.kind, 64), std::to_string(r.attempt), std::string(db::RunOutcomeName(r.outcome)),
                    JobOutcomeCell(r), Time(r.finished_at), Took(r), Detail(r)});
    }
    out = table.Render();
  } else {
    Table table({"JOB", "SCHEDULE", "TICK", "KIND", "OUTCOME", "ATTEMPTS", "FINISHED", "DURATION", "DETAIL"},
                {true, false, false, false, false, true, false, true, false});
    for (const auto& item : page.runs) {
      const db::Run& r = item.run;
      table.AddRow({std::to_string(r.job_id), OneLine(item.schedule.value_or("-"), 64),
                    item.scheduled_for ? Time(*item.scheduled_for) : "-", OneLine(item.kind, 64),
                    JobOutcomeCell(r), std::to_string(r.attempt), Time(r.finished_at), Took(r), Detail(r)});
    }
    out = table.Render();
    out += "(OUTCOME: the run's final outcome; DURATION: its last attempt's)\n";
  }
  if (page.next_before_id) {
    out += std::string("more ") + (attempts ? "attempts" : "runs") + ": repeat with --before-id " +
           std::to_string(*page.next_before_id) + "\n";
  }
  return out;
}

std::string RenderFirePage(const db::FirePage& page, const std::string& schedule) {
  if (page.fires.empty()) return "no fires of " + OneLine(schedule, 128) + "\n";
  Table table({"TICK", "FIRED", "ORIGIN", "FIRE", "JOB", "JOB_STATE", "RUN_OUTCOME", "ATTEMPTS"},
              {false, false, false, false, true, false, false, true});
  for (const auto& f : page.fires) {
    table.AddRow({FormatRfc3339(f.scheduled_for), Time(f.fired_at), std::string(db::FireOriginName(f.origin)),
                  std::string(db::FireOutcomeName(f.outcome)), f.job_id ? std::to_string(*f.job_id) : "-",
                  f.job_state ? std::string(db::JobStateName(*f.job_state)) : "-",
                  f.job_outcome ? std::string(db::JobOutcomeName(*f.job_outcome))
                                : (f.job_state && db::IsFinished(*f.job_state) ? "waiting" : "-"),
                  f.attempts ? std::to_string(*f.attempts) : "-"});
  }
  std::string out = table.Render();
  if (page.next_before) {
    out += "more fires: repeat with --before " + FormatRfc3339(*page.next_before, TimePrecision::kMicros) + "\n";
  }
  return out;
}

Result<void> RunRuns(CommandContext& ctx, const RunsOptions& o) {
  auto params = BuildRunListParams(o, ctx.now);
  if (!params) return std::unexpected(params.error());
  auto page = ctx.backend.Runs(*params);
  if (!page) return std::unexpected(page.error());
  ctx.out << (o.json ? DumpJson(view::RunPageJson(*page)) : RenderRunPage(*page, o.attempts));
  return {};
}

Result<void> RunScheduleFires(CommandContext& ctx, const ScheduleFiresOptions& o) {
  db::FireListParams params;
  params.schedule = o.name;
  if (o.before) {
    auto t = ParseRfc3339(*o.before);
    if (!t) return Fail(ErrorCode::kInvalidArgument, "--before: " + t.error().message);
    params.before = *t;
  }
  if (o.limit < 1 || o.limit > 1000) {
    return Fail(ErrorCode::kInvalidArgument, "--limit: " + std::to_string(o.limit) + " is out of range 1-1000");
  }
  params.limit = o.limit;
  auto page = ctx.backend.ScheduleFires(params);
  if (!page) return std::unexpected(page.error());
  ctx.out << (o.json ? DumpJson(view::FirePageJson(*page)) : RenderFirePage(*page, o.name));
  return {};
}

}  // namespace chime::jobctl
