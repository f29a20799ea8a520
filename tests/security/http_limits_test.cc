// Hostile HTTP clients against the real chime-scheduler and chime-worker
// processes (issue 18, finding 2): bodies of any framing sent without a
// token, compressed bombs, endless headers and slowloris connections must
// neither grow the process's memory past a small bound (RSS from /proc) nor
// keep /healthz from answering, and an unauthenticated request is refused
// before its body is read. Nothing here asserts on time: waits are bounded
// only for broken builds.
#include <gtest/gtest.h>
#include <zlib.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <thread>

#include "common/base/child_process.h"
#include "tests/integration/cluster.h"
#include "tests/support/raw_http.h"
#include "tests/support/wait_until.h"

namespace chime::testing {
namespace {

using std::chrono::seconds;

// How much a hostile request may add to the server's resident memory.
constexpr int64_t kGrowthBound = 48LL * 1024 * 1024;
constexpr size_t kChunk = 64 * 1024;

int64_t Rss(pid_t pid) { return ResidentBytes(pid).value_or(0); }

// The environment of a measured process: under ASan, no quarantine of freed
// memory (256 MB by default), which would count as the server's growth.
std::map<std::string, std::string> MeasuredEnv() {
  std::map<std::string, std::string> env;
#if defined(__SANITIZE_ADDRESS__)
  const char* asan = std::getenv("ASAN_OPTIONS");
  env["ASAN_OPTIONS"] = std::string(asan != nullptr ? asan : "") + ":quarantine_size_mb=0";
#endif
  return env;
}

std::string Chunk(std::string_view data) {
  char size[32];
  std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
  return std::string(size) + std::string(data) + "\r\n";
}

// Sends `head` and then chunks from `next` (empty: done) until the server
// stops taking them, the body ends, or the RSS of `pid` grew past the bound.
// Returns the peak growth seen; `status` gets the answer, if any.
int64_t Stream(const std::string& address, pid_t pid, const std::string& head,
               const std::function<std::string()>& next, int* status) {
  const int64_t before = Rss(pid);
  int64_t peak = 0;
  RawHttp c(address);
  EXPECT_TRUE(c.connected());
  *status = 0;
  if (!c.Send(head)) return 0;
  size_t sent = 0;
  for (std::string piece = next(); !piece.empty(); piece = next()) {
    if (!c.Send(piece)) break;
    sent += piece.size();
    if (sent % (8 * kChunk) < piece.size()) {
      peak = std::max(peak, Rss(pid) - before);
      if (peak > kGrowthBound) break;
    }
  }
  *status = c.Read(seconds(10)).status;
  return std::max(peak, Rss(pid) - before);
}

// `total` bytes of 'a' as chunks of kChunk.
std::function<std::string()> ChunkedBody(size_t total) {
  auto left = std::make_shared<size_t>(total);
  auto chunk = std::make_shared<std::string>(Chunk(std::string(kChunk, 'a')));
  return [left, chunk]() -> std::string {
    if (*left == 0) return {};
    *left -= std::min(*left, kChunk);
    return *left == 0 ? *chunk + "0\r\n\r\n" : *chunk;
  };
}

// `total` raw bytes, not framed at all.
std::function<std::string()> RawBody(size_t total) {
  auto left = std::make_shared<size_t>(total);
  return [left]() -> std::string {
    if (*left == 0) return {};
    const size_t n = std::min(*left, kChunk);
    *left -= n;
    return std::string(n, 'b');
  };
}

// A gzip stream of `total` zero bytes (about a thousandth of that).
std::string GzipBomb(size_t total) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
  const std::string zeros(1024 * 1024, '\0');
  std::string out;
  char buf[65536];
  for (size_t done = 0; done < total; done += zeros.size()) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
    z.avail_in = static_cast<uInt>(zeros.size());
    const int flush = done + zeros.size() >= total ? Z_FINISH : Z_NO_FLUSH;
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof(buf);
      deflate(&z, flush);
      out.append(buf, sizeof(buf) - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  return out;
}

class HttpLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.StartScheduler({}, MeasuredEnv());
    address_ = cluster_.http();
    pid_ = cluster_.scheduler().pid();
    ASSERT_FALSE(address_.empty());
    ASSERT_TRUE(WaitUntil([&] { return HttpGet(address_, "/healthz").status == 200; }));
  }

  // The server still serves: its probe answers 200.
  void ExpectAlive() {
    EXPECT_EQ(HttpGet(address_, "/healthz").status, 200) << cluster_.scheduler().log();
  }

  Cluster cluster_;
  std::string address_;
  pid_t pid_ = 0;
};

TEST_F(HttpLimitsTest, AChunkedBodyWithoutATokenDoesNotGrowTheScheduler) {
  for (const char* path : {"/healthz", "/api/jobs"}) {
    int status = 0;
    const int64_t growth = Stream(address_, pid_,
                                  std::string("POST ") + path + " HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n",
                                  ChunkedBody(400ULL * 1024 * 1024), &status);
    EXPECT_LE(growth, kGrowthBound) << path << ": the server kept the body";
    EXPECT_TRUE(status == 0 || status == 401 || status == 405) << path << " answered " << status;
    ExpectAlive();
  }
}

TEST_F(HttpLimitsTest, AChunkedBodyDoesNotGrowTheWorker) {
  auto& worker = cluster_.StartWorker("w1", {"--http-listen", "127.0.0.1:0"}, MeasuredEnv());
  auto line = worker.WaitForLog("http listening on ", seconds(30));
  ASSERT_TRUE(line) << worker.log();
  const std::string address = line->substr(line->find("http listening on ") + 18);
  int status = 0;
  const int64_t growth = Stream(address, worker.pid(),
                                "POST /metrics HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n",
                                ChunkedBody(400ULL * 1024 * 1024), &status);
  EXPECT_LE(growth, kGrowthBound) << "the worker kept the body";
  EXPECT_EQ(HttpGet(address, "/healthz").status, 200) << worker.log();
}

TEST_F(HttpLimitsTest, ABodyWithoutALengthIsNeverReadToTheEnd) {
  // HTTP/1.0 keep-alive and HTTP/1.1: a request without Content-Length or
  // Transfer-Encoding has no body; whatever follows is not one.
  for (const char* head : {"POST /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
                           "POST /api/jobs HTTP/1.1\r\nHost: t\r\n\r\n"}) {
    int status = 0;
    const int64_t growth = Stream(address_, pid_, head, RawBody(300ULL * 1024 * 1024), &status);
    EXPECT_LE(growth, kGrowthBound) << head;
    ExpectAlive();
  }
}

TEST_F(HttpLimitsTest, ACompressedBombIsNeverInflated) {
  const std::string bomb = GzipBomb(512ULL * 1024 * 1024);
  ASSERT_LT(bomb.size(), 4u * 1024 * 1024);
  for (const std::string& extra : {std::string(), std::string("Authorization: Bearer ") + kClusterSecret + "\r\n"}) {
    size_t at = 0;
    int status = 0;
    const int64_t growth = Stream(
        address_, pid_,
        "POST /healthz HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n" + extra + "\r\n",
        [&]() -> std::string {
          if (at >= bomb.size()) return {};
          const std::string_view piece = std::string_view(bomb).substr(at, kChunk);
          at += piece.size();
          return Chunk(piece) + (at >= bomb.size() ? "0\r\n\r\n" : "");
        },
        &status);
    EXPECT_LE(growth, kGrowthBound) << "the body was inflated";
    ExpectAlive();
  }
}

TEST_F(HttpLimitsTest, EndlessHeadersGet431OrAClosedConnection) {
  std::string many = "GET /healthz HTTP/1.1\r\nHost: t\r\n";
  for (int i = 0; i < 1000; ++i) many += "X-Header-" + std::to_string(i) + ": v\r\n";
  const std::string one_long = "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Long: " + std::string(1024 * 1024, 'x') + "\r\n";
  for (const std::string& head : {many, one_long}) {
    RawHttp c(address_);
    ASSERT_TRUE(c.connected());
    c.Send(head + "\r\n");  // May fail: the server may close before taking it all.
    const HttpReply reply = c.Read(seconds(10));
    EXPECT_TRUE(reply.status == 431 || reply.status == 0) << "answered " << reply.status;
    EXPECT_TRUE(c.WaitClosed(seconds(30)));
    ExpectAlive();
  }
}

TEST_F(HttpLimitsTest, ProbesAreAnsweredWhileSlowlorisClientsHoldConnections) {
  constexpr int kSlow = 100;
  std::vector<std::unique_ptr<RawHttp>> slow;
  for (int i = 0; i < kSlow; ++i) {
    slow.push_back(std::make_unique<RawHttp>(address_));
    ASSERT_TRUE(slow.back()->connected());
    ASSERT_TRUE(slow.back()->Send("GET /healthz HTTP/1.1\r\nHost: t\r\n"));
  }
  std::atomic<bool> stop{false};
  std::atomic<int> dropped{0};
  std::thread trickle([&] {
    std::vector<bool> gone(kSlow, false);
    for (int round = 0; !stop.load() && round < 120; ++round) {
      for (int i = 0; i < kSlow; ++i) {
        if (gone[i]) continue;
        // One more header line a second: each read makes progress.
        if (!slow[i]->Send("X-Slow-" + std::to_string(round) + ": a\r\n") || slow[i]->WaitClosed(std::chrono::milliseconds(0))) {
          gone[i] = true;
          ++dropped;
        }
      }
      // Part of what is tested, not a wait: a slowloris client sends one
      // header line a second, so every read makes progress.
      std::this_thread::sleep_for(seconds(1));
    }
  });
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(HttpGet(address_, "/healthz").status, 200) << "probe " << i;
    EXPECT_EQ(HttpGet(address_, "/readyz").status, 200) << "probe " << i;
  }
  EXPECT_TRUE(WaitUntil([&] { return dropped.load() == kSlow; }, seconds(90)))
      << dropped.load() << " of " << kSlow << " slow connections dropped";
  stop = true;
  trickle.join();
  ExpectAlive();
}

TEST_F(HttpLimitsTest, AnUnauthenticatedPostIsRefusedBeforeItsBodyIsRead) {
  // The body is announced and never sent: only a server that decides on the
  // head alone can answer.
  for (const char* path : {"/api/jobs", "/api/schedules"}) {
    RawHttp c(address_);
    ASSERT_TRUE(c.Send(std::string("POST ") + path +
                       " HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n"));
    const HttpReply reply = c.Read(seconds(30));
    EXPECT_EQ(reply.status, 401) << path;
    EXPECT_NE(reply.body.find("unauthenticated"), std::string::npos) << reply.body;
  }
  // Also with "Expect: 100-continue": no 100 is sent, the refusal is.
  RawHttp c(address_);
  ASSERT_TRUE(c.Send("POST /api/jobs HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5000000\r\n\r\n"));
  const HttpReply reply = c.Read(seconds(30));
  EXPECT_EQ(reply.status, 401);
  ExpectAlive();
}

}  // namespace
}  // namespace chime::testing
