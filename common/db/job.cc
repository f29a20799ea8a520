#include "common/db/job.h"

#include <array>
#include <utility>

namespace chime::db {
namespace {

constexpr std::array<std::pair<JobState, std::string_view>, 7> kStates{{
    {JobState::kScheduled, "scheduled"},
    {JobState::kAvailable, "available"},
    {JobState::kRunning, "running"},
    {JobState::kRetryable, "retryable"},
    {JobState::kSucceeded, "succeeded"},
    {JobState::kDiscarded, "discarded"},
    {JobState::kCancelled, "cancelled"},
}};

constexpr std::array<std::pair<RunOutcome, std::string_view>, 7> kOutcomes{{
    {RunOutcome::kSucceeded, "succeeded"},
    {RunOutcome::kPartial, "partial"},
    {RunOutcome::kFailed, "failed"},
    {RunOutcome::kDiscarded, "discarded"},
    {RunOutcome::kCancelled, "cancelled"},
    {RunOutcome::kLeaseExpired, "lease_expired"},
    {RunOutcome::kReleased, "released"},
}};

}  // namespace

std::string_view JobStateName(JobState state) {
  for (const auto& [s, name] : kStates) {
    if (s == state) return name;
  }
  return "unknown";
}

std::optional<JobState> ParseJobState(std::string_view name) {
  for (const auto& [s, n] : kStates) {
    if (n == name) return s;
  }
  return std::nullopt;
}

std::string_view InvocationName(Invocation invocation) {
  return invocation == Invocation::kCron ? "cron" : "manual";
}

std::optional<Invocation> ParseInvocation(std::string_view name) {
  if (name == "cron") return Invocation::kCron;
  if (name == "manual") return Invocation::kManual;
  return std::nullopt;
}

bool IsFinished(JobState state) {
  return state == JobState::kSucceeded || state == JobState::kDiscarded ||
         state == JobState::kCancelled;
}

std::string_view RunOutcomeName(RunOutcome outcome) {
  for (const auto& [o, name] : kOutcomes) {
    if (o == outcome) return name;
  }
  return "unknown";
}

std::optional<RunOutcome> ParseRunOutcome(std::string_view name) {
  for (const auto& [o, n] : kOutcomes) {
    if (n == name) return o;
  }
  return std::nullopt;
}

}  // namespace chime::db
