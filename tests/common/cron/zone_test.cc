#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "common/cron/cron.h"
#include "tests/common/cron/cron_test_util.h"

namespace chime::cron {
namespace {

using testing::At;
using testing::Iso;

TEST(ZoneTest, LoadsUtcAndRegionNames) {
  for (const char* name : {"UTC", "Etc/UTC", "America/New_York", "Europe/Berlin",
                           "Australia/Lord_Howe", "Pacific/Apia", "Etc/GMT+5", "Etc/GMT-14"}) {
    SCOPED_TRACE(name);
    auto zone = Zone::Load(name);
    ASSERT_TRUE(zone.has_value()) << zone.error().message;
    EXPECT_EQ(zone->name(), name);
    ASSERT_NE(zone->tz(), nullptr);
  }
}

TEST(ZoneTest, UtcIsTheDatabasesUtc) {
  const Zone utc = Zone::Utc();
  EXPECT_EQ(utc.name(), "UTC");
  EXPECT_EQ(utc.tz(), Zone::Load("UTC")->tz());
}

TEST(ZoneTest, EtcOffsetsHaveTheirInvertedSign) {
  // POSIX-style names: Etc/GMT+5 is five hours behind UTC.
  auto e = Expression::Parse("0 12 * * *");
  ASSERT_TRUE(e.has_value());
  auto zone = Zone::Load("Etc/GMT+5");
  ASSERT_TRUE(zone.has_value());
  EXPECT_EQ(Iso(*NextFire(*e, *zone, At("2026-01-01T00:00:00Z"))), "2026-01-01T17:00:00Z");
}

struct BadName {
  std::string name;
  std::string message;
};

void PrintTo(const BadName& b, std::ostream* os) { *os << '"' << b.name << '"'; }

class ZoneRejectTest : public ::testing::TestWithParam<BadName> {};

TEST_P(ZoneRejectTest, IsInvalidArgumentWithTheNameInTheMessage) {
  auto zone = Zone::Load(GetParam().name);
  ASSERT_FALSE(zone.has_value());
  EXPECT_EQ(zone.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(zone.error().message, GetParam().message);
}

const std::string kNotAName =
    "\": not a zone name (1-64 bytes of A-Z a-z 0-9 _ + - /, not starting with '/')";

INSTANTIATE_TEST_SUITE_P(
    Names, ZoneRejectTest,
    ::testing::Values(
        BadName{"Mars/Base", "time zone \"Mars/Base\": not in the zone database"},
        BadName{"America", "time zone \"America\": not in the zone database"},  // A directory.
        BadName{"America/", "time zone \"America/\": not in the zone database"},
        BadName{std::string(64, 'A'),
                "time zone \"" + std::string(64, 'A') + "\": not in the zone database"},
        BadName{"../etc/passwd", "time zone \"../etc/passwd" + kNotAName},
        BadName{"Europe/../../etc/passwd", "time zone \"Europe/../../etc/passwd" + kNotAName},
        BadName{"/etc/localtime", "time zone \"/etc/localtime" + kNotAName},
        BadName{"/usr/share/zoneinfo/UTC", "time zone \"/usr/share/zoneinfo/UTC" + kNotAName},
        BadName{"", "time zone \"" + kNotAName},
        BadName{std::string(65, 'A'), "time zone \"" + std::string(65, 'A') + kNotAName},
        BadName{"America/New York", "time zone \"America/New York" + kNotAName},
        BadName{"America\\New_York", "time zone \"America?New_York" + kNotAName},
        BadName{"UTC\n", "time zone \"UTC?" + kNotAName},
        BadName{std::string("UTC\0", 4), "time zone \"UTC?" + kNotAName},
        BadName{"zone.tab", "time zone \"zone.tab" + kNotAName},
        BadName{std::string(1000, 'x'),
                "time zone \"" + std::string(128, 'x') + "..." + kNotAName}));

TEST(ZoneTest, LoadAndNextFireAreSafeFromManyThreads) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&failures, i] {
      const char* names[] = {"America/New_York", "Europe/Berlin", "Australia/Lord_Howe",
                             "Asia/Tokyo"};
      auto zone = Zone::Load(names[i % 4]);
      auto e = Expression::Parse("*/5 * * * *");
      if (!zone || !e) {
        ++failures;
        return;
      }
      Instant t = At("2026-01-01T00:00:00Z");
      for (int k = 0; k < 2000; ++k) {
        auto next = NextFire(*e, *zone, t);
        if (!next || *next - t != std::chrono::minutes(5)) ++failures;
        if (next) t = *next;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace chime::cron
