// ImportVercel: a vercel.json "crons" list as http_request schedules.
#include "common/schedule/schedule_spec.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <exception>
#include <string>
#include <unordered_set>

#include "common/base/text_format.h"
#include "common/schedule/import_common.h"
#include "common/schedule/schedule_limits.h"

namespace chime::schedule {
namespace {

using internal::Quoted;

constexpr size_t kMaxJsonBytes = size_t{4} << 20;
constexpr size_t kMaxUrlPartBytes = 2048;
constexpr size_t kMaxHostBytes = 253;
// Leaves room for "-NNN" under the 128-byte name limit.
constexpr size_t kMaxNameBytes = 100;
// Vercel retries nothing; a few attempts ride out a deploy or a cold start.
constexpr int kImportedMaxAttempts = 3;

Result<void> Bad(std::string message) { return Fail(ErrorCode::kInvalidArgument, std::move(message)); }

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }

// Printable ASCII other than space: what may appear in a URL as written.
bool IsUrlChar(char c) { return c > ' ' && c < 0x7f && c != '\\'; }

bool IsHost(std::string_view host) {
  if (host.empty() || host.size() > kMaxHostBytes) return false;
  if (host.front() == '[') {  // IPv6 literal.
    if (host.size() < 4 || host.back() != ']') return false;
    for (char c : host.substr(1, host.size() - 2)) {
      if (!IsDigit(c) && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F') && c != ':' && c != '.') {
        return false;
      }
    }
    return true;
  }
  size_t label = 0;  // Length of the current dot-separated label.
  for (char c : host) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (IsAlnum(c) || c == '-' || c == '_') {  // '_': Docker Compose service names.
      ++label;
    } else {
      return false;
    }
  }
  return label > 0;
}

// The base URL without its trailing '/'s. Its text is never echoed in a
// message: it may carry a token in a query or credentials.
Result<std::string> CheckBaseUrl(std::string_view url) {
  if (url.empty()) return Fail(ErrorCode::kInvalidArgument, "base_url: must not be empty");
  if (url.size() > kMaxUrlPartBytes) {
    return Fail(ErrorCode::kInvalidArgument,
                "base_url: is longer than " + std::to_string(kMaxUrlPartBytes) + " bytes");
  }
  if (url.find('@') != std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument,
                "base_url: must not hold credentials (user:password@); the secret goes in secret_ref");
  }
  for (char c : url) {
    if (!IsUrlChar(c)) {
      return Fail(ErrorCode::kInvalidArgument, "base_url: has a space, control, non-ASCII or '\\' character");
    }
  }
  size_t scheme_end = 0;
  if (url.starts_with("https://")) {
    scheme_end = 8;
  } else if (url.starts_with("http://")) {
    scheme_end = 7;
  } else {
    return Fail(ErrorCode::kInvalidArgument, "base_url: must start with http:// or https://");
  }
  if (url.find_first_of("?#") != std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument, "base_url: must not have a query or fragment");
  }
  const size_t path_start = std::min(url.find('/', scheme_end), url.size());
  std::string_view authority = url.substr(scheme_end, path_start - scheme_end);
  // A port follows the last ':' unless that ':' is inside an IPv6 literal.
  const size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos) {
    const std::string_view port = authority.substr(colon + 1);
    int value = 0;
    bool digits = !port.empty() && port.size() <= 5;
    for (char c : port) {
      digits = digits && IsDigit(c);
      if (digits) value = value * 10 + (c - '0');
    }
    if (!digits || value < 1 || value > 65535) {
      return Fail(ErrorCode::kInvalidArgument, "base_url: the port must be a number 1-65535");
    }
    authority = authority.substr(0, colon);
  }
  if (!IsHost(authority)) {
    return Fail(ErrorCode::kInvalidArgument,
                "base_url: needs a host name or address after the scheme (letters, digits, '-', '_', '.')");
  }
  std::string base(url);
  while (base.size() > scheme_end && base.back() == '/') base.pop_back();
  return base;
}

// A path as Vercel takes it: starts with '/', may carry a query.
Result<void> CheckPath(const nlohmann::json& entry, const std::string& at) {
  const auto path = entry.find("path");
  if (path == entry.end() || !path->is_string()) {
    return Bad(at + ": \"path\" must be a string starting with /");
  }
  const std::string& text = path->get_ref<const std::string&>();
  if (!text.starts_with('/')) return Bad(at + ": path " + Quoted(text) + " must start with /");
  if (text.size() > kMaxUrlPartBytes) {
    return Bad(at + ": path is longer than " + std::to_string(kMaxUrlPartBytes) + " bytes");
  }
  for (char c : text) {
    if (!IsUrlChar(c) || c == '#') {
      return Bad(at + ": path " + Quoted(text) + " has a space, control, non-ASCII, '#' or '\\' character");
    }
  }
  return {};
}

// "vercel-" + the path with every run outside [A-Za-z0-9] as one '-',
// lower-cased, cut to 100 bytes; "vercel" for "/".
std::string NameForPath(std::string_view path) {
  std::string name = "vercel-";
  for (char c : path) {
    if (IsAlnum(c)) {
      name += static_cast<char>(IsUpper(c) ? c - 'A' + 'a' : c);
    } else if (name.back() != '-') {
      name += '-';
    }
  }
  if (name.size() > kMaxNameBytes) name.resize(kMaxNameBytes);
  while (name.back() == '-') name.pop_back();
  return name;
}

std::string UniqueName(const std::string& base, std::unordered_set<std::string>* used) {
  std::string name = base;
  for (int n = 2; !used->insert(name).second; ++n) name = base + "-" + std::to_string(n);
  return name;
}

Result<std::vector<ScheduleSpec>> Import(std::string_view vercel_json, const VercelImportOptions& options) {
  auto base = CheckBaseUrl(options.base_url);
  if (!base) return std::unexpected(base.error());
  const internal::HttpImportSettings settings{.secret_ref = options.secret_ref,
                                              .auth = options.auth,
                                              .timeout = options.timeout,
                                              .max_attempts = options.max_attempts,
                                              .overlap = options.overlap,
                                              .time_zone = options.time_zone};
  if (auto ok = internal::CheckSettings(settings); !ok) return std::unexpected(ok.error());
  auto auth = internal::AuthJson(options.auth.value_or("bearer"), options.secret_ref);
  if (!auth) return std::unexpected(auth.error());
  std::string method = options.method.value_or("GET");
  std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return std::toupper(c); });
  if (method.empty() || method.size() > 32 || !std::all_of(method.begin(), method.end(), [](char c) {
        return c >= 'A' && c <= 'Z';
      })) {
    return Fail(ErrorCode::kInvalidArgument, "method: must be 1 to 32 letters (GET, POST, ...)");
  }
  if (vercel_json.size() > kMaxJsonBytes) {
    return Fail(ErrorCode::kInvalidArgument, "vercel.json: larger than 4 MiB");
  }

  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(vercel_json);
  } catch (const nlohmann::json::exception& e) {
    return Fail(ErrorCode::kInvalidArgument,
                "vercel.json: not valid JSON (" + internal::JsonErrorReason(e.what()) + ")");
  }
  const auto crons_it = doc.is_object() ? doc.find("crons") : doc.end();
  if (crons_it == doc.end()) return Fail(ErrorCode::kInvalidArgument, "vercel.json: has no \"crons\" list");
  const nlohmann::json& crons = *crons_it;
  if (!crons.is_array()) return Fail(ErrorCode::kInvalidArgument, "vercel.json: \"crons\" must be a list");

  std::vector<ScheduleSpec> specs;
  std::unordered_set<std::string> names;
  for (size_t i = 0; i < crons.size(); ++i) {
    const nlohmann::json& entry = crons[i];
    const std::string at = "crons[" + std::to_string(i) + "]";
    if (!entry.is_object()) {
      return Fail(ErrorCode::kInvalidArgument, at + ": must be an object with path and schedule");
    }
    if (auto ok = CheckPath(entry, at); !ok) return std::unexpected(ok.error());
    const auto schedule = entry.find("schedule");
    if (schedule == entry.end() || !schedule->is_string()) {
      return Fail(ErrorCode::kInvalidArgument, at + ": \"schedule\" must be a string");
    }
    const std::string& path = entry["path"].get_ref<const std::string&>();
    const std::string& cron = schedule->get_ref<const std::string&>();
    if (auto expression = cron::Expression::Parse(cron); !expression) {
      return Fail(ErrorCode::kInvalidArgument, at + ": schedule: " + expression.error().message);
    }
    std::string url = *base + "/" + path.substr(1);
    nlohmann::ordered_json payload = {{"method", method}, {"url", std::move(url)}};
    if ((*auth)["type"] != "none") payload["auth"] = *auth;
    // Validate checks the payload as http_request will read it: a path whose
    // query carries a credential (?token=...) is refused here.
    auto spec = internal::HttpSchedule(UniqueName(NameForPath(path), &names), cron, "UTC", std::move(payload),
                                       kImportedMaxAttempts, settings, at);
    if (!spec) return std::unexpected(spec.error());
    specs.push_back(std::move(*spec));
  }
  return specs;
}

}  // namespace

Result<std::vector<ScheduleSpec>> ImportVercel(std::string_view vercel_json,
                                               const VercelImportOptions& options) {
  try {
    return Import(vercel_json, options);
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kInternal, std::string("vercel.json: ") + e.what());
  } catch (...) {
    return Fail(ErrorCode::kInternal, "vercel.json: unknown exception while importing");
  }
}

}  // namespace chime::schedule
