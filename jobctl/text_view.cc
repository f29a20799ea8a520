#include "jobctl/text_view.h"

#include <algorithm>
#include <array>
#include <map>
#include <type_traits>
#include <utility>

#include "common/base/text_format.h"

namespace chime::jobctl {
namespace {

using db::JobState;

constexpr size_t kLastErrorWidth = 40;
constexpr size_t kSummaryWidth = 60;
constexpr size_t kErrorLineWidth = 300;
constexpr size_t kMaxErrorsShown = 20;
constexpr size_t kPayloadWidth = 1000;

constexpr std::array<JobState, 7> kAllStates = {
    JobState::kScheduled, JobState::kAvailable, JobState::kRunning, JobState::kRetryable,
    JobState::kSucceeded, JobState::kDiscarded, JobState::kCancelled};

std::string Time(db::TimePoint t) { return FormatRfc3339(t); }

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return out;
}

std::string Pad(const std::string& s, size_t width, bool right) {
  const size_t w = DisplayWidth(s);
  if (w >= width) return s;
  return right ? std::string(width - w, ' ') + s : s + std::string(width - w, ' ');
}

void Field(std::string& out, std::string_view name, const std::string& value) {
  out += Pad(std::string(name) + ":", 18, false) + value + "\n";
}

template <typename T>
std::string OrDash(const std::optional<T>& v) {
  if (!v) return "-";
  if constexpr (std::is_same_v<T, std::string>) {
    return OneLine(*v, kPayloadWidth);
  } else {
    return std::to_string(*v);
  }
}

}  // namespace

Table::Table(std::vector<std::string> headers, std::vector<bool> right_aligned)
    : headers_(std::move(headers)), right_(std::move(right_aligned)) {
  right_.resize(headers_.size(), false);
}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

std::string Table::Render() const {
  std::vector<size_t> widths(headers_.size());
  for (size_t c = 0; c < headers_.size(); ++c) widths[c] = DisplayWidth(headers_[c]);
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], DisplayWidth(row[c]));
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l;
    for (size_t c = 0; c < cells.size(); ++c) {
      const bool last = c + 1 == cells.size();
      l += (last && !right_[c]) ? cells[c] : Pad(cells[c], widths[c], right_[c]);
      if (!last) l += "  ";
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  line(headers_);
  for (const auto& row : rows_) line(row);
  return out;
}

std::string RenderJobPage(const db::JobPage& page) {
  if (page.jobs.empty()) return "no jobs\n";
  Table table({"ID", "KIND", "QUEUE", "STATE", "ATTEMPT", "PRI", "CREATED", "RUN_AT", "LAST_ERROR"},
              {true, false, false, false, true, true, false, false, false});
  for (const auto& job : page.jobs) {
    std::string state(db::JobStateName(job.state));
    if (job.cancel_requested && !db::IsFinished(job.state)) state += " (cancelling)";
    table.AddRow({std::to_string(job.id), OneLine(job.kind, 128), OneLine(job.queue, 128), state,
                  std::to_string(job.attempt) + "/" + std::to_string(job.max_attempts),
                  std::to_string(job.priority), Time(job.created_at), Time(job.run_at),
                  job.last_error ? OneLine(*job.last_error, kLastErrorWidth) : ""});
  }
  std::string out = table.Render();
  if (page.next_before_id) {
    out += "more jobs: repeat with --before-id " + std::to_string(*page.next_before_id) + "\n";
  }
  return out;
}

std::string RenderJobWithRuns(const db::JobWithRuns& jr) {
  const db::Job& job = jr.job;
  std::string out;
  Field(out, "id", std::to_string(job.id));
  Field(out, "kind", OneLine(job.kind, 128));
  Field(out, "queue", OneLine(job.queue, 128));
  Field(out, "state", std::string(db::JobStateName(job.state)) +
                          (job.cancel_requested ? " (cancel requested)" : ""));
  Field(out, "priority", std::to_string(job.priority));
  Field(out, "attempt", std::to_string(job.attempt) + " of " + std::to_string(job.max_attempts));
  Field(out, "rescues", std::to_string(job.rescue_count));
  Field(out, "payload", OneLine(job.payload, kPayloadWidth));
  Field(out, "unique_key", OrDash(job.unique_key));
  Field(out, "parent_id", OrDash(job.parent_id));
  Field(out, "dry_run", job.dry_run ? "yes" : "no");
  Field(out, "timeout", job.timeout ? FormatDuration(*job.timeout) : "worker default");
  Field(out, "worker", OrDash(job.worker_id));
  Field(out, "created_at", Time(job.created_at));
  Field(out, "run_at", Time(job.run_at));
  Field(out, "attempted_at", job.attempted_at ? Time(*job.attempted_at) : "-");
  Field(out, "finished_at", job.finished_at ? Time(*job.finished_at) : "-");
  Field(out, "last_error", OrDash(job.last_error));
  Field(out, "progress", job.progress ? OneLine(*job.progress, kPayloadWidth) : "-");

  if (jr.runs.empty()) {
    out += "\nruns: none\n";
    return out;
  }
  out += "\nruns (" + std::to_string(jr.runs.size()) + ", oldest first):\n";
  Table table({"ATTEMPT", "WORKER", "STARTED", "FINISHED", "DURATION", "OUTCOME", "DRY_RUN",
               "ERRORS", "SUMMARY"},
              {true, false, false, false, true, false, false, true, false});
  for (const auto& run : jr.runs) {
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(run.finished_at - run.started_at);
    table.AddRow({std::to_string(run.attempt), OneLine(run.worker_id, 64), Time(run.started_at),
                  Time(run.finished_at), FormatDuration(took),
                  std::string(db::RunOutcomeName(run.outcome)), run.dry_run ? "yes" : "no",
                  std::to_string(run.errors.size()), OneLine(run.summary, kSummaryWidth)});
  }
  out += table.Render();
  for (const auto& run : jr.runs) {
    if (run.errors.empty()) continue;
    out += "\nerrors of attempt " + std::to_string(run.attempt) + ":\n";
    for (size_t i = 0; i < run.errors.size() && i < kMaxErrorsShown; ++i) {
      out += "  - " + OneLine(run.errors[i], kErrorLineWidth) + "\n";
    }
    if (run.errors.size() > kMaxErrorsShown) {
      out += "  ... " + std::to_string(run.errors.size() - kMaxErrorsShown) +
             " more (see --json)\n";
    }
  }
  return out;
}

std::string RenderStats(const db::Stats& stats) {
  std::string out;
  if (stats.rows.empty()) {
    out += "no jobs\n";
  } else {
    // (queue, kind) -> count per state, in kAllStates order.
    std::map<std::pair<std::string, std::string>, std::array<int64_t, 7>> cells;
    std::array<int64_t, 7> totals{};
    for (const auto& row : stats.rows) {
      auto& counts = cells[{row.queue, row.kind}];
      const size_t i = std::find(kAllStates.begin(), kAllStates.end(), row.state) - kAllStates.begin();
      if (i >= kAllStates.size()) continue;
      counts[i] += row.count;
      totals[i] += row.count;
    }
    std::vector<std::string> headers{"QUEUE", "KIND"};
    std::vector<bool> right{false, false};
    for (auto s : kAllStates) {
      headers.push_back(Upper(db::JobStateName(s)));
      right.push_back(true);
    }
    Table table(headers, right);
    auto add = [&](std::string queue, std::string kind, const std::array<int64_t, 7>& counts) {
      std::vector<std::string> row{std::move(queue), std::move(kind)};
      for (int64_t n : counts) row.push_back(std::to_string(n));
      table.AddRow(std::move(row));
    };
    for (const auto& [key, counts] : cells) add(OneLine(key.first, 128), OneLine(key.second, 128), counts);
    if (cells.size() > 1) add("TOTAL", "", totals);
    out += table.Render();
  }
  out += "\n";
  if (stats.queues.empty()) {
    out += "no ready jobs in any queue\n";
    return out;
  }
  Table queues({"QUEUE", "READY", "OLDEST_READY_AGE"}, {false, true, true});
  for (const auto& q : stats.queues) {
    queues.AddRow({OneLine(q.queue, 128), std::to_string(q.ready),
                   q.ready > 0 ? FormatDuration(q.oldest_ready_age) : "-"});
  }
  out += queues.Render();
  return out;
}

std::string RenderMigration(const db::MigrationStatus& status, bool applied) {
  std::string out;
  if (applied) {
    for (const auto& file : status.applied_now) out += "applied " + file + "\n";
    if (status.applied_now.empty()) out += "nothing to apply\n";
  }
  out += "schema version " + std::to_string(status.current_version) + " (this jobctl knows " +
         std::to_string(status.latest_version) + "): ";
  if (status.current_version == status.latest_version) {
    out += "up to date\n";
  } else if (status.current_version < status.latest_version) {
    out += std::to_string(status.latest_version - status.current_version) +
           " version(s) pending; run `jobctl migrate`\n";
  } else {
    out += "the database is newer than this jobctl\n";
  }
  return out;
}

std::string RenderWorkers(const std::vector<WorkerView>& workers) {
  if (workers.empty()) return "no workers connected\n";
  Table table({"WORKER", "HOST", "PID", "QUEUES", "SLOTS", "FREE", "RUNNING", "LAST_SEEN"},
              {false, false, true, false, true, true, true, false});
  for (const auto& w : workers) {
    std::string queues;
    for (const auto& q : w.queues) queues += (queues.empty() ? "" : ",") + q;
    table.AddRow({OneLine(w.worker_id, 64), OneLine(w.host, 64), std::to_string(w.pid),
                  OneLine(queues, 64), std::to_string(w.slots), std::to_string(w.free_slots),
                  std::to_string(w.running_jobs.size()), Time(w.last_seen)});
  }
  return table.Render();
}

}  // namespace chime::jobctl
