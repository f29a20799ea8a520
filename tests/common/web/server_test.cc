// The HTTP server on real loopback sockets: binding (port 0, bad and busy
// addresses), Stop(), bearer auth on admin routes, size limits, JSON errors,
// the bounded request pools, framing refused before the body, keep-alive,
// inline routes and the connection caps. The client is tests/support's raw
// one, so requests go out byte for byte as written.
#include "common/web/server.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/web/auth.h"
#include "tests/support/raw_http.h"
#include "tests/support/wait_until.h"

namespace chime::web {
namespace {

constexpr const char* kSecret = "web-test-secret-0123456789abcdef";

std::pair<std::string, int> HostPort(const std::string& address) {
  const size_t colon = address.rfind(':');
  return {address.substr(0, colon), std::stoi(address.substr(colon + 1))};
}

using testing::HttpCall;
using testing::HttpHeaders;
using testing::HttpReply;
using testing::RawHttp;
using testing::WaitUntil;

HttpReply Get(const std::string& address, const std::string& path, const HttpHeaders& headers = {}) {
  return testing::HttpGet(address, path, headers);
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
  auto res = Get(*address, "/hello?name=chime%20%26+co");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, "hello chime & co");
  server.Stop();
  EXPECT_EQ(Get(*address, "/hello").status, 0) << "still answering after Stop()";
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

  HttpReply As(const std::string& authorization) {
    return Get(address_, "/api/thing", {{"Authorization", authorization}});
  }

  Server server_{Loopback(), std::make_shared<BearerAuth>(kSecret)};
  std::string address_;
  std::atomic<int> handled_{0};
};

TEST_F(AdminRouteTest, MissingTokenIs401WithAJsonErrorAndTheHandlerNeverRuns) {
  auto res = Get(address_, "/api/thing");
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(ErrorCodeOf(res.body), "unauthenticated");
  EXPECT_NE(res.body.find("missing bearer token"), std::string::npos) << res.body;
  EXPECT_EQ(res.Header("www-authenticate"), "Bearer realm=\"chime\"");
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(AdminRouteTest, WrongTokensAre401AndNeverEchoed) {
  const std::string secret = kSecret;
  for (const std::string& token :
       {std::string("x"), secret.substr(0, secret.size() - 1), secret + "x", "X" + secret.substr(1),
        std::string(4096, 'a')}) {
    auto res = As("Bearer " + token);
    EXPECT_EQ(res.status, 401) << token;
    EXPECT_EQ(ErrorCodeOf(res.body), "unauthenticated");
    EXPECT_NE(res.body.find("wrong bearer token"), std::string::npos) << res.body;
    EXPECT_EQ(res.body.find(token), std::string::npos);
  }
  for (const std::string& header : {"Basic " + secret, secret, std::string("Bearer"), std::string("Bearer   ")}) {
    auto res = As(header);
    EXPECT_EQ(res.status, 401) << header;
    EXPECT_EQ(res.body.find(secret), std::string::npos);
  }
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(AdminRouteTest, TheRightTokenIsServedWhateverTheSchemesCase) {
  for (const std::string& header : {std::string("Bearer ") + kSecret, std::string("bearer ") + kSecret,
                                    std::string("BEARER  ") + kSecret + " "}) {
    auto res = As(header);
    EXPECT_EQ(res.status, 200) << header;
    EXPECT_EQ(res.body, R"({"thing":1})");
  }
  EXPECT_EQ(handled_.load(), 3);
}

TEST(ServerTest, AdminRoutesWithoutASecretRefuseEveryone) {
  Server server(Loopback());
  server.Get("/api/x", Access::kAdmin, [](const Request&) { return Text("secret stuff"); });
  auto address = server.Start();
  ASSERT_TRUE(address);
  auto res = Get(*address, "/api/x", {{"Authorization", std::string("Bearer ") + kSecret}});
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(ErrorCodeOf(res.body), "unauthenticated");
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
  const HttpHeaders text{{"Content-Type", "text/plain"}};
  auto small = HttpCall(*address, "POST", "/in", text, std::string(1024, 'a'));
  EXPECT_EQ(small.status, 200);
  EXPECT_EQ(small.body, "1024");
  auto big = HttpCall(*address, "POST", "/in", text, std::string(1025, 'a'));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(ErrorCodeOf(big.body), "payload_too_large");
  EXPECT_EQ(posted.load(), 1);
  auto long_target = Get(*address, "/in?" + std::string(10000, 'q'));
  EXPECT_EQ(long_target.status, 414);
  EXPECT_EQ(ErrorCodeOf(long_target.body), "uri_too_long");
}

TEST(ServerTest, UnknownPathsAndThrowingHandlersGetJsonErrors) {
  Server server(Loopback());
  server.Get("/boom", Access::kOpen, [](const Request&) -> Response {
    throw std::runtime_error("kaboom with details");
  });
  auto address = server.Start();
  ASSERT_TRUE(address);
  auto missing = Get(*address, "/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(ErrorCodeOf(missing.body), "not_found");
  auto boom = Get(*address, "/boom");
  EXPECT_EQ(boom.status, 500);
  EXPECT_EQ(ErrorCodeOf(boom.body), "internal");
  EXPECT_EQ(boom.body.find("kaboom"), std::string::npos) << "internal details leaked";
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
  EXPECT_EQ(found.body, "item abc");
  auto missing = Get(*address, "/items/missing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body, R"({"error":{"code":"not_found","message":"no such item"}})");
  EXPECT_EQ(HttpStatusOf(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusOf(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusOf(ErrorCode::kInternal), 500);
}

TEST(ServerTest, NoMoreRequestsRunAtOnceThanItHasThreads) {
  ServerConfig config = Loopback();
  config.threads = 2;
  config.read_timeout = std::chrono::seconds(30);
  config.write_timeout = std::chrono::seconds(30);
  Server server(config, std::make_shared<BearerAuth>(kSecret));
  std::mutex mu;
  std::condition_variable cv;
  int active = 0, most = 0, done = 0;
  bool release = false;
  server.Get("/slow", Access::kAdmin, [&](const Request&) {
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
      auto res = Get(*address, "/slow", {{"Authorization", std::string("Bearer ") + kSecret}});
      statuses[i] = res.status;
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

// A handler that blocks until released, counting how many are inside.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  int inside = 0;
  bool open = false;

  Response Wait() {
    std::unique_lock lock(mu);
    ++inside;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
    --inside;
    return Text("released");
  }
  void WaitInside(int n) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return inside >= n; });
  }
  void Open() {
    {
      std::lock_guard lock(mu);
      open = true;
    }
    cv.notify_all();
  }
};

TEST(ServerTest, ProbesAnswerWhileEveryApiThreadIsBusy) {
  ServerConfig config = Loopback();
  config.threads = 1;
  config.probe_threads = 1;
  config.max_queued = 1;
  config.read_timeout = std::chrono::seconds(30);
  Server server(config, std::make_shared<BearerAuth>(kSecret));
  Gate api, open_route;
  server.Get("/api/slow", Access::kAdmin, [&](const Request&) { return api.Wait(); });
  server.Get("/metrics", Access::kOpen, [&](const Request&) { return open_route.Wait(); });
  server.Get("/readyz", Access::kOpen, [](const Request&) { return Text("ready"); });
  server.Get("/healthz", Access::kOpen, [](const Request&) { return Text("alive"); }, Lane::kInline);
  auto address = server.Start();
  ASSERT_TRUE(address);
  const HttpHeaders token{{"Authorization", std::string("Bearer ") + kSecret}};
  std::vector<std::thread> clients;
  std::array<std::atomic<int>, 3> api_statuses{};
  auto call_api = [&](int i) {
    clients.emplace_back([&, i] { api_statuses[i] = Get(*address, "/api/slow", token).status; });
  };
  call_api(0);
  api.WaitInside(1);  // The pool's one thread is taken; then one waits, one is refused.
  call_api(1);
  call_api(2);
  // The API pool is busy: /readyz runs on the open routes' pool.
  EXPECT_EQ(Get(*address, "/readyz").body, "ready");
  clients.emplace_back([&] { Get(*address, "/metrics"); });
  open_route.WaitInside(1);
  // Both pools busy: the inline liveness route still answers.
  EXPECT_EQ(Get(*address, "/healthz").body, "alive");
  // One API request runs, one waits, the third found the queue full.
  auto count = [&](int status) {
    return std::count_if(api_statuses.begin(), api_statuses.end(), [&](const auto& s) { return s.load() == status; });
  };
  EXPECT_TRUE(WaitUntil([&] { return count(503) == 1; }))
      << api_statuses[0].load() << " " << api_statuses[1].load() << " " << api_statuses[2].load();
  api.Open();
  open_route.Open();
  for (auto& t : clients) t.join();
  EXPECT_EQ(count(200), 2);
}

TEST(ServerTest, RefusesBodiesItWillNotReadBeforeReadingThem) {
  ServerConfig config = Loopback();
  config.max_body_bytes = 1024;
  Server server(config, std::make_shared<BearerAuth>(kSecret));
  std::atomic<int> posted{0};
  server.Post("/in", Access::kOpen, [&](const Request& req) {
    ++posted;
    return Text(std::to_string(req.body.size()));
  });
  server.Post("/api/in", Access::kAdmin, [&](const Request&) {
    ++posted;
    return Text("in");
  });
  auto address = server.Start();
  ASSERT_TRUE(address);
  // Each head announces a body that never comes: the answer needs none of it.
  for (const auto& [head, status] : std::vector<std::pair<std::string, int>>{
           {"POST /in HTTP/1.1\r\nContent-Length: 1025\r\n", 413},
           {"POST /in HTTP/1.1\r\nContent-Length: 100\r\nContent-Encoding: gzip\r\n", 415},
           {"POST /in HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n", 501},
           {"POST /api/in HTTP/1.1\r\nContent-Length: 100\r\n", 401},
           {"POST /nowhere HTTP/1.1\r\nContent-Length: 100\r\n", 404},
           {"PUT /in HTTP/1.1\r\nContent-Length: 100\r\n", 405},
           {"POST /in HTTP/1.1\r\nContent-Length: 100\r\nContent-Length: 7\r\n", 400}}) {
    RawHttp c(*address);
    ASSERT_TRUE(c.Send(head + "Host: t\r\n\r\n"));
    const HttpReply reply = c.Read(std::chrono::seconds(30));
    EXPECT_EQ(reply.status, status) << head;
    EXPECT_EQ(reply.Header("connection"), "close") << head;
    EXPECT_TRUE(c.WaitClosed(std::chrono::seconds(30))) << head;
  }
  // A chunked body is counted as it arrives.
  RawHttp c(*address);
  ASSERT_TRUE(c.Send("POST /in HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"));
  for (int i = 0; i < 3; ++i) c.Send("200\r\n" + std::string(512, 'a') + "\r\n");
  EXPECT_EQ(c.Read(std::chrono::seconds(30)).status, 413);
  EXPECT_EQ(posted.load(), 0);
  // Within the limit, chunked and with 100-continue, it is served.
  RawHttp ok(*address);
  ASSERT_TRUE(ok.Send("POST /in HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n"));
  ASSERT_TRUE(ok.Send("200\r\n" + std::string(512, 'a') + "\r\n0\r\n\r\n"));
  const HttpReply served = ok.Read(std::chrono::seconds(30));
  EXPECT_EQ(served.status, 200);
  EXPECT_EQ(served.body, "512");
}

TEST(ServerTest, KeepAliveServesRequestsInTurnAndHeadHasNoBody) {
  Server server(Loopback());
  server.Get("/n/(\\d+)", Access::kOpen, [](const Request& req) { return Text("n=" + req.path_params.at(0)); });
  server.Post("/n/(\\d+)", Access::kOpen, [](const Request& req) { return Text("posted " + req.body); });
  auto address = server.Start();
  ASSERT_TRUE(address);
  RawHttp c(*address);
  // Two requests in one write (pipelined), then one more.
  ASSERT_TRUE(c.Send("GET /n/1 HTTP/1.1\r\nHost: t\r\n\r\nPOST /n/2 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"));
  EXPECT_EQ(c.Read().body, "n=1");
  EXPECT_EQ(c.Read().body, "posted abc");
  ASSERT_TRUE(c.Send("HEAD /n/3 HTTP/1.1\r\nHost: t\r\n\r\n"));
  const HttpReply head = c.Read(std::chrono::seconds(30), /*to_head=*/true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-length"), "3");
  EXPECT_EQ(head.body, "");
  ASSERT_TRUE(c.Send("DELETE /n/4 HTTP/1.1\r\nHost: t\r\n\r\n"));
  const HttpReply wrong = c.Read();
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.Header("allow"), "GET, HEAD, POST");
}

TEST(ServerTest, ASlowHeadIsDroppedAtItsDeadlineHoweverItTrickles) {
  ServerConfig config = Loopback();
  config.read_timeout = std::chrono::milliseconds(300);
  Server server(config);
  server.Get("/healthz", Access::kOpen, [](const Request&) { return Text("alive"); }, Lane::kInline);
  auto address = server.Start();
  ASSERT_TRUE(address);
  RawHttp slow(*address);
  ASSERT_TRUE(slow.Send("GET /healthz HTTP/1.1\r\n"));
  // A byte every 50 ms: every read makes progress, the head never ends.
  bool closed = false;
  for (int i = 0; i < 400 && !closed; ++i) {
    closed = !slow.Send("X") || slow.WaitClosed(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(closed) << "the trickling connection was never dropped";
}

TEST(ServerTest, AtTheConnectionCapTheOldestWaitingConnectionMakesRoom) {
  ServerConfig config = Loopback();
  config.max_connections = 8;
  config.max_connections_per_address = 4;
  config.read_timeout = std::chrono::seconds(60);
  config.keep_alive = std::chrono::seconds(60);
  Server server(config);
  server.Get("/healthz", Access::kOpen, [](const Request&) { return Text("alive"); }, Lane::kInline);
  auto address = server.Start();
  ASSERT_TRUE(address);
  std::vector<std::unique_ptr<RawHttp>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<RawHttp>(*address));
    ASSERT_TRUE(idle.back()->Send("GET /healthz HTTP/1.1\r\n"));  // A head begun, never ended.
  }
  // The fifth from the same address gets in: the oldest waiting one goes.
  EXPECT_EQ(Get(*address, "/healthz").body, "alive");
  EXPECT_TRUE(idle.front()->WaitClosed(std::chrono::seconds(30)));
  int open = 0;
  for (size_t i = 1; i < idle.size(); ++i) open += idle[i]->WaitClosed(std::chrono::milliseconds(0)) ? 0 : 1;
  EXPECT_EQ(open, 3);
}

TEST(ServerTest, TooManyHeadersOrTooLongHeadsAreRefused) {
  ServerConfig config = Loopback();
  config.max_headers = 10;
  Server server(config);
  server.Get("/x", Access::kOpen, [](const Request&) { return Text("x"); });
  auto address = server.Start();
  ASSERT_TRUE(address);
  HttpHeaders ten, eleven;
  for (int i = 0; i < 8; ++i) ten.emplace_back("X-" + std::to_string(i), "v");  // + Host, Connection
  eleven = ten;
  eleven.emplace_back("X-Extra", "v");
  eleven.emplace_back("X-More", "v");
  EXPECT_EQ(Get(*address, "/x", ten).status, 200);
  EXPECT_EQ(Get(*address, "/x", eleven).status, 431);
  EXPECT_EQ(Get(*address, "/x", {{"X-Big", std::string(20000, 'b')}}).status, 431);
  EXPECT_EQ(Get(*address, "/" + std::string(20000, 'p')).status, 414);
  EXPECT_EQ(ErrorCodeOf(Get(*address, "/x", eleven).body), "header_fields_too_large");
}

TEST(ServerConfigTest, ValidateNamesTheBadLimit) {
  ServerConfig config = Loopback();
  EXPECT_TRUE(config.Validate());
  config.max_headers = 0;
  auto bad = config.Validate();
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("max_headers"), std::string::npos) << bad.error().message;
  config = Loopback();
  config.max_connections_per_address = config.max_connections + 1;
  ASSERT_FALSE(config.Validate());
  EXPECT_NE(config.Validate().error().message.find("max_connections_per_address"), std::string::npos);
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
