// Conversions between credentials as stored or verified (db::ApiTokenRow,
// db::TokenCreateParams, auth::Principal) and their chime.v1 messages, for
// the scheduler's token commands and jobctl. Key material travels only in
// TokenCreateRequest (a digest and a public key, never the secret).
#pragma once

#include "chime/v1/chime.pb.h"
#include "common/auth/api_token.h"
#include "common/auth/scope.h"
#include "common/base/error.h"
#include "common/db/auth_store.h"

namespace chime::wire {

v1::ApiToken ToProto(const db::ApiTokenRow& row);
db::ApiTokenRow FromProto(const v1::ApiToken& token);

// What `jobctl token create` sends for `token`: its name, scope, lifetime
// and verifiers.
v1::TokenCreateRequest TokenCreateRequestFor(const auth::ApiToken& token, auth::Scope scope,
                                             std::optional<std::chrono::milliseconds> expires_in);
// InvalidArgument naming the field (name, scope, expiry, key sizes).
// `created_by` is the principal that asked.
Result<db::TokenCreateParams> FromProto(const v1::TokenCreateRequest& request,
                                        const std::string& created_by);
// The store's parameters for a token made here (jobctl's database path).
db::TokenCreateParams TokenCreateParamsFor(const auth::ApiToken& token, auth::Scope scope,
                                           std::optional<std::chrono::milliseconds> expires_in,
                                           const std::string& created_by);

v1::WhoamiReply ToProto(const auth::Principal& principal);
auth::Principal FromProto(const v1::WhoamiReply& reply);

}  // namespace chime::wire
