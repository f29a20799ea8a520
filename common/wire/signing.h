// Admin request authentication: jobctl signs every request with the shared
// admin secret; the scheduler verifies it in constant time, within a 5-minute
// clock window, and refuses a nonce it has already seen in that window.
//
//   signature = HMAC-SHA256(secret, decimal(timestamp_ms) "\n" nonce "\n" body)
//
// The secret comes from CHIME_ADMIN_SECRET or CHIME_ADMIN_SECRET_FILE, never
// from a command-line argument (visible to every user in ps).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_set>

#include "chime/v1/chime.pb.h"
#include "common/base/clock.h"
#include "common/base/error.h"

namespace chime::wire {

// The shared admin secret. Holds the bytes; prints as "***".
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

// Signs `request` at `now` with a fresh random nonce.
[[nodiscard]] v1::SignedRequest SignRequest(const v1::AdminRequest& request,
                                            const AdminSecret& secret,
                                            std::chrono::system_clock::time_point now);

// Verifies signed requests for one scheduler. Thread-safe.
class RequestVerifier {
 public:
  static constexpr std::chrono::milliseconds kMaxSkew = std::chrono::minutes(5);

  // Remembers at most max_nonces nonces (the oldest go first); a flood past
  // that is refused rather than letting memory grow.
  RequestVerifier(AdminSecret secret, const Clock& clock, size_t max_nonces = 1'000'000);

  // The parsed request, or Unauthenticated ("signature does not match",
  // "timestamp is 412 s from the scheduler's clock", "nonce was already
  // used") / InvalidArgument (a body that is not an AdminRequest).
  [[nodiscard]] Result<v1::AdminRequest> Verify(const v1::SignedRequest& signed_request);

 private:
  struct Seen {
    std::string nonce;
    int64_t timestamp_ms;
  };
  void ForgetExpired(int64_t now_ms);  // Requires mu_.

  const AdminSecret secret_;
  const Clock& clock_;
  const size_t max_nonces_;
  std::mutex mu_;
  std::deque<Seen> order_;               // Guarded by mu_; in arrival order.
  std::unordered_set<std::string> seen_;  // Guarded by mu_; the nonces in order_.
};

}  // namespace chime::wire
