// Admin signatures: only the right secret or named token, within five
// minutes, once in the whole cluster (the nonce ledger).
#include "common/wire/signing.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include <map>
#include <set>

#include "tests/support/fake_clock.h"

namespace chime::wire {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

AdminSecret Secret(std::string s) { return AdminSecret::FromString(std::move(s)).value(); }

v1::AdminRequest ShowJob(int64_t id) {
  v1::AdminRequest r;
  r.mutable_show()->set_job_id(id);
  return r;
}

class SigningTest : public ::testing::Test {
 protected:
  chime::testing::FakeClock clock_;
  RequestVerifier verifier_{Secret("correct horse battery staple"), clock_};
};

TEST_F(SigningTest, AcceptsARequestSignedWithTheSecret) {
  auto signed_request = SignRequest(ShowJob(7), Secret("correct horse battery staple"),
                                    clock_.WallNow());
  auto r = verifier_.Verify(signed_request);
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->request.show().job_id(), 7);
  EXPECT_TRUE(r->principal.bootstrap);
  EXPECT_EQ(r->principal.scope, auth::Scope::kAdmin);
}

TEST_F(SigningTest, RefusesAWrongSecret) {
  auto r = verifier_.Verify(SignRequest(ShowJob(7), Secret("wrong horse battery staple"),
                                        clock_.WallNow()));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  EXPECT_NE(r.error().message.find("signature does not match"), std::string::npos);
  EXPECT_EQ(r.error().message.find("horse"), std::string::npos) << "secret leaked";
}

TEST_F(SigningTest, RefusesATamperedBodyTimestampOrNonce) {
  const auto good = SignRequest(ShowJob(7), Secret("correct horse battery staple"),
                                clock_.WallNow());
  auto body = good;
  body.set_body(ShowJob(8).SerializeAsString());
  auto time = good;
  time.set_timestamp_ms(good.timestamp_ms() + 1);
  auto nonce = good;
  nonce.mutable_nonce()->at(0) ^= 1;
  auto signature = good;
  signature.mutable_signature()->at(31) ^= 1;
  for (const auto& bad : {body, time, nonce, signature}) {
    auto r = verifier_.Verify(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  }
}

// What a hand-rolled client or an attacker sends: a signature of the right
// length that is wrong, the right one with a newline a shell or file added,
// or the right one cut short. Each is refused, none echoed.
TEST_F(SigningTest, RefusesSameLengthTrailingNewlineAndTruncatedSignatures) {
  const auto good = SignRequest(ShowJob(7), Secret("correct horse battery staple"),
                                clock_.WallNow());
  auto same_length = good;
  same_length.set_signature(std::string(good.signature().size(), '\0'));
  auto newline = good;
  newline.mutable_signature()->push_back('\n');
  auto truncated = good;
  truncated.mutable_signature()->pop_back();
  for (const auto& bad : {same_length, newline, truncated}) {
    auto r = verifier_.Verify(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
    EXPECT_EQ(r.error().message.find(bad.signature()), std::string::npos);
  }
  // The good one still verifies: none of the above used up its nonce.
  EXPECT_TRUE(verifier_.Verify(good).has_value());
}

TEST_F(SigningTest, RefusesAMissingSignature) {
  auto unsigned_request = SignRequest(ShowJob(7), Secret("correct horse battery staple"),
                                      clock_.WallNow());
  unsigned_request.clear_signature();
  auto r = verifier_.Verify(unsigned_request);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
}

TEST_F(SigningTest, RefusesMoreThanFiveMinutesOfSkewEitherWay) {
  const auto secret = Secret("correct horse battery staple");
  for (auto offset : {minutes(5) + seconds(1), -(minutes(5) + seconds(1))}) {
    auto r = verifier_.Verify(SignRequest(ShowJob(1), secret, clock_.WallNow() + offset));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
    EXPECT_NE(r.error().message.find("from the scheduler's clock"), std::string::npos);
  }
  for (auto offset : {minutes(5) - seconds(1), -(minutes(5) - seconds(1))}) {
    EXPECT_TRUE(verifier_.Verify(SignRequest(ShowJob(1), secret, clock_.WallNow() + offset)));
  }
}

TEST_F(SigningTest, RefusesAReplayedNonceWithinTheWindow) {
  const auto once = SignRequest(ShowJob(7), Secret("correct horse battery staple"),
                                clock_.WallNow());
  ASSERT_TRUE(verifier_.Verify(once).has_value());
  clock_.Advance(minutes(4));
  auto again = verifier_.Verify(once);
  ASSERT_FALSE(again.has_value());
  EXPECT_NE(again.error().message.find("replay"), std::string::npos);
  // Past the window the timestamp alone refuses it.
  clock_.Advance(minutes(2));
  EXPECT_FALSE(verifier_.Verify(once).has_value());
}

TEST_F(SigningTest, ForgetsNoncesOnlyOnceTheyCanNoLongerVerify) {
  chime::testing::FakeClock clock;
  RequestVerifier small(Secret("correct horse battery staple"), clock, /*max_nonces=*/2);
  const auto secret = Secret("correct horse battery staple");
  ASSERT_TRUE(small.Verify(SignRequest(ShowJob(1), secret, clock.WallNow())));
  ASSERT_TRUE(small.Verify(SignRequest(ShowJob(2), secret, clock.WallNow())));
  auto full = small.Verify(SignRequest(ShowJob(3), secret, clock.WallNow()));
  ASSERT_FALSE(full.has_value());
  EXPECT_EQ(full.error().code, ErrorCode::kUnavailable);
  clock.Advance(minutes(5) + seconds(1));
  EXPECT_TRUE(small.Verify(SignRequest(ShowJob(4), secret, clock.WallNow())));
}

TEST_F(SigningTest, RefusesABodyThatIsNotARequest) {
  const auto secret = Secret("correct horse battery staple");
  // Signed with the right secret, but no command in it.
  v1::AdminRequest empty;
  auto blank = SignRequest(empty, secret, clock_.WallNow());
  auto r = verifier_.Verify(blank);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

// The cluster's tokens and nonce record, as the scheduler's
// CredentialDirectory gives them, in memory.
class FakeCluster final : public auth::TokenDirectory, public NonceLedger {
 public:
  Result<std::optional<auth::TokenRecord>> TokenFind(std::string_view name) override {
    if (down) return Fail(ErrorCode::kUnavailable, "database unreachable");
    auto it = tokens.find(std::string(name));
    if (it == tokens.end()) return std::optional<auth::TokenRecord>{};
    return std::optional(it->second);
  }
  void TokenUsed(std::string_view) override {}
  Result<bool> NonceRecord(std::string_view nonce, std::chrono::system_clock::time_point expires_at) override {
    ++records;
    if (down) return Fail(ErrorCode::kUnavailable, "database unreachable");
    last_expiry = expires_at;
    return nonces.insert(std::string(nonce)).second;
  }

  auth::ApiToken Add(const std::string& name, auth::Scope scope) {
    auto token = auth::ApiToken::Generate(name).value();
    tokens[name] = auth::TokenRecord{.name = name, .scope = scope, .verifiers = token.Verifiers()};
    return token;
  }

  std::map<std::string, auth::TokenRecord> tokens;
  std::set<std::string> nonces;
  std::chrono::system_clock::time_point last_expiry;
  bool down = false;
  int records = 0;
};

class ClusterSigningTest : public ::testing::Test {
 protected:
  RequestVerifier Replica() {
    return RequestVerifier({.bootstrap = Secret("correct horse battery staple"), .tokens = &cluster_,
                            .ledger = &cluster_},
                           clock_);
  }

  chime::testing::FakeClock clock_;
  FakeCluster cluster_;
};

TEST_F(ClusterSigningTest, ANamedTokenSignsAndItsScopeComesBack) {
  auto token = cluster_.Add("ci", auth::Scope::kOperate);
  auto replica = Replica();
  auto r = replica.Verify(SignRequest(ShowJob(7), AdminCredential(token), clock_.WallNow()));
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->request.show().job_id(), 7);
  EXPECT_EQ(r->principal.name, "ci");
  EXPECT_EQ(r->principal.scope, auth::Scope::kOperate);
  EXPECT_FALSE(r->principal.bootstrap);
}

TEST_F(ClusterSigningTest, AForgedOrTamperedTokenSignatureIsRefused) {
  auto token = cluster_.Add("ci", auth::Scope::kAdmin);
  auto impostor = auth::ApiToken::Generate("ci").value();  // Same name, other secret.
  auto replica = Replica();
  auto good = SignRequest(ShowJob(7), AdminCredential(token), clock_.WallNow());
  auto body = good;
  body.set_body(ShowJob(8).SerializeAsString());
  auto renamed = good;
  cluster_.Add("other", auth::Scope::kAdmin);
  renamed.set_token_name("other");
  for (const auto& bad : {SignRequest(ShowJob(7), AdminCredential(impostor), clock_.WallNow()), body, renamed}) {
    auto r = replica.Verify(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
    EXPECT_NE(r.error().message.find("signature does not match"), std::string::npos) << r.error().message;
  }
  EXPECT_TRUE(replica.Verify(good).has_value());
}

TEST_F(ClusterSigningTest, ARevokedTokenIsRefused) {
  auto token = cluster_.Add("ci", auth::Scope::kAdmin);
  cluster_.tokens["ci"].revoked_at = clock_.WallNow();
  auto r = Replica().Verify(SignRequest(ShowJob(7), AdminCredential(token), clock_.WallNow()));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
  EXPECT_NE(r.error().message.find("token 'ci' was revoked"), std::string::npos);
}

TEST_F(ClusterSigningTest, ARequestAcceptedByOneReplicaIsAReplayForAnother) {
  auto a = Replica();
  auto b = Replica();
  auto token = cluster_.Add("ci", auth::Scope::kAdmin);
  for (const auto& once : {SignRequest(ShowJob(7), Secret("correct horse battery staple"), clock_.WallNow()),
                           SignRequest(ShowJob(7), AdminCredential(token), clock_.WallNow())}) {
    ASSERT_TRUE(a.Verify(once).has_value());
    auto replay = b.Verify(once);
    ASSERT_FALSE(replay.has_value());
    EXPECT_EQ(replay.error().code, ErrorCode::kUnauthenticated);
    EXPECT_NE(replay.error().message.find("replay"), std::string::npos);
    // A restarted replica has no memory but the same ledger.
    auto restarted = Replica();
    EXPECT_FALSE(restarted.Verify(once).has_value());
  }
  // The nonce is kept until no replica could take its timestamp any more.
  EXPECT_EQ(cluster_.last_expiry, clock_.WallNow() + RequestVerifier::kNonceRetention);
}

TEST_F(ClusterSigningTest, MemoryFiltersAReplayBeforeTheLedger) {
  auto a = Replica();
  const auto once = SignRequest(ShowJob(7), Secret("correct horse battery staple"), clock_.WallNow());
  ASSERT_TRUE(a.Verify(once).has_value());
  EXPECT_FALSE(a.Verify(once).has_value());
  EXPECT_EQ(cluster_.records, 1);
}

TEST_F(ClusterSigningTest, WithoutTheLedgerARequestIsRefusedNotAcceptedUnchecked) {
  auto a = Replica();
  const auto request = SignRequest(ShowJob(7), Secret("correct horse battery staple"), clock_.WallNow());
  cluster_.down = true;
  auto r = a.Verify(request);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("retry later"), std::string::npos);
  // Nothing was accepted, so nothing is remembered: once the database is
  // back the same request goes through once.
  cluster_.down = false;
  EXPECT_TRUE(a.Verify(request).has_value());
  EXPECT_FALSE(a.Verify(request).has_value());
  // A named token cannot even be looked up while the database is down.
  auto token = cluster_.Add("ci", auth::Scope::kAdmin);
  cluster_.down = true;
  auto t = a.Verify(SignRequest(ShowJob(7), AdminCredential(token), clock_.WallNow()));
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().code, ErrorCode::kUnavailable);
}

TEST_F(ClusterSigningTest, EachCredentialNeedsItsSource) {
  auto token = cluster_.Add("ci", auth::Scope::kAdmin);
  RequestVerifier tokens_only({.tokens = &cluster_, .ledger = &cluster_}, clock_);
  auto bootstrap = tokens_only.Verify(
      SignRequest(ShowJob(7), Secret("correct horse battery staple"), clock_.WallNow()));
  ASSERT_FALSE(bootstrap.has_value());
  EXPECT_NE(bootstrap.error().message.find("named tokens only"), std::string::npos);
  EXPECT_TRUE(tokens_only.Verify(SignRequest(ShowJob(7), AdminCredential(token), clock_.WallNow())));
  RequestVerifier secret_only(Secret("correct horse battery staple"), clock_);
  EXPECT_FALSE(secret_only.Verify(SignRequest(ShowJob(7), AdminCredential(token), clock_.WallNow())));
}

class SecretEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"CHIME_ADMIN_SECRET", "CHIME_ADMIN_SECRET_FILE", "CHIME_TOKEN", "CHIME_TOKEN_FILE"}) {
      unsetenv(name);
    }
  }
  void TearDown() override { SetUp(); }
};

TEST_F(SecretEnvTest, RefusesNoSecretBothSourcesAndShortSecrets) {
  auto none = AdminSecret::FromEnvironment();
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message.find("not configured"), std::string::npos);

  setenv("CHIME_ADMIN_SECRET", "short", 1);
  auto short_secret = AdminSecret::FromEnvironment();
  ASSERT_FALSE(short_secret.has_value());
  EXPECT_NE(short_secret.error().message.find("CHIME_ADMIN_SECRET"), std::string::npos);
  EXPECT_EQ(short_secret.error().message.find("short:"), std::string::npos);

  setenv("CHIME_ADMIN_SECRET_FILE", "/nonexistent", 1);
  auto both = AdminSecret::FromEnvironment();
  ASSERT_FALSE(both.has_value());
  EXPECT_NE(both.error().message.find("not both"), std::string::npos);
}

TEST_F(SecretEnvTest, ReadsTheFileAndDropsOneTrailingNewline) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("chime-secret-" + std::to_string(::getpid()));
  std::ofstream(path) << "a-secret-of-enough-length\n";
  setenv("CHIME_ADMIN_SECRET_FILE", path.c_str(), 1);
  auto secret = AdminSecret::FromEnvironment();
  std::filesystem::remove(path);
  ASSERT_TRUE(secret.has_value()) << secret.error().ToString();
  EXPECT_EQ(secret->bytes(), "a-secret-of-enough-length");

  setenv("CHIME_ADMIN_SECRET_FILE", path.c_str(), 1);
  auto missing = AdminSecret::FromEnvironment();
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("cannot read"), std::string::npos);
}

TEST_F(SecretEnvTest, ANamedTokenWinsOverTheAdminSecretAndAFileOverBoth) {
  const auto env_token = auth::ApiToken::Generate("from-env").value();
  const auto file_token = auth::ApiToken::Generate("from-file").value();
  setenv("CHIME_ADMIN_SECRET", "a-secret-of-enough-length", 1);
  EXPECT_EQ(AdminCredential::FromEnvironment().value().name(), "bootstrap");
  setenv("CHIME_TOKEN", env_token.text().c_str(), 1);
  auto from_env = AdminCredential::FromEnvironment();
  ASSERT_TRUE(from_env.has_value()) << from_env.error().message;
  EXPECT_EQ(from_env->name(), "from-env");
  const auto path = std::filesystem::temp_directory_path() / ("chime-token-" + std::to_string(::getpid()));
  std::ofstream(path) << file_token.text() << "\n";
  auto from_file = AdminCredential::FromEnvironment(path.string());
  std::filesystem::remove(path);
  ASSERT_TRUE(from_file.has_value()) << from_file.error().message;
  EXPECT_EQ(from_file->name(), "from-file");
  ASSERT_NE(from_file->token(), nullptr);
  EXPECT_EQ(from_file->token()->text(), file_token.text());
}

TEST_F(SecretEnvTest, AMalformedTokenIsNamedNeverShown) {
  const std::string text = auth::ApiToken::Generate("ci").value().text();
  const std::string cut = text.substr(0, text.size() - 1);
  setenv("CHIME_TOKEN", cut.c_str(), 1);
  auto r = AdminCredential::FromEnvironment();
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("CHIME_TOKEN"), std::string::npos);
  EXPECT_EQ(r.error().message.find(cut.substr(10)), std::string::npos) << r.error().message;
  auto missing = AdminCredential::FromEnvironment(std::string("/nonexistent/token"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("--token-file /nonexistent/token"), std::string::npos);
  unsetenv("CHIME_TOKEN");
  auto none = AdminCredential::FromEnvironment();
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message.find("not configured"), std::string::npos);
  EXPECT_NE(none.error().message.find("CHIME_TOKEN"), std::string::npos);
}

}  // namespace
}  // namespace chime::wire
