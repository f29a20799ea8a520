// Splits an HTTP request target ("/api/jobs?state=failed&kind=a%20b") into
// its percent-decoded path and query parameters, as handlers see them in
// Request. Pure functions; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace chime::web {

struct Target {
  std::string path;                              // Decoded; '+' stays '+'.
  std::multimap<std::string, std::string> query;  // Decoded; '+' is a space.
};

// nullopt unless `target` is origin-form (starts with '/') and its decoded
// path holds no control character (NUL, CR, LF...). A '%' not followed by
// two hex digits stays as it is. A fragment ('#...') is dropped.
std::optional<Target> ParseTarget(std::string_view target);

// Percent-decodes `text`; with `plus_is_space`, '+' becomes ' '.
std::string PercentDecode(std::string_view text, bool plus_is_space);

// `path` for a log line: every byte outside printable ASCII (controls,
// non-ASCII, possibly invalid UTF-8) percent-encoded again, '%' included.
std::string LoggablePath(std::string_view path);

}  // namespace chime::web
