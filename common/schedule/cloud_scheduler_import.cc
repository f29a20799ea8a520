// ImportCloudScheduler: `gcloud scheduler jobs list --format=json` as
// http_request schedules.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <string>
#include <unordered_set>

#include "common/base/text_format.h"
#include "common/base/utf8.h"
#include "common/payload/credentials.h"
#include "common/payload/http_request_payload.h"
#include "common/schedule/import_common.h"
#include "common/schedule/schedule_limits.h"
#include "common/schedule/schedule_spec.h"

namespace chime::schedule {
namespace {

using internal::Quoted;
using nlohmann::json;
using nlohmann::ordered_json;

constexpr size_t kMaxJsonBytes = size_t{4} << 20;

std::unexpected<Error> Bad(const std::string& message) { return Fail(ErrorCode::kInvalidArgument, message); }

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// Standard base64 with padding, as gcloud prints a body; nullopt otherwise.
std::optional<std::string> DecodeBase64(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;  // Also the URL-safe alphabet.
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    const int v = value(c);
    if (v < 0) return std::nullopt;
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xFF);
    }
  }
  if (count >= 6) return std::nullopt;  // A lone sixth of a byte: not base64.
  return out;
}


// "180s", "30.5s" (a protobuf Duration in JSON) as milliseconds.
std::optional<std::chrono::milliseconds> ParseProtoDuration(std::string_view text) {
  if (!text.ends_with('s')) return std::nullopt;
  text.remove_suffix(1);
  double seconds = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(seconds) || seconds < 0) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000)));
}

const json* Find(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

Result<std::string> JobName(const json& job, const std::string& at) {
  const json* name = Find(job, "name");
  if (name == nullptr || !name->is_string()) return Bad(at + ": \"name\" must be a string");
  std::string text = name->get<std::string>();
  if (const size_t slash = text.rfind('/'); slash != std::string::npos) text = text.substr(slash + 1);
  if (text.empty() || text.size() > internal::kMaxTokenBytes) {
    return Bad(at + ": the job id must be 1-" + std::to_string(internal::kMaxTokenBytes) + " bytes");
  }
  return text;
}

// The job's credential header, if any, as the auth it becomes; the other
// headers into `headers`. A credential's value is never copied.
Result<std::optional<std::string>> ReadHeaders(const json& target, const std::string& at,
                                               ordered_json& headers) {
  const json* given = Find(target, "headers");
  if (given == nullptr) return std::optional<std::string>();
  if (!given->is_object()) return Bad(at + ": httpTarget.headers must be an object");
  std::vector<std::string> credentials;
  std::optional<std::string> auth;
  for (const auto& [name, value] : given->items()) {
    if (!value.is_string()) return Bad(at + ": httpTarget.headers." + Quoted(name) + " must be a string");
    const std::string lower = Lower(name);
    // Cloud Scheduler's own and HTTP's framing: Chime sends its own.
    if (lower == "user-agent" || lower == "content-length" || lower == "host" ||
        lower.starts_with("x-cloudscheduler") || lower.starts_with("x-google-")) {
      continue;
    }
    const std::string& text = value.get_ref<const std::string&>();
    if (payload::IsCredentialHeaderName(name) || payload::LooksLikeCredentialValue(text)) {
      credentials.push_back(name);
      if (lower == "authorization" && Lower(text.substr(0, 7)) == "bearer ") {
        auth = "bearer";
      } else if (lower == "x-cron-secret") {
        auth = "x-cron-secret";
      } else {
        auth = "header:" + name;
      }
      continue;
    }
    headers[name] = text;
  }
  if (credentials.size() > 1) {
    std::string names;
    for (const auto& c : credentials) names += (names.empty() ? "" : ", ") + Quoted(c);
    return Bad(at + ": httpTarget.headers has more than one credential header (" + names +
               "); an http_request sends one: choose it with --auth");
  }
  return auth;
}

// The body: JSON when it parses as JSON (readable in a schedule file), else
// the text as it is.
Result<std::optional<ordered_json>> ReadBody(const json& target, const std::string& at) {
  const json* body = Find(target, "body");
  if (body == nullptr) return std::optional<ordered_json>();
  if (!body->is_string()) return Bad(at + ": httpTarget.body must be a base64 string");
  const auto bytes = DecodeBase64(body->get<std::string>());
  if (!bytes) return Bad(at + ": httpTarget.body is not base64");
  if (!IsValidUtf8(*bytes) || bytes->find('\0') != std::string::npos) {
    return Bad(at + ": httpTarget.body is not UTF-8 text (an http_request body is text)");
  }
  if (bytes->empty()) return std::optional<ordered_json>();
  ordered_json parsed = ordered_json::parse(*bytes, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_discarded() && (parsed.is_object() || parsed.is_array())) return std::optional(parsed);
  return std::optional<ordered_json>(ordered_json(*bytes));
}

Result<ScheduleSpec> ImportJob(const json& job, const std::string& at, const CloudSchedulerImportOptions& options,
                               const internal::HttpImportSettings& settings,
                               std::unordered_set<std::string>* names) {
  if (!job.is_object()) return Bad(at + ": must be a Cloud Scheduler job object");
  auto name = JobName(job, at);
  if (!name) return std::unexpected(name.error());
  const std::string where = at + " (" + *name + ")";
  for (const char* other : {"pubsubTarget", "appEngineHttpTarget"}) {
    if (Find(job, other) != nullptr) {
      return Bad(where + ": has a " + std::string(other) + "; only httpTarget jobs become http_request schedules");
    }
  }
  const json* target = Find(job, "httpTarget");
  if (target == nullptr || !target->is_object()) return Bad(where + ": has no httpTarget");
  for (const char* token : {"oidcToken", "oauthToken"}) {
    if (Find(*target, token) != nullptr) {
      return Bad(where + ": httpTarget." + token +
                 ": Google mints these tokens and Chime cannot; have the endpoint accept a shared secret "
                 "header instead (--auth header:NAME)");
    }
  }
  const json* uri = Find(*target, "uri");
  if (uri == nullptr || !uri->is_string()) return Bad(where + ": httpTarget.uri must be a string");
  const json* schedule = Find(job, "schedule");
  if (schedule == nullptr || !schedule->is_string()) return Bad(where + ": \"schedule\" must be a string");
  const std::string cron = schedule->get<std::string>();
  if (auto expression = cron::Expression::Parse(cron); !expression) {
    return Bad(where + ": schedule: " + expression.error().message +
               " (Cloud Scheduler's App Engine form, \"every 5 minutes\", is not imported: write it as cron)");
  }
  std::string zone = "UTC";
  if (const json* tz = Find(job, "timeZone"); tz != nullptr) {
    if (!tz->is_string()) return Bad(where + ": timeZone must be a string");
    zone = tz->get<std::string>();
  }
  std::string method = "POST";  // Cloud Scheduler's default.
  if (const json* m = Find(*target, "httpMethod"); m != nullptr) {
    if (!m->is_string()) return Bad(where + ": httpTarget.httpMethod must be a string");
    method = m->get<std::string>();
  }

  ordered_json headers = ordered_json::object();
  auto detected = ReadHeaders(*target, where, headers);
  if (!detected) return std::unexpected(detected.error());
  auto body = ReadBody(*target, where);
  if (!body) return std::unexpected(body.error());

  ordered_json payload = {{"method", method}, {"url", uri->get<std::string>()}};
  if (!headers.empty()) payload["headers"] = std::move(headers);
  if (*body) payload["body"] = std::move(**body);
  const std::optional<std::string> auth = options.auth ? options.auth : *detected;
  if (auth && *auth != "none") {
    auto auth_json = internal::AuthJson(*auth, settings.secret_ref);
    if (!auth_json) return Bad(where + ": " + auth_json.error().message);
    payload["auth"] = std::move(*auth_json);
  }
  if (const json* deadline = Find(job, "attemptDeadline"); deadline != nullptr && deadline->is_string()) {
    const auto ms = ParseProtoDuration(deadline->get<std::string>());
    if (!ms || ms->count() < 1) return Bad(where + ": attemptDeadline is not a duration such as \"180s\"");
    payload["timeoutMs"] = std::min(ms->count(), static_cast<int64_t>(payload::kHttpMaxTimeout.count()));
  }
  int max_attempts = 1;  // Cloud Scheduler retries nothing unless retryCount says so.
  if (const json* retry = Find(job, "retryConfig"); retry != nullptr) {
    if (const json* count = Find(*retry, "retryCount"); count != nullptr) {
      if (!count->is_number_integer() || count->get<int64_t>() < 0) {
        return Bad(where + ": retryConfig.retryCount must be a non-negative integer");
      }
      max_attempts = static_cast<int>(std::min<int64_t>(count->get<int64_t>() + 1, internal::kMaxAttempts));
    }
  }
  std::string unique = *name;
  for (int n = 2; !names->insert(unique).second; ++n) unique = *name + "-" + std::to_string(n);
  auto spec = internal::HttpSchedule(unique, cron, zone, std::move(payload), max_attempts, settings, where);
  if (!spec) return std::unexpected(spec.error());
  if (const json* state = Find(job, "state"); state != nullptr && state->is_string()) {
    spec->paused = *state == "PAUSED" || *state == "DISABLED";
  }
  return spec;
}

Result<std::vector<ScheduleSpec>> Import(std::string_view text, const CloudSchedulerImportOptions& options) {
  const internal::HttpImportSettings settings{.secret_ref = options.secret_ref,
                                              .auth = options.auth,
                                              .timeout = options.timeout,
                                              .max_attempts = options.max_attempts,
                                              .overlap = options.overlap,
                                              .time_zone = options.time_zone};
  if (auto ok = internal::CheckSettings(settings); !ok) return std::unexpected(ok.error());
  if (text.size() > kMaxJsonBytes) return Bad("gcloud JSON: larger than 4 MiB");
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    return Bad("gcloud JSON: not valid JSON (" + internal::JsonErrorReason(e.what()) + ")");
  }
  if (doc.is_object()) doc = json::array({std::move(doc)});
  if (!doc.is_array()) return Bad("gcloud JSON: must be the list `gcloud scheduler jobs list --format=json` prints");
  std::vector<ScheduleSpec> specs;
  std::unordered_set<std::string> names;
  for (size_t i = 0; i < doc.size(); ++i) {
    auto spec = ImportJob(doc[i], "jobs[" + std::to_string(i) + "]", options, settings, &names);
    if (!spec) return std::unexpected(spec.error());
    specs.push_back(std::move(*spec));
  }
  return specs;
}

}  // namespace

Result<std::vector<ScheduleSpec>> ImportCloudScheduler(std::string_view gcloud_json,
                                                       const CloudSchedulerImportOptions& options) {
  try {
    return Import(gcloud_json, options);
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kInternal, std::string("gcloud JSON: ") + e.what());
  }
}

}  // namespace chime::schedule
