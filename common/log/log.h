// Process-wide logging setup on spdlog: one stderr sink, plain text or one
// JSON object per line, with secrets scrubbed from every line. Call
// InitLogging once from main(), before any thread logs.
//
// JSON lines: {"timestamp": "2026-01-31T02:00:00.123Z", "level": "info",
// "logger": "worker", "msg": "...", <fields>} where <fields> are the
// LogFields in scope on the logging thread (job_id, kind, attempt, outcome,
// duration_ms for the worker's job lines). Text lines ignore the fields:
// their messages carry the same facts. "timestamp" is the field Datadog,
// Elastic's JSON decoders and most log shippers read as the event time
// without configuration.
//
// Levels are spelled as --log-level takes them, in both formats: trace,
// debug, info, warn, error, critical. "warn", not spdlog's "warning": one
// word for the flag and the output, the word slog, zap, pino and Bunyan
// write, and one that Datadog, Loki and Elastic map to their warning level.
//
// Scrubbing is a safety net behind each call site's own redaction: the
// password of a URL ("postgresql://user:secret@host" -> "user:***@"), a
// libpq "password=..." setting, and the credentials after "Bearer " (any
// case) or "Basic " are replaced by "***" before a line is written.
#pragma once

#include <spdlog/formatter.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/base/error.h"

namespace chime {

enum class LogFormat { kText, kJson };

// "text" or "json"; InvalidArgument otherwise.
[[nodiscard]] Result<LogFormat> ParseLogFormat(std::string_view text);

// The format named by $CHIME_LOG_FORMAT, text when unset; InvalidArgument
// naming CHIME_LOG_FORMAT when it holds anything else.
[[nodiscard]] Result<LogFormat> LogFormatFromEnvironment();

// Sets the default logger: stderr, `level` ("trace".."off"), `format`.
// InvalidArgument naming log-level for an unknown level.
[[nodiscard]] Result<void> InitLogging(std::string_view process_name, std::string_view level,
                                       LogFormat format);

// The formatter InitLogging puts on its sink, for loggers of their own.
std::unique_ptr<spdlog::formatter> MakeLogFormatter(LogFormat format);

// As above with the format from $CHIME_LOG_FORMAT; false (and the default
// logger untouched) on an unknown level or format.
bool InitLogging(std::string_view process_name, std::string_view level);

// The format a fatal start-up error is written in before the configuration
// is read (or when it cannot be): the last `--log-format X` or
// `--log-format=X` of argv, else $CHIME_LOG_FORMAT, else text. Values that
// are not a format are ignored here (the parser reports them).
LogFormat StartupLogFormat(int argc, const char* const* argv);

// Writes a fatal start-up error to stderr, whether or not InitLogging ran:
// in text "<program>: <message>" as given (multi-line reports stay
// readable); in JSON one line like every other, level "critical", logger
// `logger`, the message in "msg" (its newlines escaped by JSON), so a log
// pipeline that parses every line parses this one. Scrubbed either way.
void LogStartupError(std::string_view program, std::string_view logger, LogFormat format,
                     std::string_view message);

// `line` with URL passwords, libpq password settings and Bearer/Basic
// credentials replaced by "***".
std::string ScrubSecrets(std::string_view line);

// Adds key/value fields to every JSON line this thread logs while the
// object lives. Nest freely; inner fields come after outer ones.
// Thread-compatible (it touches only this thread's state).
class LogFields {
 public:
  using Value = std::variant<std::string, int64_t, double, bool>;
  LogFields(std::initializer_list<std::pair<std::string, Value>> fields);
  ~LogFields();
  LogFields(const LogFields&) = delete;
  LogFields& operator=(const LogFields&) = delete;

  // The fields in scope on this thread, outermost first.
  static const std::vector<std::pair<std::string, Value>>& Current();

 private:
  size_t count_;
};

}  // namespace chime
