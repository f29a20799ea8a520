#include "bench/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

namespace chime::bench {
namespace {

std::atomic<bool> g_stop{false};
std::mutex g_mu;
std::function<void()> g_hook;  // Guarded by g_mu.

void WaitForSignals(sigset_t set) {
  for (int count = 0;; ++count) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (count == 0) {
      std::fprintf(stderr, "chime-bench: %s received; stopping (again to abort)\n",
                   sig == SIGINT ? "SIGINT" : "SIGTERM");
      g_stop.store(true);
      continue;
    }
    std::function<void()> hook;
    {
      std::lock_guard lock(g_mu);
      hook = g_hook;
    }
    if (hook) hook();
    _exit(130);
  }
}

}  // namespace

void Interrupt::Install() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  // Every thread created from here on inherits the mask, so only the waiter
  // below receives these signals.
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // Detached on purpose: it lives as long as the process and holds nothing
  // that needs joining; exit() does not wait for it.
  std::thread(WaitForSignals, set).detach();
}

bool Interrupt::StopRequested() { return g_stop.load(std::memory_order_relaxed); }

void Interrupt::SetHardStopHook(std::function<void()> hook) {
  std::lock_guard lock(g_mu);
  g_hook = std::move(hook);
}

}  // namespace chime::bench
