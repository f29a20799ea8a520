#include "common/wire/signing.h"

#include <sodium.h>

#include <fstream>
#include <sstream>

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

// What a named token signs (chime.proto, SignedRequest).
std::string TokenMessage(const v1::SignedRequest& r) {
  std::string m = "chime.v1.SignedRequest\n";
  m += std::to_string(r.timestamp_ms());
  m += '\n';
  m += r.nonce();
  m += '\n';
  m += r.token_name();
  m += '\n';
  m += r.body();
  return m;
}

Error Unauthenticated(std::string why) {
  return Error{ErrorCode::kUnauthenticated, "admin request refused: " + std::move(why)};
}

// Reads a token file: the token and at most a trailing newline.
Result<auth::ApiToken> TokenFromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kInvalidArgument, "--token-file " + path + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  auto token = auth::ApiToken::Parse(text.str());
  if (!token) return Fail(ErrorCode::kInvalidArgument, "--token-file " + path + ": " + token.error().message);
  return token;
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

Result<AdminCredential> AdminCredential::FromEnvironment(const std::optional<std::string>& token_file) {
  if (token_file) {
    auto token = TokenFromFile(*token_file);
    if (!token) return std::unexpected(token.error());
    return AdminCredential(std::move(*token));
  }
  auto text = EnvSetting("CHIME_TOKEN");
  if (!text) return std::unexpected(Error{text.error().code, "token: " + text.error().message});
  if (*text) {
    auto token = auth::ApiToken::Parse(**text);
    if (!token) return Fail(ErrorCode::kInvalidArgument, "CHIME_TOKEN(_FILE): " + token.error().message);
    return AdminCredential(std::move(*token));
  }
  auto secret = AdminSecret::FromEnvironment();
  if (!secret) {
    if (secret.error().message.find("not configured") != std::string::npos) {
      return Fail(ErrorCode::kInvalidArgument,
                  "credential: not configured (set CHIME_TOKEN, CHIME_TOKEN_FILE or --token-file "
                  "for a named token, or CHIME_ADMIN_SECRET or CHIME_ADMIN_SECRET_FILE)");
    }
    return std::unexpected(secret.error());
  }
  return AdminCredential(std::move(*secret));
}

std::string AdminCredential::name() const {
  if (const auto* t = token()) return t->name();
  return std::string(auth::kBootstrapName);
}

v1::SignedRequest SignRequest(const v1::AdminRequest& request, const AdminCredential& credential,
                              std::chrono::system_clock::time_point now) {
  EnsureSodium();
  v1::SignedRequest out;
  out.set_timestamp_ms(duration_cast<milliseconds>(now.time_since_epoch()).count());
  std::string nonce(kNonceBytes, '\0');
  randombytes_buf(nonce.data(), nonce.size());
  out.set_nonce(nonce);
  out.set_body(request.SerializeAsString());
  if (const auto* token = credential.token()) {
    out.set_token_name(token->name());
    out.set_signature(token->Sign(TokenMessage(out)));
  } else {
    out.set_signature(Mac(*credential.secret(), out.timestamp_ms(), out.nonce(), out.body()));
  }
  return out;
}

v1::SignedRequest SignRequest(const v1::AdminRequest& request, const AdminSecret& secret,
                              std::chrono::system_clock::time_point now) {
  return SignRequest(request, AdminCredential(secret), now);
}

RequestVerifier::RequestVerifier(VerifierSources sources, const Clock& clock, size_t max_nonces)
    : sources_(std::move(sources)), clock_(clock), max_nonces_(max_nonces) {
  EnsureSodium();
  if (sources_.tokens != nullptr) tokens_.emplace(*sources_.tokens, clock_);
}

RequestVerifier::RequestVerifier(AdminSecret secret, const Clock& clock, size_t max_nonces)
    : RequestVerifier(VerifierSources{.bootstrap = std::move(secret)}, clock, max_nonces) {}

void RequestVerifier::ForgetExpired(int64_t now_ms) {
  // A nonce older than the window can never verify here again (its
  // timestamp is refused first), so it need not be remembered.
  while (!order_.empty() && order_.front().timestamp_ms < now_ms - kMaxSkew.count()) {
    seen_.erase(order_.front().nonce);
    order_.pop_front();
  }
}

Result<auth::Principal> RequestVerifier::Authenticate(const v1::SignedRequest& r) const {
  if (r.token_name().empty()) {
    if (!sources_.bootstrap) {
      return std::unexpected(Unauthenticated("this scheduler takes named tokens only"));
    }
    if (r.signature().size() != kSignatureBytes) {
      return std::unexpected(Unauthenticated("malformed nonce or signature"));
    }
    const std::string expected = Mac(*sources_.bootstrap, r.timestamp_ms(), r.nonce(), r.body());
    if (sodium_memcmp(expected.data(), r.signature().data(), expected.size()) != 0) {
      return std::unexpected(Unauthenticated("signature does not match the admin secret"));
    }
    return auth::BootstrapPrincipal();
  }
  if (!tokens_) return std::unexpected(Unauthenticated("this scheduler takes no named tokens"));
  if (r.signature().size() != auth::kTokenSignatureBytes) {
    return std::unexpected(Unauthenticated("malformed nonce or signature"));
  }
  auto principal = tokens_->CheckSignature(r.token_name(), TokenMessage(r), r.signature());
  if (!principal) {
    Error e = principal.error();
    if (e.code == ErrorCode::kUnauthenticated) return std::unexpected(Unauthenticated(e.message));
    e.message = "admin request refused: cannot check token '" + r.token_name() + "': " + e.message;
    return std::unexpected(std::move(e));
  }
  return principal;
}

Result<void> RequestVerifier::RecordNonce(const v1::SignedRequest& r, int64_t now_ms) {
  {
    std::lock_guard lock(mu_);
    ForgetExpired(now_ms);
    if (seen_.contains(r.nonce())) {
      return std::unexpected(Unauthenticated("nonce was already used (replay)"));
    }
    if (sources_.ledger == nullptr && seen_.size() >= max_nonces_) {
      return std::unexpected(Error{ErrorCode::kUnavailable,
                                   "too many admin requests in the last 5 minutes; retry later"});
    }
  }
  if (sources_.ledger != nullptr) {
    const auto expires = std::chrono::system_clock::time_point(milliseconds(r.timestamp_ms())) +
                         kNonceRetention;
    auto first = sources_.ledger->NonceRecord(r.nonce(), expires);
    if (!first) {
      return std::unexpected(Error{ErrorCode::kUnavailable,
                                   "admin request refused: its nonce cannot be recorded (" +
                                       first.error().message + "); retry later"});
    }
    if (!*first) {
      // Accepted before, by this replica before a restart or by another.
      return std::unexpected(Unauthenticated("nonce was already used (replay)"));
    }
  }
  std::lock_guard lock(mu_);
  if (seen_.size() < max_nonces_ && seen_.insert(r.nonce()).second) {
    order_.push_back({r.nonce(), r.timestamp_ms()});
  }
  return {};
}

Result<VerifiedRequest> RequestVerifier::Verify(const v1::SignedRequest& signed_request) {
  if (signed_request.nonce().size() != kNonceBytes) {
    return std::unexpected(Unauthenticated("malformed nonce or signature"));
  }
  // The clock first: a stale recording costs no signature check and no
  // token lookup.
  const int64_t now_ms =
      duration_cast<milliseconds>(clock_.WallNow().time_since_epoch()).count();
  const int64_t skew_ms = signed_request.timestamp_ms() - now_ms;
  if (skew_ms > kMaxSkew.count() || -skew_ms > kMaxSkew.count()) {
    return std::unexpected(Unauthenticated("timestamp is " + std::to_string(skew_ms / 1000) +
                                           " s from the scheduler's clock (limit 300 s)"));
  }
  auto principal = Authenticate(signed_request);
  if (!principal) return std::unexpected(principal.error());
  if (auto ok = RecordNonce(signed_request, now_ms); !ok) return std::unexpected(ok.error());
  VerifiedRequest out{.principal = std::move(*principal)};
  if (!out.request.ParseFromString(signed_request.body()) ||
      out.request.command_case() == v1::AdminRequest::COMMAND_NOT_SET) {
    return Fail(ErrorCode::kInvalidArgument, "admin request: body is not a chime.v1.AdminRequest");
  }
  return out;
}

}  // namespace chime::wire
