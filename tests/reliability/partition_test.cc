// Network partitions of one worker. Worker "wn" runs in a network namespace
// of its own and reaches the scheduler (ZeroMQ) over one veth pair and
// PostgreSQL over another, each on its own /30, so that either link can be
// cut and restored alone: `ip link set <root end> down` drops whatever the
// namespace sends, as a failed switch port would. Worker "wr" in the root
// namespace keeps working over loopback. PostgreSQL is a private server
// (scripts/pg.sh) that also listens on the database link's root address; the
// shared chime_pg server is untouched. Every test ends with the history
// checker (tests/reliability/history_checker.h) over all processes' events.
// Waits poll with deadlines that only a broken build reaches; durations are
// printed, never asserted. Needs root (ip netns); skips otherwise.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "tests/integration/cluster.h"
#include "tests/reliability/history_checker.h"

namespace chime::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kUnfinished =
    "SELECT count(*) FROM chime.jobs_all WHERE state NOT IN ('succeeded', 'discarded', 'cancelled')";

struct ShellResult {
  int status = -1;
  std::string output;  // stdout and stderr, trimmed.
};

ShellResult Shell(const std::string& command) {
  ShellResult r;
  if (FILE* p = popen((command + " 2>&1").c_str(), "r")) {
    char buf[512];
    while (fgets(buf, sizeof buf, p) != nullptr) r.output += buf;
    r.status = pclose(p);
  }
  while (!r.output.empty() && std::isspace(static_cast<unsigned char>(r.output.back()))) r.output.pop_back();
  return r;
}

// posix_spawn needs a path; iproute2 lives in one of these.
std::string IpBinary() {
  for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "";
}

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// One veth pair: `root` stays in the root namespace with `root_ip`, `ns`
// moves into the test's namespace with `ns_ip`, both on one /30.
struct Link {
  std::string root, ns, root_ip, ns_ip, net;
};

class PartitionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root: creates a network namespace and veth pairs";
    history_ = ::testing::TempDir() + "chime-history-" + std::to_string(getpid()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".jsonl";
    std::remove(history_.c_str());
    ip_ = IpBinary();
    ASSERT_FALSE(ip_.empty()) << "iproute2 (ip) is not installed (scripts/install-deps.sh installs it)";
    SweepKilledRuns();
    const int pid = getpid();
    netns_ = "chime-part-" + std::to_string(pid);
    if (auto r = Shell(ip_ + " netns add " + netns_); r.status != 0) {
      netns_.clear();
      GTEST_SKIP() << "ip netns add is not permitted here: " << r.output;
    }
    // Two /30s out of 10.213.0.0/16, chosen by pid so that concurrent runs
    // do not collide.
    const int base = (pid % 8192) * 8;
    auto addr = [&](int offset) {
      const int a = base + offset;
      return "10.213." + std::to_string(a / 256) + "." + std::to_string(a % 256);
    };
    zmq_ = {"cpz" + std::to_string(pid) + "r", "cpz" + std::to_string(pid) + "n", addr(1), addr(2),
            addr(0) + "/30"};
    db_ = {"cpd" + std::to_string(pid) + "r", "cpd" + std::to_string(pid) + "n", addr(5), addr(6),
           addr(4) + "/30"};
    ASSERT_EQ(Shell(ip_ + " -4 addr show to " + addr(0) + "/29").output, "") << "subnet in use";
    InNs("ip link set lo up");
    for (const Link* l : {&zmq_, &db_}) {
      Ip("link add " + l->root + " type veth peer name " + l->ns);
      Ip("link set " + l->ns + " netns " + netns_);
      Ip("addr add " + l->root_ip + "/30 dev " + l->root);
      Ip("link set " + l->root + " up");
      InNs("ip addr add " + l->ns_ip + "/30 dev " + l->ns);
      InNs("ip link set " + l->ns + " up");
      if (HasFatalFailure()) return;
    }

    const char* script = std::getenv("CHIME_PG_SCRIPT");
    ASSERT_NE(script, nullptr) << "CHIME_PG_SCRIPT is not set; run through ctest";
    script_ = script;
    std::string dir = "/tmp/chime-partition-pg-" + std::to_string(pid) + ".XXXXXX";
    ASSERT_NE(mkdtemp(dir.data()), nullptr);
    pg_dir_ = dir;
    chmod(pg_dir_.c_str(), 0755);
    const auto pg = Shell("CHIME_PG_FAST=1 CHIME_PG_LISTEN=127.0.0.1," + db_.root_ip + " CHIME_PG_TRUST=" +
                          db_.net + " '" + script_ + "' start '" + pg_dir_ + "'");
    const std::string url = pg.output.substr(pg.output.rfind('\n') + 1);  // The last line.
    ASSERT_TRUE(pg.status == 0 && url.starts_with("postgresql://")) << pg.output;
    setenv("CHIME_TEST_DATABASE_URL", url.c_str(), 1);
  }

  void TearDown() override {
    wn_.reset();      // SIGKILL: `ip netns exec` became the worker.
    cluster_.reset();  // Its processes, then its database, while the server runs.
    unsetenv("CHIME_TEST_DATABASE_URL");
    if (!pg_dir_.empty()) Shell("'" + script_ + "' destroy '" + pg_dir_ + "'; rm -rf '" + pg_dir_ + "'");
    // Deleting one end of a pair deletes both; the namespace goes last.
    for (const Link* l : {&zmq_, &db_}) {
      if (!l->root.empty()) Shell(ip_ + " link del " + l->root);
    }
    if (!netns_.empty()) Shell(ip_ + " netns del " + netns_);
    if (HasFailure()) {
      std::printf("history kept in %s\n", history_.c_str());
    } else if (!history_.empty()) {
      std::remove(history_.c_str());
    }
  }

  // What runs killed before their TearDown (a ctest timeout) left: the
  // namespaces, veth pairs and private servers named after a pid that is
  // gone. Processes are left alone.
  void SweepKilledRuns() {
    auto gone = [](const std::string& digits) {
      return !digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos &&
             kill(std::stoi(digits), 0) != 0 && errno == ESRCH;
    };
    std::istringstream names(Shell(ip_ + " netns list").output);
    for (std::string line; std::getline(names, line);) {
      const std::string name = line.substr(0, line.find(' '));
      if (!name.starts_with("chime-part-") || !gone(name.substr(11))) continue;
      const std::string pid = name.substr(11);
      Shell(ip_ + " link del cpz" + pid + "r; " + ip_ + " link del cpd" + pid + "r; " + ip_ + " netns del " + name);
    }
    const char* script = std::getenv("CHIME_PG_SCRIPT");
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator("/tmp", error)) {
      const std::string name = entry.path().filename();
      if (script == nullptr || !name.starts_with("chime-partition-pg-")) continue;
      if (!gone(name.substr(19, name.find('.') - 19))) continue;
      Shell("'" + std::string(script) + "' destroy '" + entry.path().string() + "'; rm -rf '" +
            entry.path().string() + "'");
    }
  }

  void Ip(const std::string& args) {
    const auto r = Shell(ip_ + " " + args);
    ASSERT_EQ(r.status, 0) << "ip " << args << ": " << r.output;
  }
  void InNs(const std::string& command) { Ip("netns exec " + netns_ + " " + command); }

  void Cut(const Link& l) {
    Ip("link set " + l.root + " down");
    std::printf("%6.2f s: cut %s link\n", SecondsSince(start_), &l == &zmq_ ? "ZeroMQ" : "database");
  }
  void Restore(const Link& l) {
    Ip("link set " + l.root + " up");
    std::printf("%6.2f s: restored %s link\n", SecondsSince(start_), &l == &zmq_ ? "ZeroMQ" : "database");
  }

  // Every root-namespace process: the history, and the scheduler over
  // loopback (it binds every address; see Start).
  std::map<std::string, std::string> Env() const {
    return {{"CHIME_HISTORY_FILE", history_}, {"CHIME_SCHEDULER", "tcp://127.0.0.1:" + port_}};
  }

  // The scheduler, forgetting a silent worker after 1.5 s.
  void StartScheduler() {
    start_ = Clock::now();
    cluster_.emplace();
    scheduler_ = &cluster_->StartScheduler({"--bind", "tcp://0.0.0.0:0", "--forget-after-ms", "1500"},
                                           {{"CHIME_HISTORY_FILE", history_}});
    const std::string& endpoint = cluster_->endpoint();
    ASSERT_EQ(endpoint.rfind("tcp://0.0.0.0:", 0), 0u) << endpoint;
    port_ = endpoint.substr(endpoint.rfind(':') + 1);
  }

  // "wr", in the root namespace.
  void StartRootWorker(int lease_ms) {
    cluster_->StartWorker("wr", {"--lease-ms", std::to_string(lease_ms)}, Env());
  }

  // "wn", in the test's namespace, reaching the scheduler and the database
  // through their links' root addresses.
  void StartNsWorker(int lease_ms) {
    std::string url = cluster_->db().url();
    const std::string loopback = "@127.0.0.1:";
    ASSERT_NE(url.find(loopback), std::string::npos) << url;
    url.replace(url.find(loopback), loopback.size(), "@" + db_.root_ip + ":");
    wn_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{ip_, "netns", "exec", netns_, BinaryPath("worker/chime-worker"), "--worker-id",
                                 "wn", "--slots", "4", "--lease-ms", std::to_string(lease_ms),
                                 "--poll-interval-ms", "200", "--log-level", "debug"},
        std::map<std::string, std::string>{{"CHIME_HISTORY_FILE", history_},
                                           {"CHIME_DATABASE_URL", url},
                                           {"CHIME_SCHEDULER", "tcp://" + zmq_.root_ip + ":" + port_}});
    ASSERT_TRUE(wn_->Start()) << wn_->log();
    ASSERT_TRUE(Cluster::WaitForLogAfter(*scheduler_, 0, "worker wn (")) << scheduler_->log() << wn_->log();
    // `ip netns exec` execs the worker: the pid signals and kills reach it,
    // and it lives in the other namespace.
    std::string comm;
    std::getline(std::ifstream("/proc/" + std::to_string(wn_->pid()) + "/comm"), comm);
    ASSERT_EQ(comm, "chime-worker");
    ASSERT_NE(std::filesystem::read_symlink("/proc/" + std::to_string(wn_->pid()) + "/ns/net"),
              std::filesystem::read_symlink("/proc/self/ns/net"));
  }

  // Enqueues `count` jobs through jobctl (root namespace); returns their ids.
  std::vector<std::string> Enqueue(const std::string& payload, int count) {
    auto out = cluster_->Jobctl({"enqueue", "history_effect", "--payload", payload, "--count",
                                 std::to_string(count)},
                                Env());
    std::vector<std::string> ids;
    std::istringstream lines(out.output);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0]))) ids.push_back(line);
    }
    EXPECT_EQ(out.exit_code, 0) << out.output;
    EXPECT_EQ(ids.size(), static_cast<size_t>(count)) << out.output;
    return ids;
  }

  int64_t Int(const std::string& sql) {
    try {
      return cluster_->Int(sql);
    } catch (const std::exception&) {
      return -1;
    }
  }
  int64_t RunningOn(const std::string& worker) {
    return Int("SELECT count(*) FROM chime.jobs_all WHERE state = 'running' AND worker_id = '" + worker + "'");
  }
  int64_t Succeeded(const std::string& worker) {
    return Int("SELECT count(*) FROM chime.runs WHERE worker_id = '" + worker + "' AND outcome = 'succeeded'");
  }

  // Every job ran to success exactly once, and the histories agree.
  void ExpectSettledAndHistoryHolds() {
    ASSERT_TRUE(WaitUntil([&] { return Int(kUnfinished) == 0; }, seconds(90)))
        << scheduler_->log() << wn_->log();
    EXPECT_EQ(Int("SELECT count(*) FROM chime.jobs_all WHERE state <> 'succeeded'"), 0);
    EXPECT_EQ(Int("SELECT count(*) FROM (SELECT job_id FROM chime.runs WHERE outcome = 'succeeded' "
                  "GROUP BY job_id HAVING count(*) <> 1) twice"),
              0);
    EXPECT_EQ(Int("SELECT count(*) FROM chime.jobs_all j WHERE NOT EXISTS (SELECT 1 FROM chime.runs r "
                  "WHERE r.job_id = j.id AND r.outcome = 'succeeded')"),
              0);
    HistoryChecker checker;
    ASSERT_TRUE(checker.AddHistoryFile(history_));
    EXPECT_GT(checker.events(), 0u);
    std::printf("history: %s\n", checker.Summary().c_str());
    const auto violations = checker.Check(ReadSnapshot(cluster_->db().url()));
    EXPECT_TRUE(violations.empty()) << violations.size() << " violations:\n" << ToString(violations);
  }

  // The database link (and, with `zmq_too`, the ZeroMQ link) goes down
  // while wn runs two long jobs and short ones flow through its other
  // slots. The long jobs are rescued and finished by wr, and wn gives them
  // up on its own; once the links are back, the outcomes of the short jobs
  // it finished while cut off are refused (they were rescued too), and it
  // takes new work.
  void CutTheDatabaseWhileItRuns(bool zmq_too) {
    constexpr int kLeaseMs = 2000;
    StartScheduler();
    StartNsWorker(kLeaseMs);
    if (HasFatalFailure()) return;
    // wn is alone: it takes both. Long enough that it gives them up (a
    // lease after its last heartbeat) well before they could finish.
    const auto held = Enqueue(R"({"ms": 8000})", 2);
    ASSERT_EQ(held.size(), 2u);
    ASSERT_TRUE(WaitUntil([&] { return RunningOn("wn") == 2; }, kClusterWaitBound)) << wn_->log();
    Enqueue(R"({"ms": 300})", 40);
    ASSERT_TRUE(WaitUntil([&] { return Succeeded("wn") >= 2; }, kClusterWaitBound)) << wn_->log();
    StartRootWorker(kLeaseMs);
    const std::string in_held = "(" + held[0] + "," + held[1] + ")";

    const size_t wn_offset = wn_->log().size();
    const size_t scheduler_offset = scheduler_->log().size();
    const auto cut_at = Clock::now();
    Cut(db_);
    if (zmq_too) Cut(zmq_);
    // When each step was first seen (polled together).
    std::optional<double> rescued, abandoned, rerun;
    ASSERT_TRUE(WaitUntil([&] {
      if (!rescued && Int("SELECT count(*) FROM chime.runs WHERE worker_id = 'wn' AND outcome = "
                          "'lease_expired' AND job_id IN " + in_held) == 2) {
        rescued = SecondsSince(cut_at);
      }
      if (!abandoned) {
        const std::string log = wn_->log();
        bool all = true;
        for (const auto& id : held) {
          all = all && log.find("job " + id + " (history_effect): abandoned", wn_offset) != std::string::npos;
        }
        if (all) abandoned = SecondsSince(cut_at);
      }
      if (!rerun && Int("SELECT count(*) FROM chime.runs WHERE worker_id = 'wr' AND outcome = "
                        "'succeeded' AND job_id IN " + in_held) == 2) {
        rerun = SecondsSince(cut_at);
      }
      return rescued && abandoned && rerun;
    }, kClusterWaitBound)) << "rescued " << rescued.has_value() << ", abandoned " << abandoned.has_value() << ", run again "
        << rerun.has_value() << "\n" << scheduler_->log() << wn_->log();
    std::printf("wn's long jobs after the cut (lease %d ms): rescued in %.2f s, given up by wn in %.2f s, "
                "finished by wr in %.2f s\n",
                kLeaseMs, *rescued, *abandoned, *rerun);
    for (const auto& id : held) {
      const std::string needle = "job " + id + " (history_effect): abandoned";
      const std::string log = wn_->log();
      EXPECT_EQ(log.find(needle, log.find(needle) + 1), std::string::npos) << "logged twice: " << needle;
    }
    if (zmq_too) {
      ASSERT_TRUE(Cluster::WaitForLogAfter(*scheduler_, scheduler_offset, "worker wn forgotten"));
    }

    const size_t wn_back = wn_->log().size();
    const size_t scheduler_back = scheduler_->log().size();
    const int64_t wn_done = Succeeded("wn");
    Restore(db_);
    if (zmq_too) Restore(zmq_);
    const auto restored_at = Clock::now();
    // What it finished while cut off reaches the store late and is refused.
    ASSERT_TRUE(Cluster::WaitForLogAfter(*wn_, wn_back, "outcome not recorded, the lease was lost")) << wn_->log();
    std::printf("%6.2f s: wn's late outcome refused, %.2f s after the restore\n", SecondsSince(start_),
                SecondsSince(restored_at));
    // Back at work.
    Enqueue(R"({"ms": 200})", 40);
    ASSERT_TRUE(WaitUntil([&] { return Succeeded("wn") > wn_done; }, kClusterWaitBound)) << wn_->log();
    std::printf("%6.2f s: wn finished a new job, %.2f s after the restore\n", SecondsSince(start_),
                SecondsSince(restored_at));
    if (zmq_too) {
      ASSERT_TRUE(Cluster::WaitForLogAfter(*scheduler_, scheduler_back, "worker wn (")) << scheduler_->log();
    }
    ExpectSettledAndHistoryHolds();
  }

  std::string ip_;
  std::string netns_;
  Link zmq_, db_;
  std::string script_;
  std::string pg_dir_;
  std::string history_;
  std::string port_;
  Clock::time_point start_ = Clock::now();
  std::optional<Cluster> cluster_;
  ChildProcess* scheduler_ = nullptr;
  std::unique_ptr<ChildProcess> wn_;  // Before cluster_: see TearDown.
};

TEST_F(PartitionTest, WithTheSchedulerLinkDownAWorkerKeepsWorkingByPolling) {
  StartScheduler();
  StartRootWorker(1000);
  StartNsWorker(1000);
  if (HasFatalFailure()) return;
  Enqueue(R"({"ms": 100})", 120);
  ASSERT_TRUE(WaitUntil([&] { return Succeeded("wn") >= 5; }, kClusterWaitBound)) << wn_->log();
  const size_t scheduler_offset = scheduler_->log().size();
  Cut(zmq_);
  // The scheduler lost it, so nothing it finishes from now on was dispatched.
  ASSERT_TRUE(Cluster::WaitForLogAfter(*scheduler_, scheduler_offset, "worker wn forgotten")) << scheduler_->log();
  const int64_t before = Succeeded("wn");
  const auto cut_at = Clock::now();
  Enqueue(R"({"ms": 100})", 120);
  ASSERT_TRUE(WaitUntil([&] { return Succeeded("wn") >= before + 20; }, kClusterWaitBound)) << wn_->log();
  std::printf("wn finished %lld jobs by polling with its ZeroMQ link down (%.2f s)\n",
              static_cast<long long>(Succeeded("wn") - before), SecondsSince(cut_at));
  const size_t back = scheduler_->log().size();
  Restore(zmq_);
  ASSERT_TRUE(Cluster::WaitForLogAfter(*scheduler_, back, "worker wn (")) << scheduler_->log() << wn_->log();
  std::printf("%6.2f s: the scheduler has wn's hello again\n", SecondsSince(start_));
  ExpectSettledAndHistoryHolds();
}

TEST_F(PartitionTest, WithTheDatabaseLinkDownItsJobsAreRescuedAndItGivesThemUp) {
  CutTheDatabaseWhileItRuns(/*zmq_too=*/false);
}

TEST_F(PartitionTest, WithBothLinksDownItsJobsAreRescuedAndItComesBack) {
  CutTheDatabaseWhileItRuns(/*zmq_too=*/true);
}

}  // namespace
}  // namespace chime::testing
