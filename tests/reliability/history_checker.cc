#include "tests/reliability/history_checker.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <sstream>
#include <tuple>

#include "common/cron/cron.h"

namespace chime::testing {
namespace {

using JobAttempt = std::pair<int64_t, int>;

struct ClaimEv {
  int64_t t = 0;
  std::string proc;
  int64_t job = 0;
  int attempt = 0;
  std::string lease;
};

struct CompleteEv {
  int64_t t = 0;
  std::string proc;
  int64_t job = 0;
  int attempt = 0;
  std::string lease;
  std::string outcome;
  bool accepted = false;
  int64_t sent = 0;
};

struct LeaderEv {
  int64_t t = 0;
  std::string proc;
  int64_t epoch = 0;
};

struct FireEv {
  int64_t t = 0;
  std::string proc;
  int64_t schedule = 0;
  int64_t tick = 0;
  int64_t job = 0;
  int64_t epoch = 0;
  int64_t sent = 0;
};

bool IsFinishedState(const std::string& s) {
  return s == "succeeded" || s == "discarded" || s == "cancelled";
}
// Run outcomes written by an accepted completion.
bool IsCompletionOutcome(const std::string& o) {
  return o == "succeeded" || o == "partial" || o == "failed" || o == "discarded" || o == "cancelled";
}
// Outcomes that end a job for good.
bool IsFinalOutcome(const std::string& o) {
  return o == "succeeded" || o == "partial" || o == "discarded" || o == "cancelled";
}

bool HasInt(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_number_integer();
}
bool HasString(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j[key].is_string();
}

// The fields each event needs besides t, proc and ev.
bool WellFormed(const nlohmann::json& e) {
  if (!e.is_object() || !HasInt(e, "t") || !HasString(e, "proc") || !HasString(e, "ev")) return false;
  const std::string ev = e["ev"];
  if (ev == "enqueue") return HasInt(e, "job");
  if (ev == "claim") return HasInt(e, "job") && HasInt(e, "attempt") && HasString(e, "lease");
  if (ev == "side_effect") return HasInt(e, "job") && HasInt(e, "attempt");
  if (ev == "complete") {
    return HasInt(e, "job") && HasInt(e, "attempt") && HasString(e, "lease") &&
           HasString(e, "outcome") && e.contains("accepted") && e["accepted"].is_boolean() &&
           HasInt(e, "sent");
  }
  if (ev == "release") return HasInt(e, "job") && HasString(e, "lease");
  if (ev == "leader") return HasInt(e, "epoch");
  if (ev == "fire") {
    return HasInt(e, "schedule") && HasInt(e, "tick") && HasInt(e, "job") && HasInt(e, "epoch") &&
           HasInt(e, "sent");
  }
  return false;
}

std::string Key(const JobAttempt& ja) {
  return "job " + std::to_string(ja.first) + " attempt " + std::to_string(ja.second);
}

class Checking {
 public:
  Checking(const CheckerOptions& options, const DbSnapshot& db) : options_(options), db_(db) {}

  void Add(const nlohmann::json& e) {
    const std::string ev = e["ev"];
    const int64_t t = e["t"];
    const std::string proc = e["proc"];
    if (ev == "enqueue") {
      enqueued_.emplace(e["job"].get<int64_t>(), proc);
    } else if (ev == "claim") {
      claims_.push_back({t, proc, e["job"], e["attempt"], e["lease"]});
    } else if (ev == "side_effect") {
      ++side_effects_[{e["job"].get<int64_t>(), e["attempt"].get<int>()}];
    } else if (ev == "complete") {
      completes_.push_back({t, proc, e["job"], e["attempt"], e["lease"], e["outcome"], e["accepted"],
                            e["sent"]});
    } else if (ev == "leader") {
      leaders_.push_back({t, proc, e["epoch"]});
    } else if (ev == "fire") {
      fires_.push_back({t, proc, e["schedule"], e["tick"], e["job"], e["epoch"], e["sent"]});
    }
  }

  std::vector<Violation> Run() {
    Index();
    LostJobs();
    DoubleCompletions();
    SideEffects();
    StaleLeases();
    Ticks();
    Epochs();
    return std::move(out_);
  }

 private:
  void Report(const char* rule, std::string detail) { out_.push_back({rule, std::move(detail)}); }

  void Index() {
    for (const auto& j : db_.jobs) jobs_[j.id] = &j;
    for (const auto& r : db_.runs) {
      runs_by_job_[r.job_id].push_back(&r);
      runs_by_attempt_[{r.job_id, r.attempt}].push_back(&r);
    }
    for (const auto& f : db_.fires) fire_rows_[{f.schedule_id, f.scheduled_for}] = &f;
    for (const auto& c : claims_) {
      claims_by_job_[c.job].push_back(&c);
      ++claims_by_attempt_[{c.job, c.attempt}];
    }
  }

  void LostJobs() {
    std::map<int64_t, std::string> wanted = enqueued_;
    for (const auto& f : fires_) {
      if (f.job > 0) wanted.emplace(f.job, f.proc);
    }
    for (const auto& [id, proc] : wanted) {
      auto it = jobs_.find(id);
      if (it == jobs_.end()) {
        Report("lost_job", "job " + std::to_string(id) + " (committed, seen by " + proc +
                               ") is not in chime.jobs");
      } else if (options_.require_settled && !IsFinishedState(it->second->state)) {
        Report("lost_job", "job " + std::to_string(id) + " never finished: it is " + it->second->state);
      }
    }
    for (const auto& c : completes_) {
      if (!c.accepted) continue;
      bool recorded = false;
      if (auto it = runs_by_attempt_.find({c.job, c.attempt}); it != runs_by_attempt_.end()) {
        for (const RunRow* r : it->second) recorded |= IsCompletionOutcome(r->outcome);
      }
      if (!recorded) {
        Report("lost_job", Key({c.job, c.attempt}) + ": " + c.proc +
                               "'s completion was accepted but chime.runs has no row for it");
      }
    }
  }

  void DoubleCompletions() {
    std::map<std::string, int> by_lease;
    std::map<JobAttempt, int> by_attempt;
    std::map<int64_t, int> final_by_job;
    for (const auto& c : completes_) {
      if (!c.accepted) continue;
      if (++by_lease[c.lease] == 2) {
        Report("double_completion", "lease " + c.lease + " of job " + std::to_string(c.job) +
                                        ": a second accepted completion (" + c.proc + ")");
      }
      if (++by_attempt[{c.job, c.attempt}] == 2) {
        Report("double_completion", Key({c.job, c.attempt}) + ": a second accepted completion (" +
                                        c.proc + ")");
      }
      if (IsFinishedState(c.outcome) && ++final_by_job[c.job] == 2) {
        Report("double_completion", "job " + std::to_string(c.job) + ": finished twice (" +
                                        c.proc + " " + c.outcome + ")");
      }
    }
    for (const auto& [ja, runs] : runs_by_attempt_) {
      int ending = 0;
      std::string outcomes;
      for (const RunRow* r : runs) {
        outcomes += (outcomes.empty() ? "" : ",") + r->outcome;
        if (IsCompletionOutcome(r->outcome) || r->outcome == "lease_expired") ++ending;
      }
      if (ending > 1) {
        Report("double_completion", Key(ja) + " ended more than once in chime.runs: " + outcomes);
      }
    }
    for (const auto& [job, runs] : runs_by_job_) {
      const auto finals = std::ranges::count_if(runs, [](const RunRow* r) { return IsFinalOutcome(r->outcome); });
      if (finals > 1) {
        Report("double_completion", "job " + std::to_string(job) + " has " + std::to_string(finals) +
                                        " final runs in chime.runs");
      }
    }
  }

  void SideEffects() {
    std::map<int64_t, int> per_job;
    for (const auto& [ja, n] : side_effects_) {
      per_job[ja.first] += n;
      const auto it = claims_by_attempt_.find(ja);
      const int claims = it == claims_by_attempt_.end() ? 0 : it->second;
      if (n > claims) {
        Report("side_effects", Key(ja) + ": " + std::to_string(n) + " side effects for " +
                                   std::to_string(claims) + " claims");
      }
    }
    for (const auto& [job, n] : per_job) {
      auto runs = runs_by_job_.find(job);
      auto row = jobs_.find(job);
      const int64_t attempts = (runs == runs_by_job_.end() ? 0 : static_cast<int64_t>(runs->second.size())) +
                               (row != jobs_.end() && row->second->state == "running" ? 1 : 0);
      if (n > attempts) {
        Report("side_effects", "job " + std::to_string(job) + ": " + std::to_string(n) +
                                   " side effects but " + std::to_string(attempts) +
                                   " attempts in chime.runs");
      }
    }
  }

  void StaleLeases() {
    std::map<std::string, const ClaimEv*> by_lease;
    for (const auto& c : claims_) by_lease.emplace(c.lease, &c);
    for (const auto& c : completes_) {
      if (!c.accepted) continue;
      if (!by_lease.contains(c.lease)) {
        Report("stale_lease", Key({c.job, c.attempt}) + ": completion accepted under lease " + c.lease +
                                  " that no claim handed out");
        continue;
      }
      auto it = claims_by_job_.find(c.job);
      if (it == claims_by_job_.end()) continue;
      for (const ClaimEv* k : it->second) {
        // A higher attempt is claimed only after this lease ended; its claim
        // was committed before its event time, so before `sent` means the
        // store accepted a write under a lease it had already taken back.
        if (k->attempt > c.attempt && k->t < c.sent) {
          Report("stale_lease", Key({c.job, c.attempt}) + ": " + c.proc + "'s completion under lease " +
                                    c.lease + " was accepted although attempt " +
                                    std::to_string(k->attempt) + " had been claimed by " + k->proc +
                                    " " + std::to_string(c.sent - k->t) + " us before it was sent");
        }
      }
    }
  }

  void Ticks() {
    std::map<std::pair<int64_t, int64_t>, std::set<int64_t>> jobs_per_tick;
    for (const auto& j : db_.jobs) {
      if (j.schedule_id && j.scheduled_for) jobs_per_tick[{*j.schedule_id, *j.scheduled_for}].insert(j.id);
    }
    for (const auto& [tick, ids] : jobs_per_tick) {
      if (ids.size() > 1) {
        Report("tick", "schedule " + std::to_string(tick.first) + " tick " + std::to_string(tick.second) +
                           " has " + std::to_string(ids.size()) + " jobs");
      }
    }
    for (const auto& f : db_.fires) {
      if (!f.job_id) continue;
      auto it = jobs_.find(*f.job_id);
      if (it == jobs_.end()) {
        Report("lost_job", "job " + std::to_string(*f.job_id) + " of schedule " +
                               std::to_string(f.schedule_id) + "'s fire is not in chime.jobs");
      } else if (it->second->schedule_id != f.schedule_id || it->second->scheduled_for != f.scheduled_for) {
        Report("tick", "job " + std::to_string(*f.job_id) + " is not the job of the fire (schedule " +
                           std::to_string(f.schedule_id) + ", tick " + std::to_string(f.scheduled_for) + ")");
      }
    }
    std::map<std::pair<int64_t, int64_t>, std::set<int64_t>> fired_jobs;
    for (const auto& f : fires_) {
      if (f.job > 0) fired_jobs[{f.schedule, f.tick}].insert(f.job);
      auto row = fire_rows_.find({f.schedule, f.tick});
      if (row == fire_rows_.end()) {
        Report("tick", f.proc + " fired schedule " + std::to_string(f.schedule) + " tick " +
                           std::to_string(f.tick) + " but chime.fires has no row");
      } else if (f.job > 0 && row->second->job_id != f.job) {
        Report("tick", f.proc + " fired schedule " + std::to_string(f.schedule) + " tick " +
                           std::to_string(f.tick) + " as job " + std::to_string(f.job) +
                           " but chime.fires says " +
                           (row->second->job_id ? std::to_string(*row->second->job_id) : "none"));
      }
    }
    for (const auto& [tick, ids] : fired_jobs) {
      if (ids.size() > 1) {
        Report("tick", "schedule " + std::to_string(tick.first) + " tick " + std::to_string(tick.second) +
                           " was fired as " + std::to_string(ids.size()) + " different jobs");
      }
    }
    for (const auto& s : db_.schedules) MissingTicks(s);
  }

  // Every tick between a schedule's first and last leader fire has a row,
  // unless the row after the gap is the misfire policy's (a skipped_misfire
  // or misfire row for skip/run_once, run_all_cap misfire rows for run_all).
  void MissingTicks(const ScheduleRow& s) {
    std::vector<const FireRow*> rows;
    for (const auto& f : db_.fires) {
      if (f.schedule_id == s.id && (f.origin == "cron" || f.origin == "misfire")) rows.push_back(&f);
    }
    if (rows.size() < 2) return;
    std::ranges::sort(rows, {}, &FireRow::scheduled_for);
    auto expression = cron::Expression::Parse(s.cron, {.seconds_field = options_.cron_seconds});
    auto zone = cron::Zone::Load(s.time_zone);
    if (!expression || !zone) {
      Report("tick", "schedule " + s.name + ": cannot parse " + s.cron + " in " + s.time_zone);
      return;
    }
    auto to_instant = [](int64_t us) { return cron::Instant(std::chrono::seconds(us / 1'000'000)); };
    auto to_us = [](cron::Instant i) { return static_cast<int64_t>(i.time_since_epoch().count()) * 1'000'000; };
    size_t next_row = 1;
    auto t = cron::NextFire(*expression, *zone, to_instant(rows.front()->scheduled_for));
    for (int steps = 0; t && to_us(*t) < rows.back()->scheduled_for && steps < 1'000'000; ++steps) {
      const int64_t us = to_us(*t);
      while (next_row < rows.size() && rows[next_row]->scheduled_for < us) ++next_row;
      if (rows[next_row]->scheduled_for != us) {
        const FireRow& after = *rows[next_row];
        bool excused = false;
        if (s.misfire == "run_all") {
          int misfires = 0;
          for (size_t i = next_row; i < rows.size() && rows[i]->origin == "misfire"; ++i) ++misfires;
          excused = misfires >= options_.run_all_cap;
        } else {
          excused = after.origin == "misfire" || after.outcome == "skipped_misfire";
        }
        if (!excused) {
          Report("tick", "schedule " + s.name + " (" + s.misfire + "): tick " + std::to_string(us) +
                             " was never recorded, though the next fire (" + after.origin + ", " +
                             after.outcome + ") does not follow a misfire");
        }
      }
      t = cron::NextFire(*expression, *zone, *t);
    }
  }

  void Epochs() {
    std::map<int64_t, std::set<std::string>> leaders_of;
    int64_t max_epoch = 0;
    for (const auto& l : leaders_) {
      leaders_of[l.epoch].insert(l.proc);
      max_epoch = std::max(max_epoch, l.epoch);
    }
    for (const auto& [epoch, procs] : leaders_of) {
      if (procs.size() > 1) {
        Report("epoch", "epoch " + std::to_string(epoch) + " was taken by " + std::to_string(procs.size()) +
                            " processes: " + *procs.begin() + ", " + *std::next(procs.begin()));
      }
    }
    std::map<int64_t, std::set<std::string>> firers_of;
    for (const auto& f : fires_) {
      firers_of[f.epoch].insert(f.proc);
      if (auto it = leaders_of.find(f.epoch); it == leaders_of.end() || !it->second.contains(f.proc)) {
        Report("epoch", f.proc + " fired schedule " + std::to_string(f.schedule) + " under epoch " +
                            std::to_string(f.epoch) + " without leading it");
      }
      for (const auto& l : leaders_) {
        if (l.epoch > f.epoch && l.t < f.sent) {
          Report("epoch", f.proc + "'s fire of schedule " + std::to_string(f.schedule) + " tick " +
                              std::to_string(f.tick) + " under epoch " + std::to_string(f.epoch) +
                              " was accepted though " + l.proc + " had taken epoch " +
                              std::to_string(l.epoch) + " before it was sent");
          break;
        }
      }
      if (auto row = fire_rows_.find({f.schedule, f.tick}); row != fire_rows_.end() &&
                                                            row->second->epoch != f.epoch) {
        Report("epoch", "schedule " + std::to_string(f.schedule) + " tick " + std::to_string(f.tick) +
                            ": chime.fires says epoch " + std::to_string(row->second->epoch) + ", " +
                            f.proc + " fired it under " + std::to_string(f.epoch));
      }
    }
    for (const auto& [epoch, procs] : firers_of) {
      if (procs.size() > 1) {
        Report("epoch", "two processes fired in epoch " + std::to_string(epoch) + ": " + *procs.begin() +
                            ", " + *std::next(procs.begin()));
      }
    }
    if (max_epoch > db_.leader_epoch) {
      Report("epoch", "chime.leader is at epoch " + std::to_string(db_.leader_epoch) +
                          " but epoch " + std::to_string(max_epoch) + " was taken");
    }
  }

  const CheckerOptions& options_;
  const DbSnapshot& db_;
  std::map<int64_t, std::string> enqueued_;  // Job -> the process that saw it.
  std::vector<ClaimEv> claims_;
  std::map<JobAttempt, int> side_effects_;
  std::vector<CompleteEv> completes_;
  std::vector<LeaderEv> leaders_;
  std::vector<FireEv> fires_;

  std::map<int64_t, const JobRow*> jobs_;
  std::map<int64_t, std::vector<const RunRow*>> runs_by_job_;
  std::map<JobAttempt, std::vector<const RunRow*>> runs_by_attempt_;
  std::map<std::pair<int64_t, int64_t>, const FireRow*> fire_rows_;
  std::map<int64_t, std::vector<const ClaimEv*>> claims_by_job_;
  std::map<JobAttempt, int> claims_by_attempt_;

  std::vector<Violation> out_;
};

}  // namespace

DbSnapshot ReadSnapshot(const std::string& url) {
  pqxx::connection conn(url);
  pqxx::work tx(conn);  // One snapshot for every table.
  DbSnapshot db;
  auto us = [](const char* column) {
    return std::string("(extract(epoch FROM ") + column + ") * 1000000)::bigint";
  };
  for (const auto& row : tx.exec("SELECT id, state, attempt, schedule_id, " + us("scheduled_for") +
                                 " FROM chime.jobs_all ORDER BY id")) {
    JobRow j;
    j.id = row[0].as<int64_t>();
    j.state = row[1].as<std::string>();
    j.attempt = row[2].as<int>();
    if (!row[3].is_null()) j.schedule_id = row[3].as<int64_t>();
    if (!row[4].is_null()) j.scheduled_for = row[4].as<int64_t>();
    db.jobs.push_back(std::move(j));
  }
  for (const auto& row : tx.exec("SELECT job_id, attempt, outcome FROM chime.runs ORDER BY id")) {
    db.runs.push_back({row[0].as<int64_t>(), row[1].as<int>(), row[2].as<std::string>()});
  }
  for (const auto& row : tx.exec("SELECT schedule_id, " + us("scheduled_for") +
                                 ", job_id, leader_epoch, outcome, origin FROM chime.fires")) {
    FireRow f;
    f.schedule_id = row[0].as<int64_t>();
    f.scheduled_for = row[1].as<int64_t>();
    if (!row[2].is_null()) f.job_id = row[2].as<int64_t>();
    f.epoch = row[3].as<int64_t>();
    f.outcome = row[4].as<std::string>();
    f.origin = row[5].as<std::string>();
    db.fires.push_back(std::move(f));
  }
  for (const auto& row : tx.exec("SELECT id, name, cron, time_zone, misfire_policy FROM chime.schedules")) {
    db.schedules.push_back({row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<std::string>(),
                            row[3].as<std::string>(), row[4].as<std::string>()});
  }
  auto leader = tx.exec("SELECT coalesce(max(epoch), 0) FROM chime.leader");
  db.leader_epoch = leader[0][0].as<int64_t>();
  tx.commit();
  return db;
}

std::string ToString(const std::vector<Violation>& violations) {
  std::ostringstream out;
  for (const auto& v : violations) out << v.rule << ": " << v.detail << "\n";
  return out.str();
}

void HistoryChecker::AddHistory(std::string_view text) {
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (line.empty()) continue;
    auto e = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!WellFormed(e)) {
      malformed_.push_back({"malformed", "line " + std::to_string(line_no) + ": " + std::string(line.substr(0, 200))});
      continue;
    }
    events_.push_back(std::move(e));
  }
}

bool HistoryChecker::AddHistoryFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    malformed_.push_back({"malformed", "cannot read " + path});
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  AddHistory(text.str());
  return true;
}

std::string HistoryChecker::Summary() const {
  std::map<std::string, int64_t> counts;
  int64_t refused = 0;
  for (const auto& e : events_) {
    ++counts[e["ev"].get<std::string>()];
    if (e["ev"] == "complete" && !e["accepted"].get<bool>()) ++refused;
    if (e["ev"] == "release" && !e["accepted"].get<bool>()) ++refused;
  }
  std::string out;
  for (const auto& [ev, n] : counts) out += (out.empty() ? "" : ", ") + ev + " " + std::to_string(n);
  return out + "; " + std::to_string(refused) + " writes refused (lease lost)";
}

std::vector<Violation> HistoryChecker::Check(const DbSnapshot& db) const {
  Checking checking(options_, db);
  for (const auto& e : events_) checking.Add(e);
  auto out = checking.Run();
  out.insert(out.begin(), malformed_.begin(), malformed_.end());
  return out;
}

}  // namespace chime::testing
