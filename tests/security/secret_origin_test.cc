// Issue 18, finding 3, second half: env:CRON_SECRET could be sent to any
// public URL a payload named. A reference bound to origins in the kinds file
// goes only there: a payload naming another origin is refused before
// connecting, and a redirect to another origin arrives without it.
#include <gtest/gtest.h>
#include <stdlib.h>

#include "tests/support/http_test_server.h"
#include "tests/support/test_database.h"
#include "tests/worker/kinds/job_harness.h"
#include "worker/kinds/app_config.h"
#include "worker/kinds/http_request.h"

namespace chime::worker::kinds {
namespace {

constexpr char kSecretEnv[] = "CHIME_TEST_ORIGIN_SECRET";
constexpr char kSecret[] = "b3JpZ2luLWJvdW5kLXNlY3JldC12YWx1ZQ==";  // base64: standard-webhooks too.

class SecretOriginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv(kSecretEnv, kSecret, 1);
    auto config = ParseAppConfig(std::string("http:\n  allow: [127.0.0.0/8]\nhttp_request:\n  secrets:\n") +
                                 "    - {ref: env:" + kSecretEnv + ", origins: [\"" + app_.Url("") + "\"]}\n");
    ASSERT_TRUE(config.has_value()) << config.error().message;
    auto kind = HttpRequestKind::Create(*config);
    ASSERT_TRUE(kind.has_value()) << kind.error().ToString();
    kind_ = std::move(*kind);
  }

  HandlerResult Call(const std::string& url, const std::string& auth = "bearer", bool follow = false) {
    nlohmann::json payload = {{"url", url}, {"followRedirects", follow}};
    if (auth == "header") {
      payload["auth"] = {{"type", "header"}, {"name", "x-cron-key"}, {"secret", std::string("env:") + kSecretEnv}};
    } else {
      payload["auth"] = {{"type", auth}, {"secret", std::string("env:") + kSecretEnv}};
    }
    return harness_.Run(*kind_, payload);
  }

  chime::testing::TestDatabase db_;
  testing::JobHarness harness_{db_};
  chime::testing::HttpTestServer app_{"127.0.0.1"};
  chime::testing::HttpTestServer elsewhere_{"127.0.0.2"};
  std::unique_ptr<HttpRequestKind> kind_;
};

TEST_F(SecretOriginTest, ABoundSecretGoesToItsOriginOnly) {
  HandlerResult ok = Call(app_.Url("/api/cron?interval=15min"));
  ASSERT_EQ(ok.kind, HandlerResult::Kind::kSuccess) << (ok.errors.empty() ? "" : ok.errors[0]);
  EXPECT_EQ(app_.Requests()[0].Header("authorization"), std::string("Bearer ") + kSecret);

  for (const char* auth : {"bearer", "x-cron-secret", "header"}) {
    HandlerResult refused = Call(elsewhere_.Url("/steal"), auth);
    EXPECT_EQ(refused.kind, HandlerResult::Kind::kFailure) << auth;
    EXPECT_FALSE(refused.retryable) << auth;
    ASSERT_FALSE(refused.errors.empty());
    EXPECT_NE(refused.errors[0].find("may only be sent to " + app_.Url("") + " "),
              std::string::npos)
        << refused.errors[0];
    EXPECT_EQ(refused.errors[0].find(kSecret), std::string::npos);
  }
  EXPECT_EQ(elsewhere_.Connections(), 0);
}

TEST_F(SecretOriginTest, ARedirectToAnotherOriginDropsEveryCredential) {
  for (const char* auth : {"bearer", "x-cron-secret", "header", "standard-webhooks"}) {
    app_.Enqueue({.status = 307, .headers = {{"Location", elsewhere_.Url("/landing")}}});
    (void)Call(app_.Url("/go"), auth, /*follow=*/true);
  }
  ASSERT_EQ(elsewhere_.Requests().size(), 4u);
  for (const auto& request : elsewhere_.Requests()) {
    for (const auto& [name, value] : request.headers) {
      EXPECT_EQ(value.find(kSecret), std::string::npos) << name;
      EXPECT_NE(name, "webhook-signature");
    }
    EXPECT_FALSE(request.Header("authorization").has_value());
    EXPECT_FALSE(request.Header("x-cron-key").has_value());
    EXPECT_FALSE(request.Header("x-cron-secret").has_value());
  }
}

}  // namespace
}  // namespace chime::worker::kinds
