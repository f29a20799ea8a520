// Named tokens held in memory for the HTTP server, which checks a bearer
// token on its event loop before reading a body and so must never wait on
// the database. A thread of its own reloads every token (chime.api_tokens
// is a handful of rows) every `refresh`, so a token created or revoked on
// any replica is seen here within about that long, and records last-used
// times off the request path. While the last good load is older than
// `stale_after` (the database unreachable), lookups answer Unavailable, so
// a named token gets 503 rather than being judged on old data; the
// bootstrap secret does not depend on this. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "common/auth/token_authenticator.h"
#include "common/base/clock.h"
#include "common/db/auth_store.h"
#include "common/db/connection.h"

namespace chime::scheduler {

struct TokenCacheConfig {
  std::chrono::milliseconds refresh{std::chrono::seconds(1)};
  std::chrono::milliseconds stale_after{std::chrono::seconds(10)};
  // A token's last_used_at is written at most this often by one replica.
  std::chrono::milliseconds touch_interval{std::chrono::minutes(1)};
  std::chrono::milliseconds statement_timeout{std::chrono::seconds(5)};

  [[nodiscard]] Result<void> Validate() const;
};

// A stored token as the authenticator reads it. The schema's CHECKs keep the
// scope one of three names and the key material 32 bytes each.
auth::TokenRecord TokenRecordOf(const db::ApiTokenRow& row);

class TokenCache final : public auth::TokenDirectory {
 public:
  TokenCache(db::ConnectionConfig db, TokenCacheConfig config, const Clock& clock = SystemClock::Instance());
  ~TokenCache() override;
  TokenCache(const TokenCache&) = delete;
  TokenCache& operator=(const TokenCache&) = delete;

  // Loads once before returning (so a server started next has its tokens),
  // then keeps reloading on its own thread.
  void Start();
  void Stop();  // Idempotent; safe before Start().

  // From memory only; never blocks on the database.
  Result<std::optional<auth::TokenRecord>> TokenFind(std::string_view name) override;
  // Queued for the cache's thread.
  void TokenUsed(std::string_view name) override;
  // Reload now (this replica created or revoked a token) and wait until the
  // load finished or `wait` passed. Returns at once when not started.
  void RefreshNow(std::chrono::milliseconds wait = std::chrono::seconds(2));

 private:
  void Loop(std::stop_token stop);
  void Load();
  void Touch();

  const TokenCacheConfig config_;
  const Clock& clock_;
  db::Connection conn_;  // The loop thread's.
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::map<std::string, auth::TokenRecord, std::less<>> tokens_;  // Guarded by mu_.
  std::optional<std::chrono::steady_clock::time_point> loaded_at_;  // Guarded by mu_.
  // RefreshNow() bumps requested_; a load that began after a request sets
  // loaded_ to the request it saw. Guarded by mu_.
  uint64_t requested_ = 0;
  uint64_t loaded_ = 0;
  std::set<std::string, std::less<>> used_;                         // Guarded by mu_.
  std::map<std::string, std::chrono::steady_clock::time_point, std::less<>> touched_;  // Loop thread.
  std::jthread thread_;
};

}  // namespace chime::scheduler
