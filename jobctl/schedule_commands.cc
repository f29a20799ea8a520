#include "jobctl/schedule_commands.h"

#include <ostream>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/cron/cron.h"
#include "common/db/job_store.h"
#include "jobctl/json_view.h"
#include "jobctl/text_view.h"

namespace chime::jobctl {
namespace {

using json = nlohmann::ordered_json;

constexpr int kMaxCronNextCount = 1000;
constexpr int kShownNextFires = 3;
constexpr size_t kMaxScheduleFileBytes = 4 << 20;

std::unexpected<Error> FlagError(std::string_view flag, const Error& error) {
  return Fail(error.code, std::string(flag) + ": " + error.message);
}

// schedule::Validate names spec fields ("max_attempts: ..."); name the flags
// instead. `payload_flag` is "--payload" or "--payload-file PATH".
Error WithScheduleFlagNames(Error error, const std::string& payload_flag) {
  const std::pair<std::string_view, std::string> kFlags[] = {
      {"name:", "NAME:"},           {"cron:", "--cron:"},
      {"time_zone:", "--tz:"},      {"kind:", "--kind:"},
      {"payload:", payload_flag + ":"}, {"queue:", "--queue:"},
      {"priority:", "--priority:"}, {"max_attempts:", "--max-attempts:"},
      {"timeout:", "--timeout:"},   {"jitter:", "--jitter:"},
      {"overlap:", "--overlap:"},   {"misfire:", "--misfire:"},
  };
  for (const auto& [field, flag] : kFlags) {
    if (error.message.starts_with(field)) {
      error.message = flag + error.message.substr(field.size());
      break;
    }
  }
  return error;
}

std::string PayloadFlag(const ScheduleFlags& f) {
  return f.payload_file ? "--payload-file " + OneLine(*f.payload_file, 200) : std::string("--payload");
}

// The payload text of --payload or --payload-file; nullopt when neither.
Result<std::optional<std::string>> ReadPayload(const ScheduleFlags& f, std::istream& in) {
  if (f.payload && f.payload_file) {
    return Fail(ErrorCode::kInvalidArgument, "--payload and --payload-file: give at most one");
  }
  if (f.payload) return f.payload;
  if (!f.payload_file) return std::nullopt;
  auto text = ReadInputFile("--payload-file", *f.payload_file, in, db::JobStoreConfig{}.max_payload_bytes);
  if (!text) return std::unexpected(text.error());
  return std::optional<std::string>(std::move(*text));
}

// The next fire times shown for a schedule: none while it is paused or when
// its stored expression no longer parses here.
std::vector<TimePoint> ShownNextFires(const db::ScheduleRow& row, TimePoint now, int count) {
  if (row.spec.paused) return {};
  return NextFireTimes(row.spec.cron, row.spec.time_zone, now, count).value_or(std::vector<TimePoint>{});
}

std::optional<TimePoint> NextFireOf(const db::ScheduleRow& row, TimePoint now) {
  auto next = ShownNextFires(row, now, 1);
  if (next.empty()) return std::nullopt;
  return next.front();
}

Result<void> PrintSchedule(CommandContext& ctx, const db::ScheduleRow& row, bool as_json) {
  const auto next = ShownNextFires(row, ctx.now, kShownNextFires);
  ctx.out << (as_json ? DumpJson(ScheduleJson(row, next)) : RenderSchedule(row, next));
  return {};
}

std::string Plural(size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// What a tick's outcome means, for trigger and backfill lines.
std::string DescribeFire(const db::FireResult& fire) {
  if (!fire.outcome) return "already fired";
  switch (*fire.outcome) {
    case db::FireOutcome::kEnqueued:
      return "enqueued job " + (fire.job_id ? std::to_string(*fire.job_id) : std::string("?"));
    case db::FireOutcome::kSkippedOverlap:
      return "skipped, a job from an earlier tick is still live (overlap policy skip)";
    case db::FireOutcome::kBuffered:
      return "buffered, a job from an earlier tick is still live; this tick's job is enqueued "
             "when it finishes (overlap policy buffer_one)";
    case db::FireOutcome::kSkippedMisfire:
      return "skipped (misfire policy)";
  }
  return "recorded";
}

}  // namespace

bool ScheduleFlags::any() const {
  return cron || kind || time_zone || payload || payload_file || queue || priority ||
         max_attempts || timeout || jitter || overlap || misfire || !health.empty();
}

Result<std::vector<TimePoint>> NextFireTimes(const std::string& expression,
                                             const std::string& time_zone, TimePoint after,
                                             int count) {
  auto expr = cron::Expression::Parse(expression);
  if (!expr) {
    return Fail(ErrorCode::kInvalidArgument,
                "cron expression \"" + OneLine(expression, 100) + "\": " + expr.error().message);
  }
  auto zone = cron::Zone::Load(time_zone);
  if (!zone) return std::unexpected(zone.error());
  std::vector<TimePoint> fires;
  cron::Instant t = std::chrono::floor<std::chrono::seconds>(after);
  for (int i = 0; i < count; ++i) {
    auto next = cron::NextFire(*expr, *zone, t);
    if (!next) break;
    fires.push_back(*next);
    t = *next;
  }
  return fires;
}

Result<schedule::ScheduleSpec> ApplyScheduleFlags(schedule::ScheduleSpec spec,
                                                  const ScheduleFlags& f,
                                                  const std::optional<std::string>& payload_text) {
  if (f.cron) spec.cron = *f.cron;
  if (f.kind) spec.kind = *f.kind;
  if (f.time_zone) spec.time_zone = *f.time_zone;
  if (payload_text) spec.payload = *payload_text;
  if (f.queue) spec.queue = *f.queue;
  if (f.priority) spec.priority = *f.priority;
  if (f.max_attempts) spec.max_attempts = *f.max_attempts;
  if (f.timeout) {
    if (*f.timeout == "none") {
      spec.timeout.reset();
    } else {
      auto d = ParseDuration(*f.timeout);
      if (!d) return FlagError("--timeout", d.error());
      spec.timeout = *d;
    }
  }
  if (f.jitter) {
    auto d = ParseDuration(*f.jitter);
    if (!d) return FlagError("--jitter", d.error());
    spec.jitter = *d;
  }
  if (f.overlap) {
    auto policy = schedule::ParseOverlapPolicy(*f.overlap);
    if (!policy) {
      return Fail(ErrorCode::kInvalidArgument, "--overlap: unknown policy \"" + OneLine(*f.overlap, 64) +
                                                   "\"; valid: skip, allow, buffer_one, cancel_running");
    }
    spec.overlap = *policy;
  }
  if (f.misfire) {
    auto policy = schedule::ParseMisfirePolicy(*f.misfire);
    if (!policy) {
      return Fail(ErrorCode::kInvalidArgument, "--misfire: unknown policy \"" + OneLine(*f.misfire, 64) +
                                                   "\"; valid: skip, run_once, run_all");
    }
    spec.misfire = *policy;
  }
  if (!f.health.empty()) {
    auto health = schedule::ApplyHealthSettings(spec.health, f.health);
    if (!health) return FlagError("--health", health.error());
    spec.health = *health;
  }
  if (auto ok = schedule::Validate(spec); !ok) {
    return std::unexpected(WithScheduleFlagNames(ok.error(), PayloadFlag(f)));
  }
  return spec;
}

Result<void> RunCronNext(LocalContext& ctx, const CronNextOptions& o) {
  if (o.count < 1 || o.count > kMaxCronNextCount) {
    return Fail(ErrorCode::kInvalidArgument, "--count: " + std::to_string(o.count) +
                                                 " is out of range 1-" + std::to_string(kMaxCronNextCount));
  }
  TimePoint from = ctx.now;
  if (o.from) {
    auto t = ParseRfc3339(*o.from);
    if (!t) return FlagError("--from", t.error());
    from = *t;
  }
  auto fires = NextFireTimes(o.expression, o.time_zone, from, o.count);
  if (!fires) return std::unexpected(fires.error());
  if (o.json) {
    json list = json::array();
    for (TimePoint t : *fires) list.push_back(FormatRfc3339(t));
    ctx.out << DumpJson(list);
  } else {
    for (TimePoint t : *fires) ctx.out << FormatRfc3339(t) << "\n";
  }
  return {};
}

Result<void> RunScheduleLint(LocalContext& ctx, const ScheduleLintOptions& o) {
  const std::string source = o.file == "-" ? "<stdin>" : o.file;
  Result<schedule::ParsedFile> parsed = [&]() -> Result<schedule::ParsedFile> {
    if (o.file != "-") return schedule::LoadScheduleFile(o.file);
    auto text = ReadInputFile("", o.file, ctx.in, kMaxScheduleFileBytes);
    if (!text) return std::unexpected(text.error());
    return schedule::ParseScheduleFile(*text, source);
  }();
  if (!parsed) return std::unexpected(parsed.error());
  if (parsed->problems.empty()) {
    ctx.out << OneLine(source, 1000) << ": " << Plural(parsed->schedules.size(), "schedule", "schedules");
    if (!parsed->remove.empty()) ctx.out << ", " << parsed->remove.size() << " to remove";
    if (!parsed->limits.empty()) ctx.out << ", " << Plural(parsed->limits.size(), "limit", "limits");
    ctx.out << " OK\n";
    return {};
  }
  std::string report = schedule::FormatProblems(source, parsed->problems);
  if (!report.empty() && report.back() != '\n') report += '\n';
  ctx.err << report;
  const size_t total = parsed->problems.size() + parsed->schedules.size() + parsed->limits.size();
  return Fail(ErrorCode::kInvalidArgument, OneLine(source, 1000) + ": " +
                                               std::to_string(parsed->problems.size()) + " of " +
                                               Plural(total, "entry", "entries") + " invalid");
}

Result<void> RunScheduleCreate(CommandContext& ctx, const ScheduleCreateOptions& o) {
  auto payload = ReadPayload(o.flags, ctx.in);
  if (!payload) return std::unexpected(payload.error());
  schedule::ScheduleSpec base;
  base.name = o.name;
  base.paused = o.paused;
  auto spec = ApplyScheduleFlags(std::move(base), o.flags, *payload);
  if (!spec) return std::unexpected(spec.error());
  auto row = ctx.backend.ScheduleCreate(*spec);
  if (!row) return std::unexpected(WithScheduleFlagNames(row.error(), PayloadFlag(o.flags)));
  return PrintSchedule(ctx, *row, o.json);
}

Result<void> RunScheduleUpdate(CommandContext& ctx, const ScheduleUpdateOptions& o) {
  if (!o.flags.any()) {
    return Fail(ErrorCode::kInvalidArgument,
                "schedule update: give at least one flag to change (see --help); "
                "pause and resume are their own commands");
  }
  auto payload = ReadPayload(o.flags, ctx.in);
  if (!payload) return std::unexpected(payload.error());
  auto current = ctx.backend.ScheduleShow(o.name);
  if (!current) return std::unexpected(current.error());
  auto spec = ApplyScheduleFlags(current->spec, o.flags, *payload);
  if (!spec) return std::unexpected(spec.error());
  auto row = ctx.backend.ScheduleUpdate(*spec);
  if (!row) return std::unexpected(WithScheduleFlagNames(row.error(), PayloadFlag(o.flags)));
  return PrintSchedule(ctx, *row, o.json);
}

Result<void> RunScheduleDelete(CommandContext& ctx, const ScheduleNameOptions& o) {
  if (auto ok = ctx.backend.ScheduleDelete(o.name); !ok) return ok;
  ctx.out << "schedule " << OneLine(o.name, 128) << " deleted\n";
  return {};
}

Result<void> RunScheduleShow(CommandContext& ctx, const ScheduleNameOptions& o) {
  auto row = ctx.backend.ScheduleShow(o.name);
  if (!row) return std::unexpected(row.error());
  return PrintSchedule(ctx, *row, o.json);
}

Result<void> RunSchedulePause(CommandContext& ctx, const ScheduleNameOptions& o) {
  auto row = ctx.backend.SchedulePause(o.name, true);
  if (!row) return std::unexpected(row.error());
  if (o.json) return PrintSchedule(ctx, *row, true);
  ctx.out << "schedule " << OneLine(o.name, 128) << " paused\n";
  return {};
}

Result<void> RunScheduleResume(CommandContext& ctx, const ScheduleNameOptions& o) {
  auto row = ctx.backend.SchedulePause(o.name, false);
  if (!row) return std::unexpected(row.error());
  if (o.json) return PrintSchedule(ctx, *row, true);
  ctx.out << "schedule " << OneLine(o.name, 128) << " resumed";
  if (auto next = NextFireOf(*row, ctx.now)) ctx.out << "; next fire " << FormatRfc3339(*next);
  ctx.out << "\n";
  return {};
}

Result<void> RunScheduleList(CommandContext& ctx, const ScheduleListOptions& o) {
  auto schedules = ctx.backend.ScheduleList();
  if (!schedules) return std::unexpected(schedules.error());
  const auto leader = ctx.backend.Leader();
  const TimePoint now = ctx.now;
  if (o.json) {
    json list = json::array();
    for (const auto& s : *schedules) list.push_back(ScheduleStatusJson(s, NextFireOf(s.row, now)));
    json out{{"leader", leader ? LeaderJson(*leader) : json(nullptr)}};
    if (!leader) out["leader_error"] = leader.error().message;
    out["schedules"] = std::move(list);
    ctx.out << DumpJson(out);
    return {};
  }
  ctx.out << LeaderLine(leader)
          << RenderScheduleList(*schedules,
                                [now](const db::ScheduleRow& row) { return NextFireOf(row, now); });
  return {};
}

Result<void> RunScheduleTrigger(CommandContext& ctx, const ScheduleNameOptions& o) {
  auto fire = ctx.backend.ScheduleTrigger(o.name);
  if (!fire) return std::unexpected(fire.error());
  if (o.json) {
    ctx.out << DumpJson(FireResultJson(*fire));
    return {};
  }
  ctx.out << "schedule " << OneLine(o.name, 128) << ": ";
  if (fire->outcome == db::FireOutcome::kEnqueued) {
    ctx.out << "triggered, job " << (fire->job_id ? std::to_string(*fire->job_id) : "?") << "\n";
  } else if (!fire->outcome) {
    ctx.out << "the tick at " << FormatRfc3339(fire->scheduled_for)
            << " was already fired; nothing enqueued\n";
  } else {
    ctx.out << DescribeFire(*fire) << "\n";
  }
  return {};
}

Result<void> RunScheduleBackfill(CommandContext& ctx, const ScheduleBackfillOptions& o) {
  auto from = ParseRfc3339(o.from);
  if (!from) return FlagError("--from", from.error());
  auto to = ParseRfc3339(o.to);
  if (!to) return FlagError("--to", to.error());
  if (*from >= *to) {
    return Fail(ErrorCode::kInvalidArgument, "--from must be before --to (ticks in (from, to] are fired)");
  }
  auto fires = ctx.backend.ScheduleBackfill(o.name, *from, *to);
  if (!fires) return std::unexpected(fires.error());
  size_t enqueued = 0, already = 0;
  for (const auto& f : *fires) {
    if (!f.outcome) ++already;
    if (f.outcome == db::FireOutcome::kEnqueued) ++enqueued;
  }
  const size_t other = fires->size() - enqueued - already;
  if (o.json) {
    json ticks = json::array();
    for (const auto& f : *fires) ticks.push_back(FireResultJson(f));
    ctx.out << DumpJson(json{{"ticks", std::move(ticks)},
                             {"enqueued", enqueued},
                             {"already_fired", already},
                             {"other", other}});
    return {};
  }
  for (const auto& f : *fires) ctx.out << FormatRfc3339(f.scheduled_for) << " " << DescribeFire(f) << "\n";
  ctx.out << Plural(fires->size(), "tick", "ticks") << ": " << enqueued << " enqueued, " << already
          << " already fired";
  if (other > 0) ctx.out << ", " << other << " skipped or buffered";
  ctx.out << "\n";
  return {};
}

Result<void> RunScheduleLeader(CommandContext& ctx, const ScheduleLeaderOptions& o) {
  auto leader = ctx.backend.Leader();
  if (!leader) return std::unexpected(leader.error());
  ctx.out << (o.json ? DumpJson(json{{"leader", LeaderJson(*leader)}}) : RenderLeader(*leader));
  return {};
}

}  // namespace chime::jobctl
