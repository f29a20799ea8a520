// Bearer tokens with scopes: the bootstrap secret is admin, a named token
// has its own scope, and the server answers 401 (no valid token), 403 (a
// scope too small, naming both) or 503 (the token store unreachable)
// before any handler runs.
#include "common/web/auth.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>

#include "common/web/server.h"
#include "tests/integration/cluster.h"  // HttpGet
#include "tests/support/fake_clock.h"

namespace chime::web {
namespace {

constexpr const char* kSecret = "bootstrap-secret-0123456789";

class FakeTokens final : public auth::TokenDirectory {
 public:
  Result<std::optional<auth::TokenRecord>> TokenFind(std::string_view name) override {
    if (down) return Fail(ErrorCode::kUnavailable, "database unreachable");
    std::lock_guard lock(mu);
    auto it = records.find(std::string(name));
    if (it == records.end()) return std::optional<auth::TokenRecord>{};
    return std::optional(it->second);
  }
  void TokenUsed(std::string_view) override {}

  std::string Add(const std::string& name, auth::Scope scope) {
    auto token = auth::ApiToken::Generate(name).value();
    std::lock_guard lock(mu);
    records[name] = auth::TokenRecord{.name = name, .scope = scope, .verifiers = token.Verifiers()};
    return token.text();
  }

  void Revoke(const std::string& name) {
    std::lock_guard lock(mu);
    records[name].revoked_at = std::chrono::system_clock::now();
  }

  std::mutex mu;
  std::map<std::string, auth::TokenRecord> records;  // Guarded by mu.
  std::atomic<bool> down{false};
};

TEST(BearerAuthTest, TheBootstrapSecretIsAdminAndANamedTokenHasItsScope) {
  FakeTokens tokens;
  const std::string dash = tokens.Add("dash", auth::Scope::kRead);
  BearerAuth auth(kSecret, &tokens);
  auto bootstrap = auth.Authenticate(std::string("Bearer ") + kSecret);
  ASSERT_TRUE(bootstrap.has_value());
  EXPECT_TRUE(bootstrap->bootstrap);
  EXPECT_EQ(bootstrap->scope, auth::Scope::kAdmin);
  auto named = auth.Authenticate("bearer " + dash);
  ASSERT_TRUE(named.has_value()) << named.error().message;
  EXPECT_EQ(named->name, "dash");
  EXPECT_EQ(named->scope, auth::Scope::kRead);
  auto denied = auth.Check("Bearer " + dash, auth::Scope::kOperate);
  ASSERT_FALSE(denied.has_value());
  EXPECT_EQ(denied.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(denied.error().message, "token 'dash' has scope read; this route needs operate");
}

TEST(BearerAuthTest, WithoutABootstrapSecretOnlyNamedTokensAuthenticate) {
  FakeTokens tokens;
  const std::string ci = tokens.Add("ci", auth::Scope::kOperate);
  BearerAuth auth("", &tokens);
  EXPECT_TRUE(auth.Authenticate("Bearer " + ci).has_value());
  EXPECT_FALSE(auth.Authenticate("Bearer ").has_value());
  EXPECT_EQ(auth.Authenticate(std::string("Bearer ") + kSecret).error().message, "wrong bearer token");
}

class ScopedRouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto [path, access] : {std::pair{"/read", Access::kRead}, std::pair{"/operate", Access::kOperate},
                                std::pair{"/admin", Access::kAdmin}}) {
      server_.Get(path, access, [this](const Request&) {
        ++handled_;
        return JsonResponse("{}");
      });
    }
    auto address = server_.Start();
    ASSERT_TRUE(address.has_value()) << address.error().message;
    address_ = *address;
  }

  int Status(const std::string& path, const std::string& token) {
    return chime::testing::HttpGet(address_, path, token).status;
  }

  FakeTokens tokens_;
  const std::string read_ = tokens_.Add("dash", auth::Scope::kRead);
  const std::string operate_ = tokens_.Add("ci", auth::Scope::kOperate);
  Server server_{ServerConfig{.listen = "127.0.0.1:0"}, std::make_shared<BearerAuth>(kSecret, &tokens_)};
  std::string address_;
  std::atomic<int> handled_{0};
};

TEST_F(ScopedRouteTest, EachTokenReachesTheRoutesItsScopeCovers) {
  EXPECT_EQ(Status("/read", read_), 200);
  EXPECT_EQ(Status("/operate", read_), 403);
  EXPECT_EQ(Status("/admin", read_), 403);
  EXPECT_EQ(Status("/read", operate_), 200);
  EXPECT_EQ(Status("/operate", operate_), 200);
  EXPECT_EQ(Status("/admin", operate_), 403);
  for (const char* path : {"/read", "/operate", "/admin"}) EXPECT_EQ(Status(path, kSecret), 200);
  EXPECT_EQ(handled_.load(), 6);
  const auto refused = chime::testing::HttpGet(address_, "/admin", read_);
  EXPECT_NE(refused.body.find("permission_denied"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("token 'dash' has scope read"), std::string::npos) << refused.body;
  EXPECT_EQ(refused.body.find(read_), std::string::npos);
}

TEST_F(ScopedRouteTest, NoForgedRevokedOrUncheckableTokenGetsThrough) {
  EXPECT_EQ(Status("/read", ""), 401);
  EXPECT_EQ(Status("/read", read_.substr(0, read_.size() - 1) + "B"), 401);
  EXPECT_EQ(Status("/read", "chime_nobody_" + std::string(43, 'A')), 401);
  tokens_.Revoke("dash");
  EXPECT_EQ(Status("/read", read_), 401);
  tokens_.down = true;
  EXPECT_EQ(Status("/read", operate_), 503);
  EXPECT_EQ(Status("/read", kSecret), 200) << "the bootstrap secret needs no store";
  EXPECT_EQ(handled_.load(), 1);
}

}  // namespace
}  // namespace chime::web
