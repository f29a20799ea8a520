#include "common/wire/token_convert.h"

#include "common/wire/millis.h"

namespace chime::wire {

using internal::Ms;
using internal::Time;

namespace {

std::string Bytes(const unsigned char* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// The longest lifetime a token may be given: ten years.
constexpr int64_t kMaxExpiresInMs = 10LL * 366 * 24 * 3600 * 1000;

}  // namespace

v1::ApiToken ToProto(const db::ApiTokenRow& row) {
  v1::ApiToken t;
  t.set_name(row.name);
  t.set_scope(row.scope);
  t.set_created_at_ms(Ms(row.created_at));
  t.set_created_by(row.created_by);
  if (row.expires_at) t.set_expires_at_ms(Ms(*row.expires_at));
  if (row.last_used_at) t.set_last_used_at_ms(Ms(*row.last_used_at));
  if (row.revoked_at) t.set_revoked_at_ms(Ms(*row.revoked_at));
  return t;
}

db::ApiTokenRow FromProto(const v1::ApiToken& t) {
  db::ApiTokenRow row;
  row.name = t.name();
  row.scope = t.scope();
  row.created_at = Time(t.created_at_ms());
  row.created_by = t.created_by();
  if (t.has_expires_at_ms()) row.expires_at = Time(t.expires_at_ms());
  if (t.has_last_used_at_ms()) row.last_used_at = Time(t.last_used_at_ms());
  if (t.has_revoked_at_ms()) row.revoked_at = Time(t.revoked_at_ms());
  return row;
}

v1::TokenCreateRequest TokenCreateRequestFor(const auth::ApiToken& token, auth::Scope scope,
                                             std::optional<std::chrono::milliseconds> expires_in) {
  const auth::TokenVerifiers v = token.Verifiers();
  v1::TokenCreateRequest r;
  r.set_name(token.name());
  r.set_scope(std::string(auth::ScopeName(scope)));
  if (expires_in) r.set_expires_in_ms(expires_in->count());
  r.set_secret_sha256(Bytes(v.secret_sha256.data(), v.secret_sha256.size()));
  r.set_signing_key(Bytes(v.signing_key.data(), v.signing_key.size()));
  return r;
}

Result<db::TokenCreateParams> FromProto(const v1::TokenCreateRequest& r, const std::string& created_by) {
  if (auto ok = auth::CheckTokenName(r.name()); !ok) return std::unexpected(ok.error());
  auto scope = auth::ParseScope(r.scope());
  if (!scope) return std::unexpected(scope.error());
  if (r.secret_sha256().size() != auth::kDigestBytes || r.signing_key().size() != auth::kPublicKeyBytes) {
    return Fail(ErrorCode::kInvalidArgument, "token: the digest and the public key must be 32 bytes each");
  }
  db::TokenCreateParams p;
  p.name = r.name();
  p.scope = r.scope();
  p.secret_sha256 = r.secret_sha256();
  p.signing_key = r.signing_key();
  if (r.has_expires_in_ms()) {
    if (r.expires_in_ms() <= 0 || r.expires_in_ms() > kMaxExpiresInMs) {
      return Fail(ErrorCode::kInvalidArgument, "expires: must be 1 ms to 10 years from now");
    }
    p.expires_in = std::chrono::milliseconds(r.expires_in_ms());
  }
  p.created_by = created_by;
  return p;
}

db::TokenCreateParams TokenCreateParamsFor(const auth::ApiToken& token, auth::Scope scope,
                                           std::optional<std::chrono::milliseconds> expires_in,
                                           const std::string& created_by) {
  const auth::TokenVerifiers v = token.Verifiers();
  return db::TokenCreateParams{.name = token.name(),
                               .scope = std::string(auth::ScopeName(scope)),
                               .secret_sha256 = Bytes(v.secret_sha256.data(), v.secret_sha256.size()),
                               .signing_key = Bytes(v.signing_key.data(), v.signing_key.size()),
                               .expires_in = expires_in,
                               .created_by = created_by};
}

v1::WhoamiReply ToProto(const auth::Principal& p) {
  v1::WhoamiReply r;
  r.set_name(p.name);
  r.set_scope(std::string(auth::ScopeName(p.scope)));
  r.set_bootstrap(p.bootstrap);
  if (p.expires_at) r.set_expires_at_ms(Ms(*p.expires_at));
  return r;
}

auth::Principal FromProto(const v1::WhoamiReply& r) {
  auth::Principal p;
  p.name = r.name();
  p.scope = auth::ParseScope(r.scope()).value_or(auth::Scope::kRead);
  p.bootstrap = r.bootstrap();
  if (r.has_expires_at_ms()) p.expires_at = Time(r.expires_at_ms());
  return p;
}

}  // namespace chime::wire
