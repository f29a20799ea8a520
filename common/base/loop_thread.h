// One background loop on its own thread, for components that poll or wait
// (the scheduler's maintainer and cron runner). Start() and Stop() are
// thread-safe; Stop() is idempotent and also runs from the destructor.
//
// A loop that sleeps should wait on a std::condition_variable_any with the
// stop token it is given: Stop() then wakes it at once.
#pragma once

#include <functional>
#include <mutex>
#include <stop_token>
#include <thread>

namespace chime {

class LoopThread {
 public:
  LoopThread() = default;
  ~LoopThread() { Stop(); }
  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  // Runs `loop` on a new thread unless one is already running.
  void Start(std::function<void(std::stop_token)> loop);

  // Asks the loop to stop and waits for it to return.
  void Stop();

 private:
  std::mutex mu_;
  std::jthread thread_;  // Guarded by mu_.
};

}  // namespace chime
