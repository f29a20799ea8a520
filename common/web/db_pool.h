// Database connections for HTTP handler threads. A request borrows one
// connection for its duration and gives it back, so a connection (and its
// transactions) is only ever used by one thread at a time; connections are
// opened on demand up to `max_connections` (the handler threads of both of
// the server's pools, so a request never waits for another). Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "common/base/error.h"
#include "common/db/connection.h"

namespace chime::web {

class DbPool {
 public:
  DbPool(db::ConnectionConfig config, size_t max_connections);

  // A borrowed connection; returned to the pool when destroyed.
  class Borrowed {
   public:
    Borrowed(DbPool* pool, std::unique_ptr<db::Connection> conn);
    Borrowed(Borrowed&& other) noexcept;
    Borrowed& operator=(Borrowed&&) = delete;
    ~Borrowed();
    db::Connection& operator*() { return *conn_; }
    db::Connection* operator->() { return conn_.get(); }

   private:
    DbPool* pool_;
    std::unique_ptr<db::Connection> conn_;
  };

  // A connection (not yet connected: its first Run() connects), or
  // Unavailable when every connection stays borrowed for `wait`.
  [[nodiscard]] Result<Borrowed> Acquire(std::chrono::milliseconds wait = std::chrono::seconds(5));

  const db::ConnectionConfig& config() const { return config_; }

 private:
  void Return(std::unique_ptr<db::Connection> conn);

  const db::ConnectionConfig config_;
  const size_t max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<db::Connection>> idle_;  // Guarded by mu_.
  size_t open_ = 0;                                    // Guarded by mu_; idle + borrowed.
};

}  // namespace chime::web
