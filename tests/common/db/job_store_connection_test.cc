// Losing the database connection: calls fail with Unavailable, never crash,
// and the store reconnects (re-preparing its statements) once the backoff
// allows. The reconnect backoff runs on a fake clock, so nothing waits.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <pqxx/pqxx>

#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

using std::chrono::hours;

EnqueueParams OfKind(std::string kind) {
  EnqueueParams p;
  p.kind = std::move(kind);
  return p;
}

class JobStoreConnectionTest : public ::testing::Test {
 protected:
  JobStoreConnectionTest()
      : conn_(ConnectionConfig{.url = db_.url(),
                               .reconnect = BackoffPolicy{milliseconds(1), milliseconds(10), 0.0}},
              clock_) {}

  void SetUp() override {
    ASSERT_OK(MigrationsApply(conn_));
    store_ = std::make_unique<JobStore>(conn_, JobStoreConfig{}, &rng_);
  }

  // The server pid of the store's session.
  int BackendPid() {
    int pid = 0;
    auto ran = conn_.Run([&](pqxx::connection_base& c) {
      pqxx::nontransaction tx(c);
      pid = tx.exec("SELECT pg_backend_pid()")[0][0].as<int>();
    });
    EXPECT_TRUE(ran.has_value()) << ran.error().ToString();
    return pid;
  }

  // Terminates the store's backend from another session and waits until the
  // server has let it go (a condition, not a sleep).
  void KillStoreSession() {
    const int pid = BackendPid();
    ASSERT_GT(pid, 0);
    ASSERT_EQ(db_.Scalar("SELECT pg_terminate_backend(" + std::to_string(pid) + ")"), "t");
    for (int i = 0; i < 10'000; ++i) {
      if (db_.Scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = " + std::to_string(pid)) ==
          "0") {
        return;
      }
    }
    FAIL() << "backend " << pid << " did not exit";
  }

  // Calls `op` until it succeeds, moving the fake clock past the reconnect
  // backoff after each failure; every failure must be Unavailable.
  template <typename Op>
  void ExpectRecovers(Op op) {
    for (int i = 0; i < 5; ++i) {
      auto r = op();
      if (r.has_value()) return;
      EXPECT_EQ(r.error().code, ErrorCode::kUnavailable) << r.error().ToString();
      clock_.Advance(hours(1));
    }
    FAIL() << "the store did not recover after reconnecting";
  }

  FixedRng rng_{0.0};
  FakeClock clock_;
  chime::testing::TestDatabase db_;
  Connection conn_;
  std::unique_ptr<JobStore> store_;
};

TEST_F(JobStoreConnectionTest, ATerminatedSessionIsUnavailableThenReconnects) {
  ASSERT_OK(store_->JobInsert(OfKind("before")));
  ASSERT_NO_FATAL_FAILURE(KillStoreSession());

  // The first call notices the loss (or has already reconnected).
  auto first = store_->JobInsert(OfKind("during"));
  if (!first.has_value()) {
    EXPECT_EQ(first.error().code, ErrorCode::kUnavailable) << first.error().ToString();
    // Until the backoff allows a reconnect, calls fail fast.
    auto fast = store_->JobsStats();
    ASSERT_FALSE(fast.has_value());
    EXPECT_EQ(fast.error().code, ErrorCode::kUnavailable);
  }

  // The prepared statements come back with the new session.
  ExpectRecovers([&] { return store_->JobInsert(OfKind("after")); });
  EXPECT_TRUE(conn_.connected());
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM chime.jobs_all WHERE kind = 'after'"), "1");
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM chime.jobs_all WHERE kind = 'before'"), "1");
  ClaimParams cp;
  cp.worker_id = "w";
  cp.limit = 10;
  ASSERT_OK_AND_ASSIGN(auto claimed, store_->JobsClaim(cp));
  EXPECT_EQ(claimed.size(), first.has_value() ? 3u : 2u);
}

TEST_F(JobStoreConnectionTest, EveryKindOfCallSurvivesALostSession) {
  ASSERT_OK(store_->JobInsert(OfKind("seed")));
  ClaimParams cp;
  cp.worker_id = "w";
  ASSERT_OK_AND_ASSIGN(auto claimed, store_->JobsClaim(cp));
  ASSERT_EQ(claimed.size(), 1u);
  const Lease lease = claimed[0].lease;

  // One call of each shape: prepared, plain and in an explicit transaction.
  std::vector<std::pair<std::string, std::function<Result<void>()>>> calls{
      {"claim", [&]() -> Result<void> {
         auto r = store_->JobsClaim(cp);
         if (!r) return std::unexpected(r.error());
         return {};
       }},
      {"heartbeat", [&]() -> Result<void> {
         auto r = store_->JobsHeartbeat(std::vector<Lease>{lease}, milliseconds(60'000));
         if (!r) return std::unexpected(r.error());
         return {};
       }},
      {"rescue", [&]() -> Result<void> {
         auto r = store_->JobsRescue({});
         if (!r) return std::unexpected(r.error());
         return {};
       }},
      {"cancel", [&]() -> Result<void> {
         auto r = store_->JobCancel(lease.job_id);
         if (!r) return std::unexpected(r.error());
         return {};
       }},
      {"get", [&]() -> Result<void> {
         auto r = store_->JobGet(lease.job_id);
         if (!r) return std::unexpected(r.error());
         return {};
       }},
      {"list", [&]() -> Result<void> {
         auto r = store_->JobsList({});
         if (!r) return std::unexpected(r.error());
         return {};
       }},
      {"stats", [&]() -> Result<void> {
         auto r = store_->JobsStats();
         if (!r) return std::unexpected(r.error());
         return {};
       }},
      {"cleanup", [&]() -> Result<void> {
         auto r = store_->JobsCleanup({});
         if (!r) return std::unexpected(r.error());
         return {};
       }},
  };
  for (const auto& [name, call] : calls) {
    SCOPED_TRACE(name);
    ASSERT_NO_FATAL_FAILURE(KillStoreSession());
    auto r = call();
    if (!r.has_value()) {
      EXPECT_EQ(r.error().code, ErrorCode::kUnavailable) << r.error().ToString();
    }
    ExpectRecovers(call);
  }
  // The lease survived all of that: the job is still running under it.
  EXPECT_EQ(db_.Scalar("SELECT lease_token::text FROM chime.jobs_all WHERE id = " +
                       std::to_string(lease.job_id)),
            lease.token);
}

TEST(JobStoreUnreachableTest, AnUnreachableServerIsUnavailable) {
  // Port 1 on loopback: nothing listens there.
  Connection conn(ConnectionConfig{.url = "postgresql://chime:secret@127.0.0.1:1/none"
                                          "?connect_timeout=5"});
  auto connected = conn.Connect();
  ASSERT_FALSE(connected.has_value());
  EXPECT_EQ(connected.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(connected.error().message.find("secret"), std::string::npos)
      << connected.error().message;

  JobStore store(conn);
  auto r = store.JobInsert(OfKind("nowhere"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_FALSE(conn.connected());
}

TEST(JobStoreUnreachableTest, AMalformedUrlIsInvalidAndNeverQuotesItsPassword) {
  // libpq quotes the offending part of a bad URL in its own message.
  for (const std::string url :
       {"postgresql://chime:hunter2secret@127.0.0.1:5432/db?nonsense_option=hunter2secret",
        "postgresql://chime:hunter2secret@[::1/db", "host=x password=hunter2secret bogus"}) {
    SCOPED_TRACE(url);
    ConnectionConfig config{.url = url};
    auto valid = config.Validate();
    ASSERT_FALSE(valid.has_value());
    EXPECT_EQ(valid.error().code, ErrorCode::kInvalidArgument);
    EXPECT_TRUE(valid.error().message.starts_with("database url: ")) << valid.error().message;
    EXPECT_EQ(valid.error().message.find("hunter2secret"), std::string::npos)
        << valid.error().message;

    Connection conn(config);
    auto connected = conn.Connect();
    ASSERT_FALSE(connected.has_value());
    EXPECT_EQ(connected.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(connected.error().message.find("hunter2secret"), std::string::npos)
        << connected.error().message;
  }
}

TEST(RedactUrlTest, RemovesPasswordsFromUrlsKeyValueStringsAndMessages) {
  EXPECT_EQ(RedactUrl("postgresql://u:pw@h:5432/db"), "postgresql://u:***@h:5432/db");
  EXPECT_EQ(RedactUrl("host=h password='a b' user=u"), "host=h password=*** user=u");
  EXPECT_EQ(RedactUrl("bad URI \"postgres://u:pw@h\" here"), "bad URI \"postgres://u:***@h\" here");
  EXPECT_EQ(RedactUrl("postgresql://h/db?password=pw&x=1"), "postgresql://h/db?password=***&x=1");
}

TEST(SessionDefaultsTest, AddsKeepalivesAndTheProcessNameWhereTheUrlSetsNone) {
  EXPECT_EQ(WithSessionDefaults("postgresql://u:p'w@h:5432/db?application_name=x"),
            "user='u' password='p\\'w' dbname='db' host='h' port='5432' application_name='x' "
            "fallback_application_name='job_store_connection_test-" + std::to_string(getpid()) + "' "
            "keepalives='1' keepalives_idle='10' keepalives_interval='5' keepalives_count='3' "
            "tcp_user_timeout='30000'");
  // The URL's own settings win.
  const std::string own = WithSessionDefaults("host=h keepalives_idle=60 tcp_user_timeout=0");
  EXPECT_NE(own.find("keepalives_idle='60'"), std::string::npos) << own;
  EXPECT_NE(own.find("tcp_user_timeout='0'"), std::string::npos) << own;
  EXPECT_EQ(own.find("keepalives_idle='10'"), std::string::npos) << own;
  // Unparsable: unchanged, so that Validate() names the problem.
  EXPECT_EQ(WithSessionDefaults("postgresql://h/db?nosuch=1"), "postgresql://h/db?nosuch=1");
}

TEST_F(JobStoreConnectionTest, SessionsGetKeepalivesAndAnIdleInTransactionTimeout) {
  std::string idle_timeout, server_idle;
  int client_idle = -1, client_count = -1;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    idle_timeout = tx.exec("SHOW idle_in_transaction_session_timeout")[0][0].c_str();
    server_idle = tx.exec("SHOW tcp_keepalives_idle")[0][0].c_str();
    socklen_t size = sizeof(int);
    getsockopt(c.sock(), IPPROTO_TCP, TCP_KEEPIDLE, &client_idle, &size);
    size = sizeof(int);
    getsockopt(c.sock(), IPPROTO_TCP, TCP_KEEPCNT, &client_count, &size);
  });
  ASSERT_TRUE(ran.has_value()) << ran.error().ToString();
  EXPECT_EQ(idle_timeout, "1min");
  EXPECT_EQ(server_idle, "10");
  // libpq set the client socket's probes (the test server is on loopback TCP).
  EXPECT_EQ(client_idle, 10);
  EXPECT_EQ(client_count, 3);
}

// Through a transaction pooler a session keeps nothing between transactions:
// no named statements, no settings (they would stay on a server session the
// pooler hands to other clients). The hot path still works, by statement text.
TEST_F(JobStoreConnectionTest, APooledConnectionLeavesNoSessionState) {
  Connection pooled(ConnectionConfig{.url = db_.url(), .pooled = true});
  JobStore store(pooled);
  auto enqueued = store.JobInsert(OfKind("pooled"));
  ASSERT_TRUE(enqueued.has_value()) << enqueued.error().ToString();
  auto claimed = store.JobsClaim({.worker_id = "w", .queues = {"default"}, .limit = 1});
  ASSERT_TRUE(claimed.has_value()) << claimed.error().ToString();
  ASSERT_EQ(claimed->size(), 1u);
  std::string statements, idle_timeout;
  auto ran = pooled.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    statements = tx.exec("SELECT count(*) FROM pg_prepared_statements")[0][0].c_str();
    idle_timeout = tx.exec("SHOW idle_in_transaction_session_timeout")[0][0].c_str();
  });
  ASSERT_TRUE(ran.has_value()) << ran.error().ToString();
  EXPECT_EQ(statements, "0");
  EXPECT_EQ(idle_timeout, "0");  // The server's default: nothing was SET.
}

TEST(PoolerSettingsTest, ParsesModesAndRefusesOthersWithoutEchoingUrls) {
  EXPECT_EQ(ParsePooler("transaction"), true);
  EXPECT_EQ(ParsePooler("session"), false);
  EXPECT_EQ(ParsePooler("none"), false);
  EXPECT_EQ(ParsePooler(""), false);
  auto bad = ParsePooler("statement");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("CHIME_DATABASE_POOLER"), std::string::npos);

  ConnectionConfig config{.url = "postgresql://u:pw@pooler:6432/db"};
  ASSERT_TRUE(ApplyPoolerSettings(config, "transaction", "postgresql://u:pw@db:5432/db").has_value());
  EXPECT_TRUE(config.pooled);
  EXPECT_TRUE(config.CanListen());
  const ConnectionConfig listen = config.ForListen();
  EXPECT_EQ(listen.url, "postgresql://u:pw@db:5432/db");
  EXPECT_FALSE(listen.pooled);

  ConnectionConfig no_listen{.url = "postgresql://pooler/db"};
  ASSERT_TRUE(ApplyPoolerSettings(no_listen, "transaction", "").has_value());
  EXPECT_FALSE(no_listen.CanListen());
  ConnectionConfig bad_listen{.url = "postgresql://pooler/db"};
  auto refused = ApplyPoolerSettings(bad_listen, "transaction", "postgresql://u:secretpw@db/x?bogus=1");
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("database listen url"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(refused.error().message.find("secretpw"), std::string::npos) << refused.error().message;
}

}  // namespace
}  // namespace chime::db::testing
