// The HTTP server wrapper on real loopback sockets: binding (port 0, bad
// and busy addresses), Stop(), bearer auth on admin routes, size limits,
// JSON errors and the bounded request pool.
#include "common/web/server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/web/auth.h"

namespace chime::web {
namespace {

constexpr const char* kSecret = "web-test-secret-0123456789abcdef";

std::pair<std::string, int> HostPort(const std::string& address) {
  const size_t colon = address.rfind(':');
  return {address.substr(0, colon), std::stoi(address.substr(colon + 1))};
}

httplib::Result Get(const std::string& address, const std::string& path,
                    const httplib::Headers& headers = {}) {
  auto [host, port] = HostPort(address);
  httplib::Client client(host, port);
  client.set_read_timeout(30, 0);
  return client.Get(path, headers);
}

std::string ErrorCodeOf(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.contains("error")) return "(not a JSON error: " + body + ")";
  return j["error"]["code"].get<std::string>();
}

ServerConfig Loopback() { return ServerConfig{.listen = "127.0.0.1:0"}; }

Response Text(std::string body) {
  Response r;
  r.content_type = "text/plain";
  r.body = std::move(body);
  return r;
}

TEST(ListenAddressTest, ParsesHostPortAndBracketedIpv6) {
  auto v4 = ParseListenAddress("0.0.0.0:8080");
  ASSERT_TRUE(v4) << v4.error().message;
  EXPECT_EQ(v4->host, "0.0.0.0");
  EXPECT_EQ(v4->port, 8080);
  auto v6 = ParseListenAddress("[::1]:0");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  auto name = ParseListenAddress("localhost:65535");
  ASSERT_TRUE(name);
  EXPECT_EQ(name->host, "localhost");
}

TEST(ListenAddressTest, RejectsMalformedAddressesNamingTheFlag) {
  for (const char* bad : {"", "8080", ":8080", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
                          "127.0.0.1:80a", "::1:8080", "[::1]8080", "[::1", "host name:80",
                          "127.0.0.1:123456"}) {
    auto parsed = ParseListenAddress(bad, "--http-listen");
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << bad;
    EXPECT_TRUE(parsed.error().message.starts_with("--http-listen: ")) << parsed.error().message;
  }
}

TEST(ServerTest, StartsOnPortZeroAndServesTheBoundAddress) {
  Server server(Loopback());
  server.Get("/hello", Access::kOpen, [](const Request& req) {
    return Text("hello " + req.Query("name").value_or("nobody"));
  });
  auto address = server.Start();
  ASSERT_TRUE(address) << address.error().message;
  EXPECT_TRUE(address->starts_with("127.0.0.1:"));
  EXPECT_NE(HostPort(*address).second, 0);
  auto res = Get(*address, "/hello?name=chime");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "hello chime");
  server.Stop();
  EXPECT_FALSE(Get(*address, "/hello")) << "still answering after Stop()";
}

TEST(ServerTest, StopIsIdempotentAndSafeBeforeStartAndRightAfterIt) {
  Server never_started(Loopback());
  never_started.Stop();
  never_started.Stop();
  for (int i = 0; i < 20; ++i) {
    Server server(Loopback());
    ASSERT_TRUE(server.Start());
    server.Stop();
    server.Stop();
  }
}

TEST(ServerTest, ABusyPortIsAnErrorNamingTheFlag) {
  Server first(Loopback());
  auto address = first.Start();
  ASSERT_TRUE(address);
  Server second(ServerConfig{.listen = *address, .flag = "--http-listen"});
  auto taken = second.Start();
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(taken.error().message.find("--http-listen: cannot listen on " + *address),
            std::string::npos)
      << taken.error().message;
}

TEST(ServerTest, AnAddressThatIsNotLocalOrMalformedFailsAtStart) {
  Server bad(ServerConfig{.listen = "not-an-address", .flag = "http_listen"});
  auto r = bad.Start();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(r.error().message.starts_with("http_listen: ")) << r.error().message;
  // TEST-NET-1 is never a local address: the bind fails.
  Server remote(ServerConfig{.listen = "192.0.2.1:0"});
  auto remote_r = remote.Start();
  ASSERT_FALSE(remote_r);
  EXPECT_EQ(remote_r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(remote_r.error().message.find("--http-listen"), std::string::npos);
}

class AdminRouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/api/thing", Access::kAdmin, [this](const Request&) {
      ++handled_;
      return JsonResponse(R"({"thing":1})");
    });
    auto address = server_.Start();
    ASSERT_TRUE(address);
    address_ = *address;
  }

  httplib::Result As(const std::string& authorization) {
    return Get(address_, "/api/thing", {{"Authorization", authorization}});
  }

  Server server_{Loopback(), std::make_shared<BearerAuth>(kSecret)};
  std::string address_;
  std::atomic<int> handled_{0};
};

TEST_F(AdminRouteTest, MissingTokenIs401WithAJsonErrorAndTheHandlerNeverRuns) {
  auto res = Get(address_, "/api/thing");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(ErrorCodeOf(res->body), "unauthenticated");
  EXPECT_NE(res->body.find("missing bearer token"), std::string::npos) << res->body;
  EXPECT_EQ(res->get_header_value("WWW-Authenticate"), "Bearer realm=\"chime\"");
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(AdminRouteTest, WrongTokensAre401AndNeverEchoed) {
  const std::string secret = kSecret;
  for (const std::string& token :
       {std::string("x"), secret.substr(0, secret.size() - 1), secret + "x", "X" + secret.substr(1),
        std::string(4096, 'a')}) {
    auto res = As("Bearer " + token);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << token;
    EXPECT_EQ(ErrorCodeOf(res->body), "unauthenticated");
    EXPECT_NE(res->body.find("wrong bearer token"), std::string::npos) << res->body;
    EXPECT_EQ(res->body.find(token), std::string::npos);
  }
  for (const std::string& header : {"Basic " + secret, secret, std::string("Bearer"), std::string("Bearer   ")}) {
    auto res = As(header);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << header;
    EXPECT_EQ(res->body.find(secret), std::string::npos);
  }
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(AdminRouteTest, TheRightTokenIsServedWhateverTheSchemesCase) {
  for (const std::string& header : {std::string("Bearer ") + kSecret, std::string("bearer ") + kSecret,
                                    std::string("BEARER  ") + kSecret + " "}) {
    auto res = As(header);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << header;
    EXPECT_EQ(res->body, R"({"thing":1})");
  }
  EXPECT_EQ(handled_.load(), 3);
}

TEST(ServerTest, AdminRoutesWithoutASecretRefuseEveryone) {
  Server server(Loopback());
  server.Get("/api/x", Access::kAdmin, [](const Request&) { return Text("secret stuff"); });
  auto address = server.Start();
  ASSERT_TRUE(address);
  auto res = Get(*address, "/api/x", {{"Authorization", std::string("Bearer ") + kSecret}});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(ErrorCodeOf(res->body), "unauthenticated");
}

TEST(ServerTest, OversizedBodiesAndTargetsAreRefusedWithJsonErrors) {
  ServerConfig config = Loopback();
  config.max_body_bytes = 1024;
  Server server(config);
  std::atomic<int> posted{0};
  server.Post("/in", Access::kOpen, [&](const Request& req) {
    ++posted;
    return Text(std::to_string(req.body.size()));
  });
  auto address = server.Start();
  ASSERT_TRUE(address);
  auto [host, port] = HostPort(*address);
  httplib::Client client(host, port);
  auto small = client.Post("/in", std::string(1024, 'a'), "text/plain");
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 200);
  EXPECT_EQ(small->body, "1024");
  auto big = client.Post("/in", std::string(1025, 'a'), "text/plain");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(ErrorCodeOf(big->body), "payload_too_large");
  EXPECT_EQ(posted.load(), 1);
  auto long_target = client.Get("/in?" + std::string(10000, 'q'));
  ASSERT_TRUE(long_target);
  EXPECT_EQ(long_target->status, 414);
  EXPECT_EQ(ErrorCodeOf(long_target->body), "uri_too_long");
}

TEST(ServerTest, UnknownPathsAndThrowingHandlersGetJsonErrors) {
  Server server(Loopback());
  server.Get("/boom", Access::kOpen, [](const Request&) -> Response {
    throw std::runtime_error("kaboom with details");
  });
  auto address = server.Start();
  ASSERT_TRUE(address);
  auto missing = Get(*address, "/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(ErrorCodeOf(missing->body), "not_found");
  auto boom = Get(*address, "/boom");
  ASSERT_TRUE(boom);
  EXPECT_EQ(boom->status, 500);
  EXPECT_EQ(ErrorCodeOf(boom->body), "internal");
  EXPECT_EQ(boom->body.find("kaboom"), std::string::npos) << "internal details leaked";
}

TEST(ServerTest, PathCapturesAndErrorResponsesMapCodes) {
  Server server(Loopback());
  server.Get("/items/([^/]+)", Access::kOpen, [](const Request& req) {
    if (req.path_params.at(0) == "missing") return ErrorResponse(Error{ErrorCode::kNotFound, "no such item"});
    return Text("item " + req.path_params.at(0));
  });
  auto address = server.Start();
  ASSERT_TRUE(address);
  auto found = Get(*address, "/items/abc");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->body, "item abc");
  auto missing = Get(*address, "/items/missing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->body, R"({"error":{"code":"not_found","message":"no such item"}})");
  EXPECT_EQ(HttpStatusOf(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusOf(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusOf(ErrorCode::kInternal), 500);
}

TEST(ServerTest, NoMoreRequestsRunAtOnceThanItHasThreads) {
  ServerConfig config = Loopback();
  config.threads = 2;
  config.read_timeout = std::chrono::seconds(30);
  config.write_timeout = std::chrono::seconds(30);
  Server server(config);
  std::mutex mu;
  std::condition_variable cv;
  int active = 0, most = 0, done = 0;
  bool release = false;
  server.Get("/slow", Access::kOpen, [&](const Request&) {
    std::unique_lock lock(mu);
    most = std::max(most, ++active);
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    --active;
    ++done;
    return Text("ok");
  });
  auto address = server.Start();
  ASSERT_TRUE(address);
  constexpr int kClients = 6;
  std::vector<int> statuses(kClients, 0);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      auto res = Get(*address, "/slow");
      statuses[i] = res ? res->status : -1;
    });
  }
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return active == 2; });
    EXPECT_EQ(most, 2);
    release = true;
  }
  cv.notify_all();
  for (auto& t : clients) t.join();
  EXPECT_EQ(most, 2);
  EXPECT_EQ(done, kClients);
  for (int s : statuses) EXPECT_EQ(s, 200);
}

TEST(BearerAuthTest, ChecksTheHeaderValue) {
  BearerAuth auth(kSecret);
  EXPECT_TRUE(auth.Check(std::string("Bearer ") + kSecret));
  auto missing = auth.Check(std::nullopt);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(missing.error().message, "missing bearer token");
  auto wrong = auth.Check(std::string("Bearer ") + kSecret + "0");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().message, "wrong bearer token");
  EXPECT_FALSE(auth.Check(std::string("Token ") + kSecret));
}

}  // namespace
}  // namespace chime::web
