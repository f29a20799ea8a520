// The built-in kinds for smoke tests, demos and benchmarks: noop; sleep
// ({"ms": N}, stops early on cancellation); fail ({"times": N}: fails its
// first N attempts, then succeeds). Two more exist for the reliability tests
// (tests/reliability): history_effect records a side_effect event in the
// process's history (common/history, when CHIME_HISTORY_FILE is set), then
// sleeps {"ms": N} (default 0) like sleep; abort_worker calls std::abort(),
// killing its whole worker every attempt (a poison pill). Never give
// abort_worker to a worker that serves anything you care about.
#pragma once

#include "worker/handler.h"

namespace chime::worker {

// Adds noop, sleep, fail, history_effect and abort_worker to `registry` (skipping kinds already there).
// Called explicitly: static registration inside a static library would be
// dropped by the linker.
void RegisterBuiltinKinds(HandlerRegistry& registry);

}  // namespace chime::worker
