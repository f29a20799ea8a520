#include "common/web/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/base/version.h"

namespace chime::web {
namespace {

std::optional<std::string> ReadText(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<double> Number(std::string_view word) {
  double value = 0;
  auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), value);
  if (ec != std::errc() || end != word.data() + word.size()) return std::nullopt;
  return value;
}

// /proc/stat's "btime <seconds>": when the machine booted, Unix time.
std::optional<double> BootTime(const std::string& proc) {
  auto text = ReadText(proc + "/stat");
  if (!text) return std::nullopt;
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("btime ")) return Number(line.substr(6));
  }
  return std::nullopt;
}

void AddGauge(std::vector<prometheus::MetricFamily>& out, const char* name, const char* help,
              const std::optional<double>& value,
              GaugeFamilyBuilder::Type type = GaugeFamilyBuilder::Type::kGauge) {
  if (!value) return;
  out.push_back(GaugeFamilyBuilder(name, help, type).Add({}, *value).Build());
}

}  // namespace

bool ParseProcStat(const std::string& text, double ticks_per_second, double page_size,
                   std::optional<double> boot_time, ProcessStats& out) {
  // "pid (comm) state ppid ...": comm may hold ") ", so the last ')' ends it.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return false;
  std::vector<std::string_view> fields;  // fields[0] is field 3 of proc(5), the state.
  std::string_view rest(text);
  rest.remove_prefix(close + 1);
  while (!rest.empty()) {
    const size_t start = rest.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    rest.remove_prefix(start);
    const size_t end = std::min(rest.find_first_of(" \n"), rest.size());
    fields.push_back(rest.substr(0, end));
    rest.remove_prefix(end);
  }
  if (fields.size() < 22) return false;
  const auto utime = Number(fields[11]);   // 14: user time, clock ticks.
  const auto stime = Number(fields[12]);   // 15: system time.
  const auto start = Number(fields[19]);   // 22: start, ticks after boot.
  const auto vsize = Number(fields[20]);   // 23: virtual memory, bytes.
  const auto rss = Number(fields[21]);     // 24: resident set, pages.
  if (utime && stime && ticks_per_second > 0) out.cpu_seconds = (*utime + *stime) / ticks_per_second;
  if (start && boot_time && ticks_per_second > 0) out.start_time_seconds = *boot_time + *start / ticks_per_second;
  if (vsize) out.virtual_bytes = *vsize;
  if (rss && page_size > 0) out.resident_bytes = *rss * page_size;
  return true;
}

ProcessStats ReadProcessStats(const std::string& proc) {
  ProcessStats out;
  if (auto stat = ReadText(proc + "/self/stat")) {
    ParseProcStat(*stat, static_cast<double>(sysconf(_SC_CLK_TCK)), static_cast<double>(sysconf(_SC_PAGESIZE)),
                  BootTime(proc), out);
  }
  // As client_golang counts them: the directory's own descriptor included.
  std::error_code ec;
  double fds = 0;
  for (std::filesystem::directory_iterator it(proc + "/self/fd", ec), end; !ec && it != end; it.increment(ec)) {
    ++fds;
  }
  if (!ec) out.open_fds = fds;
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
    out.max_fds = static_cast<double>(lim.rlim_cur);
  }
  return out;
}

std::vector<prometheus::MetricFamily> ProcessMetrics::Collect() {
  const ProcessStats s = ReadProcessStats();
  std::vector<prometheus::MetricFamily> out;
  AddGauge(out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
           s.cpu_seconds, GaugeFamilyBuilder::Type::kCounter);
  AddGauge(out, "process_resident_memory_bytes", "Resident memory size in bytes.", s.resident_bytes);
  AddGauge(out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", s.virtual_bytes);
  AddGauge(out, "process_open_fds", "Number of open file descriptors.", s.open_fds);
  AddGauge(out, "process_max_fds", "Maximum number of open file descriptors.", s.max_fds);
  AddGauge(out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
           s.start_time_seconds);
  out.push_back(GaugeFamilyBuilder("chime_build_info", "Always 1; the version of Chime this process runs")
                    .Add({{"version", std::string(Version())}}, 1)
                    .Build());
  return out;
}

}  // namespace chime::web
