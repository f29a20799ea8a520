#include "common/schedule/import_common.h"

#include "common/base/text_format.h"
#include "common/cron/cron.h"
#include "common/payload/http_request_payload.h"
#include "common/schedule/schedule_limits.h"

namespace chime::schedule::internal {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }

bool IsHeaderToken(std::string_view s) {
  static constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return !s.empty() && s.size() <= 256 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || kSymbols.find(c) != kSymbols.npos;
  });
}

}  // namespace

Result<void> CheckSecretRef(std::string_view ref) {
  constexpr std::string_view kHint =
      "secret_ref: must be env:NAME (NAME of A-Z 0-9 _) or file:/absolute/path";
  if (ref.starts_with("env:")) {
    const std::string_view name = ref.substr(4);
    bool ok = !name.empty() && name.size() <= kMaxTokenBytes && !IsDigit(name.front());
    for (char c : name) ok = ok && (IsUpper(c) || IsDigit(c) || c == '_');
    if (ok) return {};
  } else if (ref.starts_with("file:/")) {
    bool ok = ref.size() <= 2048 && ref.find("/../") == std::string_view::npos && !ref.ends_with("/..");
    for (char c : ref) ok = ok && c > ' ' && c != 0x7f;
    if (ok) return {};
  }
  return Fail(ErrorCode::kInvalidArgument, std::string(kHint));
}

Result<nlohmann::ordered_json> AuthJson(std::string_view auth, const std::string& secret_ref) {
  if (auth == "none") return nlohmann::ordered_json{{"type", "none"}};
  if (auth == "bearer" || auth == "x-cron-secret") {
    return nlohmann::ordered_json{{"type", std::string(auth)}, {"secret", secret_ref}};
  }
  if (auth.starts_with("header:") && IsHeaderToken(auth.substr(7))) {
    return nlohmann::ordered_json{{"type", "header"}, {"name", std::string(auth.substr(7))}, {"secret", secret_ref}};
  }
  return Fail(ErrorCode::kInvalidArgument,
              "auth: " + Quoted(auth) + " is not bearer, x-cron-secret, header:NAME (e.g. header:x-cron-key) or none");
}

Result<void> CheckSettings(const HttpImportSettings& s) {
  if (auto ok = CheckSecretRef(s.secret_ref); !ok) return ok;
  if (s.auth) {
    if (auto auth = AuthJson(*s.auth, s.secret_ref); !auth) return std::unexpected(auth.error());
  }
  if (s.timeout && (s.timeout->count() < 1 || *s.timeout > payload::kHttpMaxTimeout)) {
    return Fail(ErrorCode::kInvalidArgument, "timeout: must be more than 0 and at most 1h (the call's limit)");
  }
  if (s.max_attempts && (*s.max_attempts < kMinAttempts || *s.max_attempts > kMaxAttempts)) {
    return Fail(ErrorCode::kInvalidArgument, "max_attempts: " + std::to_string(*s.max_attempts) +
                                                 " is out of range 1-1000");
  }
  if (s.time_zone) {
    if (auto zone = cron::Zone::Load(*s.time_zone); !zone) {
      return Fail(ErrorCode::kInvalidArgument, "time_zone: " + Quoted(*s.time_zone) + " is not in the zone database");
    }
  }
  return {};
}

Result<ScheduleSpec> HttpSchedule(std::string name, std::string cron, std::string time_zone,
                                  nlohmann::ordered_json payload, int max_attempts,
                                  const HttpImportSettings& settings, const std::string& at) {
  if (settings.timeout) payload["timeoutMs"] = settings.timeout->count();
  ScheduleSpec spec{
      .name = std::move(name),
      .cron = std::move(cron),
      .time_zone = settings.time_zone.value_or(std::move(time_zone)),
      .kind = std::string(payload::kHttpRequestKind),
      .payload = payload.dump(),
      .max_attempts = settings.max_attempts.value_or(max_attempts),
      .overlap = settings.overlap.value_or(OverlapPolicy::kSkip),
      .misfire = MisfirePolicy::kRunOnce,
  };
  if (auto ok = Validate(spec); !ok) return Fail(ErrorCode::kInvalidArgument, at + ": " + ok.error().message);
  return spec;
}

}  // namespace chime::schedule::internal
