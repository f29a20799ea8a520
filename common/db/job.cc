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

constexpr std::array<std::pair<RunOutcome, std::string_view>, 8> kOutcomes{{
    {RunOutcome::kSucceeded, "succeeded"},
    {RunOutcome::kPartial, "partial"},
    {RunOutcome::kSkipped, "skipped"},
    {RunOutcome::kFailed, "failed"},
    {RunOutcome::kDiscarded, "discarded"},
    {RunOutcome::kCancelled, "cancelled"},
    {RunOutcome::kLeaseExpired, "lease_expired"},
    {RunOutcome::kReleased, "released"},
}};

constexpr std::array<std::pair<JobOutcome, std::string_view>, 5> kJobOutcomes{{
    {JobOutcome::kSucceeded, "succeeded"},
    {JobOutcome::kPartial, "partial"},
    {JobOutcome::kFailed, "failed"},
    {JobOutcome::kSkipped, "skipped"},
    {JobOutcome::kCancelled, "cancelled"},
}};

template <typename Enum, size_t N>
std::string_view NameOf(const std::array<std::pair<Enum, std::string_view>, N>& table, Enum value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "unknown";
}

template <typename Enum, size_t N>
std::optional<Enum> Parse(const std::array<std::pair<Enum, std::string_view>, N>& table,
                          std::string_view name) {
  for (const auto& [v, n] : table) {
    if (n == name) return v;
  }
  return std::nullopt;
}

}  // namespace

std::string_view JobStateName(JobState state) { return NameOf(kStates, state); }

std::optional<JobState> ParseJobState(std::string_view name) { return Parse(kStates, name); }

std::string_view JobOutcomeName(JobOutcome outcome) { return NameOf(kJobOutcomes, outcome); }

std::optional<JobOutcome> ParseJobOutcome(std::string_view name) { return Parse(kJobOutcomes, name); }

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

std::string_view RunOutcomeName(RunOutcome outcome) { return NameOf(kOutcomes, outcome); }

std::optional<RunOutcome> ParseRunOutcome(std::string_view name) { return Parse(kOutcomes, name); }

}  // namespace chime::db
