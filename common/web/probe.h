// The JSON of /healthz and /readyz, in the shape of the seeds' /api/health
// (seeds/002): {"status": "healthy" | "unhealthy", "timestamp", "uptime"
// (seconds), "responseTime" (ms), "checks": {name: {"status", ...}},
// "version"}, with 200 when healthy and 503 otherwise. Thread-safe (pure).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/web/server.h"

namespace chime::web {

struct ProbeCheck {
  std::string name;            // "database", "migrations", "leader", ...
  bool healthy = false;        // Whether this check lets the probe pass.
  std::string status = "ok";   // "ok", "fail", or a state such as "standby".
  std::optional<std::chrono::milliseconds> response_time;
  std::optional<std::string> error;           // Why it failed; never a secret.
  nlohmann::ordered_json details = nlohmann::ordered_json::object();  // Merged into the check.
};

// Where the probe's clocks start: the process start for uptime, the
// request's arrival for responseTime.
struct ProbeTimes {
  std::chrono::steady_clock::time_point process_start;
  std::chrono::steady_clock::time_point request_start;
};

Response ProbeResponse(const std::vector<ProbeCheck>& checks, const ProbeTimes& times);

// Times `fn` (which fills a check) and records it as responseTime.
template <typename Fn>
ProbeCheck TimedCheck(std::string name, Fn&& fn) {
  ProbeCheck check;
  check.name = std::move(name);
  const auto start = std::chrono::steady_clock::now();
  fn(check);
  check.response_time = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return check;
}

}  // namespace chime::web
