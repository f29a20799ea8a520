// Text from an endpoint's response made safe to store and log: valid UTF-8
// by construction, cut on character boundaries, free of control characters
// where it becomes an error line. A local helper of the HTTP kinds until a
// common UTF-8 utility exists (issue 18 finding 1 adds one; fold these into
// it). Pure; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace chime::worker::kinds {

// `bytes` as valid UTF-8: every ill-formed sequence (stray continuation
// bytes, truncated or overlong sequences, surrogates, code points above
// U+10FFFF, bytes F5-FF) becomes U+FFFD, one per maximal invalid subpart
// as the Unicode standard recommends. Valid input comes back unchanged.
std::string RepairUtf8(std::string_view bytes);

// The longest prefix of valid UTF-8 `text` of at most `max_bytes` bytes
// that does not split a character.
std::string_view CutUtf8(std::string_view text, size_t max_bytes);

// One line for an error list: RepairUtf8, then every control character
// (C0, DEL, C1) becomes a space, then cut to `max_bytes` with "..." when
// something was cut.
std::string ErrorLine(std::string_view text, size_t max_bytes);

}  // namespace chime::worker::kinds
