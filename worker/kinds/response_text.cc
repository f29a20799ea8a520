#include "worker/kinds/response_text.h"

#include <cstdint>

namespace chime::worker::kinds {

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
