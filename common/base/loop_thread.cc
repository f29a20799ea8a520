#include "common/base/loop_thread.h"

#include <utility>

namespace chime {

void LoopThread::Start(std::function<void(std::stop_token)> loop) {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  thread_ = std::jthread(std::move(loop));
}

void LoopThread::Stop() {
  std::jthread thread;
  {
    // Joined outside the lock so that a concurrent Start() or Stop() never
    // waits on the loop while holding it.
    std::lock_guard lock(mu_);
    thread = std::move(thread_);
  }
  if (thread.joinable()) {
    thread.request_stop();
    thread.join();
  }
}

}  // namespace chime
