// FUZZ_CHECK: the fuzz targets' assertion. A broken property prints one line
// naming it and traps, so libFuzzer saves the input as a crash reproducer.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#define FUZZ_CHECK(cond, ...)                                                      \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n  ", __FILE__, __LINE__, \
                   #cond);                                                         \
      std::fprintf(stderr, __VA_ARGS__);                                           \
      std::fprintf(stderr, "\n");                                                  \
      __builtin_trap();                                                            \
    }                                                                              \
  } while (false)

namespace chime::fuzz {

// Bytes as a C string literal body, for FUZZ_CHECK messages.
inline std::string Escaped(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace chime::fuzz
