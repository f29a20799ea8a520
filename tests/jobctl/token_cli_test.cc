// jobctl token create|list|revoke and whoami against the fake backend: the
// token is made here and printed once, only its verifiers go to the
// backend, and the flags are checked before anything is sent.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/auth/api_token.h"
#include "jobctl/exit_code.h"
#include "tests/jobctl/cli_harness.h"

namespace chime::jobctl {
namespace {

using std::chrono::hours;

class TokenCliTest : public test_support::CliTest {};

TEST_F(TokenCliTest, CreatePrintsTheTokenOnceAndSendsOnlyItsVerifiers) {
  ASSERT_EQ(Run({"token", "create", "ci", "--scope", "operate", "--expires", "30d"}), kExitOk) << err.str();
  const std::string printed = out.str();
  ASSERT_EQ(std::count(printed.begin(), printed.end(), '\n'), 1) << printed;
  auto token = auth::ApiToken::Parse(printed);
  ASSERT_TRUE(token.has_value()) << token.error().message;
  EXPECT_EQ(token->name(), "ci");
  ASSERT_EQ(fake.token_creates.size(), 1u);
  const auto& call = fake.token_creates[0];
  EXPECT_EQ(call.scope, auth::Scope::kOperate);
  EXPECT_EQ(call.expires_in, hours(24 * 30));
  // The backend got the printed token's verifiers, nothing it could sign with.
  EXPECT_TRUE(auth::SameDigest(call.verifiers.secret_sha256, token->Verifiers().secret_sha256));
  EXPECT_EQ(call.verifiers.signing_key, token->Verifiers().signing_key);
  // The note goes to stderr, without the token.
  EXPECT_NE(err.str().find("shown this once"), std::string::npos) << err.str();
  EXPECT_EQ(err.str().find(token->text()), std::string::npos);
}

TEST_F(TokenCliTest, CreateJsonHoldsTheTokenAndItsRow) {
  ASSERT_EQ(Run({"token", "create", "dash", "--scope", "read", "--json"}), kExitOk) << err.str();
  const auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["name"], "dash");
  EXPECT_EQ(j["scope"], "read");
  EXPECT_EQ(j["state"], "active");
  EXPECT_TRUE(j["expires_at"].is_null());
  ASSERT_TRUE(auth::ApiToken::Parse(j["token"].get<std::string>()).has_value());
}

TEST_F(TokenCliTest, BadFlagsAreRefusedBeforeAnythingIsSent) {
  EXPECT_EQ(Run({"token", "create", "ci", "--scope", "root"}), kExitUsage);
  EXPECT_NE(err.str().find("--scope: 'root' is not read, operate or admin"), std::string::npos) << err.str();
  EXPECT_EQ(Run({"token", "create", "has space", "--scope", "read"}), kExitUsage);
  EXPECT_NE(err.str().find("token name"), std::string::npos) << err.str();
  EXPECT_EQ(Run({"token", "create", "bootstrap", "--scope", "read"}), kExitUsage);
  EXPECT_EQ(Run({"token", "create", "ci", "--scope", "read", "--expires", "soon"}), kExitUsage);
  EXPECT_NE(err.str().find("--expires"), std::string::npos) << err.str();
  EXPECT_EQ(Run({"token", "create", "ci"}), kExitUsage);  // --scope is required.
  EXPECT_TRUE(fake.token_creates.empty());
  EXPECT_EQ(out.str(), "");
}

TEST_F(TokenCliTest, ListShowsStateAndTimesButNoSecret) {
  ASSERT_EQ(Run({"token", "create", "ci", "--scope", "operate"}), kExitOk);
  const std::string token = out.str();
  ASSERT_EQ(Run({"token", "create", "old", "--scope", "read", "--expires", "1h"}), kExitOk);
  fake.tokens["old"].expires_at = Now() - hours(1);
  ASSERT_EQ(Run({"token", "revoke", "ci"}), kExitOk) << err.str();
  EXPECT_NE(out.str().find("token 'ci' revoked"), std::string::npos) << out.str();
  ASSERT_EQ(Run({"token", "list"}), kExitOk) << err.str();
  EXPECT_NE(out.str().find("NAME"), std::string::npos);
  EXPECT_NE(out.str().find("revoked"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("expired"), std::string::npos) << out.str();
  EXPECT_EQ(out.str().find(token.substr(0, token.size() - 1)), std::string::npos);
  ASSERT_EQ(Run({"token", "list", "--json"}), kExitOk);
  const auto j = nlohmann::json::parse(out.str());
  ASSERT_EQ(j["tokens"].size(), 2u);
  EXPECT_EQ(j["tokens"][0]["name"], "ci");
  EXPECT_EQ(j["tokens"][0]["state"], "revoked");
  EXPECT_EQ(j["tokens"][1]["state"], "expired");
  EXPECT_FALSE(j["tokens"][0].contains("token"));
}

TEST_F(TokenCliTest, RevokingAnUnknownTokenIsNotFound) {
  EXPECT_EQ(Run({"token", "revoke", "nobody"}), kExitNotFound);
  EXPECT_NE(err.str().find("no token named 'nobody'"), std::string::npos) << err.str();
}

TEST_F(TokenCliTest, WhoamiNamesTheCredential) {
  fake.whoami = auth::Principal{.name = "ci", .scope = auth::Scope::kOperate};
  ASSERT_EQ(Run({"whoami"}), kExitOk) << err.str();
  EXPECT_EQ(out.str(), "token 'ci' (scope operate, expires -)\n");
  fake.whoami = auth::BootstrapPrincipal();
  ASSERT_EQ(Run({"whoami", "--json"}), kExitOk);
  const auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["scope"], "admin");
  EXPECT_EQ(j["bootstrap"], true);
}

TEST_F(TokenCliTest, TokenFileIsHandedToTheBackendAndTakesAValue) {
  ASSERT_EQ(Run({"whoami", "--token-file", "/run/secrets/ci-token"}), kExitOk) << err.str();
  EXPECT_EQ(backend_token_file, "/run/secrets/ci-token");
  ASSERT_EQ(Run({"--token-file", "/tmp/t", "token", "list"}), kExitOk) << err.str();
  EXPECT_EQ(backend_token_file, "/tmp/t");
}

TEST_F(TokenCliTest, APermissionDeniedErrorExitsWithSeven) {
  EXPECT_EQ(ExitCodeFor(ErrorCode::kPermissionDenied), 7);
  EXPECT_EQ(ExitCodeFor(ErrorCode::kUnauthenticated), 6);
}

}  // namespace
}  // namespace chime::jobctl
