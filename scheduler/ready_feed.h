// Forwards the database's ready-job notifications to the router thread
// (RouterServer::kReadyEndpoint) so that dispatch follows every enqueue
// within milliseconds, whatever route inserted the job. Owns its LISTEN
// session and one thread; Start()/Stop() from one controlling thread.
#pragma once

#include <atomic>
#include <thread>

#include <zmq.hpp>

#include "common/db/connection.h"

namespace chime::scheduler {

class ReadyFeed {
 public:
  ReadyFeed(zmq::context_t& context, db::ConnectionConfig db);
  ~ReadyFeed();

  void Start();
  void Stop();

  // Notifications forwarded so far (for tests and metrics).
  int64_t forwarded() const { return forwarded_.load(); }
  // True while its LISTEN session is up (after the "look everywhere" notice
  // of each (re)connection was sent): enqueues from then on are forwarded.
  bool listening() const { return listening_.load(); }

 private:
  void Loop(std::stop_token stop);

  zmq::context_t& context_;
  const db::ConnectionConfig db_;
  std::atomic<int64_t> forwarded_{0};
  std::atomic<bool> listening_{false};
  std::jthread thread_;
};

}  // namespace chime::scheduler
