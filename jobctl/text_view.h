// Human-readable renderings of jobs, runs and stats: aligned tables and
// key/value blocks. Times are RFC 3339 UTC to the second; every cell is one
// line (control characters removed). Thread-safe (pure).
#pragma once

#include <string>
#include <vector>

#include "common/db/job.h"
#include "common/db/migrations.h"
#include "jobctl/admin_backend.h"

namespace chime::jobctl {

// A plain text table: a header row and aligned columns separated by two
// spaces. Right-aligned columns suit numbers. The last column is not padded.
class Table {
 public:
  explicit Table(std::vector<std::string> headers, std::vector<bool> right_aligned = {});
  void AddRow(std::vector<std::string> cells);  // Missing cells are empty.
  std::string Render() const;
  bool empty() const { return rows_.empty(); }

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};

// `list`: one row per job, then "next page: --before-id N" when more follow.
std::string RenderJobPage(const db::JobPage& page);

// `show`: every field of the job, then its runs with errors and summaries.
std::string RenderJobWithRuns(const db::JobWithRuns& job);

// `stats`: counts per (queue, kind) across states with totals, then ready
// depth and oldest ready age per queue.
std::string RenderStats(const db::Stats& stats);
std::string RenderWorkers(const std::vector<WorkerView>& workers);

// `migrate`: versions and the files applied by this call.
std::string RenderMigration(const db::MigrationStatus& status, bool applied);

}  // namespace chime::jobctl
