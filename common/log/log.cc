#include "common/log/log.h"

#include <spdlog/details/log_msg.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "common/base/utf8.h"

namespace chime {
namespace {

thread_local std::vector<std::pair<std::string, LogFields::Value>> tls_fields;

// Whether `s` has `prefix` at `at`; `prefix` is lower case when `ignore_case`.
bool HasAt(std::string_view s, size_t at, std::string_view prefix, bool ignore_case) {
  if (s.size() - at < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    const char c = ignore_case ? static_cast<char>(std::tolower(static_cast<unsigned char>(s[at + i]))) : s[at + i];
    if (c != prefix[i]) return false;
  }
  return true;
}

bool EndsAuthority(char c) {
  return c == '/' || c == '?' || c == '#' || c == '"' || c == '\'' || c == '<' || c == '>' ||
         std::isspace(static_cast<unsigned char>(c));
}

bool EndsSetting(char c) {
  return c == '&' || c == ';' || c == ',' || c == '"' || c == '\'' || std::isspace(static_cast<unsigned char>(c));
}

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' || c == '~' ||
         c == '+' || c == '/' || c == '=' || c == ':';
}

// scheme://user:password@host -> scheme://user:***@host
std::string ScrubUrlPasswords(std::string_view in) {
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t scheme = in.find("://", pos);
    if (scheme == std::string_view::npos) break;
    const size_t begin = scheme + 3;
    size_t end = begin;
    while (end < in.size() && !EndsAuthority(in[end])) ++end;
    const std::string_view authority = in.substr(begin, end - begin);
    const size_t at = authority.rfind('@');
    const size_t colon = at == std::string_view::npos ? at : authority.substr(0, at).find(':');
    out.append(in.substr(pos, begin - pos));
    if (colon != std::string_view::npos && colon + 1 < at) {
      out.append(authority.substr(0, colon + 1)).append("***").append(authority.substr(at));
    } else {
      out.append(authority);
    }
    pos = end;
  }
  out.append(in.substr(pos));
  return out;
}

// Replaces what follows each `marker` up to `stop`.
template <typename Stop>
std::string ScrubAfter(std::string_view in, std::string_view marker, bool ignore_case, Stop stop) {
  std::string out;
  size_t i = 0;
  while (i < in.size()) {
    if (HasAt(in, i, marker, ignore_case)) {
      out.append(in.substr(i, marker.size()));
      size_t j = i + marker.size();
      const size_t value = j;
      while (j < in.size() && !stop(in[j])) ++j;
      if (j > value) out.append("***");
      i = j;
    } else {
      out.push_back(in[i++]);
    }
  }
  return out;
}

nlohmann::ordered_json FieldValue(const LogFields::Value& v) {
  return std::visit([](const auto& x) { return nlohmann::ordered_json(x); }, v);
}

std::string Utc(spdlog::log_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return std::string(buf, n) + fmt::format(".{:03}Z", ms % 1000);
}

// One spelling per level in both formats, the one --log-level takes: "warn",
// not spdlog's "warning" (see log.h).
std::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

// One JSON object per line; fields from LogFields in scope.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    nlohmann::ordered_json line;
    line["timestamp"] = Utc(msg.time);
    line["level"] = std::string(LevelName(msg.level));
    // JSON escapes control characters itself; the text must be well-formed.
    line["logger"] = RepairUtf8(std::string_view(msg.logger_name.data(), msg.logger_name.size()));
    line["msg"] = RepairUtf8(ScrubSecrets(std::string_view(msg.payload.data(), msg.payload.size())));
    for (const auto& [key, value] : tls_fields) {
      if (key == "timestamp" || key == "level" || key == "logger" || key == "msg") continue;
      const std::string name = RepairUtf8(key);
      line[name] = FieldValue(value);
      if (auto* s = std::get_if<std::string>(&value)) line[name] = RepairUtf8(ScrubSecrets(*s));
    }
    const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }

  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

// "2026-01-31T02:00:00.123Z warn [worker] message", scrubbed, one line
// whatever the message holds: the message and the logger's name are escaped
// (EscapeControls) here, the one place every text line passes, so no call
// site can forget it.
class TextFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    // Scrubbed before escaping: the secret markers end at real whitespace.
    const std::string text = EscapeControls(ScrubSecrets(std::string_view(msg.payload.data(), msg.payload.size())));
    const std::string name = EscapeControls(std::string_view(msg.logger_name.data(), msg.logger_name.size()));
    const std::string line = Utc(msg.time) + " " + std::string(LevelName(msg.level)) + " [" + name + "] " + text + "\n";
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<TextFormatter>(); }
};

}  // namespace

Result<LogFormat> ParseLogFormat(std::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return Fail(ErrorCode::kInvalidArgument, "must be text or json, got '" + std::string(text) + "'");
}

Result<LogFormat> LogFormatFromEnvironment() {
  const char* v = std::getenv("CHIME_LOG_FORMAT");
  if (v == nullptr || *v == '\0') return LogFormat::kText;
  auto parsed = ParseLogFormat(v);
  if (!parsed) return Fail(ErrorCode::kInvalidArgument, "CHIME_LOG_FORMAT: " + parsed.error().message);
  return parsed;
}

std::unique_ptr<spdlog::formatter> MakeLogFormatter(LogFormat format) {
  if (format == LogFormat::kJson) return std::make_unique<JsonFormatter>();
  return std::make_unique<TextFormatter>();
}

Result<void> InitLogging(std::string_view process_name, std::string_view level, LogFormat format) {
  const auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return Fail(ErrorCode::kInvalidArgument,
                "log-level: unknown level '" + std::string(level) + "' (trace, debug, info, warn, error, off)");
  }
  const std::string name(process_name);
  auto logger = spdlog::get(name);
  if (!logger) logger = spdlog::stderr_logger_mt(name);
  logger->set_formatter(MakeLogFormatter(format));
  spdlog::set_default_logger(logger);
  spdlog::set_level(parsed);
  return {};
}

bool InitLogging(std::string_view process_name, std::string_view level) {
  auto format = LogFormatFromEnvironment();
  return format && InitLogging(process_name, level, *format).has_value();
}

std::string ScrubSecrets(std::string_view line) {
  std::string out = ScrubUrlPasswords(line);
  out = ScrubAfter(out, "password=", /*ignore_case=*/true, EndsSetting);
  const auto not_token = [](char c) { return !IsTokenChar(c); };
  out = ScrubAfter(out, "bearer ", /*ignore_case=*/true, not_token);
  // Case-sensitive: "basic " is an ordinary English word.
  out = ScrubAfter(out, "Basic ", /*ignore_case=*/false, not_token);
  return out;
}

LogFormat StartupLogFormat(int argc, const char* const* argv) {
  LogFormat format = LogFormatFromEnvironment().value_or(LogFormat::kText);
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    std::optional<std::string_view> value;
    if (arg == "--log-format" && i + 1 < argc) value = argv[i + 1];
    if (arg.starts_with("--log-format=")) value = arg.substr(13);
    if (value) {
      if (auto parsed = ParseLogFormat(*value); parsed) format = *parsed;
    }
  }
  return format;
}

void LogStartupError(std::string_view program, std::string_view logger, LogFormat format,
                     std::string_view message) {
  std::string line;
  if (format == LogFormat::kJson) {
    const spdlog::details::log_msg msg(spdlog::string_view_t(logger.data(), logger.size()),
                                       spdlog::level::critical,
                                       spdlog::string_view_t(message.data(), message.size()));
    spdlog::memory_buf_t buf;
    JsonFormatter().format(msg, buf);
    line.assign(buf.data(), buf.size());
  } else {
    // What a person at a terminal reads: "chime-worker: slots: must be 1-1000".
    // A report's own line breaks and indents stay; any other control
    // character is escaped, as in every text line.
    line = std::string(program) + ": ";
    std::string text = ScrubSecrets(message);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    for (size_t begin = 0; begin <= text.size();) {
      const size_t end = std::min(text.find('\n', begin), text.size());
      std::string_view one(text.data() + begin, end - begin);
      const size_t indent = std::min(one.find_first_not_of('\t'), one.size());
      line.append(one.substr(0, indent)).append(EscapeControls(one.substr(indent))).push_back('\n');
      begin = end + 1;
    }
  }
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

LogFields::LogFields(std::initializer_list<std::pair<std::string, Value>> fields) : count_(fields.size()) {
  tls_fields.insert(tls_fields.end(), fields.begin(), fields.end());
}

LogFields::~LogFields() { tls_fields.resize(tls_fields.size() - count_); }

const std::vector<std::pair<std::string, LogFields::Value>>& LogFields::Current() { return tls_fields; }

}  // namespace chime
