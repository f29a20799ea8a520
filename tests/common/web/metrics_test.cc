// The metrics registry's text output, scrape-time sources, label caps, the
// probe JSON and the database pool's bounds (no database needed: pooled
// connections connect on first use).
#include "common/web/metrics.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "common/web/db_pool.h"
#include "common/web/probe.h"
#include "common/web/process_metrics.h"
#include "common/base/version.h"

namespace chime::web {
namespace {

class FixedSource : public ScrapeSource {
 public:
  std::vector<prometheus::MetricFamily> Collect() override {
    ++calls;
    std::vector<prometheus::MetricFamily> out;
    out.push_back(GaugeFamilyBuilder("chime_test_depth", "Depth per queue")
                      .Add({{"queue", "default"}}, 3)
                      .Add({{"queue", "mail"}}, 0.5)
                      .Build());
    return out;
  }
  int calls = 0;
};

TEST(MetricsRegistryTest, RendersProcessFamiliesAndScrapeSourcesInTextFormat) {
  MetricsRegistry metrics;
  metrics.Counter("chime_test_results_total", "Results").Add({{"outcome", "failed"}}).Increment(2);
  metrics.Histogram("chime_test_seconds", "Durations")
      .Add({{"kind", "noop"}}, DurationBuckets())
      .Observe(0.2);
  FixedSource source;
  metrics.AddSource(&source);
  const std::string text = metrics.Render();
  EXPECT_EQ(source.calls, 1);
  EXPECT_NE(text.find("# TYPE chime_test_results_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("chime_test_results_total{outcome=\"failed\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE chime_test_depth gauge\n"), std::string::npos) << text;
  EXPECT_NE(text.find("chime_test_depth{queue=\"mail\"} 0.5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("chime_test_seconds_bucket{kind=\"noop\",le=\"0.25\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("chime_test_seconds_count{kind=\"noop\"} 1\n"), std::string::npos) << text;
  // Families are sorted by name: depth < results < seconds.
  EXPECT_LT(text.find("chime_test_depth"), text.find("chime_test_results_total"));
  EXPECT_LT(text.find("chime_test_results_total"), text.find("chime_test_seconds"));
  auto response = metrics.RenderResponse();
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "text/plain; version=0.0.4; charset=utf-8");
}

// Issue 22: the standard process_* metrics every Prometheus client exports,
// and the build, on every /metrics.
TEST(ProcessMetricsTest, EveryRegistryRendersTheStandardProcessMetricsAndTheBuild) {
  MetricsRegistry metrics;
  const std::string text = metrics.Render();
  for (const char* family : {"process_cpu_seconds_total counter", "process_resident_memory_bytes gauge",
                             "process_virtual_memory_bytes gauge", "process_open_fds gauge",
                             "process_max_fds gauge", "process_start_time_seconds gauge",
                             "chime_build_info gauge"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + family + "\n"), std::string::npos) << family << "\n" << text;
  }
  EXPECT_NE(text.find("chime_build_info{version=\"" + std::string(Version()) + "\"} 1\n"), std::string::npos)
      << text;
  const ProcessStats s = ReadProcessStats();
  ASSERT_TRUE(s.resident_bytes && s.virtual_bytes && s.open_fds && s.max_fds && s.cpu_seconds &&
              s.start_time_seconds);
  EXPECT_GT(*s.resident_bytes, 0);
  EXPECT_GE(*s.virtual_bytes, *s.resident_bytes);
  EXPECT_GE(*s.open_fds, 3) << "stdin, stdout, stderr";
  EXPECT_GE(*s.max_fds, *s.open_fds);
  const double now = static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  EXPECT_LE(*s.start_time_seconds, now + 1);
  EXPECT_GT(*s.start_time_seconds, 1.5e9);
}

TEST(ProcessMetricsTest, ParsesProcStatWhateverTheCommandNameHolds) {
  // proc(5): field 14 utime, 15 stime, 22 starttime (ticks), 23 vsize
  // (bytes), 24 rss (pages); the name may hold spaces and parentheses.
  const std::string stat =
      "4242 (chime (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 1000 "
      "104857600 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  ProcessStats s;
  ASSERT_TRUE(ParseProcStat(stat, 100, 4096, 1.7e9, s));
  EXPECT_DOUBLE_EQ(*s.cpu_seconds, 3.0);
  EXPECT_DOUBLE_EQ(*s.start_time_seconds, 1.7e9 + 10);
  EXPECT_DOUBLE_EQ(*s.virtual_bytes, 104857600);
  EXPECT_DOUBLE_EQ(*s.resident_bytes, 2048.0 * 4096);
  ProcessStats none;
  EXPECT_FALSE(ParseProcStat("4242 (short) S 1 2 3", 100, 4096, 1.7e9, none));
  EXPECT_FALSE(none.cpu_seconds);
  ProcessStats no_boot;
  ASSERT_TRUE(ParseProcStat(stat, 100, 4096, std::nullopt, no_boot));
  EXPECT_FALSE(no_boot.start_time_seconds) << "left out, never a made-up start";
}

TEST(LabelCapTest, NewValuesPastTheCapReadAsOther) {
  LabelCap cap(2);
  EXPECT_EQ(cap("a"), "a");
  EXPECT_EQ(cap("b"), "b");
  EXPECT_EQ(cap("c"), "_other");
  EXPECT_EQ(cap("a"), "a");
}

TEST(ProbeResponseTest, HasTheSeedHealthShapeAndFailsWhenOneCheckFails) {
  const auto now = std::chrono::steady_clock::now();
  ProbeCheck db{.name = "database", .healthy = true, .status = "ok",
                .response_time = std::chrono::milliseconds(3)};
  ProbeCheck leader{.name = "leader", .healthy = false, .status = "standby",
                    .error = "this scheduler does not lead"};
  leader.details = {{"epoch", 7}};
  auto ok = ProbeResponse({db}, {now - std::chrono::seconds(90), now});
  EXPECT_EQ(ok.status, 200);
  auto j = nlohmann::json::parse(ok.body);
  EXPECT_EQ(j["status"], "healthy");
  EXPECT_GE(j["uptime"].get<int64_t>(), 90);
  EXPECT_TRUE(j["responseTime"].is_number());
  EXPECT_TRUE(j["timestamp"].get<std::string>().ends_with("Z"));
  EXPECT_EQ(j["checks"]["database"]["status"], "ok");
  EXPECT_EQ(j["checks"]["database"]["responseTime"], 3);
  EXPECT_EQ(j["version"], "0.1.0") << "the project version (CMakeLists.txt)";

  auto bad = ProbeResponse({db, leader}, {now, now});
  EXPECT_EQ(bad.status, 503);
  auto b = nlohmann::json::parse(bad.body);
  EXPECT_EQ(b["status"], "unhealthy");
  EXPECT_EQ(b["checks"]["leader"]["status"], "standby");
  EXPECT_EQ(b["checks"]["leader"]["epoch"], 7);
  EXPECT_EQ(b["checks"]["leader"]["error"], "this scheduler does not lead");
}

TEST(DbPoolTest, LendsEachConnectionToOneBorrowerAndBoundsTheirNumber) {
  DbPool pool(db::ConnectionConfig{.url = "postgresql://127.0.0.1:1/none"}, 2);
  auto a = pool.Acquire();
  auto b = pool.Acquire();
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_NE(&**a, &**b);
  auto c = pool.Acquire(std::chrono::milliseconds(10));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kUnavailable);
  db::Connection* first = &**a;
  { auto returned = std::move(*a); }
  auto d = pool.Acquire(std::chrono::milliseconds(10));
  ASSERT_TRUE(d);
  EXPECT_EQ(&**d, first);  // Reused, not a third connection.
}

TEST(DbPoolTest, AWaitingBorrowerGetsTheConnectionWhenItIsReturned) {
  DbPool pool(db::ConnectionConfig{.url = "postgresql://127.0.0.1:1/none"}, 1);
  auto first = pool.Acquire();
  ASSERT_TRUE(first);
  std::optional<DbPool::Borrowed> held(std::move(*first));
  std::thread giver([&] { held.reset(); });
  auto waited = pool.Acquire(std::chrono::seconds(30));
  giver.join();
  EXPECT_TRUE(waited);
}

}  // namespace
}  // namespace chime::web
