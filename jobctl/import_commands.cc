#include "jobctl/import_commands.h"

#include <ostream>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/base/text_format.h"
#include "common/schedule/schedule_spec.h"
#include "jobctl/json_view.h"
#include "jobctl/text_view.h"

namespace chime::jobctl {
namespace {

using json = nlohmann::ordered_json;
using Source = ScheduleImportOptions::Source;

constexpr size_t kMaxImportBytes = 4 << 20;

std::string Plural(size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string CommandName(const ScheduleImportOptions& o) {
  return o.source == Source::kVercel ? "import-vercel" : "import-cloud-scheduler";
}

// The importers name option fields ("secret_ref: ..."); name the flags.
std::string WithFlagNames(std::string message) {
  static constexpr std::pair<std::string_view, std::string_view> kFlags[] = {
      {"base_url:", "--base-url:"}, {"secret_ref:", "--secret-ref:"}, {"auth:", "--auth:"},
      {"method:", "--method:"},     {"timeout:", "--timeout:"},       {"max_attempts:", "--max-attempts:"},
      {"time_zone:", "--tz:"},
  };
  for (const auto& [field, flag] : kFlags) {
    if (message.starts_with(field)) return std::string(flag) + message.substr(field.size());
  }
  return message;
}

Result<std::vector<schedule::ScheduleSpec>> ReadImport(std::istream& in, const ScheduleImportOptions& o) {
  std::optional<std::chrono::milliseconds> timeout;
  if (o.timeout) {
    auto d = ParseDuration(*o.timeout);
    if (!d) return Fail(d.error().code, "--timeout: " + d.error().message);
    timeout = *d;
  }
  std::optional<schedule::OverlapPolicy> overlap;
  if (o.overlap) {
    overlap = schedule::ParseOverlapPolicy(*o.overlap);
    if (!overlap) {
      return Fail(ErrorCode::kInvalidArgument, "--overlap: unknown policy \"" + OneLine(*o.overlap, 64) +
                                                   "\"; valid: skip, allow, buffer_one, cancel_running");
    }
  }
  auto text = ReadInputFile("", o.file, in, kMaxImportBytes);
  if (!text) return std::unexpected(text.error());
  Result<std::vector<schedule::ScheduleSpec>> specs =
      o.source == Source::kVercel
          ? schedule::ImportVercel(*text, schedule::VercelImportOptions{.base_url = o.base_url,
                                                                        .secret_ref = o.secret_ref,
                                                                        .auth = o.auth,
                                                                        .method = o.method,
                                                                        .timeout = timeout,
                                                                        .max_attempts = o.max_attempts,
                                                                        .overlap = overlap,
                                                                        .time_zone = o.time_zone})
          : schedule::ImportCloudScheduler(*text, schedule::CloudSchedulerImportOptions{
                                                      .secret_ref = o.secret_ref,
                                                      .auth = o.auth,
                                                      .timeout = timeout,
                                                      .max_attempts = o.max_attempts,
                                                      .overlap = overlap,
                                                      .time_zone = o.time_zone});
  if (specs) return specs;
  // Name the flag or the file the error is about.
  std::string message = WithFlagNames(specs.error().message);
  const std::string source = o.file == "-" ? "<stdin>" : OneLine(o.file, 200);
  if (message.starts_with("vercel.json:")) {
    message = source + message.substr(11);
  } else if (message.starts_with("gcloud JSON:")) {
    message = source + message.substr(12);
  } else if (!message.starts_with("--")) {
    message = source + ": " + message;
  }
  return Fail(specs.error().code, std::move(message));
}

}  // namespace

Result<void> RunScheduleImportDryRun(LocalContext& ctx, const ScheduleImportOptions& o) {
  auto specs = ReadImport(ctx.in, o);
  if (!specs) return std::unexpected(specs.error());
  if (o.json) {
    json list = json::array();
    for (const auto& spec : *specs) list.push_back(ScheduleSpecJson(spec));
    ctx.out << DumpJson(list);
    return {};
  }
  ctx.out << RenderScheduleFile(
      *specs, "Imported from " + (o.file == "-" ? std::string("<stdin>") : o.file) + " by jobctl schedule " +
                  CommandName(o) + ".\nSave it as a schedule file and check it with: jobctl schedule lint FILE");
  return {};
}

Result<void> RunScheduleImport(CommandContext& ctx, const ScheduleImportOptions& o) {
  auto specs = ReadImport(ctx.in, o);
  if (!specs) return std::unexpected(specs.error());
  json results = json::array();
  size_t created = 0, existing = 0, failed = 0;
  std::optional<Error> first_failure;
  for (size_t i = 0; i < specs->size(); ++i) {
    const auto& spec = (*specs)[i];
    const std::string name = OneLine(spec.name, 128);
    auto row = ctx.backend.ScheduleCreate(spec);
    json item{{"name", spec.name}, {"cron", spec.cron}};
    if (row) {
      ++created;
      item["result"] = "created";
      if (!o.json) ctx.out << "created " << name << " (" << OneLine(spec.cron, 64) << ")\n";
    } else if (row.error().code == ErrorCode::kAlreadyExists) {
      ++existing;
      item["result"] = "exists";
      if (!o.json) ctx.out << "exists " << name << " (a schedule of that name exists; left unchanged)\n";
    } else {
      ++failed;
      if (!first_failure) first_failure = row.error();
      item["result"] = "failed";
      item["error"] = row.error().message;
      if (!o.json) ctx.out << "failed " << name << ": " << OneLine(row.error().message, 500) << "\n";
    }
    results.push_back(std::move(item));
    // Nothing after this would get through either.
    if (!row && (row.error().code == ErrorCode::kUnavailable ||
                 row.error().code == ErrorCode::kUnauthenticated)) {
      failed += specs->size() - i - 1;
      break;
    }
  }
  if (o.json) {
    ctx.out << DumpJson(json{{"schedules", std::move(results)},
                             {"created", created},
                             {"existing", existing},
                             {"failed", failed}});
  } else {
    ctx.out << Plural(specs->size(), "schedule", "schedules") << ": " << created << " created, "
            << existing << " already existed, " << failed << " failed\n";
  }
  if (first_failure) {
    return Fail(first_failure->code, std::to_string(failed) + " of " +
                                         Plural(specs->size(), "schedule", "schedules") +
                                         " not created; first error: " + first_failure->message);
  }
  return {};
}

}  // namespace chime::jobctl
