#include "common/db/row_reader.h"

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string_view>

#include "common/db/job_fields.h"

namespace chime::db {
namespace {

std::optional<std::chrono::milliseconds> OptionalMs(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return std::chrono::milliseconds(f.as<int64_t>());
}

Invocation ReadInvocation(const pqxx::field& f) {
  auto invocation = ParseInvocation(f.c_str());
  if (!invocation) throw std::runtime_error(std::string("unknown invocation: ") + f.c_str());
  return *invocation;
}

// A column of sql::kJobColumns into its member, as the member's type says
// (times arrive as microseconds, durations as milliseconds). A name no enum
// value has is a broken invariant: the schema's CHECKs allow none.
void ReadColumn(const pqxx::field& f, int64_t& out) { out = f.as<int64_t>(); }
void ReadColumn(const pqxx::field& f, int& out) { out = f.as<int>(); }
void ReadColumn(const pqxx::field& f, bool& out) { out = f.as<bool>(); }
void ReadColumn(const pqxx::field& f, std::string& out) { out = f.c_str(); }
void ReadColumn(const pqxx::field& f, TimePoint& out) { out = MicrosToTime(f.as<int64_t>()); }
void ReadColumn(const pqxx::field& f, std::chrono::milliseconds& out) {
  out = std::chrono::milliseconds(f.as<int64_t>());
}
void ReadColumn(const pqxx::field& f, Invocation& out) { out = ReadInvocation(f); }
void ReadColumn(const pqxx::field& f, JobState& out) {
  auto state = ParseJobState(f.c_str());
  if (!state) throw std::runtime_error(std::string("unknown job state: ") + f.c_str());
  out = *state;
}
void ReadColumn(const pqxx::field& f, JobOutcome& out) {
  auto outcome = ParseJobOutcome(f.c_str());
  if (!outcome) throw std::runtime_error(std::string("unknown job outcome: ") + f.c_str());
  out = *outcome;
}
template <typename T>
void ReadColumn(const pqxx::field& f, std::optional<T>& out) {
  if (f.is_null()) {
    out.reset();
    return;
  }
  T value{};
  ReadColumn(f, value);
  out = std::move(value);
}

}  // namespace

std::optional<TimePoint> OptionalTime(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return MicrosToTime(f.as<int64_t>());
}

TimePoint MicrosToTime(int64_t micros) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds(micros)));
}

ClaimedJob ReadClaimedJob(const pqxx::row& row) {
  ClaimedJob j;
  j.id = row[0].as<int64_t>();
  j.kind = row[1].c_str();
  j.queue = row[2].c_str();
  j.priority = row[3].as<int>();
  j.payload = row[4].c_str();
  j.attempt = row[5].as<int>();
  j.max_attempts = row[6].as<int>();
  j.timeout = OptionalMs(row[7]);
  j.parent_id = Optional<int64_t>(row[8]);
  j.dry_run = row[9].as<bool>();
  j.lease = {j.id, row[10].c_str()};
  j.lease_expires_at = MicrosToTime(row[11].as<int64_t>());
  j.attempted_at = MicrosToTime(row[12].as<int64_t>());
  j.invocation = ReadInvocation(row[13]);
  j.run_at = MicrosToTime(row[14].as<int64_t>());
  j.schedule_id = Optional<int64_t>(row[15]);
  if (!row[16].is_null()) j.schedule_name = row[16].c_str();
  j.scheduled_for = OptionalTime(row[17]);
  j.limited = row[18].as<bool>();
  return j;
}

LimitWait ReadLimitWait(const pqxx::row& row) {
  LimitWait w;
  w.limit = row[0].c_str();
  w.partition = row[1].c_str();
  w.concurrency = Optional<int>(row[2]);
  w.running = row[3].as<int64_t>();
  w.rate = Optional<int>(row[4]);
  if (!row[5].is_null()) w.rate_window = std::chrono::milliseconds(row[5].as<int64_t>());
  w.started_in_window = row[6].as<int64_t>();
  const bool rate_full = w.rate && w.started_in_window >= *w.rate;
  if (rate_full) w.next_slot = OptionalTime(row[7]);
  return w;
}

Job ReadJob(const pqxx::row& row) {
  Job j;
  pqxx::row::size_type at = 0;
#define CHIME_JOB_READ(member, column, proto, json, encoding) \
  if constexpr (!std::string_view(column).empty()) ReadColumn(row[at++], j.member);
  CHIME_JOB_FIELDS(CHIME_JOB_READ)
#undef CHIME_JOB_READ
  return j;
}

Run ReadRun(const pqxx::row& row) {
  Run r;
  r.id = row[0].as<int64_t>();
  r.job_id = row[1].as<int64_t>();
  r.attempt = row[2].as<int>();
  r.worker_id = row[3].c_str();
  r.started_at = MicrosToTime(row[4].as<int64_t>());
  r.finished_at = MicrosToTime(row[5].as<int64_t>());
  auto outcome = ParseRunOutcome(row[6].c_str());
  if (!outcome) throw std::runtime_error(std::string("unknown run outcome: ") + row[6].c_str());
  r.outcome = *outcome;
  r.summary = row[7].c_str();
  for (const auto& e : nlohmann::json::parse(row[8].c_str())) r.errors.push_back(e.get<std::string>());
  r.dry_run = row[9].as<bool>();
  r.final = row[10].as<bool>();
  if (!row[11].is_null()) {
    auto job_outcome = ParseJobOutcome(row[11].c_str());
    if (!job_outcome) throw std::runtime_error(std::string("unknown job outcome: ") + row[11].c_str());
    r.job_outcome = *job_outcome;
  }
  return r;
}

}  // namespace chime::db
