// The scheduler's view of the cluster's credentials: named tokens looked up
// in PostgreSQL (chime.api_tokens) behind a short-lived cache, so a token
// revoked on any replica is refused by every replica within `ttl`; their
// last-used times, written at most once per `touch_interval` per token; and
// the nonce ledger of signed admin requests (chime.admin_nonces), which
// makes a replay fail on every replica and after restarts. The database
// being unreachable fails a lookup or a nonce record with Unavailable, so
// the request is refused, never accepted unchecked. Owns one database
// connection, used under its mutex by the router thread and the HTTP
// threads. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/auth/token_authenticator.h"
#include "common/base/clock.h"
#include "common/db/auth_store.h"
#include "common/db/connection.h"
#include "common/wire/signing.h"

namespace chime::scheduler {

struct CredentialDirectoryConfig {
  // How long a looked-up token (or its absence) is trusted: the longest a
  // revocation elsewhere goes unnoticed here.
  std::chrono::milliseconds ttl{std::chrono::seconds(2)};
  // A token's last_used_at is refreshed at most this often by one replica.
  std::chrono::milliseconds touch_interval{std::chrono::minutes(1)};
  // Cached names at most; a flood of made-up names empties the cache
  // rather than growing it.
  size_t max_cached = 10'000;
  // Each statement is cut off after this long (a hung database must not
  // hold the router thread for long).
  std::chrono::milliseconds statement_timeout{std::chrono::seconds(5)};

  [[nodiscard]] Result<void> Validate() const;
};

class CredentialDirectory final : public auth::TokenDirectory, public wire::NonceLedger {
 public:
  CredentialDirectory(db::ConnectionConfig db, CredentialDirectoryConfig config,
                      const Clock& clock = SystemClock::Instance());

  Result<std::optional<auth::TokenRecord>> TokenFind(std::string_view name) override;
  void TokenUsed(std::string_view name) override;
  Result<bool> NonceRecord(std::string_view nonce,
                           std::chrono::system_clock::time_point expires_at) override;

  // Drops the cached entry of `name`: this replica created, replaced or
  // revoked it, so its own next request sees the change at once; then tells
  // the change listener (the HTTP server's TokenCache), if any.
  void Invalidate(std::string_view name);
  // Set before requests arrive.
  void SetChangeListener(std::function<void()> listener) { on_change_ = std::move(listener); }

 private:
  struct Entry {
    std::optional<auth::TokenRecord> record;  // nullopt: no such token.
    std::chrono::steady_clock::time_point fetched;
    std::optional<std::chrono::steady_clock::time_point> touched;
  };

  const CredentialDirectoryConfig config_;
  const Clock& clock_;
  std::mutex mu_;
  db::Connection conn_;  // Guarded by mu_.
  db::AuthStore store_;  // Guarded by mu_.
  std::unordered_map<std::string, Entry> cache_;  // Guarded by mu_.
  std::function<void()> on_change_;
};

}  // namespace chime::scheduler
