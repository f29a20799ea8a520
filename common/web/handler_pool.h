// A fixed set of threads running request handlers for the HTTP server, with
// a bounded queue: a request that finds `max_queued` others already waiting
// is refused at once (the server answers 503), so a flood costs neither
// memory nor the event loop's time. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace chime::web {

class HandlerPool {
 public:
  HandlerPool(int threads, size_t max_queued);
  ~HandlerPool();  // Stop().
  HandlerPool(const HandlerPool&) = delete;
  HandlerPool& operator=(const HandlerPool&) = delete;

  // Queues `task` for a pool thread; false (task dropped) when the queue is
  // full or the pool stopped.
  [[nodiscard]] bool TryPost(std::function<void()> task);

  // Drops the tasks still queued, lets running ones finish and joins the
  // threads. Idempotent.
  void Stop();

 private:
  void Work();

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;  // Guarded by mu_.
  bool stopping_ = false;                    // Guarded by mu_.
  std::vector<std::thread> threads_;
};

}  // namespace chime::web
