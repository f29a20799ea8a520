// Helpers for the cron tests: RFC 3339 UTC instants in and out, and fire
// sequences as strings so that a failing test shows readable times.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "common/cron/cron.h"

namespace chime::cron::testing {

// "2026-03-08T07:00:00Z" -> Instant. Aborts the test on a malformed literal.
inline Instant At(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  char z = 0;
  const std::string copy(text);
  if (std::sscanf(copy.c_str(), "%d-%d-%dT%d:%d:%d%c", &y, &mo, &d, &h, &mi, &s, &z) != 7 ||
      z != 'Z') {
    ADD_FAILURE() << "bad instant literal " << text;
    return Instant{};
  }
  using namespace std::chrono;
  return sys_days{year{y} / month{static_cast<unsigned>(mo)} / day{static_cast<unsigned>(d)}} +
         hours{h} + minutes{mi} + seconds{s};
}

// "2026-03-08T02:30:00" (no zone) -> local_seconds, for Matches.
inline std::chrono::local_seconds Wall(std::string_view text) {
  const Instant t = At(std::string(text) + "Z");
  return std::chrono::local_seconds{t.time_since_epoch()};
}

inline std::string Iso(Instant t) {
  using namespace std::chrono;
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> tod{t - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(tod.hours().count()), static_cast<int>(tod.minutes().count()),
                static_cast<int>(tod.seconds().count()));
  return buf;
}

inline Expression MustParse(std::string_view text, ParseOptions options = {}) {
  auto e = Expression::Parse(text, options);
  if (!e) {
    ADD_FAILURE() << "Parse(\"" << text << "\"): " << e.error().message;
    return Expression{};
  }
  return *e;
}

inline Zone MustLoad(std::string_view name) {
  auto z = Zone::Load(name);
  if (!z) {
    ADD_FAILURE() << z.error().message;
    return Zone::Utc();
  }
  return *z;
}

// The first `n` fires strictly after `after`, as RFC 3339 strings; stops
// early (and the comparison then fails) if NextFire returns nullopt.
inline std::vector<std::string> Fires(const Expression& e, const Zone& zone, std::string_view after,
                                      int n) {
  std::vector<std::string> out;
  Instant t = At(after);
  for (int i = 0; i < n; ++i) {
    auto next = NextFire(e, zone, t);
    if (!next) break;
    out.push_back(Iso(*next));
    t = *next;
  }
  return out;
}

inline std::vector<std::string> Fires(std::string_view expression, std::string_view zone,
                                      std::string_view after, int n) {
  return Fires(MustParse(expression), MustLoad(zone), after, n);
}

}  // namespace chime::cron::testing
