#include "common/base/text_format.h"

#include <charconv>
#include <cstdio>
#include <limits>
#include <vector>

namespace chime {
namespace {

using std::chrono::milliseconds;

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kMsPerMinute = 60 * kMsPerSecond;
constexpr int64_t kMsPerHour = 60 * kMsPerMinute;
constexpr int64_t kMsPerDay = 24 * kMsPerHour;
// 100 years: far beyond any sensible delay, far below int64 overflow.
constexpr int64_t kMaxDurationMs = 36525 * kMsPerDay;

constexpr std::string_view kDurationHint =
    "expected <number><unit> parts with units ms, s, m, h, d (500ms, 30s, 5m, 2h, 1h30m)";
constexpr std::string_view kTimeHint =
    "expected an RFC 3339 time like 2026-01-31T02:00:00Z or 2026-01-31T04:00:00+02:00";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string Quoted(std::string_view text) {
  return "\"" + OneLine(text, 64) + "\"";
}

int64_t UnitMs(std::string_view unit) {
  if (unit == "ms") return 1;
  if (unit == "s") return kMsPerSecond;
  if (unit == "m") return kMsPerMinute;
  if (unit == "h") return kMsPerHour;
  if (unit == "d") return kMsPerDay;
  return 0;
}

// Reads exactly `n` digits at text[*pos]; advances *pos.
bool ReadFixed(std::string_view text, size_t* pos, int n, int* out) {
  if (*pos + n > text.size()) return false;
  int value = 0;
  for (int i = 0; i < n; ++i) {
    const char c = text[*pos + i];
    if (!IsDigit(c)) return false;
    value = value * 10 + (c - '0');
  }
  *pos += n;
  *out = value;
  return true;
}

bool Expect(std::string_view text, size_t* pos, std::string_view any_of) {
  if (*pos >= text.size() || any_of.find(text[*pos]) == std::string_view::npos) return false;
  ++*pos;
  return true;
}

// Length of the UTF-8 sequence starting at text[i], or 0 if it is not valid.
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  size_t len = 0;
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) len = 2;
  else if (lead >= 0xE0 && lead <= 0xEF) len = 3;
  else if (lead >= 0xF0 && lead <= 0xF4) len = 4;
  else return 0;
  if (i + len > text.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto c = static_cast<unsigned char>(text[i + k]);
    if (c < 0x80 || c > 0xBF) return 0;
  }
  return len;
}

}  // namespace

Result<milliseconds> ParseDuration(std::string_view text) {
  if (text == "0") return milliseconds(0);
  if (text.empty()) return Fail(ErrorCode::kInvalidArgument, "empty duration; " + std::string(kDurationHint));
  if (text.starts_with('-')) {
    return Fail(ErrorCode::kInvalidArgument, "duration " + Quoted(text) + " must not be negative");
  }
  int64_t total = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t digits_start = pos;
    while (pos < text.size() && IsDigit(text[pos])) ++pos;
    const size_t unit_start = pos;
    while (pos < text.size() && text[pos] >= 'a' && text[pos] <= 'z') ++pos;
    const std::string_view number = text.substr(digits_start, unit_start - digits_start);
    const std::string_view unit = text.substr(unit_start, pos - unit_start);
    const int64_t unit_ms = UnitMs(unit);
    if (number.empty() || unit_ms == 0) {
      return Fail(ErrorCode::kInvalidArgument,
                  "bad duration " + Quoted(text) + ": " + std::string(kDurationHint));
    }
    uint64_t value = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc() || value > static_cast<uint64_t>(kMaxDurationMs / unit_ms) ||
        total + static_cast<int64_t>(value) * unit_ms > kMaxDurationMs) {
      return Fail(ErrorCode::kInvalidArgument,
                  "duration " + Quoted(text) + " is longer than 100 years");
    }
    total += static_cast<int64_t>(value) * unit_ms;
  }
  return milliseconds(total);
}

std::string FormatDuration(milliseconds d) {
  int64_t ms = d.count();
  if (ms < 0) {
    if (ms == std::numeric_limits<int64_t>::min()) ++ms;  // Avoid overflow on negation.
    return "-" + FormatDuration(milliseconds(-ms));
  }
  if (ms == 0) return "0s";
  if (ms < kMsPerSecond) return std::to_string(ms) + "ms";
  if (ms < kMsPerMinute) {
    std::string out = std::to_string(ms / kMsPerSecond);
    if (int64_t frac = ms % kMsPerSecond; frac != 0) {
      char buf[8];
      std::snprintf(buf, sizeof buf, ".%03d", static_cast<int>(frac));
      std::string f = buf;
      while (f.back() == '0') f.pop_back();
      out += f;
    }
    return out + "s";
  }
  std::string out;
  const std::pair<int64_t, const char*> units[] = {
      {kMsPerDay, "d"}, {kMsPerHour, "h"}, {kMsPerMinute, "m"}, {kMsPerSecond, "s"}};
  for (const auto& [unit, name] : units) {
    if (const int64_t n = ms / unit; n > 0) out += std::to_string(n) + name;
    ms %= unit;
  }
  return out;
}

Result<TimePoint> ParseRfc3339(std::string_view text) {
  auto bad = [&] {
    return Fail(ErrorCode::kInvalidArgument, "bad time " + Quoted(text) + ": " + std::string(kTimeHint));
  };
  size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!ReadFixed(text, &pos, 4, &year) || !Expect(text, &pos, "-") ||
      !ReadFixed(text, &pos, 2, &month) || !Expect(text, &pos, "-") ||
      !ReadFixed(text, &pos, 2, &day) || !Expect(text, &pos, "Tt ") ||
      !ReadFixed(text, &pos, 2, &hour) || !Expect(text, &pos, ":") ||
      !ReadFixed(text, &pos, 2, &minute) || !Expect(text, &pos, ":") ||
      !ReadFixed(text, &pos, 2, &second)) {
    return bad();
  }
  int64_t frac_ns = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const size_t start = pos;
    int64_t scale = 100'000'000;
    while (pos < text.size() && IsDigit(text[pos])) {
      frac_ns += (text[pos] - '0') * scale;  // Digits past nanoseconds add 0.
      scale /= 10;
      ++pos;
    }
    if (pos == start) return bad();
  }
  int offset_minutes = 0;
  if (Expect(text, &pos, "Zz")) {
    // UTC.
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om;
    if (!ReadFixed(text, &pos, 2, &oh) || !Expect(text, &pos, ":") ||
        !ReadFixed(text, &pos, 2, &om) || oh > 23 || om > 59) {
      return bad();
    }
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return bad();
  }
  if (pos != text.size()) return bad();

  const std::chrono::year_month_day ymd{std::chrono::year(year),
                                        std::chrono::month(static_cast<unsigned>(month)),
                                        std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) {
    return Fail(ErrorCode::kInvalidArgument, "bad time " + Quoted(text) + ": no such date or time of day");
  }
  // The system clock counts nanoseconds in int64: about 1678..2262.
  if (year < 1900 || year > 2200) {
    return Fail(ErrorCode::kInvalidArgument, "time " + Quoted(text) + " is outside years 1900-2200");
  }
  using namespace std::chrono;
  const auto local = sys_days(ymd) + hours(hour) + minutes(minute) + seconds(second) +
                     nanoseconds(frac_ns);
  return time_point_cast<TimePoint::duration>(local - minutes(offset_minutes));
}

std::string FormatRfc3339(TimePoint t, TimePrecision precision) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const auto ms_of_day = floor<milliseconds>(t - day).count();
  const int64_t secs = ms_of_day / 1000;
  char buf[48];
  if (precision == TimePrecision::kMicros) {
    const auto us_of_day = floor<microseconds>(t - day).count();
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%06dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                  static_cast<int>(secs % 60), static_cast<int>(us_of_day % 1000000));
  } else if (precision == TimePrecision::kMillis) {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                  static_cast<int>(secs % 60), static_cast<int>(ms_of_day % 1000));
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                  static_cast<int>(secs % 60));
  }
  return buf;
}

namespace {

// RFC 3339 starts "YYYY-"; a duration never has a '-' there.
bool LooksLikeTime(std::string_view text) { return text.size() > 4 && text[4] == '-'; }

}  // namespace

Result<TimePoint> ParseTimeOrAgo(std::string_view text, TimePoint now) {
  if (LooksLikeTime(text)) return ParseRfc3339(text);
  auto d = ParseDuration(text);
  if (!d) {
    return Fail(ErrorCode::kInvalidArgument,
                "bad value " + Quoted(text) +
                    ": expected an RFC 3339 time (2026-01-31T02:00:00Z) or a duration ago "
                    "(30s, 5m, 24h)");
  }
  return now - std::chrono::duration_cast<TimePoint::duration>(*d);
}

Result<int64_t> ParseJobId(std::string_view text) {
  int64_t id = 0;
  const bool digits_only =
      !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (!digits_only || ec != std::errc() || end != text.data() + text.size() || id <= 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "bad job id " + Quoted(text) + ": expected a positive integer");
  }
  return id;
}

std::string OneLine(std::string_view text, size_t max_chars) {
  std::string out;
  std::vector<size_t> starts;  // Byte offset of each code point in `out`.
  bool pending_space = false;
  for (size_t i = 0; i < text.size();) {
    size_t len = Utf8SequenceLength(text, i);
    const auto c = static_cast<unsigned char>(text[i]);
    const bool c1_control = len == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0;
    if ((len == 1 && (c < 0x20 || c == 0x7F || c == ' ')) || c1_control) {
      pending_space = !out.empty();
      i += len;
      continue;
    }
    if (pending_space) {
      starts.push_back(out.size());
      out += ' ';
      pending_space = false;
    }
    starts.push_back(out.size());
    if (len == 0) {
      out += '?';  // Invalid UTF-8 byte.
      len = 1;
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
  if (starts.size() <= max_chars) return out;
  if (max_chars == 0) return "";
  out.resize(starts[max_chars - 1]);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out + "\u2026";
}

size_t DisplayWidth(std::string_view text) {
  size_t n = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

}  // namespace chime
