// Standard Webhooks signatures against pinned values, verification's
// refusals, and the legacy secret headers.
#include "common/http/webhook.h"

#include <gtest/gtest.h>

namespace chime::http {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

system_clock::time_point At(int64_t unix_seconds) {
  return system_clock::time_point(seconds(unix_seconds));
}

WebhookKey Key(std::string secret) {
  return WebhookKey::FromSecret(Secret(std::move(secret))).value();
}

// The example of the Standard Webhooks specification. Checked independently:
//   key=$(printf MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw | base64 -d | xxd -p -c 256)
//   printf '%s' 'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}' |
//     openssl dgst -sha256 -mac HMAC -macopt hexkey:$key -binary | base64
constexpr const char* kSpecSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr const char* kSpecId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kSpecTimestamp = 1614265330;
constexpr const char* kSpecBody = R"({"test": 2432232314})";
constexpr const char* kSpecSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

WebhookHeaders SpecHeaders() { return {kSpecId, std::to_string(kSpecTimestamp), kSpecSignature}; }

TEST(WebhookTest, SignsTheSpecificationsExample) {
  EXPECT_EQ(Key(kSpecSecret).Sign(kSpecId, kSpecTimestamp, kSpecBody), kSpecSignature);
}

// Signatures the reference library made (npm standardwebhooks 1.3.0, by
// tests/common/http/standardwebhooks_vectors.js): it strips an optional
// "whsec_" and base64-decodes the rest, padding optional. Chime used to take
// an unprefixed secret as raw bytes, so every receiver on the reference
// library answered 401 (issue 18, finding 13).
TEST(WebhookTest, SignsLikeTheReferenceLibraryWithOrWithoutThePrefix) {
  struct Vector {
    const char* secret;
    const char* id;
    int64_t timestamp;
    const char* body;
    const char* signature;
  };
  const Vector vectors[] = {
      {"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
       R"({"test": 2432232314})", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
      {"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
       R"({"test": 2432232314})", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
      {"Y2hpbWUtdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZg==", "chime-job-42", 1700000000,
       R"({"operation":"process_all_users","timeframeDays":1})", "v1,ro4u3bxp4z0VQn4EFOv2UEzAItYcwAGFS6XyctO3afY="},
      {"Y2hpbWU", "chime-job-7", 1700000000, "{}", "v1,Y9XraISLj5T7i1YVvFqfU0aamTbLbeQWTBV0Wb+xSPw="},
  };
  for (const Vector& v : vectors) {
    EXPECT_EQ(Key(v.secret).Sign(v.id, v.timestamp, v.body), v.signature) << v.secret;
    EXPECT_TRUE(WebhookVerify(Key(v.secret), {v.id, std::to_string(v.timestamp), v.signature}, v.body,
                              At(v.timestamp)))
        << v.secret;
  }
}

// The reference library throws on these ("incorrect characters for
// decoding", "Secret can't be empty"): Chime refuses them too instead of
// signing with bytes no receiver would use.
TEST(WebhookTest, ASecretTheReferenceLibraryCannotDecodeIsRefused) {
  for (const char* secret : {"cron-secret-for-tests", "not*base64!", "whsec_"}) {
    auto key = WebhookKey::FromSecret(Secret(secret));
    ASSERT_FALSE(key.has_value()) << secret;
    EXPECT_EQ(key.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(key.error().message.find(secret[0] == 'w' ? "whsec_x" : secret), std::string::npos);
  }
}

TEST(WebhookTest, VerifyAcceptsAMatchingSignatureAmongSeveral) {
  EXPECT_TRUE(WebhookVerify(Key(kSpecSecret), SpecHeaders(), kSpecBody, At(kSpecTimestamp)));
  WebhookHeaders rotated = SpecHeaders();
  rotated.signature = std::string("v1a,ignored v1,b2xkIGtleQ== ") + kSpecSignature;
  EXPECT_TRUE(WebhookVerify(Key(kSpecSecret), rotated, kSpecBody, At(kSpecTimestamp)));
}

TEST(WebhookTest, VerifyRefusesAnyChangeToKeyIdOrBody) {
  auto refused = [](const Result<void>& r) {
    return !r && r.error().code == ErrorCode::kUnauthenticated;
  };
  EXPECT_TRUE(refused(
      WebhookVerify(Key("whsec_b3RoZXIga2V5"), SpecHeaders(), kSpecBody, At(kSpecTimestamp))));
  EXPECT_TRUE(refused(WebhookVerify(Key(kSpecSecret), SpecHeaders(), R"({"test": 2432232315})",
                                    At(kSpecTimestamp))));
  WebhookHeaders other_id = SpecHeaders();
  other_id.id = "msg_other";
  EXPECT_TRUE(refused(WebhookVerify(Key(kSpecSecret), other_id, kSpecBody, At(kSpecTimestamp))));
}

TEST(WebhookTest, VerifyRefusesTimestampsOutsideTheTolerance) {
  const WebhookKey key = Key(kSpecSecret);
  EXPECT_TRUE(WebhookVerify(key, SpecHeaders(), kSpecBody, At(kSpecTimestamp + 300)));
  EXPECT_TRUE(WebhookVerify(key, SpecHeaders(), kSpecBody, At(kSpecTimestamp - 300)));
  for (int64_t now : {kSpecTimestamp + 301, kSpecTimestamp - 301}) {
    auto r = WebhookVerify(key, SpecHeaders(), kSpecBody, At(now));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated);
    EXPECT_NE(r.error().message.find("limit 300 s"), std::string::npos) << r.error().message;
  }
}

// Found by fuzz_webhook: timestamp - now overflowed int64 (undefined).
TEST(WebhookTest, VerifyRefusesTimestampsAtTheInt64LimitsWithoutOverflow) {
  for (const char* ts : {"-9223372036854775807", "-9223372036854775808", "9223372036854775807"}) {
    WebhookHeaders headers = SpecHeaders();
    headers.timestamp = ts;
    auto r = WebhookVerify(Key(kSpecSecret), headers, kSpecBody, At(kSpecTimestamp));
    ASSERT_FALSE(r) << ts;
    EXPECT_EQ(r.error().code, ErrorCode::kUnauthenticated) << ts;
    EXPECT_NE(r.error().message.find("limit 300 s"), std::string::npos) << r.error().message;
  }
}

TEST(WebhookTest, VerifyRejectsMissingOrMalformedHeaders) {
  WebhookHeaders no_id = SpecHeaders();
  no_id.id.clear();
  WebhookHeaders bad_time = SpecHeaders();
  bad_time.timestamp = "1614265330.5";
  for (const WebhookHeaders& headers : {no_id, bad_time}) {
    auto r = WebhookVerify(Key(kSpecSecret), headers, kSpecBody, At(kSpecTimestamp));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(WebhookTest, BadBase64AfterThePrefixIsInvalidArgumentWithoutTheSecret) {
  for (const char* secret : {"whsec_not*base64!", "whsec_", ""}) {
    auto key = WebhookKey::FromSecret(Secret(secret));
    ASSERT_FALSE(key.has_value()) << secret;
    EXPECT_EQ(key.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(key.error().message.find("not*base64"), std::string::npos);
  }
}

TEST(WebhookTest, NewIdsArePrefixedAndUnique) {
  const std::string a = NewWebhookId();
  const std::string b = NewWebhookId();
  EXPECT_TRUE(a.starts_with("msg_")) << a;
  EXPECT_EQ(a.size(), 4u + 22u) << a;
  EXPECT_NE(a, b);
}

TEST(WebhookTest, AddWebhookSignatureSignsTheRequestBody) {
  HttpRequest request{.method = "POST", .url = "https://example.com/hook", .body = kSpecBody};
  AddWebhookSignature(request, Key(kSpecSecret), At(kSpecTimestamp));
  const WebhookHeaders received{std::string(*FindHeader(request.headers, "webhook-id")),
                                std::string(*FindHeader(request.headers, "webhook-timestamp")),
                                std::string(*FindHeader(request.headers, "webhook-signature"))};
  EXPECT_EQ(received.timestamp, "1614265330");
  EXPECT_TRUE(WebhookVerify(Key(kSpecSecret), received, kSpecBody, At(kSpecTimestamp)));
  ASSERT_EQ(request.headers.size(), 3u);
  EXPECT_TRUE(request.headers[2].sensitive);
}

TEST(WebhookTest, LegacyHeadersCarryTheSecretAsTheSeedsExpect) {
  HttpRequest request;
  AddBearerAuth(request, Secret("s3cret"));
  AddCronSecretHeader(request, Secret("s3cret"));
  ASSERT_EQ(request.headers.size(), 2u);
  EXPECT_EQ(request.headers[0].name, "Authorization");
  EXPECT_EQ(request.headers[0].value, "Bearer s3cret");
  EXPECT_EQ(request.headers[1].name, "x-cron-secret");
  EXPECT_EQ(request.headers[1].value, "s3cret");
  EXPECT_TRUE(request.headers[0].sensitive && request.headers[1].sensitive);
}

}  // namespace
}  // namespace chime::http
