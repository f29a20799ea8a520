// Limits and message helpers shared by Validate, the schedule-file reader and
// the Vercel importer. Internal to common/schedule; other folders use
// schedule_spec.h. Thread-safe (constants and pure functions).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "common/base/name_rule.h"
#include "common/schedule/schedule_spec.h"

namespace chime::schedule::internal {

// name, kind and queue: the name rule's length (common/base/name_rule.h).
inline constexpr size_t kMaxTokenBytes = kMaxNameBytes;
inline constexpr int kMinPriority = 0;
inline constexpr int kMaxPriority = 9;
inline constexpr int kMinAttempts = 1;
inline constexpr int kMaxAttempts = 1000;
inline constexpr std::chrono::milliseconds kMaxTimeout = std::chrono::days(7);
inline constexpr std::chrono::milliseconds kMaxJitter = std::chrono::hours(1);
// JSON text of one payload.
inline constexpr size_t kMaxPayloadBytes = size_t{1} << 20;
// Nested arrays and objects in one payload: handlers may walk payloads
// recursively, and PostgreSQL's jsonb parser has a stack limit of its own.
inline constexpr int kMaxPayloadDepth = 64;
// At most this many characters of user input are echoed in a message.
inline constexpr size_t kMaxEchoChars = 64;

// A schedule name: 1-128 bytes of A-Z a-z 0-9 _ . : - (the DB CHECK).
// InvalidArgument "FIELD: ..." otherwise.
[[nodiscard]] Result<void> CheckScheduleName(std::string_view field, std::string_view name);

// `"text"` cut to kMaxEchoChars code points on one line, for messages.
std::string Quoted(std::string_view text);

// The reason in a nlohmann exception's what(), without the exception id and
// without the input it quotes: "parse error at line 1, column 2: syntax error
// while parsing value - invalid literal". One line.
std::string JsonErrorReason(std::string_view what);

// What reading one schedule file may cost. Aliases let a small file name one
// big node many times ("billion laughs"): payload conversion stops once the
// file's payloads have produced max_values JSON values or max_text_bytes of
// scalar text in all. No alias-free file within the 4 MiB file limit comes
// near either. Tests shrink them.
struct FileLimits {
  size_t max_values = 1'000'000;
  size_t max_text_bytes = size_t{64} << 20;
};

// schedule::ParseScheduleFile with explicit limits.
[[nodiscard]] Result<ParsedFile> ParseScheduleFile(std::string_view yaml_text, std::string_view source,
                                                   cron::ParseOptions cron_options, const FileLimits& limits);

}  // namespace chime::schedule::internal
