// Admin request authentication. jobctl signs every request with its
// credential: the bootstrap admin secret (HMAC-SHA256) or a named token
// (Ed25519 with the key derived from the token's secret; see
// proto/chime/v1/chime.proto, SignedRequest). The scheduler verifies the
// signature (constant time for the HMAC), refuses a timestamp more than 5
// minutes from its clock, and refuses a nonce that was accepted before
// anywhere in the cluster: every accepted nonce is recorded in a
// NonceLedger (PostgreSQL in the scheduler) until no replica could accept
// its timestamp any more, and remembered in memory as a first filter.
//
// Credentials come from CHIME_TOKEN / CHIME_TOKEN_FILE (or jobctl's
// --token-file) and CHIME_ADMIN_SECRET / CHIME_ADMIN_SECRET_FILE, never
// from a command-line argument (visible to every user in ps).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <variant>

#include "chime/v1/chime.pb.h"
#include "common/auth/api_token.h"
#include "common/auth/scope.h"
#include "common/auth/token_authenticator.h"
#include "common/base/clock.h"
#include "common/base/error.h"

namespace chime::wire {

// The shared bootstrap admin secret. Holds the bytes; prints as "***".
class AdminSecret {
 public:
  // At least kMinBytes bytes: shorter secrets are refused at load.
  static constexpr size_t kMinBytes = 16;

  // From CHIME_ADMIN_SECRET, else the file named by CHIME_ADMIN_SECRET_FILE
  // (one trailing newline is dropped). InvalidArgument when neither is set,
  // both are, the file cannot be read, or the secret is too short; the
  // message names the variable, never the value.
  [[nodiscard]] static Result<AdminSecret> FromEnvironment();
  [[nodiscard]] static Result<AdminSecret> FromString(std::string bytes);

  const std::string& bytes() const { return bytes_; }

 private:
  explicit AdminSecret(std::string bytes) : bytes_(std::move(bytes)) {}
  std::string bytes_;
};

// What jobctl signs with: a named token or the bootstrap admin secret.
class AdminCredential {
 public:
  explicit AdminCredential(AdminSecret secret) : credential_(std::move(secret)) {}
  explicit AdminCredential(auth::ApiToken token) : credential_(std::move(token)) {}

  // The token in `token_file` when given (jobctl --token-file), else
  // CHIME_TOKEN / CHIME_TOKEN_FILE, else CHIME_ADMIN_SECRET /
  // CHIME_ADMIN_SECRET_FILE. InvalidArgument naming the variable or file
  // (never the value) when it is malformed, or "not configured" when none is set.
  [[nodiscard]] static Result<AdminCredential> FromEnvironment(
      const std::optional<std::string>& token_file = std::nullopt);

  // The token's name, or "bootstrap".
  std::string name() const;
  const AdminSecret* secret() const { return std::get_if<AdminSecret>(&credential_); }
  const auth::ApiToken* token() const { return std::get_if<auth::ApiToken>(&credential_); }

 private:
  std::variant<AdminSecret, auth::ApiToken> credential_;
};

// Signs `request` at `now` with a fresh random nonce.
[[nodiscard]] v1::SignedRequest SignRequest(const v1::AdminRequest& request,
                                            const AdminCredential& credential,
                                            std::chrono::system_clock::time_point now);
[[nodiscard]] v1::SignedRequest SignRequest(const v1::AdminRequest& request,
                                            const AdminSecret& secret,
                                            std::chrono::system_clock::time_point now);

// The durable, cluster-wide record of accepted nonces. Thread-safe.
class NonceLedger {
 public:
  virtual ~NonceLedger() = default;
  // Records `nonce` until `expires_at`. True when it was not recorded
  // before, false when it was (a replay); Unavailable when the record
  // cannot be reached (the request is then refused, never accepted unchecked).
  [[nodiscard]] virtual Result<bool> NonceRecord(std::string_view nonce,
                                                 std::chrono::system_clock::time_point expires_at) = 0;
};

// A request whose signature, time and nonce checked out, and who sent it.
struct VerifiedRequest {
  v1::AdminRequest request;
  auth::Principal principal;
};

// What a verifier accepts. Each source must outlive the verifier.
struct VerifierSources {
  std::optional<AdminSecret> bootstrap;    // Unset: the bootstrap secret is refused.
  auth::TokenDirectory* tokens = nullptr;  // Unset: named tokens are refused.
  NonceLedger* ledger = nullptr;           // Unset: nonces are remembered in this process only.
};

// Verifies signed requests for one scheduler. Thread-safe.
class RequestVerifier {
 public:
  static constexpr std::chrono::milliseconds kMaxSkew = std::chrono::minutes(5);
  // How long after its timestamp a nonce stays in the ledger: the window,
  // and as much again for replicas whose clocks disagree (each judges the
  // window on its own clock).
  static constexpr std::chrono::milliseconds kNonceRetention = std::chrono::minutes(10);

  // Remembers at most max_nonces nonces in memory (the oldest go first).
  // Without a ledger a flood past that is refused rather than letting
  // memory grow; with one the ledger alone judges the overflow.
  RequestVerifier(VerifierSources sources, const Clock& clock, size_t max_nonces = 1'000'000);
  // The bootstrap secret only, nonces in memory only (tests).
  RequestVerifier(AdminSecret secret, const Clock& clock, size_t max_nonces = 1'000'000);

  // The parsed request and its principal, or Unauthenticated ("signature
  // does not match", "timestamp is 412 s from the scheduler's clock", "nonce
  // was already used (replay)", "token 'ci' was revoked") / Unavailable (the
  // token directory or the nonce ledger cannot be reached) /
  // InvalidArgument (a body that is not an AdminRequest). The scope is not
  // checked here (auth::ScopeOf, auth::Authorize).
  [[nodiscard]] Result<VerifiedRequest> Verify(const v1::SignedRequest& signed_request);

 private:
  struct Seen {
    std::string nonce;
    int64_t timestamp_ms;
  };
  Result<auth::Principal> Authenticate(const v1::SignedRequest& signed_request) const;
  Result<void> RecordNonce(const v1::SignedRequest& signed_request, int64_t now_ms);
  void ForgetExpired(int64_t now_ms);  // Requires mu_.

  const VerifierSources sources_;
  const Clock& clock_;
  const size_t max_nonces_;
  std::optional<auth::TokenAuthenticator> tokens_;
  std::mutex mu_;
  std::deque<Seen> order_;               // Guarded by mu_; in arrival order.
  std::unordered_set<std::string> seen_;  // Guarded by mu_; the nonces in order_.
};

}  // namespace chime::wire
