// `jobctl schedule import-vercel` and `import-cloud-scheduler`: another
// scheduler's configuration as http_request schedules that run without
// edits. With --dry-run they print a schedule file (YAML) and need no
// backend; otherwise each schedule is created through the AdminBackend.
// Thread-compatible.
#pragma once

#include <optional>
#include <string>

#include "common/base/error.h"
#include "jobctl/commands.h"

namespace chime::jobctl {

struct ScheduleImportOptions {
  enum class Source { kVercel, kCloudScheduler };
  Source source = Source::kVercel;
  std::string file;      // A vercel.json or gcloud's JSON; "-": stdin.
  std::string base_url;  // Vercel only.
  std::string secret_ref = "env:CRON_SECRET";
  std::optional<std::string> method;   // Vercel only; default GET.
  std::optional<std::string> auth;     // bearer | x-cron-secret | header:NAME | none.
  std::optional<std::string> timeout;  // Duration: the call's limit (payload timeoutMs).
  std::optional<int> max_attempts;
  std::optional<std::string> overlap;  // skip | allow | buffer_one | cancel_running.
  std::optional<std::string> time_zone;
  bool dry_run = false;
  bool json = false;
};

// --dry-run: prints the schedules as a schedule file; needs no backend.
[[nodiscard]] Result<void> RunScheduleImportDryRun(LocalContext& ctx, const ScheduleImportOptions& options);
// Creates each schedule; a name that exists is reported and skipped.
[[nodiscard]] Result<void> RunScheduleImport(CommandContext& ctx, const ScheduleImportOptions& options);

}  // namespace chime::jobctl
