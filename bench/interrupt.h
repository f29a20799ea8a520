// Turns SIGINT/SIGTERM into a cooperative stop request for chime-bench, so the
// database it created and the server it started are cleaned up on Ctrl-C.
// The first signal sets StopRequested(); benches poll it and return early. A
// second signal runs the hard-stop hook (stop the private server) and exits
// with 130 at once.
//
// Install() must be called from main() before any other thread starts: it
// blocks the signals process-wide and waits for them on its own thread.
// Thread-safe.
#pragma once

#include <functional>

#include "common/base/error.h"

namespace chime::bench {

class Interrupt {
 public:
  static void Install();
  static bool StopRequested();
  // What a bench returns when it stops early because of StopRequested().
  static Error Interrupted() { return {ErrorCode::kUnavailable, "interrupted"}; }
  // Runs on the signal thread at the second signal; replaces any earlier hook.
  static void SetHardStopHook(std::function<void()> hook);
};

}  // namespace chime::bench
