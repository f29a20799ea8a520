// Schedulers, workers and jobctl behind pgbouncer in transaction mode, under
// the history checker. The pool has fewer server sessions than there are
// clients, so consecutive transactions of one client run on different
// server sessions: a named prepared statement or a session setting would
// break or leak. LISTEN uses a direct URL (CHIME_DATABASE_LISTEN_URL). The
// nemesis orders kill -9 of the leader and a restart of pgbouncer itself
// (every client connection dropped at once); every tick must still fire
// once and every job succeed once.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/reliability/nemesis.h"
#include "tests/reliability/replica_fixture.h"

namespace chime::testing {
namespace {

using std::chrono::seconds;

constexpr int kServerSessions = 4;  // pgbouncer's default_pool_size here.

// A loopback TCP port nobody listens on right now.
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// One pgbouncer in transaction mode in front of the test database's server.
// pgbouncer refuses to run as root: as root it runs as `postgres`.
class Pgbouncer {
 public:
  explicit Pgbouncer(const TestDatabase& db) {
    port_ = FreePort();
    url_ = db.UrlWithPort(port_);
    char tmpl[] = "/tmp/chime-pgbouncer-XXXXXX";
    dir_ = mkdtemp(tmpl);
    chmod(dir_.c_str(), 0755);
    std::ofstream(dir_ + "/users.txt") << '"' << db.user() << "\" \"\"\n";
    std::ofstream(dir_ + "/pgbouncer.ini")
        << "[databases]\n"
        << "* = host=127.0.0.1 port=" << db.port() << "\n"
        << "[pgbouncer]\n"
        << "listen_addr = 127.0.0.1\n"
        << "listen_port = " << port_ << "\n"
        << "unix_socket_dir =\n"
        << "auth_type = trust\n"
        << "auth_file = " << dir_ << "/users.txt\n"
        << "pool_mode = transaction\n"
        << "default_pool_size = " << kServerSessions << "\n"
        << "max_client_conn = 1000\n"
        // What Chime's own session settings do on a direct connection.
        << "idle_transaction_timeout = 60\n"
        << "tcp_keepalive = 1\n"
        << "tcp_keepidle = 10\n"
        << "tcp_keepintvl = 5\n"
        << "tcp_keepcnt = 3\n";
  }
  ~Pgbouncer() {
    process_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Start() {
    std::vector<std::string> argv{"/usr/sbin/pgbouncer", dir_ + "/pgbouncer.ini"};
    if (geteuid() == 0) argv.insert(argv.begin(), {"/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres",
                                                   "--init-groups"});
    process_ = std::make_unique<ChildProcess>(argv);
    ASSERT_TRUE(process_->Start()) << process_->log();
    ASSERT_TRUE(process_->WaitForLog("process up", seconds(10)).has_value()) << process_->log();
  }
  // Drops every client and server connection at once, then listens again.
  void Restart() {
    process_->Signal(SIGKILL);
    ASSERT_TRUE(process_->Wait(seconds(10)).has_value());
    Start();
  }

  const std::string& url() const { return url_; }

 private:
  std::string dir_;
  std::string url_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

class PgbouncerTest : public ReplicaTest {
 protected:
  void SetUp() override {
    ReplicaTest::SetUp();
    ASSERT_TRUE(std::filesystem::exists("/usr/sbin/pgbouncer"))
        << "pgbouncer is not installed (scripts/install-deps.sh installs it)";
    pgbouncer_ = std::make_unique<Pgbouncer>(cluster_.db());
    ASSERT_NO_FATAL_FAILURE(pgbouncer_->Start());
  }
  void TearDown() override {
    ReplicaTest::TearDown();
    pgbouncer_.reset();
  }

  // Every Chime process of the test reaches the database through pgbouncer.
  std::map<std::string, std::string> Pooled() const {
    return {{"CHIME_DATABASE_URL", pgbouncer_->url()}, {"CHIME_DATABASE_POOLER", "transaction"}};
  }
  ChildProcess& StartPooledScheduler() {
    auto env = Pooled();
    env.emplace("CHIME_DATABASE_LISTEN_URL", cluster_.db().url());
    return StartScheduler(env);
  }

  // `count` noop jobs enqueued by jobctl straight into the database (through
  // pgbouncer) or through the scheduler at `endpoint`.
  void Enqueue(int count, const std::string& endpoint = "") {
    auto env = Env(Pooled());
    env["CHIME_SCHEDULER"] = endpoint;
    auto out = cluster_.Jobctl({"enqueue", "noop", "--count", std::to_string(count)}, env);
    ASSERT_EQ(out.exit_code, 0) << out.output;
  }

  int64_t Epoch() { return Int("SELECT coalesce(max(epoch), 0) FROM chime.leader"); }

  std::unique_ptr<Pgbouncer> pgbouncer_;
  Nemesis nemesis_;
};

TEST_F(PgbouncerTest, ClusterBehindATransactionPoolerLosesAndDoublesNothing) {
  SCOPED_TRACE(nemesis_.Describe());
  std::printf("%s\n", nemesis_.Describe().c_str());
  std::vector<ChildProcess*> schedulers{&StartPooledScheduler()};
  ASSERT_TRUE(schedulers[0]->WaitForLog("cron: leading (epoch 1)", seconds(30))) << schedulers[0]->log();
  schedulers.push_back(&StartPooledScheduler());
  ASSERT_TRUE(schedulers[1]->WaitForLog("cron: standing by", seconds(30))) << schedulers[1]->log();
  for (auto* s : schedulers) EXPECT_EQ(s->log().find("ready feed: off"), std::string::npos) << s->log();
  StartWorker("w1", Pooled());
  StartWorker("w2", Pooled());
  ASSERT_TRUE(WaitForFires(3));
  ASSERT_NO_FATAL_FAILURE(Enqueue(300));
  ASSERT_NO_FATAL_FAILURE(Enqueue(100, Endpoint(*schedulers[0])));

  std::vector<std::string> faults{"kill9_leader", "restart_pgbouncer"};
  nemesis_.Shuffle(faults);
  for (const auto& fault : faults) {
    ChildProcess* leader = nullptr;
    ASSERT_TRUE(WaitUntil([&] { return (leader = Leader(schedulers)) != nullptr; }, kClusterWaitBound));
    const int64_t epoch = Epoch();
    std::printf("%s (leader pid %d, epoch %lld)\n", fault.c_str(), leader->pid(),
                static_cast<long long>(epoch));
    if (fault == "kill9_leader") {
      leader->Signal(SIGKILL);
      ASSERT_TRUE(leader->Wait(seconds(10)).has_value());
      ASSERT_TRUE(WaitUntil([&] { return Epoch() > epoch; }, kClusterWaitBound));
      schedulers.push_back(&StartPooledScheduler());
    } else {
      ASSERT_NO_FATAL_FAILURE(pgbouncer_->Restart());
    }
    ASSERT_NO_FATAL_FAILURE(Enqueue(100));
    ASSERT_TRUE(WaitForFires(3)) << "no ticks after " << fault;
  }
  ASSERT_TRUE(WaitUntil(
      [&] { return Int("SELECT count(*) FROM chime.jobs_all WHERE kind = 'noop' AND state = 'succeeded'") == 600; },
      seconds(60)))
      << Int("SELECT count(*) FROM chime.jobs_all WHERE kind = 'noop' AND state = 'succeeded'");
  // One succeeded run per noop job: nothing ran twice through the pool.
  EXPECT_EQ(Int("SELECT count(*) FROM chime.runs r JOIN chime.jobs_all j ON j.id = r.job_id "
                "WHERE j.kind = 'noop'"),
            600);
  // The pool really was shared: never more server sessions than its size
  // (plus the schedulers' direct LISTEN sessions and this test's own).
  EXPECT_LE(Int("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND query NOT LIKE 'LISTEN%' AND pid <> pg_backend_pid()"),
            kServerSessions);
  StopAndCheck(schedulers);
}

}  // namespace
}  // namespace chime::testing
