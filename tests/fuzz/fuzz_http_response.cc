// Fuzzes what an endpoint's answer can do to a run (issue 17, rule 6):
// worker/kinds/http_response.h's JudgeResponse, and the payload parser every
// entry point calls (common/payload).
//
// Input: '\n'-separated fields: the status (decimal, else 200), the
// Content-Type, then the body (the rest, newlines included). The body is
// also parsed as an http_request payload.
//
// Properties:
// - the summary fields serialise strictly (what the executor does) and hold
//   no U+0000 (jsonb refuses it), whatever the bytes;
// - errors and the skip reason are valid UTF-8 without control characters,
//   at most 100 errors of at most 1 KiB;
// - a failure or a partial has at least one error (an empty partial would be
//   recorded as a success);
// - the stored response is at most 64 KiB of JSON plus the excerpt wrapper;
// - the payload parser answers, accepting or refusing with InvalidArgument.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/utf8.h"
#include "common/payload/http_request_payload.h"
#include "tests/fuzz/fuzz_check.h"
#include "worker/kinds/http_response.h"
#include "worker/kinds/response_text.h"

namespace {

using chime::fuzz::Escaped;
using chime::worker::kinds::ResponseVerdict;

std::string_view NextField(std::string_view& rest) {
  const size_t newline = rest.find('\n');
  const std::string_view field = rest.substr(0, newline);
  rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
  return field;
}

// No string or key of `value` holds U+0000.
bool NoNul(const nlohmann::json& value) {
  if (value.is_string()) return value.get_ref<const std::string&>().find('\0') == std::string::npos;
  if (value.is_array()) {
    for (const auto& item : value) {
      if (!NoNul(item)) return false;
    }
  }
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      if (key.find('\0') != std::string::npos || !NoNul(item)) return false;
    }
  }
  return true;
}

bool CleanLine(std::string_view s) {
  if (chime::RepairUtf8(s) != s) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return false;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xA0) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const std::string_view status_text = NextField(rest);
  int status = 200;
  std::from_chars(status_text.data(), status_text.data() + status_text.size(), status);
  const std::string content_type(NextField(rest));
  const std::string body(rest);

  static const auto request = *chime::payload::ParseHttpRequestPayload({{"url", "https://app.example.com/x"}});
  const ResponseVerdict v = chime::worker::kinds::JudgeResponse(
      {.status = status, .content_type = content_type, .body = body, .body_bytes = body.size(),
       .body_complete = true},
      request, "POST https://app.example.com/x");
  std::string dumped;
  try {
    dumped = v.fields.dump();
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, "fields do not serialise (%s) for %s", e.what(), Escaped(body).c_str());
  }
  FUZZ_CHECK(NoNul(v.fields), "NUL in %s", Escaped(dumped).c_str());
  FUZZ_CHECK(v.errors.size() <= 101, "%zu errors", v.errors.size());
  for (const auto& e : v.errors) {
    FUZZ_CHECK(e.size() <= 1024 && CleanLine(e), "error line %s", Escaped(e).c_str());
  }
  FUZZ_CHECK(CleanLine(v.skip_reason), "skip reason %s", Escaped(v.skip_reason).c_str());
  if (v.kind == ResponseVerdict::Kind::kFailed || v.kind == ResponseVerdict::Kind::kPartial) {
    FUZZ_CHECK(!v.errors.empty(), "a failure or partial without an error");
  }
  if (v.fields.contains("response")) {
    FUZZ_CHECK(v.fields["response"].dump().size() <= 3 * 64 * 1024 + 100, "response of %zu bytes",
               v.fields["response"].dump().size());
  }

  const auto payload = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!payload.is_discarded()) {
    auto parsed = chime::payload::ParseHttpRequestPayload(payload);
    FUZZ_CHECK(parsed || parsed.error().code == chime::ErrorCode::kInvalidArgument, "payload: code %d",
               static_cast<int>(parsed.error().code));
  }
  return 0;
}
