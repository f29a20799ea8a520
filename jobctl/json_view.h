// JSON renderings of jobs, runs and stats for `jobctl ... --json`. Field
// names are snake_case and stable: scripts and later tooling parse them.
// Times are RFC 3339 UTC with milliseconds; absent values are null; payloads
// and summaries are embedded as JSON, not as strings. Thread-safe (pure).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/db/job.h"
#include "common/db/migrations.h"
#include "jobctl/admin_backend.h"

namespace chime::jobctl {

nlohmann::ordered_json JobJson(const db::Job& job);
nlohmann::ordered_json RunJson(const db::Run& run);
// The job's fields plus "runs": [...], oldest first.
nlohmann::ordered_json JobWithRunsJson(const db::JobWithRuns& job);
// {"jobs": [...], "next_before_id": N | null}
nlohmann::ordered_json JobPageJson(const db::JobPage& page);
// {"id": N, "existing": bool, "state": "..."}
nlohmann::ordered_json EnqueueResultJson(const db::EnqueueResult& result);
// {"states": {every state: count summed over queues and kinds},
//  "rows": [{"queue","kind","state","count"}],
//  "queues": [{"queue","ready","oldest_ready_age_ms"}]}
nlohmann::ordered_json StatsJson(const db::Stats& stats);
nlohmann::ordered_json WorkersJson(const std::vector<WorkerView>& workers);
// {"current_version", "latest_version", "up_to_date", "applied_now": [...]}
nlohmann::ordered_json MigrationJson(const db::MigrationStatus& status);

// Pretty-printed (indent 2) with a trailing newline; invalid UTF-8 is replaced.
std::string DumpJson(const nlohmann::ordered_json& value);

}  // namespace chime::jobctl
