// The metrics registry's text output, scrape-time sources, label caps, the
// probe JSON and the database pool's bounds (no database needed: pooled
// connections connect on first use).
#include "common/web/metrics.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "common/web/db_pool.h"
#include "common/web/probe.h"

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
  std::optional<DbPool::Lease> held(std::move(*first));
  std::thread giver([&] { held.reset(); });
  auto waited = pool.Acquire(std::chrono::seconds(30));
  giver.join();
  EXPECT_TRUE(waited);
}

}  // namespace
}  // namespace chime::web
