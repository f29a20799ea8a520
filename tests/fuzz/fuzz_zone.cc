// Fuzzes cron::Zone::Load, the check every user-supplied zone name passes.
// Input: the name, all bytes.
//
// Properties, for every accepted name: 1-64 bytes, no "..", no NUL or
// backslash, not starting with '/', a regular file under /usr/share/zoneinfo
// (so the name cannot reach outside the zone database), name() returns it,
// and the zone evaluates a schedule. A rejection is InvalidArgument.
#include <sys/stat.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/cron/cron.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using chime::fuzz::Escaped;
  const std::string_view name(reinterpret_cast<const char*>(data), size);
  auto zone = chime::cron::Zone::Load(name);
  if (!zone) {
    FUZZ_CHECK(zone.error().code == chime::ErrorCode::kInvalidArgument,
               "\"%s\": rejected with a code other than InvalidArgument", Escaped(name).c_str());
    return 0;
  }
  const std::string shown = Escaped(name);
  FUZZ_CHECK(!name.empty() && name.size() <= 64, "\"%s\": accepted with %zu bytes", shown.c_str(),
             name.size());
  FUZZ_CHECK(name.find("..") == std::string_view::npos, "\"%s\": accepted with \"..\"",
             shown.c_str());
  FUZZ_CHECK(name.front() != '/', "\"%s\": accepted an absolute name", shown.c_str());
  FUZZ_CHECK(name.find('\0') == std::string_view::npos && name.find('\\') == std::string_view::npos,
             "\"%s\": accepted a NUL or backslash", shown.c_str());
  const std::string path = "/usr/share/zoneinfo/" + std::string(name);
  struct stat st {};
  FUZZ_CHECK(stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode),
             "\"%s\": accepted but %s is not a zone file", shown.c_str(), path.c_str());
  FUZZ_CHECK(zone->name() == name, "\"%s\": name() is \"%s\"", shown.c_str(),
             Escaped(zone->name()).c_str());
  static const auto hourly = chime::cron::Expression::Parse("@hourly");
  const auto after = chime::cron::Instant(std::chrono::seconds(1'700'000'000));
  FUZZ_CHECK(chime::cron::NextFire(*hourly, *zone, after).has_value(),
             "\"%s\": accepted but @hourly never fires in it", shown.c_str());
  return 0;
}
