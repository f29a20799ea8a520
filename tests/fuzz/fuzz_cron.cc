// Fuzzes cron::Expression::Parse and cron::NextFire.
//
// Input: the expression text up to the first '\n'; after it, optional
// parameter bytes: [zone index] [flags] [8 bytes little-endian start]. Flags
// bit 0 asks for the seconds field; bit 1 puts the start in 2023-2025, where
// the zones' DST transitions are, instead of anywhere in years 0001-9999.
//
// Properties, for every accepted expression:
// - text() is the input trimmed of spaces and tabs, and parsing it again
//   gives the same fires;
// - NextFire terminates and, from a start before year 9590, finds a fire (the
//   header promises one within 400 years);
// - successive fires strictly increase, and NextFire(fire - 1) == fire;
// - each fire's wall time in the zone matches the expression, except the
//   instant of a spring-forward jump for a non-wildcard schedule (Vixie's
//   collapsed fire);
// - no instant between two fires matches (checked by brute force over a
//   bounded window lying inside one stretch of constant UTC offset).
#include <date/tz.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "common/cron/cron.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using chime::cron::Expression;
using chime::cron::Instant;
using chime::cron::NextFire;
using chime::cron::Zone;
using chime::fuzz::Escaped;
using std::chrono::seconds;

// UTC, common DST zones, a 30-minute DST (Lord_Howe), a skipped day (Apia),
// negative DST (Dublin), a 2-hour DST (Troll) and a +13:45 zone (Chatham).
constexpr std::array<const char*, 10> kZones = {
    "UTC",        "America/New_York",   "Europe/London",       "Australia/Lord_Howe",
    "Pacific/Apia", "Europe/Dublin",    "Antarctica/Troll",    "Pacific/Chatham",
    "Asia/Kolkata", "America/Sao_Paulo"};

const std::array<Zone, kZones.size()>& Zones() {
  static const auto zones = [] {
    std::array<Zone, kZones.size()> out;
    for (size_t i = 0; i < kZones.size(); ++i) {
      auto zone = Zone::Load(kZones[i]);
      FUZZ_CHECK(zone.has_value(), "zone %s does not load; is tzdata installed?", kZones[i]);
      out[i] = *zone;
    }
    return out;
  }();
  return zones;
}

constexpr int64_t kSecondsPerDay = 86400;
int64_t DayStart(int y, unsigned m, unsigned d) {
  using namespace std::chrono;
  return sys_days(year(y) / month(m) / day(d)).time_since_epoch().count() * kSecondsPerDay;
}

int64_t Seconds(Instant t) { return t.time_since_epoch().count(); }
Instant At(int64_t s) { return Instant(seconds(s)); }

std::string_view Trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

std::chrono::local_seconds LocalOf(const date::time_zone* tz, int64_t t) {
  return std::chrono::local_seconds(tz->to_local(At(t)).time_since_epoch());
}

// No instant in (after, fire) matches: brute force over at most a few
// thousand candidate instants, only where the window lies in one stretch of
// constant UTC offset well past its start (so no DST rule applies).
void CheckNoneMissed(const Expression& e, const date::time_zone* tz, int64_t after, int64_t fire) {
  const date::sys_info info = tz->get_info(At(after + 1));
  const int64_t begin = Seconds(info.begin);
  const int64_t end = Seconds(info.end);
  if (fire > end || after + 1 - begin < 48 * 3600) return;
  const int64_t step = e.has_seconds_field() ? 1 : 60;
  const int64_t offset = info.offset.count();
  // The first candidate: the next whole step after `after` in wall time.
  int64_t t = after + 1;
  if (step == 60) {
    const int64_t wall = t + offset;
    const int64_t rem = ((wall % 60) + 60) % 60;
    if (rem != 0) t += 60 - rem;
  }
  for (int i = 0; i < 3000 && t < fire; ++i, t += step) {
    FUZZ_CHECK(!e.Matches(std::chrono::local_seconds(seconds(t + offset))),
               "\"%s\" in %s: NextFire(%lld) = %lld skips the matching instant %lld",
               Escaped(e.text()).c_str(), tz->name().c_str(), static_cast<long long>(after),
               static_cast<long long>(fire), static_cast<long long>(t));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view text = input.substr(0, newline);
  std::string_view params =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);

  size_t zone_index = 0;
  uint8_t flags = 0;
  // Default start: 2024-03-09 12:00 UTC, a day before the US spring-forward.
  int64_t start = DayStart(2024, 3, 9) + 12 * 3600;
  if (!params.empty()) zone_index = static_cast<uint8_t>(params[0]) % kZones.size();
  if (params.size() > 1) flags = static_cast<uint8_t>(params[1]);
  if (params.size() >= 10) {
    uint64_t raw = 0;
    std::memcpy(&raw, params.data() + 2, 8);
    if (flags & 2) {
      const int64_t lo = DayStart(2023, 1, 1);
      start = lo + static_cast<int64_t>(raw % static_cast<uint64_t>(DayStart(2026, 1, 1) - lo));
    } else {
      const int64_t lo = DayStart(1, 1, 1);
      const int64_t hi = DayStart(10000, 1, 1) - 1;
      start = lo + static_cast<int64_t>(raw % static_cast<uint64_t>(hi - lo + 1));
    }
  }
  const chime::cron::ParseOptions options{.seconds_field = (flags & 1) != 0};

  auto parsed = Expression::Parse(text, options);
  if (!parsed) {
    FUZZ_CHECK(!parsed.error().message.empty(), "rejected \"%s\" without a message",
               Escaped(text).c_str());
    FUZZ_CHECK(parsed.error().position <= text.size(), "\"%s\": error position %zu past the end",
               Escaped(text).c_str(), parsed.error().position);
    return 0;
  }
  const Expression& e = *parsed;
  FUZZ_CHECK(e.text() == Trim(text), "text() \"%s\" is not the trimmed input \"%s\"",
             Escaped(e.text()).c_str(), Escaped(text).c_str());
  FUZZ_CHECK(e.has_seconds_field() == options.seconds_field, "\"%s\": seconds field flag lost",
             Escaped(text).c_str());
  auto again = Expression::Parse(e.text(), options);
  FUZZ_CHECK(again.has_value(), "\"%s\" parses but its text() does not", Escaped(text).c_str());

  const Zone& zone = Zones()[zone_index];
  const date::time_zone* tz = zone.tz();
  const int64_t search_limit = DayStart(9590, 1, 1);
  const int64_t latest_after = DayStart(10000, 1, 1) - 1;
  int64_t after = start;
  for (int i = 0; i < 6; ++i) {
    const std::optional<Instant> next = NextFire(e, zone, At(after));
    const std::optional<Instant> next_again = NextFire(*again, zone, At(after));
    FUZZ_CHECK(next == next_again, "\"%s\": parsing text() again changes the next fire",
               Escaped(text).c_str());
    if (!next) {
      FUZZ_CHECK(after >= search_limit, "\"%s\" in %s: no fire after %lld",
                 Escaped(text).c_str(), kZones[zone_index], static_cast<long long>(after));
      break;
    }
    const int64_t fire = Seconds(*next);
    FUZZ_CHECK(fire > after, "\"%s\" in %s: NextFire(%lld) = %lld does not increase",
               Escaped(text).c_str(), kZones[zone_index], static_cast<long long>(after),
               static_cast<long long>(fire));
    // NextFire takes `after` in years 0001-9999 only.
    FUZZ_CHECK(fire - 1 > latest_after || NextFire(e, zone, At(fire - 1)) == next,
               "\"%s\" in %s: NextFire(%lld) = %lld but NextFire(fire - 1) differs",
               Escaped(text).c_str(), kZones[zone_index], static_cast<long long>(after),
               static_cast<long long>(fire));
    if (!e.Matches(LocalOf(tz, fire))) {
      // Only a non-wildcard schedule's collapsed fire at a spring-forward
      // jump may land on a wall time that does not match.
      const date::sys_info info = tz->get_info(At(fire));
      const date::sys_info before = tz->get_info(At(fire - 1));
      FUZZ_CHECK(!e.wildcard_time() && Seconds(info.begin) == fire &&
                     before.offset < info.offset,
                 "\"%s\" in %s: NextFire(%lld) = %lld, whose wall time does not match",
                 Escaped(text).c_str(), kZones[zone_index], static_cast<long long>(after),
                 static_cast<long long>(fire));
    }
    CheckNoneMissed(e, tz, after, fire);
    after = fire;
  }
  return 0;
}
