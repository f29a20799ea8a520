#include "common/wire/signing.h"

#include <sodium.h>

#include "common/base/env_setting.h"
#include "common/wire/envelope.h"

namespace chime::wire {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

void EnsureSodium() {
  // Thread-safe and idempotent; fails only without a usable random source.
  if (sodium_init() < 0) std::abort();
}

std::string Mac(const AdminSecret& secret, int64_t timestamp_ms, const std::string& nonce,
                const std::string& body) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.bytes().data()),
                              secret.bytes().size());
  const std::string head = std::to_string(timestamp_ms) + "\n";
  auto update = [&](const std::string& s) {
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(s.data()),
                                  s.size());
  };
  update(head);
  update(nonce);
  update("\n");
  update(body);
  std::string mac(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(mac.data()));
  return mac;
}

Error Unauthenticated(std::string why) {
  return Error{ErrorCode::kUnauthenticated, "admin request refused: " + std::move(why)};
}

}  // namespace

Result<AdminSecret> AdminSecret::FromString(std::string bytes) {
  if (bytes.size() < kMinBytes) {
    return Fail(ErrorCode::kInvalidArgument, "admin secret: shorter than " +
                                                 std::to_string(kMinBytes) + " bytes");
  }
  return AdminSecret(std::move(bytes));
}

Result<AdminSecret> AdminSecret::FromEnvironment() {
  auto bytes = EnvSetting("CHIME_ADMIN_SECRET");
  if (!bytes) return std::unexpected(Error{bytes.error().code, "admin secret: " + bytes.error().message});
  if (!*bytes) {
    return Fail(ErrorCode::kInvalidArgument,
                "admin secret: not configured (set CHIME_ADMIN_SECRET or CHIME_ADMIN_SECRET_FILE)");
  }
  auto secret = FromString(std::move(**bytes));
  if (!secret) {
    secret.error().message = "CHIME_ADMIN_SECRET(_FILE): " + secret.error().message;
  }
  return secret;
}

v1::SignedRequest SignRequest(const v1::AdminRequest& request, const AdminSecret& secret,
                              std::chrono::system_clock::time_point now) {
  EnsureSodium();
  v1::SignedRequest out;
  out.set_timestamp_ms(duration_cast<milliseconds>(now.time_since_epoch()).count());
  std::string nonce(kNonceBytes, '\0');
  randombytes_buf(nonce.data(), nonce.size());
  out.set_nonce(nonce);
  out.set_body(request.SerializeAsString());
  out.set_signature(Mac(secret, out.timestamp_ms(), out.nonce(), out.body()));
  return out;
}

RequestVerifier::RequestVerifier(AdminSecret secret, const Clock& clock, size_t max_nonces)
    : secret_(std::move(secret)), clock_(clock), max_nonces_(max_nonces) {
  EnsureSodium();
}

void RequestVerifier::ForgetExpired(int64_t now_ms) {
  // A nonce older than the window can never verify again (its timestamp is
  // refused first), so it need not be remembered.
  while (!order_.empty() && order_.front().timestamp_ms < now_ms - kMaxSkew.count()) {
    seen_.erase(order_.front().nonce);
    order_.pop_front();
  }
}

Result<v1::AdminRequest> RequestVerifier::Verify(const v1::SignedRequest& signed_request) {
  if (signed_request.nonce().size() != kNonceBytes ||
      signed_request.signature().size() != kSignatureBytes) {
    return std::unexpected(Unauthenticated("malformed nonce or signature"));
  }
  const std::string expected =
      Mac(secret_, signed_request.timestamp_ms(), signed_request.nonce(), signed_request.body());
  if (sodium_memcmp(expected.data(), signed_request.signature().data(), expected.size()) != 0) {
    return std::unexpected(Unauthenticated("signature does not match the admin secret"));
  }
  const int64_t now_ms =
      duration_cast<milliseconds>(clock_.WallNow().time_since_epoch()).count();
  const int64_t skew_ms = signed_request.timestamp_ms() - now_ms;
  if (skew_ms > kMaxSkew.count() || -skew_ms > kMaxSkew.count()) {
    return std::unexpected(Unauthenticated("timestamp is " + std::to_string(skew_ms / 1000) +
                                           " s from the scheduler's clock (limit 300 s)"));
  }
  {
    std::lock_guard lock(mu_);
    ForgetExpired(now_ms);
    if (seen_.contains(signed_request.nonce())) {
      return std::unexpected(Unauthenticated("nonce was already used (replay)"));
    }
    if (seen_.size() >= max_nonces_) {
      return std::unexpected(Error{ErrorCode::kUnavailable,
                                   "too many admin requests in the last 5 minutes; retry later"});
    }
    seen_.insert(signed_request.nonce());
    order_.push_back({signed_request.nonce(), signed_request.timestamp_ms()});
  }
  v1::AdminRequest request;
  if (!request.ParseFromString(signed_request.body()) ||
      request.command_case() == v1::AdminRequest::COMMAND_NOT_SET) {
    return Fail(ErrorCode::kInvalidArgument, "admin request: body is not a chime.v1.AdminRequest");
  }
  return request;
}

}  // namespace chime::wire
