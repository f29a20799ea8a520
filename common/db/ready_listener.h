// Listens for the jobs_notify_ready trigger's notifications: which queues
// gained how many ready jobs. Owns its own database session (LISTEN needs
// one that stays open), reconnecting with backoff. Thread-compatible: one
// thread calls Wait().
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/base/error.h"
#include "common/db/connection.h"

namespace chime::db {

// One queue's share of a notification.
struct ReadyQueue {
  std::string queue;
  int64_t count = 0;
};

// Parses "queue:count,queue:count" as the trigger writes it; entries that do
// not parse are skipped (the payload comes from SQL anyone may run).
std::vector<ReadyQueue> ParseReadyPayload(std::string_view payload);

class ReadyListener {
 public:
  // Listens on `config.ForListen()`: check `config.CanListen()` first.
  explicit ReadyListener(ConnectionConfig config);
  ~ReadyListener();

  // Waits up to `timeout` for notifications and returns what arrived (empty
  // on timeout). Unavailable while the database is unreachable; the next
  // call reconnects and LISTENs again once the backoff allows, and the
  // caller should treat a reconnect as "anything may be ready".
  [[nodiscard]] Result<std::vector<ReadyQueue>> Wait(std::chrono::milliseconds timeout);

  // True once after each (re)connection: notifications sent while the
  // listener was away are lost, so the caller dispatches to everyone.
  bool TakeReconnected();

 private:
  struct Session;
  Result<void> EnsureListening();

  ConnectionConfig config_;
  std::unique_ptr<Session> session_;
  bool reconnected_ = false;
  int failures_ = 0;
  std::chrono::steady_clock::time_point next_attempt_{};
};

}  // namespace chime::db
