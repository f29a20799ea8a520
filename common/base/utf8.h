// UTF-8 by construction: every string that reaches a job's result, an error
// or a log line passes through one of these, so bytes from outside (an HTTP
// response, a peer's hello, a handler's exception) can neither make a
// serialiser throw nor forge a line. Well-formed means RFC 3629 / Unicode
// Table 3-7: no overlong forms, no surrogates (U+D800..U+DFFF), nothing
// above U+10FFFF, no truncated sequence. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace chime {

// U+FFFD REPLACEMENT CHARACTER, as UTF-8.
inline constexpr std::string_view kUtf8Replacement = "\xEF\xBF\xBD";
// The longest well-formed sequence, in bytes.
inline constexpr size_t kUtf8MaxSequence = 4;

// Whether `text` is well-formed UTF-8. NUL is a valid character.
bool IsValidUtf8(std::string_view text);

// `text` with each maximal ill-formed subpart replaced by one U+FFFD (the
// Unicode "best practice" the WHATWG decoder follows: "\xE2\x82" is one
// U+FFFD, "\xC0\xAF" two). Well-formed text comes back unchanged.
std::string RepairUtf8(std::string_view text);

// The longest prefix of well-formed `text` that is at most `max_bytes` long
// and does not split a character. On ill-formed text it still never ends
// inside a well-formed sequence, but the prefix may stay ill-formed: repair
// first.
std::string_view CutUtf8(std::string_view text, size_t max_bytes);

// Well-formed UTF-8 of at most `max_bytes` bytes from the start of arbitrary
// `text`: repaired, then cut on a character boundary. A character cut by the
// end of `text` counts as cut, not as ill-formed, when `text` itself is a
// prefix of something longer: pass up to kUtf8MaxSequence - 1 bytes beyond
// `max_bytes` and it is dropped rather than turned into U+FFFD.
std::string Utf8Prefix(std::string_view text, size_t max_bytes);

// Well-formed UTF-8 that renders on one line and cannot reorder it: CR, LF
// and TAB become "\r", "\n", "\t"; other C0 controls and DEL "\x1b"-style;
// C1 controls (U+0080..U+009F), the line and paragraph separators (U+2028,
// U+2029) and the bidirectional overrides and isolates (U+202A..U+202E,
// U+2066..U+2069) "\u0085"-style; ill-formed bytes U+FFFD. A backslash
// stays as it is. Text with none of these comes back unchanged.
std::string EscapeControls(std::string_view text);

// Whether `text` is well-formed and holds nothing EscapeControls would
// escape: fit for an identifier that goes into logs and tables as it is.
bool IsPrintableUtf8(std::string_view text);

}  // namespace chime
