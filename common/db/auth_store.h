// Credentials for admin requests and the API (migrations 0014, 0015):
// named tokens (chime.api_tokens: scope, SHA-256 of the secret, Ed25519
// public key, created / last used / expiry / revocation; never the secret)
// and the cluster-wide record of the nonces of signed admin requests
// (chime.admin_nonces), which makes a replay fail on every replica and
// after a restart. Each method is one statement. Thread-compatible: one
// AuthStore per thread, like its Connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"
#include "common/db/connection.h"
#include "common/db/job.h"

namespace chime::db {

struct ApiTokenRow {
  std::string name;
  std::string scope;          // read | operate | admin.
  std::string secret_sha256;  // 32 raw bytes; TokenFind only (empty in lists).
  std::string signing_key;    // 32 raw bytes (Ed25519 public key); TokenFind only.
  TimePoint created_at;
  std::string created_by;     // The credential that created it, or "database".
  std::optional<TimePoint> expires_at;
  std::optional<TimePoint> last_used_at;
  std::optional<TimePoint> revoked_at;
};

struct TokenCreateParams {
  std::string name;           // 1-64 of A-Z a-z 0-9 _ . -, not "bootstrap".
  std::string scope;          // read | operate | admin.
  std::string secret_sha256;  // 32 raw bytes.
  std::string signing_key;    // 32 raw bytes.
  // From now in database time; unset: never expires.
  std::optional<std::chrono::milliseconds> expires_in;
  std::string created_by;     // At most 64 bytes.
};

class AuthStore {
 public:
  // The most nonces one NoncesPrune call deletes.
  static constexpr int kMaxPruneBatch = 10'000;

  explicit AuthStore(Connection& conn) : conn_(conn) {}

  // Stores a new token. AlreadyExists when a live token has the name; a
  // revoked or expired one of that name is replaced (rotation may reuse a
  // name). InvalidArgument names the bad field.
  [[nodiscard]] Result<ApiTokenRow> TokenCreate(const TokenCreateParams& params);

  // Every token, revoked and expired ones included, by name; without key material.
  [[nodiscard]] Result<std::vector<ApiTokenRow>> TokensList();

  // Marks the token revoked (from now on every replica refuses it once its
  // cache entry is older than its TTL); revoking a revoked token changes
  // nothing. NotFound when there is no such token.
  [[nodiscard]] Result<ApiTokenRow> TokenRevoke(const std::string& name);

  // The token with its key material, or nullopt.
  [[nodiscard]] Result<std::optional<ApiTokenRow>> TokenFind(const std::string& name);

  // Every token with its key material, live or not (at most kMaxTokensLoaded;
  // the table is a handful of rows in practice): what a replica keeps in
  // memory to check bearer tokens without a round trip.
  static constexpr int kMaxTokensLoaded = 100'000;
  [[nodiscard]] Result<std::vector<ApiTokenRow>> TokensLoadAll();

  // Sets last_used_at to now (database time).
  [[nodiscard]] Result<void> TokenTouch(const std::string& name);

  // Records the nonce of an accepted signature until `expires_at`. True when
  // it was not recorded before (first use), false when it was (a replay).
  // One round trip: INSERT ... ON CONFLICT DO NOTHING.
  [[nodiscard]] Result<bool> NonceRecord(std::string_view nonce, TimePoint expires_at);

  // Deletes at most `limit` (1-kMaxPruneBatch) nonces that expired before
  // the database's now; returns how many.
  [[nodiscard]] Result<int64_t> NoncesPrune(int limit);

 private:
  Connection& conn_;
};

}  // namespace chime::db
