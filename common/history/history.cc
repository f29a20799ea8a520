#include "common/history/history.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace chime::history {
namespace {

std::unique_ptr<HistoryWriter>& ProcessWriter() {
  static std::unique_ptr<HistoryWriter> writer;
  return writer;
}

// A JSON string literal for `s` (escaped by nlohmann).
std::string Quote(std::string_view s) { return nlohmann::json(std::string(s)).dump(); }

}  // namespace

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::unique_ptr<HistoryWriter> HistoryWriter::Open(const std::string& path, std::string proc) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return nullptr;
  return std::unique_ptr<HistoryWriter>(new HistoryWriter(fd, std::move(proc)));
}

HistoryWriter::~HistoryWriter() { ::close(fd_); }

void HistoryWriter::Append(std::string_view ev, const std::string& fields) {
  std::string line = "{\"t\":" + std::to_string(NowMicros()) + ",\"proc\":" + Quote(proc_) +
                     ",\"ev\":" + Quote(ev);
  if (!fields.empty()) line += "," + fields;
  line += "}\n";
  // One write(): O_APPEND makes it land whole at the end, between other
  // processes' lines. A short write (disk full) is not retried, so that
  // no line is ever split; the checker reports the malformed remainder.
  ssize_t n;
  do {
    n = ::write(fd_, line.data(), line.size());
  } while (n < 0 && errno == EINTR);
}

void HistoryWriter::Enqueue(int64_t job, bool existing) {
  Append("enqueue", "\"job\":" + std::to_string(job) + (existing ? ",\"existing\":true" : ""));
}

void HistoryWriter::Claim(int64_t job, int attempt, std::string_view lease) {
  Append("claim", "\"job\":" + std::to_string(job) + ",\"attempt\":" + std::to_string(attempt) +
                      ",\"lease\":" + Quote(lease));
}

void HistoryWriter::SideEffect(int64_t job, int attempt) {
  Append("side_effect", "\"job\":" + std::to_string(job) + ",\"attempt\":" + std::to_string(attempt));
}

void HistoryWriter::Complete(int64_t job, int attempt, std::string_view lease,
                             std::string_view outcome, bool accepted, int64_t sent) {
  Append("complete", "\"job\":" + std::to_string(job) + ",\"attempt\":" + std::to_string(attempt) +
                         ",\"lease\":" + Quote(lease) + ",\"outcome\":" + Quote(outcome) +
                         ",\"accepted\":" + (accepted ? "true" : "false") +
                         ",\"sent\":" + std::to_string(sent));
}

void HistoryWriter::Release(int64_t job, std::string_view lease, bool accepted) {
  Append("release", "\"job\":" + std::to_string(job) + ",\"lease\":" + Quote(lease) +
                        ",\"accepted\":" + (accepted ? "true" : "false"));
}

void HistoryWriter::Leader(int64_t epoch) { Append("leader", "\"epoch\":" + std::to_string(epoch)); }

void HistoryWriter::Fire(int64_t schedule, int64_t tick_micros, int64_t job, int64_t epoch,
                         int64_t sent) {
  Append("fire", "\"schedule\":" + std::to_string(schedule) + ",\"tick\":" +
                     std::to_string(tick_micros) + ",\"job\":" + std::to_string(job) +
                     ",\"epoch\":" + std::to_string(epoch) + ",\"sent\":" + std::to_string(sent));
}

HistoryWriter* Process() { return ProcessWriter().get(); }

void InitProcess(std::string proc) {
  const char* path = std::getenv("CHIME_HISTORY_FILE");
  if (path == nullptr || *path == '\0') return;
  ProcessWriter() = HistoryWriter::Open(path, std::move(proc));
  if (!ProcessWriter()) {
    // Asked for a history that cannot be written: a test run would check
    // nothing, so say it loudly and stop.
    std::fprintf(stderr, "CHIME_HISTORY_FILE: cannot open %s\n", path);
    std::exit(2);
  }
}

}  // namespace chime::history
