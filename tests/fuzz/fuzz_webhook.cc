// Fuzzes the Standard Webhooks receiver side: WebhookKey::FromSecret and
// WebhookVerify's parsing of the webhook-timestamp and webhook-signature
// headers.
//
// Input: '\n'-separated fields: secret, webhook-id, webhook-timestamp,
// webhook-signature, then the body (the rest, newlines included). Missing
// fields are empty. "Now" is the timestamp when it is a number, else a fixed
// instant.
//
// Properties:
// - a rejection is InvalidArgument (missing or malformed header) or
//   Unauthenticated (wrong signature, stale timestamp), never a crash;
// - an accepted request re-serialises consistently: its timestamp header is
//   a whole number, one space-separated entry of its signature header is
//   exactly Sign(id, timestamp, body), and the canonical timestamp text
//   verifies too;
// - adding a fresh signature as one more entry, before or after the fuzzed
//   ones, is always accepted; changing the body then is not.
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/webhook.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using chime::ErrorCode;
using chime::fuzz::Escaped;
using chime::http::Secret;
using chime::http::WebhookHeaders;
using chime::http::WebhookKey;
using chime::http::WebhookVerify;

std::string_view NextField(std::string_view& rest) {
  const size_t newline = rest.find('\n');
  const std::string_view field = rest.substr(0, newline);
  rest = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
  return field;
}

std::vector<std::string_view> Entries(std::string_view header) {
  std::vector<std::string_view> out;
  while (!header.empty()) {
    const size_t space = header.find(' ');
    out.push_back(header.substr(0, space));
    header = space == std::string_view::npos ? std::string_view() : header.substr(space + 1);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const std::string secret(NextField(rest));
  WebhookHeaders headers;
  headers.id = std::string(NextField(rest));
  headers.timestamp = std::string(NextField(rest));
  headers.signature = std::string(NextField(rest));
  const std::string body(rest);

  auto key = WebhookKey::FromSecret(Secret(secret));
  if (!key) {
    FUZZ_CHECK(key.error().code == ErrorCode::kInvalidArgument, "FromSecret: code %d",
               static_cast<int>(key.error().code));
    return 0;
  }

  int64_t timestamp = 1'700'000'000;
  const std::string& ts = headers.timestamp;
  int64_t parsed = 0;
  const auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), parsed);
  const bool numeric = !ts.empty() && ec == std::errc() && end == ts.data() + ts.size();
  // system_clock counts nanoseconds in 64 bits: +-292 years around 1970.
  if (numeric && parsed > -4'000'000'000 && parsed < 4'000'000'000) timestamp = parsed;
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(timestamp));

  const auto verdict = WebhookVerify(*key, headers, body, now);
  if (!verdict) {
    FUZZ_CHECK(verdict.error().code == ErrorCode::kInvalidArgument ||
                   verdict.error().code == ErrorCode::kUnauthenticated,
               "WebhookVerify: code %d", static_cast<int>(verdict.error().code));
  } else {
    FUZZ_CHECK(numeric, "accepted the timestamp \"%s\"", Escaped(ts).c_str());
    const std::string expected = key->Sign(headers.id, parsed, body);
    bool found = false;
    for (std::string_view entry : Entries(headers.signature)) found = found || entry == expected;
    FUZZ_CHECK(found, "accepted signature header \"%s\" has no entry %s",
               Escaped(headers.signature).c_str(), expected.c_str());
    WebhookHeaders canonical = headers;
    canonical.timestamp = std::to_string(parsed);
    FUZZ_CHECK(WebhookVerify(*key, canonical, body, now).has_value(),
               "accepted with timestamp \"%s\" but not \"%s\"", Escaped(ts).c_str(),
               canonical.timestamp.c_str());
  }

  // A request this key signs now verifies whatever other entries surround
  // its signature, and stops verifying when the body changes.
  if (headers.id.empty()) return 0;
  const std::string fresh = key->Sign(headers.id, timestamp, body);
  FUZZ_CHECK(fresh.starts_with("v1,") && fresh.size() == 3 + 44, "Sign gave \"%s\"",
             Escaped(fresh).c_str());
  WebhookHeaders signed_headers = headers;
  signed_headers.timestamp = std::to_string(timestamp);
  for (const std::string& header :
       {fresh, headers.signature + " " + fresh, fresh + " " + headers.signature}) {
    signed_headers.signature = header;
    FUZZ_CHECK(WebhookVerify(*key, signed_headers, body, now).has_value(),
               "a fresh signature in \"%s\" is rejected", Escaped(header).c_str());
  }
  signed_headers.signature = fresh;
  const auto tampered = WebhookVerify(*key, signed_headers, body + "x", now);
  FUZZ_CHECK(!tampered && tampered.error().code == ErrorCode::kUnauthenticated,
             "a changed body still verifies");
  return 0;
}
