// Scoped credentials at the scheduler's ROUTER, with real ZeroMQ sockets and
// a real PostgreSQL: each named token can do what its scope allows and is
// refused the rest with a clear error; tokens are created, listed and
// revoked over the wire (a revocation on this replica takes effect at
// once); the credential directory's cache, last-used bookkeeping and
// behaviour with the database unreachable.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "common/auth/api_token.h"
#include "common/auth/request_scopes.h"
#include "common/db/auth_store.h"
#include "common/db/migrations.h"
#include "common/wire/token_convert.h"
#include "scheduler/admin_service.h"
#include "scheduler/credential_directory.h"
#include "scheduler/http_api.h"
#include "scheduler/router_server.h"
#include "scheduler/token_cache.h"
#include "tests/support/fake_clock.h"
#include "tests/support/test_database.h"
#include "tests/support/zmq_peer.h"

namespace chime::scheduler {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr const char* kSecret = "scopes-test-secret-of-enough-length";

class AdminScopesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::default_logger();
    db::Connection conn(db::ConnectionConfig{.url = db_.url()});
    ASSERT_TRUE(db::MigrationsApply(conn).has_value());
    RouterConfig config;
    config.bind = "tcp://127.0.0.1:0";
    config.scheduler_id = "scopes-test";
    server_ = std::make_unique<RouterServer>(context_, config, SystemClock::Instance(), counters_,
                                             admin_, verifier_);
    auto endpoint = server_->Start();
    ASSERT_TRUE(endpoint.has_value()) << endpoint.error().ToString();
    endpoint_ = *endpoint;
  }
  void TearDown() override { server_->Stop(); }

  // A token stored straight in the database, as `jobctl token create` does.
  auth::ApiToken Token(const std::string& name, auth::Scope scope) {
    auto token = auth::ApiToken::Generate(name).value();
    db::Connection conn(db::ConnectionConfig{.url = db_.url()});
    db::AuthStore store(conn);
    EXPECT_TRUE(store.TokenCreate(wire::TokenCreateParamsFor(token, scope, std::nullopt, "database")));
    return token;
  }

  v1::AdminReply Send(const v1::AdminRequest& request, const wire::AdminCredential& credential) {
    testing::Peer jobctl(context_, endpoint_);
    v1::Envelope e;
    e.set_correlation_id(1);
    *e.mutable_admin_request() = wire::SignRequest(request, credential, std::chrono::system_clock::now());
    jobctl.Send(e);
    auto reply = jobctl.ReceiveBody(v1::Envelope::kAdminReply);
    EXPECT_TRUE(reply.has_value());
    return reply ? reply->admin_reply() : v1::AdminReply{};
  }

  int64_t Jobs() {
    pqxx::connection c(db_.url());
    pqxx::nontransaction tx(c);
    return tx.exec("SELECT count(*) FROM chime.jobs_all")[0][0].as<int64_t>();
  }

  static v1::AdminRequest Enqueue() {
    v1::AdminRequest r;
    r.mutable_enqueue()->set_kind("noop");
    return r;
  }
  static v1::AdminRequest List() {
    v1::AdminRequest r;
    r.mutable_list();
    return r;
  }

  chime::testing::TestDatabase db_;
  zmq::context_t context_;
  LiveCounters counters_;
  CredentialDirectory credentials_{db::ConnectionConfig{.url = db_.url()}, {}};
  wire::RequestVerifier verifier_{{.bootstrap = wire::AdminSecret::FromString(kSecret).value(),
                                   .tokens = &credentials_,
                                   .ledger = &credentials_},
                                  SystemClock::Instance()};
  AdminService admin_{db::ConnectionConfig{.url = db_.url()}, db::JobStoreConfig{}, counters_,
                      &credentials_};
  std::unique_ptr<RouterServer> server_;
  std::string endpoint_;
};

TEST_F(AdminScopesTest, AReadTokenReadsButCannotEnqueue) {
  const wire::AdminCredential dash(Token("dash", auth::Scope::kRead));
  EXPECT_TRUE(Send(List(), dash).has_list());
  const auto refused = Send(Enqueue(), dash);
  EXPECT_EQ(refused.error().code(), v1::PERMISSION_DENIED);
  EXPECT_EQ(refused.error().message(), "token 'dash' has scope read; enqueue needs admin");
  EXPECT_EQ(Jobs(), 0);
}

TEST_F(AdminScopesTest, AReadTokenListsLimitsButOnlyAnAdminSetsOrDeletesThem) {
  v1::AdminRequest set;
  set.mutable_limit_set()->set_name("provider-quota");
  set.mutable_limit_set()->set_concurrency(1);
  v1::AdminRequest list;
  list.mutable_limit_list();
  v1::AdminRequest del;
  del.mutable_limit_delete()->set_name("provider-quota");

  const wire::AdminCredential ci(Token("ci", auth::Scope::kOperate));
  const auto refused = Send(set, ci);
  EXPECT_EQ(refused.error().code(), v1::PERMISSION_DENIED);
  EXPECT_EQ(refused.error().message(), "token 'ci' has scope operate; limit set needs admin");
  const wire::AdminCredential admin(Token("ops", auth::Scope::kAdmin));
  ASSERT_TRUE(Send(set, admin).has_limit());

  const wire::AdminCredential dash(Token("dash", auth::Scope::kRead));
  const auto listed = Send(list, dash);
  ASSERT_TRUE(listed.has_limits()) << listed.DebugString();
  EXPECT_EQ(listed.limits().limits_size(), 1);
  EXPECT_EQ(Send(del, ci).error().message(), "token 'ci' has scope operate; limit delete needs admin");
  EXPECT_TRUE(Send(del, admin).has_limit_deleted());
}

TEST_F(AdminScopesTest, AnOperateTokenActsOnJobsButCannotMakeThem) {
  const wire::AdminCredential admin(wire::AdminSecret::FromString(kSecret).value());
  const auto enqueued = Send(Enqueue(), admin);
  ASSERT_TRUE(enqueued.has_enqueue()) << enqueued.DebugString();
  const int64_t id = enqueued.enqueue().job().id();

  const wire::AdminCredential ci(Token("ci", auth::Scope::kOperate));
  v1::AdminRequest cancel;
  cancel.mutable_cancel()->set_job_id(id);
  EXPECT_TRUE(Send(cancel, ci).has_cancel());
  v1::AdminRequest retry;
  retry.mutable_retry()->set_job_id(id);
  EXPECT_TRUE(Send(retry, ci).has_retry());
  v1::AdminRequest create;
  create.mutable_schedule_create()->set_name("nightly");
  create.mutable_schedule_create()->set_cron("0 2 * * *");
  create.mutable_schedule_create()->set_kind("noop");
  for (const auto& request : {Enqueue(), create}) {
    const auto refused = Send(request, ci);
    EXPECT_EQ(refused.error().code(), v1::PERMISSION_DENIED) << refused.DebugString();
    EXPECT_NE(refused.error().message().find("token 'ci' has scope operate"), std::string::npos);
  }
  v1::AdminRequest tokens;
  tokens.mutable_token_list();
  EXPECT_EQ(Send(tokens, ci).error().code(), v1::PERMISSION_DENIED);
  EXPECT_EQ(Jobs(), 1);
}

TEST_F(AdminScopesTest, TokensAreMadeListedAndRevokedOverTheWire) {
  const wire::AdminCredential bootstrap(wire::AdminSecret::FromString(kSecret).value());
  auto token = auth::ApiToken::Generate("deploy").value();
  v1::AdminRequest create;
  *create.mutable_token_create() = wire::TokenCreateRequestFor(token, auth::Scope::kAdmin, seconds(3600));
  const auto created = Send(create, bootstrap);
  ASSERT_TRUE(created.has_token()) << created.DebugString();
  EXPECT_EQ(created.token().created_by(), "bootstrap");
  EXPECT_TRUE(created.token().has_expires_at_ms());

  const wire::AdminCredential deploy(token);
  v1::AdminRequest whoami;
  whoami.mutable_whoami();
  const auto me = Send(whoami, deploy);
  EXPECT_EQ(me.whoami().name(), "deploy");
  EXPECT_EQ(me.whoami().scope(), "admin");
  EXPECT_FALSE(me.whoami().bootstrap());

  v1::AdminRequest list;
  list.mutable_token_list();
  const auto listed = Send(list, deploy);
  ASSERT_EQ(listed.tokens().tokens_size(), 1);
  EXPECT_EQ(listed.tokens().tokens(0).name(), "deploy");

  // Revoking itself: the very next request is refused (this replica
  // forgets its cached entry at once).
  v1::AdminRequest revoke;
  revoke.mutable_token_revoke()->set_name("deploy");
  ASSERT_TRUE(Send(revoke, deploy).has_token());
  const auto after = Send(whoami, deploy);
  EXPECT_EQ(after.error().code(), v1::UNAUTHENTICATED);
  EXPECT_NE(after.error().message().find("token 'deploy' was revoked"), std::string::npos);
}

TEST(CredentialDirectoryTest, ARevocationElsewhereIsSeenOnceTheCacheEntryIsOld) {
  chime::testing::TestDatabase db;
  db::Connection conn(db::ConnectionConfig{.url = db.url()});
  ASSERT_TRUE(db::MigrationsApply(conn).has_value());
  db::AuthStore store(conn);
  auto token = auth::ApiToken::Generate("ci").value();
  ASSERT_TRUE(store.TokenCreate(wire::TokenCreateParamsFor(token, auth::Scope::kRead, std::nullopt, "x")));
  chime::testing::FakeClock clock;
  CredentialDirectory directory(db::ConnectionConfig{.url = db.url()},
                                {.ttl = seconds(2), .touch_interval = seconds(60)}, clock);
  auto first = directory.TokenFind("ci");
  ASSERT_TRUE(first.has_value() && first->has_value());
  EXPECT_FALSE((*first)->revoked_at.has_value());
  ASSERT_TRUE(store.TokenRevoke("ci"));  // Another replica revokes it.
  EXPECT_FALSE(directory.TokenFind("ci").value()->revoked_at.has_value()) << "served from the cache";
  clock.Advance(seconds(2));
  EXPECT_TRUE(directory.TokenFind("ci").value()->revoked_at.has_value());

  // Last use: written once per interval however often the token is used.
  ASSERT_TRUE(store.TokenCreate(wire::TokenCreateParamsFor(auth::ApiToken::Generate("ops").value(),
                                                           auth::Scope::kOperate, std::nullopt, "x")));
  ASSERT_TRUE(directory.TokenFind("ops").has_value());
  directory.TokenUsed("ops");
  const auto used = store.TokenFind("ops").value()->last_used_at;
  ASSERT_TRUE(used.has_value());
  pqxx::connection c(db.url());
  pqxx::nontransaction(c).exec("UPDATE chime.api_tokens SET last_used_at = NULL WHERE name = 'ops'");
  directory.TokenUsed("ops");
  EXPECT_FALSE(store.TokenFind("ops").value()->last_used_at.has_value());
  clock.Advance(seconds(60));
  directory.TokenUsed("ops");
  EXPECT_TRUE(store.TokenFind("ops").value()->last_used_at.has_value());
}

TEST(CredentialDirectoryTest, AnUnreachableDatabaseRefusesEveryRequest) {
  CredentialDirectory directory(db::ConnectionConfig{.url = "postgresql://chime@127.0.0.1:1/none"}, {});
  auto found = directory.TokenFind("ci");
  ASSERT_FALSE(found.has_value());
  EXPECT_EQ(found.error().code, ErrorCode::kUnavailable);
  auto recorded = directory.NonceRecord(std::string(16, 'n'), std::chrono::system_clock::now());
  ASSERT_FALSE(recorded.has_value());
  EXPECT_EQ(recorded.error().code, ErrorCode::kUnavailable);
  // A correctly signed bootstrap request is refused, not accepted unchecked.
  wire::RequestVerifier verifier({.bootstrap = wire::AdminSecret::FromString(kSecret).value(),
                                  .tokens = &directory,
                                  .ledger = &directory},
                                 SystemClock::Instance());
  v1::AdminRequest list;
  list.mutable_list();
  auto r = verifier.Verify(
      wire::SignRequest(list, wire::AdminSecret::FromString(kSecret).value(), std::chrono::system_clock::now()));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

// The HTTP server's view of tokens: from memory (its event loop never waits
// on the database), reloaded on a timer or on request.
TEST(TokenCacheTest, AnswersFromMemoryAndSeesCreationsAndRevocationsOnReload) {
  chime::testing::TestDatabase db;
  db::Connection conn(db::ConnectionConfig{.url = db.url()});
  ASSERT_TRUE(db::MigrationsApply(conn).has_value());
  db::AuthStore store(conn);
  TokenCache cache(db::ConnectionConfig{.url = db.url()}, {.refresh = seconds(60), .stale_after = seconds(120)});
  auto before = cache.TokenFind("ci");
  ASSERT_FALSE(before.has_value()) << "nothing loaded yet: not judged on no data";
  EXPECT_EQ(before.error().code, ErrorCode::kUnavailable);
  cache.Start();
  cache.RefreshNow();
  ASSERT_TRUE(cache.TokenFind("ci").has_value());
  EXPECT_FALSE(cache.TokenFind("ci")->has_value());

  auto token = auth::ApiToken::Generate("ci").value();
  ASSERT_TRUE(store.TokenCreate(wire::TokenCreateParamsFor(token, auth::Scope::kOperate, std::nullopt, "x")));
  EXPECT_FALSE(cache.TokenFind("ci")->has_value()) << "created elsewhere: seen at the next load";
  cache.RefreshNow();
  auto found = cache.TokenFind("ci");
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_EQ((*found)->scope, auth::Scope::kOperate);
  EXPECT_EQ((*found)->verifiers.secret_sha256, token.Verifiers().secret_sha256);
  EXPECT_EQ((*found)->verifiers.signing_key, token.Verifiers().signing_key);

  ASSERT_TRUE(store.TokenRevoke("ci"));
  cache.RefreshNow();
  EXPECT_TRUE(cache.TokenFind("ci").value()->revoked_at.has_value());

  // Last use is written by the cache's own thread, off the request path.
  cache.TokenUsed("ci");
  cache.RefreshNow();
  EXPECT_TRUE(store.TokenFind("ci").value()->last_used_at.has_value());
  cache.Stop();
}

TEST(TokenCacheTest, AnUnreachableDatabaseMakesNamedTokensUnavailableNotAccepted) {
  chime::testing::FakeClock clock;
  TokenCache cache(db::ConnectionConfig{.url = "postgresql://chime@127.0.0.1:1/none"},
                   {.refresh = milliseconds(10), .stale_after = seconds(10)}, clock);
  cache.Start();
  cache.RefreshNow();
  auto found = cache.TokenFind("ci");
  ASSERT_FALSE(found.has_value());
  EXPECT_EQ(found.error().code, ErrorCode::kUnavailable);
  cache.Stop();
}

TEST(RouteScopeTest, EveryApiRouteTheSchedulerServesHasAScope) {
  int actions = 0;
  for (const ApiRouteName& route : ApiRoutes()) {
    const auth::HttpRouteScope* entry = auth::FindRouteScope(route.method, route.pattern);
    ASSERT_NE(entry, nullptr) << route.method << " " << route.pattern
                              << " needs an entry in common/auth/request_scopes.cc";
    // Reading needs read; every action (a POST) changes something and needs operate.
    const auth::Scope want = route.method == "GET" ? auth::Scope::kRead : auth::Scope::kOperate;
    EXPECT_EQ(entry->scope, want) << route.method << " " << route.pattern;
    EXPECT_EQ(RouteAccess(route.method, route.pattern),
              route.method == "GET" ? web::Access::kRead : web::Access::kOperate);
    if (route.method == "POST") ++actions;
  }
  EXPECT_EQ(actions, 7) << "retry, cancel, trigger, pause, resume; queue pause, resume";
  EXPECT_EQ(RouteAccess("GET", "/healthz"), web::Access::kOpen);
  EXPECT_EQ(RouteAccess("GET", "/chart.js"), web::Access::kOpen);
}

}  // namespace
}  // namespace chime::scheduler
