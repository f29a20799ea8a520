// What counts as a credential in a job payload. A payload is stored in the
// jobs table, the run ledger and schedule rows, travels in ZeroMQ frames and
// is printed by jobctl, so it may name a secret (env:NAME, file:/path) but
// never carry one. These predicates find the places a secret would sit: a
// credential header, a credential-like query parameter or body field, a
// value shaped like a bearer token or a Standard Webhooks key. Pure;
// thread-safe.
#pragma once

#include <string_view>

namespace chime::payload {

// Header names that carry credentials: Authorization, Proxy-Authorization,
// Cookie, the seeds' x-cron-secret / x-cron-key / x-internal-secret,
// webhook-* (Standard Webhooks), and any name that contains "secret",
// "token", "password", "passwd", "auth", "signature", "credential", "apikey",
// "api-key", "api_key" or ends in "key" (x-functions-key,
// ocp-apim-subscription-key). ASCII case-insensitive.
bool IsCredentialHeaderName(std::string_view name);

// Headers Chime sets itself on every call (Idempotency-Key, Chime-*,
// User-Agent) or that frame the message (Host, Content-Length,
// Transfer-Encoding, Connection, Expect); a payload may not set them.
bool IsReservedHeaderName(std::string_view name);

// Query parameter names that carry credentials: key, sig, and any name that
// contains "secret", "token", "password", "passwd", "apikey", "api_key",
// "api-key", "signature" or "credential".
bool IsCredentialQueryName(std::string_view name);

// JSON body field names that carry credentials: any that contains "secret",
// "password", "passwd", "apikey", "api_key", "api-key", "privatekey",
// "private_key", "accesstoken", "access_token", "refreshtoken",
// "refresh_token". Narrower than headers: a body's "pageToken" or
// "authorName" is data.
bool IsCredentialFieldName(std::string_view name);

// A value that is a credential whatever its name: "Bearer ...", "Basic ...",
// "whsec_..." (a Standard Webhooks key).
bool LooksLikeCredentialValue(std::string_view value);

}  // namespace chime::payload
