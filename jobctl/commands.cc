#include "jobctl/commands.h"

#include <algorithm>
#include <fstream>
#include <istream>
#include <iterator>
#include <ostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/db/job_store.h"
#include "common/history/history.h"
#include "jobctl/exit_code.h"
#include "jobctl/json_view.h"
#include "jobctl/text_view.h"

namespace chime::jobctl {
namespace {

constexpr int kMaxListLimit = 1000;

// Prefixes an error message with the flag it concerns.
std::unexpected<Error> FlagError(std::string_view flag, const Error& error) {
  return Fail(error.code, std::string(flag) + ": " + error.message);
}

// ValidateEnqueue names fields ("max_attempts: ..."); name the flags instead.
Error WithFlagNames(Error error) {
  static constexpr std::pair<std::string_view, std::string_view> kFlags[] = {
      {"kind:", "KIND:"},           {"queue:", "--queue:"},
      {"priority:", "--priority:"}, {"max_attempts:", "--max-attempts:"},
      {"delay:", "--delay:"},       {"timeout:", "--timeout:"},
      {"unique_key:", "--unique-key:"}, {"payload:", "--payload:"},
  };
  for (const auto& [field, flag] : kFlags) {
    if (error.message.starts_with(field)) {
      error.message = std::string(flag) + error.message.substr(field.size());
      break;
    }
  }
  return error;
}

std::string Trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  const auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::string ValidStates() {
  std::string out;
  for (auto s : {db::JobState::kScheduled, db::JobState::kAvailable, db::JobState::kRunning,
                 db::JobState::kRetryable, db::JobState::kSucceeded, db::JobState::kDiscarded,
                 db::JobState::kCancelled}) {
    if (!out.empty()) out += ", ";
    out += db::JobStateName(s);
  }
  return out;
}

}  // namespace

Result<std::string> ReadInputFile(std::string_view what, const std::string& path, std::istream& in,
                                  size_t limit) {
  const std::string prefix =
      (what.empty() ? std::string() : std::string(what) + " ") + OneLine(path, 200) + ": ";
  std::ifstream file;
  std::istream* source = &in;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) return Fail(ErrorCode::kInvalidArgument, prefix + "cannot open");
    source = &file;
  }
  std::string text;
  char buf[8192];
  while (text.size() <= limit && source->read(buf, sizeof buf).gcount() > 0) {
    text.append(buf, static_cast<size_t>(source->gcount()));
  }
  if (source->bad()) return Fail(ErrorCode::kInvalidArgument, prefix + "read error");
  if (text.size() > limit) {
    return Fail(ErrorCode::kInvalidArgument,
                prefix + "larger than " + std::to_string(limit) + " bytes");
  }
  return text;
}

Result<db::EnqueueParams> BuildEnqueueParams(const EnqueueOptions& o,
                                             const std::string& payload_text) {
  db::EnqueueParams p;
  p.kind = o.kind;
  p.queue = o.queue;
  p.priority = o.priority;
  p.max_attempts = o.max_attempts;
  p.unique_key = o.unique_key;
  p.dry_run = o.dry_run;

  const std::string payload_flag =
      o.payload_file ? "--payload-file " + *o.payload_file : std::string("--payload");
  auto parsed = nlohmann::json::parse(payload_text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    // Re-parse with exceptions only to get the position for the message.
    std::string detail = "not valid JSON";
    try {
      const nlohmann::json again = nlohmann::json::parse(payload_text);
    } catch (const nlohmann::json::parse_error& e) {
      detail = e.what();
      if (auto pos = detail.find("] "); pos != std::string::npos) detail = detail.substr(pos + 2);
    }
    return Fail(ErrorCode::kInvalidArgument, payload_flag + ": " + detail);
  }
  p.payload = payload_text;

  if (o.run_at && o.delay) {
    return Fail(ErrorCode::kInvalidArgument, "--run-at and --delay: give at most one");
  }
  if (o.run_at) {
    auto t = ParseRfc3339(*o.run_at);
    if (!t) return FlagError("--run-at", t.error());
    p.run_at = *t;
  }
  if (o.delay) {
    auto d = ParseDuration(*o.delay);
    if (!d) return FlagError("--delay", d.error());
    p.delay = *d;
  }
  if (o.timeout) {
    auto d = ParseDuration(*o.timeout);
    if (!d) return FlagError("--timeout", d.error());
    p.timeout = *d;
  }
  if (auto ok = db::ValidateEnqueue(p, db::JobStoreConfig{}.max_payload_bytes); !ok) {
    Error e = WithFlagNames(ok.error());
    if (payload_flag != "--payload" && e.message.starts_with("--payload:")) {
      e.message = payload_flag + e.message.substr(9);
    }
    return std::unexpected(std::move(e));
  }
  return p;
}

Result<db::ListParams> BuildListParams(const ListOptions& o, TimePoint now) {
  db::ListParams p;
  for (const auto& arg : o.states) {
    size_t start = 0;
    while (start <= arg.size()) {
      size_t comma = arg.find(',', start);
      if (comma == std::string::npos) comma = arg.size();
      const std::string name = Trim(std::string_view(arg).substr(start, comma - start));
      start = comma + 1;
      auto state = db::ParseJobState(name);
      if (!state) {
        return Fail(ErrorCode::kInvalidArgument, "--state: unknown state \"" + OneLine(name, 64) +
                                                     "\"; valid: " + ValidStates());
      }
      if (std::find(p.states.begin(), p.states.end(), *state) == p.states.end()) {
        p.states.push_back(*state);
      }
    }
  }
  if (o.kind) {
    if (o.kind->empty()) return Fail(ErrorCode::kInvalidArgument, "--kind: must not be empty");
    p.kind = o.kind;
  }
  if (o.queue) {
    if (o.queue->empty()) return Fail(ErrorCode::kInvalidArgument, "--queue: must not be empty");
    p.queue = o.queue;
  }
  if (o.schedule) {
    if (o.schedule->empty()) return Fail(ErrorCode::kInvalidArgument, "--schedule: must not be empty");
    p.schedule = o.schedule;
  }
  if (o.since) {
    auto t = ParseTimeOrAgo(*o.since, now);
    if (!t) return FlagError("--since", t.error());
    p.since = *t;
  }
  if (o.limit < 1 || o.limit > kMaxListLimit) {
    return Fail(ErrorCode::kInvalidArgument,
                "--limit: " + std::to_string(o.limit) + " is out of range 1-1000");
  }
  p.limit = o.limit;
  if (o.before_id) {
    if (*o.before_id <= 0) return Fail(ErrorCode::kInvalidArgument, "--before-id: must be positive");
    p.before_id = o.before_id;
  }
  return p;
}

Result<void> RunAppSchema(CommandContext& ctx, const AppSchemaOptions& o) {
  auto counts = ctx.backend.AppSchemaApply(o.demo_data);
  if (!counts) return std::unexpected(counts.error());
  ctx.out << "application schema chime_app is in place\n";
  if (o.demo_data) {
    ctx.out << "demo data inserted: " << counts->users << " users, " << counts->integrations
            << " integrations, " << counts->exams << " exams, " << counts->bookings
            << " bookings (rows already there are kept)\n";
  }
  return {};
}

Result<void> RunMigrate(CommandContext& ctx, const MigrateOptions& o) {
  auto status = o.status_only ? ctx.backend.MigrationState() : ctx.backend.Migrate();
  if (!status) return std::unexpected(status.error());
  ctx.out << (o.json ? DumpJson(MigrationJson(*status)) : RenderMigration(*status, !o.status_only));
  return {};
}

std::optional<db::JobOutcome> FinalOutcome(const db::Job& job) {
  if (job.outcome) return job.outcome;
  if (!db::IsFinished(job.state) || job.fan_out) return std::nullopt;  // Live, or waiting.
  // A finished job from before outcomes were stored.
  switch (job.state) {
    case db::JobState::kSucceeded: return db::JobOutcome::kSucceeded;
    case db::JobState::kCancelled: return db::JobOutcome::kCancelled;
    default: return db::JobOutcome::kFailed;
  }
}

namespace {

// The final attempt of a finished job's runs (the newest, when none is marked).
const db::Run* FinalRun(const db::JobWithRuns& jr) {
  for (auto it = jr.runs.rbegin(); it != jr.runs.rend(); ++it) {
    if (it->final) return &*it;
  }
  return jr.runs.empty() ? nullptr : &jr.runs.back();
}

// "job 7 partial after 3 attempts (2 errors): first error", one line.
std::string OutcomeLine(const db::JobWithRuns& jr, db::JobOutcome outcome) {
  std::string line = "job " + std::to_string(jr.job.id) + " " + std::string(db::JobOutcomeName(outcome));
  if (jr.job.attempt > 1) line += " after " + std::to_string(jr.job.attempt) + " attempts";
  const db::Run* last = FinalRun(jr);
  if (outcome == db::JobOutcome::kPartial && last != nullptr && !last->errors.empty()) {
    line += " (" + std::to_string(last->errors.size()) + (last->errors.size() == 1 ? " error" : " errors") +
            "): " + OneLine(last->errors.front(), 300);
  }
  if (outcome == db::JobOutcome::kSkipped && last != nullptr) {
    const auto summary = nlohmann::json::parse(last->summary, nullptr, /*allow_exceptions=*/false);
    if (summary.is_object() && summary.contains("skipReason") && summary["skipReason"].is_string()) {
      line += ": " + OneLine(summary["skipReason"].get<std::string>(), 300);
    }
  }
  return line;
}

}  // namespace

// Polls the job until its run has a final outcome (a fan-out parent's waits
// for its children), backing off from 50 ms to 1 s, then prints it. Failed
// and cancelled are errors naming why; partial and skipped set their own
// exit codes (8, 9).
static Result<void> WaitForJob(CommandContext& ctx, int64_t id,
                        std::optional<std::chrono::milliseconds> timeout, bool json) {
  using std::chrono::milliseconds;
  const auto started = std::chrono::steady_clock::now();
  milliseconds interval(50);
  while (true) {
    auto shown = ctx.backend.Show(id);
    if (!shown) return std::unexpected(shown.error());
    const db::Job& job = shown->job;
    if (auto outcome = FinalOutcome(job)) {
      ctx.out << (json ? DumpJson(JobWithRunsJson(*shown)) : OutcomeLine(*shown, *outcome) + "\n");
      switch (*outcome) {
        case db::JobOutcome::kSucceeded: return {};
        case db::JobOutcome::kPartial: ctx.exit_code = kExitPartial; return {};
        case db::JobOutcome::kSkipped: ctx.exit_code = kExitSkipped; return {};
        case db::JobOutcome::kFailed:
        case db::JobOutcome::kCancelled: break;
      }
      return Fail(ErrorCode::kFailedPrecondition,
                  "job " + std::to_string(id) + " " + std::string(db::JobOutcomeName(*outcome)) +
                      (job.last_error ? ": " + OneLine(*job.last_error, 500) : ""));
    }
    if (timeout && std::chrono::steady_clock::now() - started >= *timeout) {
      const std::string where = job.Waiting()
                                    ? "waiting for " + std::to_string(job.children_live.value_or(0)) + " children"
                                    : "still " + std::string(db::JobStateName(job.state));
      return Fail(ErrorCode::kUnavailable, "job " + std::to_string(id) + " " + where + " after --wait-timeout");
    }
    if (ctx.pause) {
      ctx.pause(interval);
    } else {
      std::this_thread::sleep_for(interval);
    }
    interval = std::min(interval * 2, milliseconds(1000));
  }
}

namespace {

constexpr int kMaxEnqueueCount = 100'000;

// --count N: N requests, printing each id as it is confirmed, so that a
// failure part-way leaves a record of exactly which jobs exist.
Result<void> EnqueueCopies(CommandContext& ctx, const db::EnqueueParams& params, int count, bool json) {
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  for (int i = 0; i < count; ++i) {
    auto result = ctx.backend.Enqueue(params);
    if (!result) {
      if (json) ctx.out << DumpJson(all);
      Error e = WithFlagNames(result.error());
      e.message = "job " + std::to_string(i + 1) + " of " + std::to_string(count) + ": " + e.message;
      return std::unexpected(e);
    }
    if (auto* h = history::Process()) h->Enqueue(result->id, result->existing);
    if (json) {
      all.push_back(EnqueueResultJson(*result));
    } else {
      ctx.out << result->id << "\n";
    }
  }
  if (json) ctx.out << DumpJson(all);
  return {};
}

}  // namespace

Result<void> RunEnqueue(CommandContext& ctx, const EnqueueOptions& o) {
  if (o.payload && o.payload_file) {
    return Fail(ErrorCode::kInvalidArgument, "--payload and --payload-file: give at most one");
  }
  std::string payload = o.payload.value_or("{}");
  if (o.payload_file) {
    auto text =
        ReadInputFile("--payload-file", *o.payload_file, ctx.in, db::JobStoreConfig{}.max_payload_bytes);
    if (!text) return std::unexpected(text.error());
    payload = std::move(*text);
  }
  auto params = BuildEnqueueParams(o, payload);
  if (!params) return std::unexpected(params.error());
  std::optional<std::chrono::milliseconds> wait_timeout;
  if (o.wait_timeout) {
    if (!o.wait) return Fail(ErrorCode::kInvalidArgument, "--wait-timeout: needs --wait");
    auto d = ParseDuration(*o.wait_timeout);
    if (!d) return FlagError("--wait-timeout", d.error());
    wait_timeout = *d;
  }
  if (o.count < 1 || o.count > kMaxEnqueueCount) {
    return Fail(ErrorCode::kInvalidArgument, "--count: must be 1-" + std::to_string(kMaxEnqueueCount));
  }
  if (o.count > 1) return EnqueueCopies(ctx, *params, o.count, o.json);
  auto result = ctx.backend.Enqueue(*params);
  if (!result) return std::unexpected(WithFlagNames(result.error()));
  if (auto* h = history::Process()) h->Enqueue(result->id, result->existing);
  if (o.wait) return WaitForJob(ctx, result->id, wait_timeout, o.json);
  if (o.json) {
    ctx.out << DumpJson(EnqueueResultJson(*result));
  } else if (result->existing) {
    ctx.out << "existing job " << result->id << "\n";
  } else {
    ctx.out << result->id << "\n";
  }
  return {};
}

Result<void> RunList(CommandContext& ctx, const ListOptions& o) {
  auto params = BuildListParams(o, ctx.now);
  if (!params) return std::unexpected(params.error());
  auto page = ctx.backend.List(*params);
  if (!page) return std::unexpected(page.error());
  if (o.json) {
    ctx.out << DumpJson(JobPageJson(*page));
    return {};
  }
  ctx.out << RenderJobPage(*page);
  // The hint is for a person: below the table on a terminal; on stderr when
  // stdout goes to a pipe or file, which then holds only the table.
  const std::string hint = JobPageHint(*page);
  if (!hint.empty()) (ctx.out_is_terminal || ctx.err == nullptr ? ctx.out : *ctx.err) << hint;
  return {};
}

Result<void> RunShow(CommandContext& ctx, const JobIdOptions& o) {
  auto id = ParseJobId(o.id);
  if (!id) return std::unexpected(id.error());
  auto job = ctx.backend.Show(*id);
  if (!job) return std::unexpected(job.error());
  ctx.out << (o.json ? DumpJson(JobWithRunsJson(*job)) : RenderJobWithRuns(*job));
  return {};
}

Result<void> RunCancel(CommandContext& ctx, const JobIdOptions& o) {
  auto id = ParseJobId(o.id);
  if (!id) return std::unexpected(id.error());
  auto outcome = ctx.backend.Cancel(*id);
  if (!outcome) return std::unexpected(outcome.error());
  const bool requested = *outcome == db::CancelOutcome::kCancelRequested;
  if (o.json) {
    ctx.out << DumpJson({{"id", *id}, {"outcome", requested ? "cancel_requested" : "cancelled"}});
  } else if (requested) {
    ctx.out << "job " << *id << " is running; its worker was asked to cancel it\n";
  } else {
    ctx.out << "job " << *id << " cancelled\n";
  }
  return {};
}

Result<void> RunRetry(CommandContext& ctx, const JobIdOptions& o) {
  auto id = ParseJobId(o.id);
  if (!id) return std::unexpected(id.error());
  auto job = ctx.backend.Retry(*id);
  if (!job) return std::unexpected(job.error());
  if (o.json) {
    ctx.out << DumpJson(JobJson(*job));
  } else {
    ctx.out << "job " << job->id << " is " << db::JobStateName(job->state) << " again ("
            << job->attempt << " of " << job->max_attempts << " attempts used)\n";
  }
  return {};
}

Result<void> RunStats(CommandContext& ctx, const StatsOptions& o) {
  auto stats = ctx.backend.Stats();
  if (!stats) return std::unexpected(stats.error());
  // Jobs held by cluster-wide limits, where the backend can tell.
  auto limits = ctx.backend.Run<admin::LimitList>({});
  if (o.json) {
    auto j = StatsJson(*stats);
    if (limits) j["limits"] = view::LimitsJson(*limits)["limits"];
    ctx.out << DumpJson(j);
    return {};
  }
  ctx.out << RenderStats(*stats);
  if (limits && !limits->empty()) ctx.out << "\n" << RenderLimitUse(*limits);
  return {};
}

Result<void> RunWorkers(CommandContext& ctx, const WorkersOptions& o) {
  auto workers = ctx.backend.Workers();
  if (!workers) return std::unexpected(workers.error());
  ctx.out << (o.json ? DumpJson(WorkersJson(*workers)) : RenderWorkers(*workers));
  return {};
}

}  // namespace chime::jobctl
