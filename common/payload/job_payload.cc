#include "common/payload/job_payload.h"

#include <nlohmann/json.hpp>

#include "common/payload/http_request_payload.h"

namespace chime::payload {

Result<void> ValidateJobPayload(std::string_view kind, std::string_view payload_json) {
  if (kind != kHttpRequestKind) return {};
  const nlohmann::json payload = nlohmann::json::parse(payload_json, nullptr, /*allow_exceptions=*/false);
  if (payload.is_discarded()) return Fail(ErrorCode::kInvalidArgument, "payload: not valid JSON");
  auto parsed = ParseHttpRequestPayload(payload);
  if (!parsed) return Fail(parsed.error().code, "payload: " + parsed.error().message);
  return {};
}

}  // namespace chime::payload
