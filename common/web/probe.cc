#include "common/web/probe.h"

#include "common/base/text_format.h"
#include "common/base/version.h"

namespace chime::web {

Response ProbeResponse(const std::vector<ProbeCheck>& checks, const ProbeTimes& times) {
  using json = nlohmann::ordered_json;
  using std::chrono::duration_cast;
  bool healthy = true;
  json out_checks = json::object();
  for (const auto& c : checks) {
    healthy = healthy && c.healthy;
    json entry{{"status", c.status}};
    if (c.response_time) entry["responseTime"] = c.response_time->count();
    if (c.error) entry["error"] = *c.error;
    for (const auto& [k, v] : c.details.items()) entry[k] = v;
    out_checks[c.name] = std::move(entry);
  }
  const auto now = std::chrono::steady_clock::now();
  json body{
      {"status", healthy ? "healthy" : "unhealthy"},
      {"timestamp", FormatRfc3339(std::chrono::system_clock::now(), TimePrecision::kMillis)},
      {"uptime", duration_cast<std::chrono::seconds>(now - times.process_start).count()},
      {"responseTime", duration_cast<std::chrono::milliseconds>(now - times.request_start).count()},
      {"checks", std::move(out_checks)},
      {"version", std::string(Version())},
  };
  Response r;
  r.status = healthy ? 200 : 503;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace chime::web
