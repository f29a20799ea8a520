// Checking a presented token against the directory: the secret (or the
// signature) first, then revocation and expiry; the directory's outage is
// Unavailable, never an acceptance.
#include "common/auth/token_authenticator.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/support/fake_clock.h"

namespace chime::auth {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

class FakeDirectory final : public TokenDirectory {
 public:
  Result<std::optional<TokenRecord>> TokenFind(std::string_view name) override {
    ++finds;
    if (down) return Fail(ErrorCode::kUnavailable, "database unreachable");
    auto it = records.find(std::string(name));
    if (it == records.end()) return std::optional<TokenRecord>{};
    return std::optional(it->second);
  }
  void TokenUsed(std::string_view name) override { used.emplace_back(name); }

  std::map<std::string, TokenRecord> records;
  std::vector<std::string> used;
  bool down = false;
  int finds = 0;
};

class TokenAuthenticatorTest : public ::testing::Test {
 protected:
  ApiToken Store(const std::string& name, Scope scope) {
    auto token = ApiToken::Generate(name).value();
    directory_.records[name] = TokenRecord{.name = name, .scope = scope, .verifiers = token.Verifiers()};
    return token;
  }

  chime::testing::FakeClock clock_;
  FakeDirectory directory_;
  TokenAuthenticator auth_{directory_, clock_};
};

TEST_F(TokenAuthenticatorTest, AStoredTokenAuthenticatesWithItsScope) {
  auto token = Store("ci", Scope::kOperate);
  auto who = auth_.CheckBearer(token);
  ASSERT_TRUE(who.has_value()) << who.error().message;
  EXPECT_EQ(who->name, "ci");
  EXPECT_EQ(who->scope, Scope::kOperate);
  EXPECT_FALSE(who->bootstrap);
  EXPECT_EQ(directory_.used, std::vector<std::string>{"ci"});
}

TEST_F(TokenAuthenticatorTest, AWrongSecretOrUnknownNameSaysNoMore) {
  Store("ci", Scope::kAdmin);
  auto impostor = ApiToken::Generate("ci").value();  // Same name, other secret.
  auto unknown = ApiToken::Generate("nobody").value();
  for (const auto& t : {impostor, unknown}) {
    auto who = auth_.CheckBearer(t);
    ASSERT_FALSE(who.has_value());
    EXPECT_EQ(who.error().code, ErrorCode::kUnauthenticated);
    EXPECT_EQ(who.error().message, "unknown token or wrong secret");
  }
  EXPECT_TRUE(directory_.used.empty());
}

TEST_F(TokenAuthenticatorTest, RevokedAndExpiredTokensAreRefusedByName) {
  auto revoked = Store("old", Scope::kAdmin);
  directory_.records["old"].revoked_at = clock_.WallNow() - hours(1);
  auto expiring = Store("temp", Scope::kRead);
  directory_.records["temp"].expires_at = clock_.WallNow() + seconds(10);
  EXPECT_EQ(auth_.CheckBearer(revoked).error().message, "token 'old' was revoked");
  EXPECT_TRUE(auth_.CheckBearer(expiring).has_value());
  clock_.Advance(seconds(10));
  auto expired = auth_.CheckBearer(expiring);
  ASSERT_FALSE(expired.has_value());
  EXPECT_NE(expired.error().message.find("token 'temp' expired at"), std::string::npos);
}

TEST_F(TokenAuthenticatorTest, ASignatureChecksAgainstTheStoredPublicKey) {
  auto token = Store("ci", Scope::kOperate);
  const std::string sig = token.Sign("request bytes");
  auto who = auth_.CheckSignature("ci", "request bytes", sig);
  ASSERT_TRUE(who.has_value()) << who.error().message;
  EXPECT_EQ(who->scope, Scope::kOperate);
  auto other = ApiToken::Generate("ci").value();
  EXPECT_FALSE(auth_.CheckSignature("ci", "request bytes", other.Sign("request bytes")));
  EXPECT_FALSE(auth_.CheckSignature("ci", "other bytes", sig));
  EXPECT_FALSE(auth_.CheckSignature("nobody", "request bytes", sig));
  auto bad_name = auth_.CheckSignature("bad name", "request bytes", sig);
  ASSERT_FALSE(bad_name.has_value());
  EXPECT_EQ(directory_.finds, 4) << "a malformed name must not reach the directory";
}

TEST_F(TokenAuthenticatorTest, AnUnreachableDirectoryIsUnavailableNotAccepted) {
  auto token = Store("ci", Scope::kAdmin);
  directory_.down = true;
  auto who = auth_.CheckBearer(token);
  ASSERT_FALSE(who.has_value());
  EXPECT_EQ(who.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(auth_.CheckSignature("ci", "m", token.Sign("m")).error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace chime::auth
