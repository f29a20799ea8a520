#include "worker/kinds/response_text.h"

#include <cstdint>

namespace chime::worker::kinds {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// The length of the well-formed sequence at the start of `s` (1-4), or 0
// with `*invalid` set to the length of its maximal invalid subpart (>= 1).
// Table 3-7 of the Unicode standard: the allowed second byte depends on the
// first (E0: A0-BF, ED: 80-9F, F0: 90-BF, F4: 80-8F).
size_t WellFormed(std::string_view s, size_t* invalid) {
  const auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t c = b(0);
  if (c < 0x80) return 1;
  size_t need = 0;
  uint8_t lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    *invalid = 1;  // 80-C1, F5-FF never start a sequence.
    return 0;
  }
  for (size_t i = 1; i <= need; ++i) {
    const bool ok = i < s.size() && b(i) >= (i == 1 ? lo : 0x80) && b(i) <= (i == 1 ? hi : 0xBF);
    if (!ok) {
      *invalid = i;
      return 0;
    }
  }
  return need + 1;
}

}  // namespace

std::string RepairUtf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  while (!bytes.empty()) {
    size_t invalid = 0;
    const size_t n = WellFormed(bytes, &invalid);
    if (n > 0) {
      out.append(bytes.substr(0, n));
      bytes.remove_prefix(n);
    } else {
      out.append(kReplacement);
      bytes.remove_prefix(invalid);
    }
  }
  return out;
}

std::string_view CutUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  // Back off continuation bytes (10xxxxxx) to the start of the character
  // that does not fit whole.
  while (end > 0 && (static_cast<uint8_t>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

std::string ErrorLine(std::string_view text, size_t max_bytes) {
  const std::string repaired = RepairUtf8(text);
  std::string line;
  line.reserve(repaired.size());
  for (size_t i = 0; i < repaired.size(); ++i) {
    const auto c = static_cast<uint8_t>(repaired[i]);
    if (c < 0x20 || c == 0x7F) {
      line += ' ';
    } else if (c == 0xC2 && i + 1 < repaired.size() && static_cast<uint8_t>(repaired[i + 1]) < 0xA0) {
      line += ' ';  // C1 controls, U+0080-U+009F.
      ++i;
    } else {
      line += static_cast<char>(c);
    }
  }
  if (line.size() <= max_bytes) return line;
  constexpr std::string_view kMore = "...";
  const size_t keep = max_bytes > kMore.size() ? max_bytes - kMore.size() : 0;
  return std::string(CutUtf8(line, keep)) + std::string(kMore.substr(0, max_bytes - keep));
}

}  // namespace chime::worker::kinds
