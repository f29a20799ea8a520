// The HTTP client against a real server on loopback, with the address policy
// opened for 127.0.0.1 only: what goes on the wire, what comes back, and how
// timeouts, cancellation and redirects end.
#include "common/http/client.h"

#include <gtest/gtest.h>

#include <optional>
#include <stop_token>
#include <thread>

#include "common/base/version.h"
#include "tests/support/http_test_server.h"

namespace chime::http {
namespace {

using chime::testing::HttpTestServer;
using chime::testing::ScriptedResponse;
using std::chrono::milliseconds;

AddressPolicy LoopbackOpened() { return AddressPolicy::FromLists({"127.0.0.1/32"}, {}).value(); }

class HttpClientTest : public ::testing::Test {
 protected:
  HttpTestServer server_;
  HttpClient client_{LoopbackOpened()};
};

TEST_F(HttpClientTest, ReturnsStatusHeadersAndBodyAndSendsTheRequestAsGiven) {
  server_.Enqueue({.status = 201, .headers = {{"X-Reply", "yes"}}, .body = "created"});
  auto response = client_.Send(
      {.method = "POST",
       .url = server_.Url("/hook?exam=e1"),
       .headers = {{"Content-Type", "application/json"}, {"X-Trace", "t-1"}, {"X-Empty", ""}},
       .body = R"({"dryRun":false})"});
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(FindHeader(response->headers, "x-reply"), "yes");
  EXPECT_EQ(response->body_excerpt, "created");
  EXPECT_FALSE(response->body_truncated);
  EXPECT_EQ(response->body_bytes, 7u);
  EXPECT_EQ(response->remote_address, "127.0.0.1:" + std::to_string(server_.port()));
  EXPECT_EQ(response->redirects, 0);

  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].path, "/hook");
  EXPECT_EQ(requests[0].query, "exam=e1");
  EXPECT_EQ(requests[0].Header("X-Trace"), "t-1");
  EXPECT_EQ(requests[0].Header("X-Empty"), "");
  EXPECT_EQ(requests[0].Header("Content-Type"), "application/json");
  EXPECT_EQ(requests[0].Header("Expect"), std::nullopt);
  EXPECT_EQ(requests[0].body, R"({"dryRun":false})");
}

// One version string everywhere (issue 22): the project version, as the
// endpoint's logs see it.
TEST_F(HttpClientTest, SaysChimeAndItsVersionAsUserAgentUnlessTheRequestNamesOne) {
  ASSERT_TRUE(client_.Send({.method = "GET", .url = server_.Url("/a")}));
  ASSERT_TRUE(client_.Send({.method = "GET", .url = server_.Url("/b"), .headers = {{"User-Agent", "mine/2"}}}));
  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].Header("User-Agent"), "chime/" + std::string(Version()));
  EXPECT_EQ(requests[0].Header("User-Agent"), "chime/0.1.0");
  EXPECT_EQ(requests[1].Header("User-Agent"), "mine/2");
}

TEST_F(HttpClientTest, SendsEachMethodWithOrWithoutABody) {
  ASSERT_TRUE(client_.Send({.method = "PUT", .url = server_.Url("/a"), .body = "x"}));
  ASSERT_TRUE(client_.Send({.method = "DELETE", .url = server_.Url("/b")}));
  ASSERT_TRUE(client_.Send({.method = "POST", .url = server_.Url("/c")}));
  ASSERT_TRUE(client_.Send({.url = server_.Url("/d")}));
  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].method, "PUT");
  EXPECT_EQ(requests[0].body, "x");
  EXPECT_EQ(requests[1].method, "DELETE");
  EXPECT_EQ(requests[1].Header("Content-Length"), std::nullopt);
  EXPECT_EQ(requests[2].method, "POST");
  EXPECT_EQ(requests[2].Header("Content-Length"), "0");
  EXPECT_EQ(requests[2].Header("Content-Type"), std::nullopt);  // Not libcurl's form default.
  EXPECT_EQ(requests[3].method, "GET");
}

TEST_F(HttpClientTest, CapsTheBodyExcerptAndReportsTheWholeSize) {
  server_.Enqueue({.body = std::string(10'000, 'x')});
  server_.Enqueue({.body = "0123456789abcdef"});
  auto by_default = client_.Send({.url = server_.Url()});
  auto small = client_.Send({.url = server_.Url(), .max_body_excerpt = 10});
  ASSERT_TRUE(by_default.has_value()) << by_default.error().ToString();
  EXPECT_EQ(by_default->body_excerpt, std::string(4096, 'x'));
  EXPECT_TRUE(by_default->body_truncated);
  EXPECT_EQ(by_default->body_bytes, 10'000u);
  ASSERT_TRUE(small.has_value()) << small.error().ToString();
  EXPECT_EQ(small->body_excerpt, "0123456789");
  EXPECT_TRUE(small->body_truncated);
  EXPECT_EQ(small->body_bytes, 16u);
}

// Issue 18, finding 1: the excerpt goes into results, which are serialised
// strictly; a byte cut or a binary body used to crash the worker there.
TEST_F(HttpClientTest, TheBodyExcerptIsWellFormedUtf8CutOnACharacterBoundary) {
  const std::string page = std::string(4095, 'a') + "\xC3\xA9" + "tail";  // 'é' straddles byte 4096.
  server_.Enqueue({.body = page});
  server_.Enqueue({.body = "ok\xFF\xFE\xC0\xAF" "done"});
  server_.Enqueue({.body = std::string(4095, 'a') + "\xC3\xA9"});
  auto cut = client_.Send({.url = server_.Url()});
  auto binary = client_.Send({.url = server_.Url()});
  auto whole = client_.Send({.url = server_.Url(), .max_body_excerpt = 4097});
  ASSERT_TRUE(cut.has_value()) << cut.error().ToString();
  EXPECT_EQ(cut->body_excerpt, std::string(4095, 'a'));
  EXPECT_TRUE(cut->body_truncated);
  EXPECT_EQ(cut->body_bytes, page.size());
  ASSERT_TRUE(binary.has_value()) << binary.error().ToString();
  EXPECT_EQ(binary->body_excerpt, "ok\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "done");
  EXPECT_FALSE(binary->body_truncated);
  ASSERT_TRUE(whole.has_value()) << whole.error().ToString();
  EXPECT_EQ(whole->body_excerpt, std::string(4095, 'a') + "\xC3\xA9");
  EXPECT_FALSE(whole->body_truncated);
}

TEST_F(HttpClientTest, TimeoutIsRetryable) {
  server_.Enqueue({.hold = true});
  auto response = client_.Send({.url = server_.Url("/slow"), .timeout = milliseconds(200)});
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code, ErrorCode::kRetryable);
  EXPECT_NE(response.error().message.find("timed out after 200 ms"), std::string::npos)
      << response.error().message;
  EXPECT_EQ(server_.Requests().size(), 1u);
}

TEST_F(HttpClientTest, StopTokenCancelsARequestInFlight) {
  server_.Enqueue({.hold = true});
  std::stop_source stop;
  std::optional<Result<HttpResponse>> response;
  std::jthread caller([&] {
    // Only the stop request can end this exchange: the server never answers.
    response = client_.Send({.url = server_.Url("/held"), .timeout = milliseconds(600'000)},
                            stop.get_token());
  });
  ASSERT_TRUE(server_.WaitForRequests(1));
  stop.request_stop();
  caller.join();
  ASSERT_FALSE(response->has_value());
  EXPECT_EQ(response->error().code, ErrorCode::kUnavailable);
  EXPECT_NE(response->error().message.find("cancelled"), std::string::npos)
      << response->error().message;
}

TEST_F(HttpClientTest, StoppedTokenSendsNothing) {
  std::stop_source stop;
  stop.request_stop();
  auto response = client_.Send({.url = server_.Url()}, stop.get_token());
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(server_.Connections(), 0);
}

TEST_F(HttpClientTest, DoesNotFollowRedirectsByDefault) {
  server_.Enqueue({.status = 302, .headers = {{"Location", "/next"}}});
  auto response = client_.Send({.url = server_.Url("/first")});
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  EXPECT_EQ(response->status, 302);
  EXPECT_EQ(FindHeader(response->headers, "Location"), "/next");
  EXPECT_EQ(server_.Requests().size(), 1u);
}

TEST_F(HttpClientTest, FollowsRedirectsWhenEnabled) {
  server_.Enqueue({.status = 302, .headers = {{"Location", "/next"}}});
  server_.Enqueue({.status = 200, .body = "final"});
  auto response = client_.Send({.url = server_.Url("/first"), .follow_redirects = true});
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body_excerpt, "final");
  EXPECT_EQ(response->redirects, 1);
  EXPECT_EQ(response->url, server_.Url("/next"));
  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].path, "/next");
}

TEST_F(HttpClientTest, SeeOtherAfterAPostBecomesAGetWithoutBody) {
  server_.Enqueue({.status = 303, .headers = {{"Location", "/result"}}});
  auto response = client_.Send({.method = "POST",
                                .url = server_.Url("/submit"),
                                .body = "payload",
                                .follow_redirects = true});
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  const auto requests = server_.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].method, "GET");
  EXPECT_EQ(requests[1].body, "");
}

TEST_F(HttpClientTest, SensitiveHeadersStayBehindWhenARedirectChangesOrigin) {
  HttpTestServer other;  // Same address, another port: another origin.
  server_.Enqueue({.status = 307, .headers = {{"Location", "/same"}}});
  server_.Enqueue({.status = 307, .headers = {{"Location", other.Url("/elsewhere")}}});
  auto response = client_.Send({.method = "POST",
                                .url = server_.Url("/start"),
                                .headers = {{"x-cron-secret", "s3cret", true}, {"X-Trace", "t-2"}},
                                .body = "b",
                                .follow_redirects = true});
  ASSERT_TRUE(response.has_value()) << response.error().ToString();
  const auto here = server_.Requests();
  ASSERT_EQ(here.size(), 2u);
  EXPECT_EQ(here[1].Header("x-cron-secret"), "s3cret");  // Same origin keeps it.
  const auto there = other.Requests();
  ASSERT_EQ(there.size(), 1u);
  EXPECT_EQ(there[0].Header("x-cron-secret"), std::nullopt);
  EXPECT_EQ(there[0].Header("X-Trace"), "t-2");
  EXPECT_EQ(there[0].method, "POST");  // 307 keeps method and body.
  EXPECT_EQ(there[0].body, "b");
}

TEST_F(HttpClientTest, TooManyRedirectsIsInvalidArgument) {
  for (int i = 0; i < 3; ++i) server_.Enqueue({.status = 302, .headers = {{"Location", "/loop"}}});
  auto response =
      client_.Send({.url = server_.Url("/loop"), .follow_redirects = true, .max_redirects = 2});
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(response.error().message.find("more than 2 redirects"), std::string::npos);
  EXPECT_EQ(server_.Requests().size(), 3u);
}

TEST_F(HttpClientTest, RedirectToAnotherSchemeIsRefused) {
  server_.Enqueue({.status = 302, .headers = {{"Location", "file:///etc/passwd"}}});
  auto response = client_.Send({.url = server_.Url(), .follow_redirects = true});
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code, ErrorCode::kInvalidArgument) << response.error().ToString();
}

TEST_F(HttpClientTest, MalformedRequestsAreInvalidArgumentWithoutHeaderValues) {
  const std::vector<HttpRequest> bad = {
      {.url = "ftp://127.0.0.1/file"},
      {.url = "file:///etc/passwd"},
      {.url = "gopher://127.0.0.1/"},
      {.url = "not a url"},
      {.method = "get", .url = server_.Url()},
      {.method = "GET /x HTTP/1.1\r\n", .url = server_.Url()},
      {.url = server_.Url(), .headers = {{"X-Evil", "s3cret\r\nInjected: yes"}}},
      {.url = server_.Url(), .headers = {{"Bad Name", "v"}}},
      {.url = server_.Url(), .timeout = milliseconds(0)},
  };
  for (const HttpRequest& request : bad) {
    auto response = client_.Send(request);
    ASSERT_FALSE(response.has_value()) << request.url;
    EXPECT_EQ(response.error().code, ErrorCode::kInvalidArgument) << response.error().ToString();
    EXPECT_EQ(response.error().message.find("s3cret"), std::string::npos);
  }
  EXPECT_EQ(server_.Connections(), 0);
}

TEST_F(HttpClientTest, ConnectionRefusedIsUnavailableAndHidesUserinfo) {
  // Port 1 on the opened loopback address: allowed, but nothing listens.
  auto response = client_.Send({.url = "http://cron:hunter2@127.0.0.1:1/run"});
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.error().code, ErrorCode::kUnavailable) << response.error().ToString();
  EXPECT_EQ(response.error().message.find("hunter2"), std::string::npos)
      << response.error().message;
  EXPECT_NE(response.error().message.find("http://***@127.0.0.1:1/run"), std::string::npos)
      << response.error().message;
}

TEST(RedactUrlTest, ReplacesUserinfoOnly) {
  EXPECT_EQ(RedactUrl("https://user:pw@example.com/a?b=c"), "https://***@example.com/a?b=c");
  EXPECT_EQ(RedactUrl("https://user@example.com/"), "https://***@example.com/");
  EXPECT_EQ(RedactUrl("https://example.com/a"), "https://example.com/a");
  EXPECT_EQ(RedactUrl("::"), "<unparsable URL>");
}

}  // namespace
}  // namespace chime::http
