// Cluster-wide limits (issue 20, migration 0022) under faults: two scheduler
// replicas (leader and standby) and three workers run a few hundred `sleep`
// jobs over several providers under two limits -
//   per-provider: kind sleep, partition_by provider, 2 at once, 20 per 5 s;
//   sleep-all:    kind sleep, unpartitioned, 6 at once -
// while a seeded nemesis (nemesis.h; replay with CHIME_NEMESIS_SEED=N)
// kills a worker with -9 mid-job, stops another (SIGSTOP) until the rescue
// ended an attempt it held, then lets it go on (SIGCONT), and kills
// the leading scheduler with -9 (the standby takes over), in an order and
// at moments it picks. When every job has finished the test reads
// chime.runs and checks, per partition (the job's payload ->> 'provider'):
//   1. no instant had more runs at once than the concurrency (a run holds
//      [started_at, finished_at));
//   2. no sliding window of the rate's length held more starts than the
//      rate (a window is (t - 5 s, t], as the claim counts it);
//   3. nothing waiting was lost or starved: every job succeeded, its final
//      attempt has its run, and no attempt was spent on waiting (each
//      attempt has exactly one run).
//
// The checks take the database's view, which is the limit's contract: a
// running job counts until the rescue makes it ready again. So the killed
// worker's attempt occupies its slot until the rescue, and its run row says
// so (outcome lease_expired, finished_at the rescue's time), although the
// process died earlier. The stopped worker's attempt is likewise ended by
// the rescue (its run is lease_expired, finished at the rescue); after
// SIGCONT that worker still runs the job for a moment, perhaps next to the
// attempt that replaced it, until its heartbeat is refused, its own lease
// watchdog gives the job up, or its completion is refused (the lease token
// no longer matches, so it writes no run). That overlap is outside the
// database and outside the contract; the test does not count it, and checks
// instead that the worker learned it lost the lease. A claim stamps
// started_at with the clock it reads after taking the partitions' locks,
// the time its start is counted at (in the rate bucket that holds it, which
// counts while any of it lies in the window: never later than the start),
// so check 2 reads times no later than those the claim counted. The completion or rescue that freed a slot committed
// before the claim's count saw it, and its finished_at is its statement's
// start, earlier still: before the claim's started_at, unless it started
// and committed within the microseconds between the claim reading its clock
// and counting.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tests/integration/cluster.h"
#include "tests/reliability/nemesis.h"

namespace chime::testing {
namespace {

using json = nlohmann::json;
using std::chrono::seconds;

constexpr int kProviderConcurrency = 2;
constexpr int kProviderRate = 20;
constexpr int64_t kProviderRateWindowUs = 5'000'000;
constexpr int kAllConcurrency = 6;
constexpr int kJobsPerProvider = 60;

// One attempt as chime.runs recorded it. Times in microseconds since the epoch.
struct RunRow {
  int64_t job_id = 0;
  int attempt = 0;
  std::string worker;
  std::string outcome;
  std::string partition;
  int64_t started_us = 0;
  int64_t finished_us = 0;
};

// The most runs that held [started_us, finished_us) at one instant, the
// first instant they did, and those runs.
struct MostAtOnce {
  size_t most = 0;
  int64_t at_us = 0;
  std::vector<const RunRow*> runs;
};

MostAtOnce SweepAtOnce(const std::vector<const RunRow*>& runs) {
  // (time, +1 start / -1 finish, run): at one instant finishes go first, as a
  // run no longer holds its slot at its finished_at.
  std::vector<std::tuple<int64_t, int, size_t>> events;
  for (size_t i = 0; i < runs.size(); ++i) {
    events.emplace_back(runs[i]->started_us, +1, i);
    events.emplace_back(runs[i]->finished_us, -1, i);
  }
  std::ranges::sort(events);
  MostAtOnce out;
  std::set<size_t> holding;
  for (const auto& [t, delta, i] : events) {
    if (delta < 0) {
      holding.erase(i);
      continue;
    }
    holding.insert(i);
    if (holding.size() > out.most) {
      out.most = holding.size();
      out.at_us = t;
      out.runs.clear();
      for (size_t h : holding) out.runs.push_back(runs[h]);
    }
  }
  return out;
}

// The most starts in any window (t - window, t], and those runs.
MostAtOnce SweepStartsInWindow(std::vector<const RunRow*> runs, int64_t window_us) {
  std::ranges::sort(runs, {}, &RunRow::started_us);
  MostAtOnce out;
  size_t lo = 0;
  for (size_t hi = 0; hi < runs.size(); ++hi) {
    while (runs[lo]->started_us <= runs[hi]->started_us - window_us) ++lo;
    if (hi - lo + 1 > out.most) {
      out.most = hi - lo + 1;
      out.at_us = runs[hi]->started_us;
      out.runs.assign(runs.begin() + static_cast<std::ptrdiff_t>(lo), runs.begin() + static_cast<std::ptrdiff_t>(hi) + 1);
    }
  }
  return out;
}

// "+1203.114 ms": `us` from `t0_us`.
std::string Ms(int64_t us, int64_t t0_us) {
  char out[32];
  std::snprintf(out, sizeof out, "+%.3f ms", static_cast<double>(us - t0_us) / 1000.0);
  return out;
}

// "job 17 attempt 1 on w2 (lease_expired): +1203.114 ms .. +1870.002 ms", a
// line per run (at most 25), times from `t0_us`.
std::string Describe(const std::vector<const RunRow*>& runs, int64_t t0_us) {
  std::string out;
  for (size_t i = 0; i < runs.size() && i < 25; ++i) {
    const RunRow& r = *runs[i];
    out += "\n  job " + std::to_string(r.job_id) + " attempt " + std::to_string(r.attempt) + " on " + r.worker +
           " (" + r.outcome + "): " + Ms(r.started_us, t0_us) + " .. " + Ms(r.finished_us, t0_us);
  }
  if (runs.size() > 25) out += "\n  ... and " + std::to_string(runs.size() - 25) + " more";
  return out;
}

// A worker process of the test and the id it claims under.
struct Worker {
  std::string id;
  ChildProcess* process = nullptr;
};

class LimitsFaultTest : public ::testing::Test {
 protected:
  void SetUp() override { std::printf("%s\n", nemesis_.Describe().c_str()); }
  void TearDown() override {
    if (HasFailure()) std::printf("%s\n", nemesis_.Describe().c_str());
  }

  int64_t Int(const std::string& sql) { return cluster_.Int(sql); }

  // `jobctl limit set NAME ARGS` through the database.
  void SetLimit(const std::string& name, std::vector<std::string> args) {
    args.insert(args.begin(), {"limit", "set", name});
    args.insert(args.end(), {"--database-url", cluster_.db().url()});
    const JobctlOutcome out = cluster_.Jobctl(args, {{"CHIME_ADMIN_SECRET", ""}, {"CHIME_SCHEDULER", ""}});
    ASSERT_EQ(out.exit_code, 0) << out.output;
  }

  // `count` sleep jobs of `ms` for `provider`, through the scheduler.
  void Enqueue(const std::string& provider, int64_t ms, int count) {
    const std::string payload = json{{"ms", ms}, {"provider", provider}}.dump();
    const JobctlOutcome out =
        cluster_.Jobctl({"enqueue", "sleep", "--payload", payload, "--count", std::to_string(count)});
    ASSERT_EQ(out.exit_code, 0) << out.output;
  }

  ChildProcess& StartWorker(const std::string& id) {
    auto& w = cluster_.StartWorker(id, {"--scheduler", endpoints_});
    workers_.push_back({id, &w});
    return w;
  }

  ChildProcess& StartStandby() {
    std::string endpoint;
    auto& s = cluster_.StartReplica(endpoint, {"--leader-ttl", "2s", "--leader-renew", "500ms"});
    schedulers_.push_back(&s);
    return s;
  }

  int64_t Epoch() { return Int("SELECT coalesce(max(epoch), 0) FROM chime.leader"); }

  // The live scheduler that logged leading the current epoch.
  ChildProcess* Leader() {
    const std::string needle = "cron: leading (epoch " + std::to_string(Epoch()) + ")";
    for (auto* s : schedulers_) {
      if (s->running() && s->log().find(needle) != std::string::npos) return s;
    }
    return nullptr;
  }

  int64_t RunningOn(const std::string& worker) {
    return Int("SELECT count(*) FROM chime.jobs_all WHERE kind = 'sleep' AND state = 'running' AND worker_id = '" +
               worker + "'");
  }
  int64_t Runs() { return Int("SELECT count(*) FROM chime.runs WHERE kind = 'sleep'"); }
  int64_t Unfinished() {
    return Int("SELECT count(*) FROM chime.jobs_all WHERE kind = 'sleep' AND state NOT IN ('succeeded', "
               "'discarded', 'cancelled')");
  }

  // A nemesis-chosen live worker, not `except`, once it runs a sleep job.
  ::testing::AssertionResult PickBusyWorker(Worker& victim, const std::string& except) {
    std::vector<Worker> live;
    for (const auto& w : workers_) {
      if (w.id != except && w.process->running()) live.push_back(w);
    }
    if (live.empty()) return ::testing::AssertionFailure() << "no live worker to fault";
    victim = live[nemesis_.Pick(live.size())];
    return WaitUntil(victim.id + " to run a sleep job", [&] { return RunningOn(victim.id) > 0; },
                     kClusterWaitBound);
  }

  // Stops (SIGSTOP) a nemesis-chosen live worker, not `except`, while it
  // holds a job, and answers how many it holds. A worker seen running a job
  // may finish it (sleeps last 10-900 ms) before a signal lands; one faulted
  // holding nothing leaves no lease to run out. So it is counted once
  // stopped, and let go (SIGCONT) and tried again until one holds a job.
  ::testing::AssertionResult StopBusyWorker(Worker& victim, const std::string& except, int64_t& held) {
    held = 0;
    for (int attempt = 0; attempt < 20 && held == 0; ++attempt) {
      if (auto busy = PickBusyWorker(victim, except); !busy) return busy;
      victim.process->Signal(SIGSTOP);
      held = RunningOn(victim.id);
      if (held == 0) victim.process->Signal(SIGCONT);
    }
    if (held == 0) return ::testing::AssertionFailure() << "no worker stopped while it held a job, in 20 tries";
    return ::testing::AssertionSuccess();
  }

  void Fault(const std::string& fault) {
    if (fault == "kill9_worker") {
      Worker v;
      int64_t held = 0;
      ASSERT_TRUE(StopBusyWorker(v, stopped_, held));  // Killed while stopped: it holds what was counted.
      std::printf("kill -9 of worker %s (pid %d), %lld jobs running on it\n", v.id.c_str(), v.process->pid(),
                  static_cast<long long>(held));
      v.process->Signal(SIGKILL);
      ASSERT_TRUE(v.process->Wait(seconds(10)).has_value());
      killed_ = v.id;
      StartWorker("w" + std::to_string(workers_.size() + 1));  // Three again, as a supervisor would.
    } else if (fault == "sigstop_worker") {
      Worker v;
      int64_t held = 0;
      ASSERT_TRUE(StopBusyWorker(v, killed_, held));
      std::printf("SIGSTOP of worker %s (pid %d), %lld jobs running on it\n", v.id.c_str(), v.process->pid(),
                  static_cast<long long>(held));
      stopped_ = v.id;
      // Stopped past its lease: the rescue ended an attempt it held.
      const bool rescued = WaitUntil("a job of " + v.id + " rescued", [&] {
        return Int("SELECT count(*) FROM chime.runs WHERE kind = 'sleep' AND outcome = 'lease_expired' AND "
                   "worker_id = '" + v.id + "'") > 0;
      }, kClusterWaitBound);
      const size_t offset = v.process->log().size();
      v.process->Signal(SIGCONT);
      ASSERT_TRUE(rescued);
      // Its attempt goes on until its heartbeat is refused, its own lease
      // watchdog gives it up, or its completion is refused.
      const char* const kLearned[] = {"lease lost (rescued elsewhere)",
                                       "abandoned: no heartbeat has extended its lease",
                                       "outcome not recorded, the lease was lost"};
      const char* learned = nullptr;
      ASSERT_TRUE(WaitUntil("the stopped worker to learn it lost a lease", [&] {
        const std::string log = v.process->log().substr(offset);
        for (const char* needle : kLearned) {
          if (log.find(needle) != std::string::npos) learned = needle;
        }
        return learned != nullptr;
      }, kClusterWaitBound)) << v.process->log().substr(offset);
      std::printf("SIGCONT of worker %s: \"%s\"\n", v.id.c_str(), learned);
      EXPECT_TRUE(v.process->running()) << v.process->log();
    } else {
      ChildProcess* leader = nullptr;
      ASSERT_TRUE(WaitUntil("a leader", [&] { return (leader = Leader()) != nullptr; }, kClusterWaitBound));
      const int64_t epoch = Epoch();
      std::printf("kill -9 of the leading scheduler (pid %d, epoch %lld)\n", leader->pid(),
                  static_cast<long long>(epoch));
      leader->Signal(SIGKILL);
      ASSERT_TRUE(leader->Wait(seconds(10)).has_value());
      ASSERT_TRUE(WaitUntil("a live leader lease above epoch " + std::to_string(epoch), [&] {
        return Int("SELECT count(*) FROM chime.leader WHERE epoch > " + std::to_string(epoch) +
                   " AND expires_at > now()") == 1;
      }, kClusterWaitBound));
      StartStandby();  // Two replicas again, as a Deployment would.
    }
  }

  std::vector<RunRow> ReadRuns() {
    const std::string text = cluster_.Text(
        "SELECT json_agg(json_build_array(r.job_id, r.attempt, coalesce(r.worker_id, ''), r.outcome, "
        "coalesce(j.payload ->> 'provider', ''), (extract(epoch FROM r.started_at) * 1000000)::bigint, "
        "(extract(epoch FROM r.finished_at) * 1000000)::bigint) ORDER BY r.started_at, r.id) "
        "FROM chime.runs r JOIN chime.jobs_all j ON j.id = r.job_id WHERE r.kind = 'sleep'");
    std::vector<RunRow> rows;
    for (const auto& a : json::parse(text.empty() ? "[]" : text)) {
      rows.push_back({a[0].get<int64_t>(), a[1].get<int>(), a[2].get<std::string>(), a[3].get<std::string>(),
                      a[4].get<std::string>(), a[5].get<int64_t>(), a[6].get<int64_t>()});
    }
    return rows;
  }

  Cluster cluster_;
  Nemesis nemesis_;
  std::string endpoints_;                // Every replica a worker may say hello to.
  std::vector<ChildProcess*> schedulers_;
  std::vector<Worker> workers_;
  std::string killed_;   // The worker killed with -9.
  std::string stopped_;  // The worker stopped past its lease.
};

TEST_F(LimitsFaultTest, NoPartitionRunsOverItsLimitsAndNoJobIsLostAcrossWorkerAndLeaderFaults) {
  SCOPED_TRACE(nemesis_.Describe());
  schedulers_.push_back(&cluster_.StartScheduler({"--leader-ttl", "2s", "--leader-renew", "500ms"}));
  ASSERT_TRUE(schedulers_[0]->WaitForLog("cron: leading (epoch 1)", seconds(30))) << schedulers_[0]->log();
  std::string standby_endpoint;
  schedulers_.push_back(&cluster_.StartReplica(standby_endpoint, {"--leader-ttl", "2s", "--leader-renew", "500ms"}));
  ASSERT_TRUE(schedulers_[1]->WaitForLog("cron: standing by", seconds(30))) << schedulers_[1]->log();
  endpoints_ = cluster_.endpoint() + "," + standby_endpoint;

  SetLimit("per-provider", {"--kind", "sleep", "--partition-by", "provider", "--concurrency",
                            std::to_string(kProviderConcurrency), "--rate", std::to_string(kProviderRate) + "/5s"});
  SetLimit("sleep-all", {"--kind", "sleep", "--concurrency", std::to_string(kAllConcurrency)});
  ASSERT_FALSE(HasFatalFailure());
  for (int i = 1; i <= 3; ++i) StartWorker("w" + std::to_string(i));

  // Slow providers press on their concurrency, fast ones on their rate, all
  // of them on sleep-all. Interleaved, so the claim order mixes them.
  const std::map<std::string, std::pair<int64_t, int64_t>> providers{
      {"slow-a", {300, 900}}, {"slow-b", {300, 900}}, {"fast-c", {10, 60}}, {"fast-d", {10, 60}},
      {"mixed-e", {10, 900}}};
  constexpr int kGroups = 4;
  for (int g = 0; g < kGroups; ++g) {
    for (const auto& [provider, ms] : providers) {
      Enqueue(provider, nemesis_.Between(ms.first, ms.second), kJobsPerProvider / kGroups);
      ASSERT_FALSE(HasFatalFailure());
    }
  }
  const int64_t jobs = Int("SELECT count(*) FROM chime.jobs_all WHERE kind = 'sleep'");
  ASSERT_EQ(jobs, static_cast<int64_t>(providers.size()) * kJobsPerProvider);

  std::vector<std::string> faults{"kill9_worker", "sigstop_worker", "kill9_leader"};
  nemesis_.Shuffle(faults);
  for (const auto& fault : faults) {
    SCOPED_TRACE(fault);
    const int64_t target = Runs() + nemesis_.Between(3, 25);
    ASSERT_TRUE(WaitForValue("more runs", [&] { return Runs(); }, [&](int64_t n) { return n >= target; },
                             kClusterWaitBound));
    ASSERT_GT(Unfinished(), 0) << "the work ran out before the " << fault;
    Fault(fault);
    if (HasFatalFailure()) return;
  }
  ASSERT_TRUE(WaitForEq("unfinished sleep jobs", [&] { return Unfinished(); }, int64_t{0}, seconds(120)));

  // The faults hit limited attempts: the database ended them by rescue.
  EXPECT_GE(Int("SELECT count(*) FROM chime.runs WHERE kind = 'sleep' AND outcome = 'lease_expired' AND "
                "worker_id = '" + killed_ + "'"), 1);
  EXPECT_GE(Int("SELECT count(*) FROM chime.runs WHERE kind = 'sleep' AND outcome = 'lease_expired' AND "
                "worker_id = '" + stopped_ + "'"), 1);

  const std::vector<RunRow> runs = ReadRuns();
  ASSERT_FALSE(runs.empty());
  const int64_t t0 = runs.front().started_us;
  std::map<std::string, std::vector<const RunRow*>> by_provider;
  std::vector<const RunRow*> all;
  for (const auto& r : runs) {
    by_provider[r.partition].push_back(&r);
    all.push_back(&r);
  }
  ASSERT_EQ(by_provider.size(), providers.size());

  // 1 and 2: each provider's partition of per-provider.
  size_t most_at_once = 0, most_in_window = 0;
  for (const auto& [provider, part] : by_provider) {
    const MostAtOnce at_once = SweepAtOnce(part);
    EXPECT_LE(at_once.most, static_cast<size_t>(kProviderConcurrency))
        << "per-provider/" << provider << ": " << at_once.most << " runs at once at "
        << Ms(at_once.at_us, t0) << ":" << Describe(at_once.runs, t0);
    const MostAtOnce burst = SweepStartsInWindow(part, kProviderRateWindowUs);
    EXPECT_LE(burst.most, static_cast<size_t>(kProviderRate))
        << "per-provider/" << provider << ": " << burst.most << " starts in the 5 s up to "
        << Ms(burst.at_us, t0) << ":" << Describe(burst.runs, t0);
    std::printf("per-provider/%s: %zu runs, at most %zu at once, %zu starts in a 5 s window\n", provider.c_str(),
                part.size(), at_once.most, burst.most);
    most_at_once = std::max(most_at_once, at_once.most);
    most_in_window = std::max(most_in_window, burst.most);
  }
  // 1: sleep-all, one partition.
  const MostAtOnce all_at_once = SweepAtOnce(all);
  EXPECT_LE(all_at_once.most, static_cast<size_t>(kAllConcurrency))
      << "sleep-all: " << all_at_once.most << " runs at once at " << Ms(all_at_once.at_us, t0) << ":" << Describe(all_at_once.runs, t0);
  std::printf("sleep-all: %zu runs, at most %zu at once; %.1f s from first start to last finish\n", all.size(),
              all_at_once.most,
              (std::ranges::max(runs, {}, &RunRow::finished_us).finished_us - t0) / 1e6);
  // The workload reached every budget, so the checks above had something to hold back.
  EXPECT_GE(most_at_once, static_cast<size_t>(kProviderConcurrency)) << "no provider ever filled its concurrency";
  EXPECT_GE(most_in_window, static_cast<size_t>(kProviderRate)) << "no provider ever filled its rate window";
  EXPECT_GE(all_at_once.most, static_cast<size_t>(kAllConcurrency)) << "sleep-all was never full";

  // 3: nothing lost or starved.
  EXPECT_EQ(Int("SELECT count(*) FROM chime.jobs_all WHERE kind = 'sleep' AND state = 'succeeded'"), jobs)
      << cluster_.Text("SELECT string_agg('job ' || id || ' ' || state || ': ' || coalesce(last_error, '-'), '; ') "
                       "FROM (SELECT * FROM chime.jobs_all WHERE kind = 'sleep' AND state <> 'succeeded' ORDER BY id "
                       "LIMIT 20) j");
  // Its final attempt has its run, with the job's outcome, and is its only
  // final row; waiting spent no attempt: attempts 1..N have one run each.
  const std::string whole =
      "(SELECT count(*) FROM chime.runs r WHERE r.job_id = j.id AND r.final AND r.attempt = j.attempt "
      "AND r.outcome = 'succeeded' AND r.job_outcome = 'succeeded') = 1 "
      "AND (SELECT count(*) FROM chime.runs r WHERE r.job_id = j.id AND r.final) = 1 "
      "AND (SELECT count(*) = j.attempt AND count(DISTINCT r.attempt) = j.attempt AND max(r.attempt) = j.attempt "
      "FROM chime.runs r WHERE r.job_id = j.id AND r.outcome <> 'released')";
  EXPECT_EQ(Int("SELECT count(*) FROM chime.jobs_all j WHERE j.kind = 'sleep' AND " + whole), jobs)
      << cluster_.Text("SELECT string_agg('job ' || j.id || ' attempt ' || j.attempt || ': ' || coalesce((SELECT "
                       "string_agg(r.attempt || ' ' || r.outcome || CASE WHEN r.final THEN ' final' ELSE '' END, "
                       "', ' ORDER BY r.id) FROM chime.runs r WHERE r.job_id = j.id), 'no runs'), '; ') "
                       "FROM (SELECT * FROM chime.jobs_all j WHERE j.kind = 'sleep' AND NOT (" + whole +
                       ") ORDER BY j.id LIMIT 20) j");
  std::printf("runs: %zu for %lld jobs (%lld rescued)\n", runs.size(), static_cast<long long>(jobs),
              static_cast<long long>(Int("SELECT count(*) FROM chime.runs WHERE kind = 'sleep' AND "
                                         "outcome = 'lease_expired'")));
}

}  // namespace
}  // namespace chime::testing
