// Zone: IANA names checked against a strict alphabet, then looked up in
// date-tz's database (the system's /usr/share/zoneinfo).
#include <date/tz.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "common/cron/cron.h"

namespace chime::cron {
namespace {

constexpr size_t kMaxZoneNameBytes = 64;

// The name as it may appear in a message: printable, cut at twice the limit.
std::string ForMessage(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 2 * kMaxZoneNameBytes)) {
    const auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') ? '?' : c;
  }
  if (name.size() > 2 * kMaxZoneNameBytes) out += "...";
  return out;
}

bool IsZoneNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '+' || c == '-' || c == '/';
}

// Whether `name` could be an IANA zone name. The alphabet has no '.' and no
// '\\', so no ".." and no Windows path; a leading '/' would be absolute.
bool IsPlausibleZoneName(std::string_view name) {
  if (name.empty() || name.size() > kMaxZoneNameBytes || name.front() == '/') return false;
  for (char c : name) {
    if (!IsZoneNameChar(c)) return false;
  }
  return true;
}

// Null when the database does not have `name` (or cannot be read at all).
const date::time_zone* Locate(std::string_view name) {
  // date-tz builds its database once, behind a function-local static whose
  // fast path lives in the uninstrumented library; reading it first behind
  // our own static gives ThreadSanitizer the happens-before edge it cannot
  // see there (the library itself is safe: C++11 static initialization).
  static const bool database_read = [] {
    try {
      return !date::get_tzdb().zones.empty();
    } catch (const std::exception&) {
      return false;
    }
  }();
  if (!database_read) return nullptr;
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return nullptr;
  }
}

const date::time_zone* UtcZone() {
  static const date::time_zone* const utc = [] {
    const date::time_zone* tz = Locate("UTC");
    if (tz == nullptr) {
      // Without tzdata no schedule can be evaluated; that is an install bug.
      std::fprintf(stderr, "chime::cron: the zone database has no UTC; is tzdata installed?\n");
      std::abort();
    }
    return tz;
  }();
  return utc;
}

}  // namespace

Result<Zone> Zone::Load(std::string_view name) {
  if (!IsPlausibleZoneName(name)) {
    return Fail(ErrorCode::kInvalidArgument,
                "time zone \"" + ForMessage(name) +
                    "\": not a zone name (1-64 bytes of A-Z a-z 0-9 _ + - /, not starting with "
                    "'/')");
  }
  const date::time_zone* tz = Locate(name);
  if (tz == nullptr) {
    return Fail(ErrorCode::kInvalidArgument,
                "time zone \"" + std::string(name) + "\": not in the zone database");
  }
  Zone zone;
  zone.name_ = std::string(name);
  zone.tz_ = tz;
  return zone;
}

Zone Zone::Utc() {
  Zone zone;
  zone.tz_ = UtcZone();
  return zone;
}

const std::string& Zone::name() const { return name_; }

const date::time_zone* Zone::tz() const { return tz_ != nullptr ? tz_ : UtcZone(); }

}  // namespace chime::cron
