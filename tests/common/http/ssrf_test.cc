// A payload's URL must not reach internal addresses, however it spells them.
// Each attempt targets a live server on loopback and must fail with the
// policy's reason before the server accepts a connection; the same targets
// answer once a test opens the policy, so the refusals are the policy's.
#include <gtest/gtest.h>

#include "common/http/client.h"
#include "tests/support/http_test_server.h"

namespace chime::http {
namespace {

using chime::testing::HttpTestServer;
using chime::testing::ScriptedResponse;
using std::chrono::milliseconds;

class SsrfTest : public ::testing::Test {
 protected:
  // Sends `url` with the default policy; expects the refusal and `reason`.
  void ExpectRefused(const std::string& url, const std::string& reason) {
    auto response = HttpClient(AddressPolicy()).Send({.url = url, .timeout = milliseconds(5000)});
    ASSERT_FALSE(response.has_value()) << url << " answered " << response->status;
    EXPECT_EQ(response.error().code, ErrorCode::kFailedPrecondition) << response.error().ToString();
    EXPECT_NE(response.error().message.find(reason), std::string::npos) << response.error().message;
  }

  std::string Port() const { return std::to_string(server_.port()); }

  HttpTestServer server_;  // On 127.0.0.1.
};

TEST_F(SsrfTest, RefusesLoopbackByAddress) {
  ExpectRefused("http://127.0.0.1:" + Port() + "/",
                "127.0.0.1 is loopback: denied by the worker's address policy");
  EXPECT_EQ(server_.Connections(), 0);
}

TEST_F(SsrfTest, RefusesLoopbackSpelledAsOneDecimalNumber) {
  ExpectRefused("http://2130706433:" + Port() + "/", "127.0.0.1 is loopback");
  EXPECT_EQ(server_.Connections(), 0);
}

TEST_F(SsrfTest, RefusesLoopbackSpelledInOctalOrHex) {
  ExpectRefused("http://0177.0.0.1:" + Port() + "/", "127.0.0.1 is loopback");
  ExpectRefused("http://0x7f.1:" + Port() + "/", "127.0.0.1 is loopback");
  EXPECT_EQ(server_.Connections(), 0);
}

TEST_F(SsrfTest, RefusesLoopbackAsAnIpv4MappedIpv6Literal) {
  ExpectRefused("http://[::ffff:127.0.0.1]:" + Port() + "/", "(IPv4 127.0.0.1) is loopback");
  EXPECT_EQ(server_.Connections(), 0);
}

TEST_F(SsrfTest, RefusesLocalhostByName) {
  ExpectRefused("http://localhost:" + Port() + "/", "is loopback");
  EXPECT_EQ(server_.Connections(), 0);
}

TEST_F(SsrfTest, RefusesTheMetadataAddress) {
  ExpectRefused("http://169.254.169.254/latest/meta-data/",
                "169.254.169.254 is link-local/metadata: denied by the worker's address policy");
  ExpectRefused("http://[fd00:ec2::254]/latest/meta-data/", "fd00:ec2::254 is private/metadata");
}

TEST_F(SsrfTest, TheSameSpellingsReachTheServerOnceThePolicyAllowsIt) {
  const HttpClient opened(AddressPolicy::FromLists({"127.0.0.1/32"}, {}).value());
  for (const std::string host : {"127.0.0.1", "2130706433", "[::ffff:127.0.0.1]"}) {
    auto response = opened.Send({.url = "http://" + host + ":" + Port() + "/"});
    ASSERT_TRUE(response.has_value()) << host << ": " << response.error().ToString();
    EXPECT_EQ(response->status, 200);
  }
  EXPECT_EQ(server_.Requests().size(), 3u);
}

// The first hop is allowed (127.0.0.1/32 is opened); the redirect points at
// another loopback server that the policy still denies.
class SsrfRedirectTest : public SsrfTest {
 protected:
  Result<HttpResponse> FollowTo(const std::string& location) {
    server_.Enqueue({.status = 302, .headers = {{"Location", location}}});
    const HttpClient client(AddressPolicy::FromLists({"127.0.0.1/32"}, {}).value());
    return client.Send({.url = server_.Url("/start"), .follow_redirects = true});
  }

  void ExpectRefusedAtTheSecondHop(const Result<HttpResponse>& response, const std::string& reason,
                                   const HttpTestServer& target) {
    ASSERT_FALSE(response.has_value()) << response->status;
    EXPECT_EQ(response.error().code, ErrorCode::kFailedPrecondition) << response.error().ToString();
    EXPECT_NE(response.error().message.find(reason), std::string::npos) << response.error().message;
    EXPECT_EQ(server_.Requests().size(), 1u);
    EXPECT_EQ(target.Connections(), 0);
  }
};

TEST_F(SsrfRedirectTest, RefusesARedirectToAnotherLoopbackAddress) {
  HttpTestServer internal("127.0.0.2");
  ExpectRefusedAtTheSecondHop(FollowTo(internal.Url("/admin")), "127.0.0.2 is loopback", internal);
}

TEST_F(SsrfRedirectTest, RefusesARedirectToIpv6Loopback) {
  HttpTestServer internal("::1");
  ExpectRefusedAtTheSecondHop(FollowTo(internal.Url("/admin")), "::1 is loopback", internal);
}

TEST_F(SsrfRedirectTest, RefusesARedirectToTheMetadataAddress) {
  auto response = FollowTo("http://169.254.169.254/latest/meta-data/");
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code, ErrorCode::kFailedPrecondition) << response.error().ToString();
  EXPECT_NE(response.error().message.find("169.254.169.254 is link-local/metadata"),
            std::string::npos);
}

}  // namespace
}  // namespace chime::http
