// The built-in kinds for smoke tests, demos and benchmarks: noop; sleep
// ({"ms": N}, stops early on cancellation); fail ({"times": N}: fails its
// first N attempts, then succeeds).
#pragma once

#include "worker/handler.h"

namespace chime::worker {

// Adds noop, sleep and fail to `registry` (skipping kinds already there).
// Called explicitly: static registration inside a static library would be
// dropped by the linker.
void RegisterBuiltinKinds(HandlerRegistry& registry);

}  // namespace chime::worker
