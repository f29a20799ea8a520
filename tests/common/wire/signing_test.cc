// Admin signatures: only the right secret, within five minutes, once.
#include "common/wire/signing.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

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
  EXPECT_EQ(r->show().job_id(), 7);
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

class SecretEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("CHIME_ADMIN_SECRET");
    unsetenv("CHIME_ADMIN_SECRET_FILE");
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

}  // namespace
}  // namespace chime::wire
