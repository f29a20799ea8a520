#include "common/base/utf8.h"

#include <algorithm>
#include <cstdint>

namespace chime {
namespace {

// One step of decoding at text[i]: `length` bytes, well-formed or the
// maximal ill-formed subpart (Unicode Table 3-7: which second bytes each
// lead allows), and the code point when well-formed.
struct Step {
  size_t length = 1;
  bool valid = false;
  uint32_t code_point = 0;
};

Step Decode(std::string_view text, size_t i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  if (lead < 0x80) return {1, true, lead};
  size_t need = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // The allowed second byte.
  uint32_t cp = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    need = 1;
    cp = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    need = 2;
    cp = lead & 0x0F;
    if (lead == 0xE0) lo = 0xA0;  // Overlong below U+0800.
    if (lead == 0xED) hi = 0x9F;  // Surrogates U+D800..U+DFFF.
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    need = 3;
    cp = lead & 0x07;
    if (lead == 0xF0) lo = 0x90;  // Overlong below U+10000.
    if (lead == 0xF4) hi = 0x8F;  // Above U+10FFFF.
  } else {
    return {1, false, 0};  // A continuation byte, C0, C1 or F5..FF.
  }
  for (size_t k = 1; k <= need; ++k) {
    if (i + k >= text.size()) return {k, false, 0};  // Truncated.
    const auto c = static_cast<unsigned char>(text[i + k]);
    const bool ok = k == 1 ? (c >= lo && c <= hi) : (c >= 0x80 && c <= 0xBF);
    if (!ok) return {k, false, 0};
    cp = (cp << 6) | (c & 0x3F);
  }
  return {need + 1, true, cp};
}

bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Whether a code point must be escaped on a single line.
bool NeedsEscape(uint32_t cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
         (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

// Quick scan: nothing to escape or repair when every byte is printable ASCII.
bool PrintableAscii(std::string_view text) {
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7F) return false;
  }
  return true;
}

void AppendEscaped(std::string& out, uint32_t cp) {
  static constexpr char kHex[] = "0123456789abcdef";
  switch (cp) {
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default: break;
  }
  if (cp < 0x80) {
    out += "\\x";
    out += kHex[(cp >> 4) & 0xF];
    out += kHex[cp & 0xF];
    return;
  }
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 0xF];
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const Step s = Decode(text, i);
    if (!s.valid) return false;
    i += s.length;
  }
  return true;
}

std::string RepairUtf8(std::string_view text) {
  if (IsValidUtf8(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 16);
  for (size_t i = 0; i < text.size();) {
    const Step s = Decode(text, i);
    if (s.valid) {
      out.append(text.substr(i, s.length));
    } else {
      out.append(kUtf8Replacement);
    }
    i += s.length;
  }
  return out;
}

std::string_view CutUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  // Back over the continuation bytes of the character that straddles the
  // cut (at most three of them in well-formed text).
  for (size_t k = 0; k < kUtf8MaxSequence - 1 && end > 0 && IsContinuation(text[end]); ++k) --end;
  return text.substr(0, end);
}

std::string Utf8Prefix(std::string_view text, size_t max_bytes) {
  const size_t window = max_bytes + (kUtf8MaxSequence - 1);
  // A replacement is never shorter than what it replaces (a maximal subpart
  // is 1..3 bytes, U+FFFD 3), so an incomplete last character, which starts
  // at or after max_bytes in the window, lands beyond the cut.
  const std::string repaired = RepairUtf8(text.substr(0, std::min(text.size(), window)));
  return std::string(CutUtf8(repaired, max_bytes));
}

bool IsPrintableUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const Step s = Decode(text, i);
    if (!s.valid || NeedsEscape(s.code_point)) return false;
    i += s.length;
  }
  return true;
}

std::string EscapeControls(std::string_view text) {
  if (PrintableAscii(text)) return std::string(text);
  std::string out;
  out.reserve(text.size() + 16);
  for (size_t i = 0; i < text.size();) {
    const Step s = Decode(text, i);
    if (!s.valid) {
      out.append(kUtf8Replacement);
    } else if (NeedsEscape(s.code_point)) {
      AppendEscaped(out, s.code_point);
    } else {
      out.append(text.substr(i, s.length));
    }
    i += s.length;
  }
  return out;
}

}  // namespace chime
