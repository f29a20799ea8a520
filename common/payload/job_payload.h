// The one check every entry point applies to a job's kind and payload before
// anything is stored: jobctl enqueue (before sending), the job store's
// ValidateEnqueue (so the scheduler's admin API and every direct insert),
// schedule::Validate (schedule create/update, schedule files, `schedule
// lint`, the admin API's schedule commands). Kinds without a payload schema
// here are accepted as any JSON. Pure; thread-safe.
#pragma once

#include <string_view>

#include "common/base/error.h"

namespace chime::payload {

// InvalidArgument "payload: <field>: <why>" when `payload_json` is not
// acceptable for `kind` (today: http_request, see http_request_payload.h).
// Does not re-check what the caller checks already (size, depth, UTF-8):
// text that is not JSON is "payload: not valid JSON".
[[nodiscard]] Result<void> ValidateJobPayload(std::string_view kind, std::string_view payload_json);

}  // namespace chime::payload
