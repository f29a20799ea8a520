// Tokens and admin nonces against a real PostgreSQL: a token row holds its
// verifiers and times, never a secret; a live name is taken, a revoked or
// expired one may be reused; a nonce is recorded once and expired ones are
// pruned in bounded batches; workers can read neither table.
#include "common/db/auth_store.h"

#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

TokenCreateParams TokenParams(const std::string& name, const std::string& scope = "operate",
                         char fill = 'a') {
  return TokenCreateParams{.name = name,
                           .scope = scope,
                           .secret_sha256 = std::string(32, fill),
                           .signing_key = std::string(32, static_cast<char>(fill + 1)),
                           .created_by = "bootstrap"};
}

class AuthStoreTest : public JobStoreTestBase {
 protected:
  AuthStore auth_{conn_};
};

TEST_F(AuthStoreTest, ACreatedTokenIsFoundWithItsVerifiersAndListedWithout) {
  auto p = TokenParams("ci");
  p.expires_in = hours(24);
  ASSERT_OK_AND_ASSIGN(ApiTokenRow created, auth_.TokenCreate(p));
  EXPECT_EQ(created.name, "ci");
  EXPECT_EQ(created.scope, "operate");
  EXPECT_EQ(created.created_by, "bootstrap");
  ASSERT_TRUE(created.expires_at.has_value());
  EXPECT_EQ(std::chrono::duration_cast<hours>(*created.expires_at - created.created_at), hours(24));
  EXPECT_FALSE(created.last_used_at || created.revoked_at);

  ASSERT_OK_AND_ASSIGN(std::optional<ApiTokenRow> found, auth_.TokenFind("ci"));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->secret_sha256, std::string(32, 'a'));
  EXPECT_EQ(found->signing_key, std::string(32, 'b'));
  ASSERT_OK_AND_ASSIGN(std::optional<ApiTokenRow> none, auth_.TokenFind("nobody"));
  EXPECT_FALSE(none.has_value());

  ASSERT_OK_AND_ASSIGN(std::vector<ApiTokenRow> list, auth_.TokensList());
  ASSERT_EQ(list.size(), 1u);
  EXPECT_TRUE(list[0].secret_sha256.empty() && list[0].signing_key.empty());
}

TEST_F(AuthStoreTest, ALiveNameIsTakenARevokedOrExpiredOneIsReplaced) {
  ASSERT_OK(auth_.TokenCreate(TokenParams("ci")));
  auto taken = auth_.TokenCreate(TokenParams("ci", "admin", 'x'));
  ASSERT_FALSE(taken.has_value());
  EXPECT_EQ(taken.error().code, ErrorCode::kAlreadyExists);
  EXPECT_NE(taken.error().message.find("revoke it first"), std::string::npos);

  ASSERT_OK_AND_ASSIGN(ApiTokenRow revoked, auth_.TokenRevoke("ci"));
  ASSERT_TRUE(revoked.revoked_at.has_value());
  // Revoking again changes nothing, not even the time.
  ASSERT_OK_AND_ASSIGN(ApiTokenRow again, auth_.TokenRevoke("ci"));
  EXPECT_EQ(again.revoked_at, revoked.revoked_at);
  ASSERT_OK_AND_ASSIGN(ApiTokenRow replaced, auth_.TokenCreate(TokenParams("ci", "admin", 'x')));
  EXPECT_EQ(replaced.scope, "admin");
  EXPECT_FALSE(replaced.revoked_at.has_value());
  ASSERT_OK_AND_ASSIGN(std::optional<ApiTokenRow> found, auth_.TokenFind("ci"));
  EXPECT_EQ(found->secret_sha256, std::string(32, 'x'));

  ASSERT_OK(auth_.TokenCreate(TokenParams("temp")));
  sql_.Exec("UPDATE chime.api_tokens SET expires_at = now() - interval '1 second' WHERE name = 'temp'");
  EXPECT_TRUE(auth_.TokenCreate(TokenParams("temp", "read")).has_value());
}

TEST_F(AuthStoreTest, BadParametersAreNamedAndNothingIsStored) {
  auto bad_scope = TokenParams("ci", "root");
  auto short_key = TokenParams("ci");
  short_key.signing_key = "short";
  auto nul_name = TokenParams(std::string("ci\0x", 4));
  auto bootstrap = TokenParams("bootstrap");
  auto past = TokenParams("ci");
  past.expires_in = minutes(-1);
  for (const auto& p : {bad_scope, short_key, nul_name, bootstrap, past}) {
    auto r = auth_.TokenCreate(p);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().ToString();
  }
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.api_tokens"), 0);
  EXPECT_EQ(auth_.TokenRevoke("nobody").error().code, ErrorCode::kNotFound);
  // "ci\0x" would reach libpq as "ci": refused before SQL.
  ASSERT_OK(auth_.TokenCreate(TokenParams("ci")));
  EXPECT_EQ(auth_.TokenRevoke(std::string("ci\0x", 4)).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.api_tokens WHERE revoked_at IS NOT NULL"), 0);
}

TEST_F(AuthStoreTest, TouchRecordsTheLastUse) {
  ASSERT_OK(auth_.TokenCreate(TokenParams("ci")));
  ASSERT_OK(auth_.TokenTouch("ci"));
  ASSERT_OK_AND_ASSIGN(std::optional<ApiTokenRow> found, auth_.TokenFind("ci"));
  EXPECT_TRUE(found->last_used_at.has_value());
}

TEST_F(AuthStoreTest, ANonceIsRecordedOnceAndExpiredOnesArePrunedInBatches) {
  const auto later = std::chrono::system_clock::now() + minutes(10);
  ASSERT_OK_AND_ASSIGN(bool first, auth_.NonceRecord(std::string(16, '\x01'), later));
  EXPECT_TRUE(first);
  ASSERT_OK_AND_ASSIGN(bool replay, auth_.NonceRecord(std::string(16, '\x01'), later));
  EXPECT_FALSE(replay);
  // 25 expired nonces (any bytes, NUL included) and the live one.
  const auto past = std::chrono::system_clock::now() - minutes(1);
  for (int i = 0; i < 25; ++i) {
    std::string nonce(16, '\0');
    nonce[15] = static_cast<char>(i + 2);
    ASSERT_OK_AND_ASSIGN(bool fresh, auth_.NonceRecord(nonce, past));
    EXPECT_TRUE(fresh);
  }
  ASSERT_OK_AND_ASSIGN(int64_t pruned, auth_.NoncesPrune(10));
  EXPECT_EQ(pruned, 10);
  ASSERT_OK_AND_ASSIGN(pruned, auth_.NoncesPrune(100));
  EXPECT_EQ(pruned, 15);
  ASSERT_OK_AND_ASSIGN(pruned, auth_.NoncesPrune(100));
  EXPECT_EQ(pruned, 0);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.admin_nonces"), 1);
  EXPECT_FALSE(auth_.NoncesPrune(0).has_value());
  EXPECT_FALSE(auth_.NonceRecord("", later).has_value());
}

TEST_F(AuthStoreTest, SchedulersUseBothTablesWorkersNeither) {
  ASSERT_OK(auth_.TokenCreate(TokenParams("ci")));
  {
    Connection conn(ConnectionConfig{.url = db_.UrlAsRole("chime_scheduler")});
    AuthStore scheduler(conn);
    ASSERT_OK(scheduler.TokenFind("ci"));
    ASSERT_OK(scheduler.TokenTouch("ci"));
    ASSERT_OK(scheduler.TokenCreate(TokenParams("made-by-scheduler")));
    ASSERT_OK(scheduler.TokenRevoke("made-by-scheduler"));
    ASSERT_OK(scheduler.NonceRecord(std::string(16, 'n'), std::chrono::system_clock::now()));
    ASSERT_OK(scheduler.NoncesPrune(10));
  }
  Connection conn(ConnectionConfig{.url = db_.UrlAsRole("chime_worker")});
  AuthStore worker(conn);
  EXPECT_EQ(worker.TokenFind("ci").error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(worker.TokensList().error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(worker.TokenCreate(TokenParams("evil", "admin")).error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(worker.NonceRecord(std::string(16, 'w'), std::chrono::system_clock::now()).error().code,
            ErrorCode::kUnauthenticated);
}

}  // namespace
}  // namespace chime::db::testing
