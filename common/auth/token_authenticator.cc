#include "common/auth/token_authenticator.h"

#include "common/base/text_format.h"

namespace chime::auth {
namespace {

Error Refused(std::string why) { return Error{ErrorCode::kUnauthenticated, std::move(why)}; }

}  // namespace

Result<Principal> TokenAuthenticator::Live(const TokenRecord& record) const {
  if (record.revoked_at) return std::unexpected(Refused("token '" + record.name + "' was revoked"));
  if (record.expires_at && *record.expires_at <= clock_.WallNow()) {
    return std::unexpected(Refused("token '" + record.name + "' expired at " +
                                   FormatRfc3339(*record.expires_at)));
  }
  directory_.TokenUsed(record.name);
  return Principal{.name = record.name, .scope = record.scope, .expires_at = record.expires_at};
}

Result<Principal> TokenAuthenticator::CheckBearer(const ApiToken& token) const {
  auto record = directory_.TokenFind(token.name());
  if (!record) return std::unexpected(record.error());
  const Digest presented = token.SecretSha256();
  if (!*record || !SameDigest(presented, (*record)->verifiers.secret_sha256)) {
    return std::unexpected(Refused("unknown token or wrong secret"));
  }
  return Live(**record);
}

Result<Principal> TokenAuthenticator::CheckSignature(std::string_view name, std::string_view message,
                                                     std::string_view signature) const {
  if (!ValidTokenName(name)) return std::unexpected(Refused("malformed token name"));
  auto record = directory_.TokenFind(name);
  if (!record) return std::unexpected(record.error());
  if (!*record || !VerifySignature((*record)->verifiers.signing_key, message, signature)) {
    return std::unexpected(
        Refused("token '" + std::string(name) + "' is unknown or the signature does not match"));
  }
  return Live(**record);
}

}  // namespace chime::auth
