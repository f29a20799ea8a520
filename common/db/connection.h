// One PostgreSQL connection with reconnect and error mapping. The only place
// besides common/db/*.cc that sees libpqxx is this header's private part.
// Thread-compatible: one thread uses a Connection at a time.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/backoff.h"
#include "common/base/clock.h"
#include "common/base/error.h"

namespace pqxx {
class connection_base;
}

namespace chime::db {

struct ConnectionConfig {
  std::string url;  // A libpq URI or key=value string.
  // Reconnect attempts are spaced by this backoff (no jitter needed per se).
  BackoffPolicy reconnect{std::chrono::milliseconds(100), std::chrono::milliseconds(5000), 0.2};
  // Applied to every session; 0 disables.
  std::chrono::milliseconds statement_timeout{0};
  // The server ends a session that sits inside a transaction this long, so a
  // frozen or partitioned process cannot hold row locks (a claimed job, the
  // leader lease) for long; 0 disables. Chime's own transactions are short.
  std::chrono::milliseconds idle_in_transaction_timeout{std::chrono::seconds(60)};
  // `url` reaches PostgreSQL through a pooler in transaction mode
  // (pgbouncer pool_mode=transaction): consecutive transactions may run on
  // different server sessions, so nothing may outlive a transaction. Named
  // prepared statements become unnamed ones, the session settings above are
  // not sent (they would stay on a server session other clients then use:
  // set the pooler's idle_transaction_timeout, query_timeout and
  // tcp_keepalive instead), and LISTEN uses `listen_url`.
  bool pooled = false;
  // A direct (unpooled) URL for the ready-job LISTEN session; "" means `url`.
  // With `pooled` and no listen_url there is no LISTEN: dispatch then
  // follows the workers' own polling.
  std::string listen_url;

  [[nodiscard]] Result<void> Validate() const;
  // The settings of the LISTEN session: `listen_url` (when set), unpooled.
  ConnectionConfig ForListen() const;
  // True when a LISTEN can be held at all (not pooled, or a listen_url).
  bool CanListen() const { return !pooled || !listen_url.empty(); }
};

// A pooler mode as CHIME_DATABASE_POOLER spells it: "transaction" -> true
// (ConnectionConfig::pooled); "session", "none" or "" -> false; anything
// else InvalidArgument.
[[nodiscard]] Result<bool> ParsePooler(std::string_view mode);

// Reads CHIME_DATABASE_POOLER ("transaction" or "none"/unset) and
// CHIME_DATABASE_LISTEN_URL (or CHIME_DATABASE_LISTEN_URL_FILE) into
// `config`, unless `pooler` / `listen_url` (from flags) are set. A bad value
// is InvalidArgument naming the variable, never echoing a URL.
[[nodiscard]] Result<void> ApplyPoolerSettings(ConnectionConfig& config,
                                               const std::optional<std::string>& pooler = std::nullopt,
                                               const std::optional<std::string>& listen_url = std::nullopt);

class Connection {
 public:
  // Does not connect; the first Run() does.
  explicit Connection(ConnectionConfig config, Clock& clock = SystemClock::Instance(),
                      Rng* rng = nullptr);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects now; Unavailable if the server cannot be reached.
  [[nodiscard]] Result<void> Connect();

  // Runs `fn` on the live connection, (re)connecting first if needed. Every
  // libpqxx exception `fn` throws is mapped to an Error (see MapException).
  // After a broken connection, reconnects are attempted no faster than the
  // backoff policy allows; calls in between return Unavailable at once.
  // `fn` is never retried here: a lost connection during a commit leaves the
  // outcome unknown, so the caller decides.
  [[nodiscard]] Result<void> Run(const std::function<void(pqxx::connection_base&)>& fn);

  // Registers a prepared statement that is (re)prepared on every connect.
  // Registering the same name and text again is a no-op. Pooled: recorded
  // only; callers run the text as an unnamed statement (see pooled()).
  void Prepare(std::string name, std::string sql);

  bool connected() const;
  // Through a transaction pooler: run statements by text, not by name.
  bool pooled() const { return config_.pooled; }
  const ConnectionConfig& config() const { return config_; }

 private:
  Result<void> EnsureConnected();
  void ApplySessionState(pqxx::connection_base& conn);

  ConnectionConfig config_;
  Clock& clock_;
  std::unique_ptr<Rng> owned_rng_;
  Rng* rng_;
  struct Session;  // Holds the pqxx::connection; defined in connection.cc.
  std::unique_ptr<Session> conn_;
  std::vector<std::pair<std::string, std::string>> prepared_;
  int failures_ = 0;
  std::chrono::steady_clock::time_point next_attempt_{};
};

// Maps the exception currently being handled to an Error: connection loss ->
// Unavailable, serialization failure/deadlock -> Retryable, unique violation ->
// AlreadyExists, data exceptions (bad JSON, bad encoding) -> InvalidArgument,
// anything else -> Internal. The message never contains the connection URL.
Error MapCurrentException();

// Removes passwords from a libpq URI or key=value string, or from a message
// quoting one, for logs and error values.
std::string RedactUrl(const std::string& url);

// `url` (a URI or key=value string) as a key=value string with Chime's TCP
// keepalive settings (idle 10 s, interval 5 s, count 3, tcp_user_timeout
// 30 s) wherever it sets none of its own. Returned unchanged if it does not
// parse. Holds the password if `url` does: never log it.
std::string WithSessionDefaults(const std::string& url);

}  // namespace chime::db
