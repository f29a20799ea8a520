// An event history for the reliability checker (tests/reliability): each
// process appends one JSON object per line - {"t": micros, "proc":
// "worker:<id>", "ev": "claim", ...} - to the file named by
// CHIME_HISTORY_FILE. Each line is one write() on an O_APPEND descriptor, so
// any number of processes can share one file and a process killed with
// SIGKILL leaves no torn line. Unset, the history is off and costs a null
// check. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace chime::history {

// The time of events ("t", "sent"), in microseconds on the machine's
// monotonic clock: one clock for every process of a machine, which wall-clock
// steps and skew (NTP, the clock tests' libfaketime) leave alone, so events of
// different processes stay ordered. Ticks ("tick") are database time instead.
int64_t NowMicros();

class HistoryWriter {
 public:
  // Appends to `path` (created if missing); null when it cannot be opened.
  static std::unique_ptr<HistoryWriter> Open(const std::string& path, std::string proc);
  ~HistoryWriter();
  HistoryWriter(const HistoryWriter&) = delete;
  HistoryWriter& operator=(const HistoryWriter&) = delete;

  const std::string& proc() const { return proc_; }

  // A job this process saw committed (jobctl enqueue). `existing`: a live
  // job with the same unique key was returned instead of a new one.
  void Enqueue(int64_t job, bool existing = false);
  // A claim the store returned: the attempt and its lease token.
  void Claim(int64_t job, int attempt, std::string_view lease);
  // A handler's externally visible effect, once per execution.
  void SideEffect(int64_t job, int attempt);
  // An outcome written under `lease`; `accepted` is whether the store
  // applied it (false: the lease was lost). `sent` is when the write was
  // issued (NowMicros()), which bounds when the store accepted it.
  void Complete(int64_t job, int attempt, std::string_view lease, std::string_view outcome,
                bool accepted, int64_t sent);
  // Jobs released at shutdown under their leases (accepted or not).
  void Release(int64_t job, std::string_view lease, bool accepted);
  // This process became leader with `epoch`.
  void Leader(int64_t epoch);
  // A tick this process recorded as leader under `epoch`; `job` 0 when the
  // tick was recorded without a job (skipped, buffered). `sent`: as above.
  void Fire(int64_t schedule, int64_t tick_micros, int64_t job, int64_t epoch, int64_t sent);

 private:
  HistoryWriter(int fd, std::string proc) : fd_(fd), proc_(std::move(proc)) {}
  // Writes `fields` (a JSON object's members, "," separated, may be empty)
  // as one line.
  void Append(std::string_view ev, const std::string& fields);

  const int fd_;
  const std::string proc_;
};

// The process's writer, opened by InitProcess; null when the history is off.
HistoryWriter* Process();
// Opens $CHIME_HISTORY_FILE (when set and not empty) as this process's
// history under the name `proc` ("worker:w1", "scheduler:<holder>",
// "jobctl"). Call once from main before any thread uses Process().
void InitProcess(std::string proc);

}  // namespace chime::history
