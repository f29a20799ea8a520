// Authentication of outbound requests. The default is Standard Webhooks
// (https://www.standardwebhooks.com/): three headers,
//
//   webhook-id:        msg_<random>, unique per message (receivers dedupe on it)
//   webhook-timestamp: unix seconds
//   webhook-signature: v1,<base64(HMAC-SHA256(key, id "." timestamp "." body))>
//
// where the secret is the key in standard base64, optionally prefixed
// "whsec_" (as the reference library, npm standardwebhooks, reads it: it
// strips the prefix if present and base64-decodes the rest). Endpoints written in the seeds' style expect
// the shared secret itself instead, as "Authorization: Bearer <secret>" or
// "x-cron-secret: <secret>"; helpers add those per target.
//
// All functions are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/error.h"
#include "common/http/client.h"
#include "common/http/secret_ref.h"

namespace chime::http {

// An HMAC key for webhook signatures. Prints nothing.
class WebhookKey {
 public:
  // InvalidArgument for an empty secret or one that is not standard base64
  // after an optional "whsec_" prefix (the message does not quote it). Raw
  // bytes are never used as the key: a receiver using the reference library
  // would decode them and reject every signature.
  [[nodiscard]] static Result<WebhookKey> FromSecret(const Secret& secret);

  // "v1,<base64 signature>".
  std::string Sign(std::string_view id, int64_t timestamp, std::string_view body) const;

 private:
  explicit WebhookKey(std::string bytes) : bytes_(std::move(bytes)) {}
  std::string bytes_;
};

// "msg_" and 22 characters of base64url: 128 random bits.
std::string NewWebhookId();

// The three headers as a receiver got them.
struct WebhookHeaders {
  std::string id;
  std::string timestamp;
  std::string signature;  // One or more space-separated "version,signature".
};

// Accepts when some v1 signature in the header matches (compared in constant
// time) and the timestamp is within `tolerance` of `now`. InvalidArgument for
// missing or malformed headers; Unauthenticated for a wrong signature or a
// stale or future timestamp.
[[nodiscard]] Result<void> WebhookVerify(const WebhookKey& key, const WebhookHeaders& headers,
                                         std::string_view body,
                                         std::chrono::system_clock::time_point now,
                                         std::chrono::seconds tolerance = std::chrono::minutes(5));

// Adds webhook-id (fresh), webhook-timestamp (`now`) and webhook-signature
// over request.body; call after the body is final.
void AddWebhookSignature(HttpRequest& request, const WebhookKey& key,
                         std::chrono::system_clock::time_point now);
// The same with a given webhook-id: a resend keeps its message's id (the
// spec's rule), so callers that retry pass the id of the first attempt.
void AddWebhookSignature(HttpRequest& request, const WebhookKey& key,
                         std::chrono::system_clock::time_point now, std::string_view id);
// Adds "Authorization: Bearer <secret>" (marked sensitive).
void AddBearerAuth(HttpRequest& request, const Secret& secret);
// Adds "x-cron-secret: <secret>" (marked sensitive).
void AddCronSecretHeader(HttpRequest& request, const Secret& secret);

}  // namespace chime::http
