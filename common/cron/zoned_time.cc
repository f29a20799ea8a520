#include "common/cron/zoned_time.h"

#include <date/tz.h>

#include <cstdio>
#include <cstdlib>

namespace chime::cron {

ZonedTime InZone(const Zone& zone, Instant at) {
  const date::sys_info info = zone.tz()->get_info(at);
  const int64_t offset = info.offset.count();
  const auto local = date::local_seconds((at + info.offset).time_since_epoch());
  const auto day = std::chrono::floor<date::days>(local);
  const date::year_month_day ymd(day);
  const int64_t secs = (local - day).count();
  const int64_t off = std::llabs(offset);
  char offset_text[8];
  std::snprintf(offset_text, sizeof offset_text, "%c%02d:%02d", offset < 0 ? '-' : '+',
                static_cast<int>(off / 3600), static_cast<int>(off / 60 % 60));
  char local_text[40];
  std::snprintf(local_text, sizeof local_text, "%04d-%02u-%02uT%02d:%02d:%02d%s", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60),
                offset_text);
  return ZonedTime{.local = local_text, .offset = offset_text, .abbrev = info.abbrev,
                   .dst = info.save != std::chrono::minutes(0)};
}

}  // namespace chime::cron
