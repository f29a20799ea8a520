// The UTF-8 utility every result, error and log line goes through: what is
// well-formed (Unicode Table 3-7), how ill-formed bytes are repaired
// (maximal subparts), cuts on character boundaries, and escapes that keep a
// log field on one line.
#include "common/base/utf8.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

namespace chime {
namespace {

const std::string kR(kUtf8Replacement);

// The UTF-8 encoding of `cp` (any value up to 0x10FFFF, surrogates too).
std::string Encode(uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

TEST(Utf8Test, EveryScalarValueIsWellFormedAndEverySurrogateIsNot) {
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    const std::string s = Encode(cp);
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    ASSERT_EQ(IsValidUtf8(s), !surrogate) << std::hex << cp;
    if (!surrogate) {
      ASSERT_EQ(RepairUtf8(s), s) << std::hex << cp;
    }
  }
  EXPECT_TRUE(IsValidUtf8(std::string("a\0b", 3)));  // NUL is a character.
  EXPECT_TRUE(IsValidUtf8(""));
}

TEST(Utf8Test, OverlongFormsAreIllFormed) {
  // "/" (U+002F) in two, three and four bytes; NUL in two (Java's form).
  for (const char* overlong : {"\xC0\xAF", "\xE0\x80\xAF", "\xF0\x80\x80\xAF", "\xC0\x80", "\xC1\xBF",
                               "\xE0\x9F\xBF", "\xF0\x8F\xBF\xBF"}) {
    EXPECT_FALSE(IsValidUtf8(overlong)) << overlong;
    const std::string repaired = RepairUtf8(overlong);
    EXPECT_TRUE(IsValidUtf8(repaired));
    EXPECT_EQ(repaired.find('/'), std::string::npos);
  }
  // Maximal subparts: C0 and C1 are never leads; E0 80 stops at the 80.
  EXPECT_EQ(RepairUtf8("\xC0\xAF"), kR + kR);
  EXPECT_EQ(RepairUtf8("\xE0\x80\xAF"), kR + kR + kR);
  EXPECT_EQ(RepairUtf8("\xF0\x80\x80\xAF"), kR + kR + kR + kR);
}

TEST(Utf8Test, SurrogatesAndValuesAboveTheLastCodePointAreIllFormed) {
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));          // U+D800
  EXPECT_FALSE(IsValidUtf8("\xED\xBF\xBF"));          // U+DFFF
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\xBD\xED\xB8\x80"));  // A CESU-8 pair.
  EXPECT_TRUE(IsValidUtf8("\xED\x9F\xBF"));           // U+D7FF
  EXPECT_EQ(RepairUtf8("\xED\xA0\x80"), kR + kR + kR);
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));   // U+10FFFF
  for (int b = 0xF5; b <= 0xFF; ++b) EXPECT_FALSE(IsValidUtf8(std::string(1, static_cast<char>(b))));
}

TEST(Utf8Test, TruncatedSequencesBecomeOneReplacementEach) {
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));                    // "€" without its last byte.
  EXPECT_EQ(RepairUtf8("a\xE2\x82" "b"), "a" + kR + "b");   // One U+FFFD, "b" kept.
  EXPECT_EQ(RepairUtf8("\xF0\x9F\x98"), kR);                // An emoji's first three bytes.
  EXPECT_EQ(RepairUtf8("\xC3"), kR);
  EXPECT_EQ(RepairUtf8("\x80\x80"), kR + kR);  // Lone continuation bytes.
  EXPECT_EQ(RepairUtf8("\xFF\xFEok"), kR + kR + "ok");
}

TEST(Utf8Test, ACutNeverSplitsACharacter) {
  const std::string page = std::string(4095, 'a') + "\xC3\xA9";  // 4,095 x 'a' then 'é'.
  ASSERT_TRUE(IsValidUtf8(page));
  EXPECT_FALSE(IsValidUtf8(page.substr(0, 4096)));  // What a byte cut gives.
  EXPECT_EQ(CutUtf8(page, 4096), std::string(4095, 'a'));
  EXPECT_EQ(CutUtf8(page, 4097), page);
  EXPECT_EQ(CutUtf8(page, 10'000), page);
  EXPECT_EQ(Utf8Prefix(page, 4096), std::string(4095, 'a'));
  const std::string emoji = "ab\xF0\x9F\x98\x80";
  for (size_t n = 2; n < 6; ++n) EXPECT_EQ(CutUtf8(emoji, n), "ab") << n;
  EXPECT_EQ(CutUtf8(emoji, 6), emoji);
  EXPECT_EQ(CutUtf8("\xC3\xA9", 1), "");
  EXPECT_EQ(CutUtf8("abc", 0), "");
}

TEST(Utf8Test, APrefixOfArbitraryBytesIsRepairedThenCut) {
  // A character the window cut is dropped, not replaced.
  EXPECT_EQ(Utf8Prefix(std::string(4096, 'a') + "\xF0\x9F\x98", 4096), std::string(4096, 'a'));
  // An ill-formed byte inside the prefix becomes U+FFFD, and the cut counts
  // the repaired bytes.
  EXPECT_EQ(Utf8Prefix("ab\xFF" "cd", 5), "ab" + kR);
  EXPECT_EQ(Utf8Prefix("ab\xFF" "cd", 10), "ab" + kR + "cd");
  EXPECT_EQ(Utf8Prefix("ab\xFF" "cd", 4), "ab");
  EXPECT_EQ(Utf8Prefix("", 4), "");
}

TEST(Utf8Test, EscapingKeepsAFieldOnOneLine) {
  EXPECT_EQ(EscapeControls("job 1\nforged line"), "job 1\\nforged line");
  EXPECT_EQ(EscapeControls("a\r\nb\tc"), "a\\r\\nb\\tc");
  EXPECT_EQ(EscapeControls("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(EscapeControls(std::string("nul\0here", 8)), "nul\\x00here");
  EXPECT_EQ(EscapeControls("del\x7f"), "del\\x7f");
  EXPECT_EQ(EscapeControls("next\xC2\x85line"), "next\\u0085line");  // NEL, a C1 control.
  EXPECT_EQ(EscapeControls("ls\xE2\x80\xA8ps\xE2\x80\xA9"), "ls\\u2028ps\\u2029");
  EXPECT_EQ(EscapeControls("\xE2\x80\xAE" "evil"), "\\u202eevil");  // Right-to-left override.
  EXPECT_EQ(EscapeControls("\xE2\x81\xA6x\xE2\x81\xA9"), "\\u2066x\\u2069");
  EXPECT_EQ(EscapeControls("bad\xFF"), "bad" + kR);
  // Printable text, backslashes and non-ASCII letters stay as they are.
  EXPECT_EQ(EscapeControls("C:\\path caf\xC3\xA9 \xE2\x82\xAC"), "C:\\path caf\xC3\xA9 \xE2\x82\xAC");
  EXPECT_EQ(EscapeControls("\xC2\xA0nbsp"), "\xC2\xA0nbsp");
}

TEST(Utf8Test, PrintableMeansWellFormedWithNothingToEscape) {
  EXPECT_TRUE(IsPrintableUtf8("worker-1 on host.example (caf\xC3\xA9)"));
  EXPECT_TRUE(IsPrintableUtf8(""));
  for (const char* bad : {"w1\nforged", "w1\r", "tab\there", "\x1b[2J", "del\x7f", "nel\xC2\x85",
                          "ls\xE2\x80\xA8", "\xE2\x80\xAEtxt", "bad\xFF", "\xC3"}) {
    EXPECT_FALSE(IsPrintableUtf8(bad)) << bad;
  }
  EXPECT_FALSE(IsPrintableUtf8(std::string("nul\0", 4)));
}

TEST(Utf8Test, RandomBytesAlwaysComeOutWellFormed) {
  std::mt19937_64 rng(20261125);
  std::uniform_int_distribution<int> byte(0, 255), length(0, 64);
  for (int round = 0; round < 20'000; ++round) {
    std::string s;
    const int n = length(rng);
    for (int i = 0; i < n; ++i) {
      // Mostly the bytes that make UTF-8 interesting.
      const int b = byte(rng);
      s += static_cast<char>(b < 64 ? 0x80 + (b & 0x3F) : b < 96 ? 0xC0 + (b & 0x3F) : b);
    }
    const std::string repaired = RepairUtf8(s);
    ASSERT_TRUE(IsValidUtf8(repaired));
    if (IsValidUtf8(s)) {
      ASSERT_EQ(repaired, s);
    }
    const std::string escaped = EscapeControls(s);
    ASSERT_TRUE(IsValidUtf8(escaped));
    ASSERT_TRUE(IsPrintableUtf8(escaped));
    ASSERT_EQ(IsPrintableUtf8(s), escaped == s);
    for (char c : escaped) ASSERT_FALSE(c == '\n' || c == '\r') << escaped;
    for (size_t max : {size_t{0}, size_t{1}, size_t{7}, size_t{30}}) {
      const std::string prefix = Utf8Prefix(s, max);
      ASSERT_LE(prefix.size(), max);
      ASSERT_TRUE(IsValidUtf8(prefix));
      ASSERT_TRUE(repaired.starts_with(prefix));  // The window changes nothing before the cut.
    }
  }
}

}  // namespace
}  // namespace chime
