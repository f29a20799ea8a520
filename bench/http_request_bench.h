// The http_request part of `chime-bench kinds`: W chime-worker processes
// (default 2) of S slots run N http_request jobs (POST, Bearer from a bound
// env: reference, seed 001's JSON answer judged as the run's result)
// against a local keep-alive endpoint (bench/http_endpoint.h). Measured from
// the insert of all N jobs to the last one finished: calls per second
// (target >= 2,000), and the connections the endpoint accepted (reused: at
// most one per slot). Thread-compatible.
#pragma once

#include <cstdint>
#include <string>

#include "common/base/error.h"

namespace chime::bench {

struct HttpRequestFigures {
  int64_t calls = 0;
  int64_t succeeded = 0;
  double wall_s = 0;
  int64_t connections = 0;  // Accepted by the endpoint.
  int64_t requests = 0;     // Answered by the endpoint.
};

[[nodiscard]] Result<HttpRequestFigures> RunHttpRequestCalls(const std::string& conninfo, int calls, int workers,
                                                             int slots, int prefetch);

}  // namespace chime::bench
