// jobctl's statistics, alert and probe commands: `stats --by schedule|kind`
// (the run-ledger report of db::StatsStore, as a table or the seeds'
// monitoring JSON), `alerts` and `probe`. `stats` without --by keeps its queue and
// state counts (commands.h). Thread-compatible.
#pragma once

#include <optional>
#include <string>

#include "common/base/error.h"
#include "common/db/alert_store.h"
#include "common/db/stats_store.h"
#include "jobctl/commands.h"

namespace chime::jobctl {

struct RunStatsOptions {
  std::optional<std::string> by;    // schedule | kind; unset: the queue counts.
  std::optional<std::string> name;  // One schedule or kind.
  std::optional<int> hours;         // 1-168; default 24.
  bool json = false;
};

struct AlertsOptions {
  bool all = false;
  int limit = 100;
  bool json = false;
};

// Validates the flags: InvalidArgument names the flag ("--hours: 200 is out
// of range 1-168", "--name: needs --by schedule or --by kind").
[[nodiscard]] Result<db::StatsParams> BuildStatsParams(const RunStatsOptions& options);

// `stats` with --by: the table, or with --json the monitoring JSON
// (common/observe) with the firing alerts.
[[nodiscard]] Result<void> RunRunStats(CommandContext& ctx, const RunStatsOptions& options);
[[nodiscard]] Result<void> RunAlerts(CommandContext& ctx, const AlertsOptions& options);

struct ProbeOptions {
  std::string url = "http://127.0.0.1:8080/readyz";
  std::string timeout = "5s";
};

// `probe`: GETs a loopback health URL (a container's own /readyz, for
// Docker's HEALTHCHECK, which has no curl in Chime's slim image) and prints
// the body. A non-2xx answer or no answer is Unavailable (exit 5); a URL
// that is not on loopback is InvalidArgument.
[[nodiscard]] Result<void> RunProbe(LocalContext& ctx, const ProbeOptions& options);

// The text renderings, pure.
std::string RenderRunStats(const db::StatsReport& report);
std::string RenderAlerts(const std::vector<db::AlertRow>& alerts, bool all);

}  // namespace chime::jobctl
