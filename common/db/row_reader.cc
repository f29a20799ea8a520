#include "common/db/row_reader.h"

#include <nlohmann/json.hpp>

#include <stdexcept>

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
  j.id = row[0].as<int64_t>();
  j.kind = row[1].c_str();
  j.queue = row[2].c_str();
  j.priority = row[3].as<int>();
  auto state = ParseJobState(row[4].c_str());
  if (!state) throw std::runtime_error(std::string("unknown job state: ") + row[4].c_str());
  j.state = *state;
  j.payload = row[5].c_str();
  j.attempt = row[6].as<int>();
  j.max_attempts = row[7].as<int>();
  j.rescue_count = row[8].as<int>();
  j.timeout = OptionalMs(row[9]);
  j.unique_key = Optional<std::string>(row[10]);
  j.parent_id = Optional<int64_t>(row[11]);
  j.dry_run = row[12].as<bool>();
  j.cancel_requested = row[13].as<bool>();
  j.worker_id = Optional<std::string>(row[14]);
  j.created_at = MicrosToTime(row[15].as<int64_t>());
  j.run_at = MicrosToTime(row[16].as<int64_t>());
  j.attempted_at = OptionalTime(row[17]);
  j.finished_at = OptionalTime(row[18]);
  j.last_error = Optional<std::string>(row[19]);
  j.progress = Optional<std::string>(row[20]);
  j.invocation = ReadInvocation(row[21]);
  if (!row[22].is_null()) {
    auto outcome = ParseJobOutcome(row[22].c_str());
    if (!outcome) throw std::runtime_error(std::string("unknown job outcome: ") + row[22].c_str());
    j.outcome = *outcome;
  }
  j.schedule_id = Optional<int64_t>(row[23]);
  j.schedule_name = Optional<std::string>(row[24]);
  j.scheduled_for = OptionalTime(row[25]);
  j.fan_out = row[26].as<bool>();
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
