// The metrics every Prometheus client library exports about its process,
// under their standard names, read from /proc/self at scrape time (as
// client_golang and client_python do on Linux), and Chime's build:
//   process_cpu_seconds_total          counter  user + system CPU time
//   process_resident_memory_bytes      gauge    resident set size
//   process_virtual_memory_bytes       gauge    virtual memory size
//   process_open_fds                   gauge    open file descriptors
//   process_max_fds                    gauge    the soft limit on them
//   process_start_time_seconds         gauge    Unix time the process started
//   chime_build_info{version}          gauge    1, the version as a label
// A figure /proc cannot give (another OS, a locked-down /proc) is left out
// rather than reported as 0. Every MetricsRegistry has one. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/web/metrics.h"

namespace chime::web {

// What /proc/self says, parsed; each figure unset when it could not be read.
struct ProcessStats {
  std::optional<double> cpu_seconds;
  std::optional<double> resident_bytes;
  std::optional<double> virtual_bytes;
  std::optional<double> open_fds;
  std::optional<double> max_fds;
  std::optional<double> start_time_seconds;
};

// Reads this process's figures from `proc` (normally "/proc").
ProcessStats ReadProcessStats(const std::string& proc = "/proc");

// Parses /proc/<pid>/stat's text: fields after the parenthesised command
// name (which may hold spaces and parentheses). `ticks_per_second` and
// `page_size` convert its units; `boot_time` is /proc/stat's btime.
// Returns false when the text does not have the fields.
bool ParseProcStat(const std::string& text, double ticks_per_second, double page_size,
                   std::optional<double> boot_time, ProcessStats& out);

class ProcessMetrics final : public ScrapeSource {
 public:
  std::vector<prometheus::MetricFamily> Collect() override;
};

}  // namespace chime::web
