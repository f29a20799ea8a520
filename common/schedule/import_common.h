// What the vercel.json and Cloud Scheduler importers share: the options as
// one settings struct, the secret reference and auth checks, and building
// the http_request payload and schedule. Internal to common/schedule.
// Thread-safe (pure functions).
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/error.h"
#include "common/schedule/schedule_spec.h"

namespace chime::schedule::internal {

struct HttpImportSettings {
  std::string secret_ref = "env:CRON_SECRET";
  std::optional<std::string> auth;
  std::optional<std::chrono::milliseconds> timeout;
  std::optional<int> max_attempts;
  std::optional<OverlapPolicy> overlap;
  std::optional<std::string> time_zone;
};

// env:NAME (NAME of A-Z 0-9 _) or file:/absolute/path without "..".
// "secret_ref: ..." otherwise; never echoes it.
[[nodiscard]] Result<void> CheckSecretRef(std::string_view ref);

// The payload's "auth" for `auth` (bearer, x-cron-secret, header:NAME,
// none) and `secret_ref`; "auth: ..." for anything else.
[[nodiscard]] Result<nlohmann::ordered_json> AuthJson(std::string_view auth, const std::string& secret_ref);

// Checks the settings that do not depend on an entry: secret_ref, auth,
// timeout (1 ms .. 1 h), max_attempts (1-1000), time zone.
[[nodiscard]] Result<void> CheckSettings(const HttpImportSettings& settings);

// `payload` with the settings' timeout, as an http_request schedule named
// `name`; Validate()d, errors prefixed with `at`.
[[nodiscard]] Result<ScheduleSpec> HttpSchedule(std::string name, std::string cron, std::string time_zone,
                                                nlohmann::ordered_json payload, int max_attempts,
                                                const HttpImportSettings& settings, const std::string& at);

}  // namespace chime::schedule::internal
