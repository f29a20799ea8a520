// One PostgreSQL connection with reconnect and error mapping. The only place
// besides common/db/*.cc that sees libpqxx is this header's private part.
// Thread-compatible: one thread uses a Connection at a time.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

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

  [[nodiscard]] Result<void> Validate() const;
};

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
  // Registering the same name and text again is a no-op.
  void Prepare(std::string name, std::string sql);

  bool connected() const;
  const ConnectionConfig& config() const { return config_; }

 private:
  Result<void> EnsureConnected();

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
