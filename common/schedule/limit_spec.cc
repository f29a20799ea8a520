#include "common/schedule/limit_spec.h"

#include <charconv>

#include "common/base/text_format.h"
#include "common/schedule/schedule_limits.h"

namespace chime::schedule {
namespace {

using std::chrono::milliseconds;

constexpr int kMaxCount = 1'000'000;
constexpr milliseconds kMinWindow = std::chrono::seconds(1);
constexpr milliseconds kMaxWindow = std::chrono::hours(24);
constexpr size_t kMaxFieldBytes = 64;

Result<void> Invalid(std::string_view field, std::string message) {
  return Fail(ErrorCode::kInvalidArgument, std::string(field) + ": " + message);
}

bool IsFieldChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

Result<LimitRate> ParseLimitRate(std::string_view text) {
  auto bad = [&](std::string why) {
    return Fail(ErrorCode::kInvalidArgument,
                "rate: " + internal::Quoted(text) + " " + why + " (write COUNT/WINDOW: 100/1m, 5000/1h, 10/s)");
  };
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return bad("has no '/'");
  const std::string_view count_text = text.substr(0, slash);
  std::string_view window_text = text.substr(slash + 1);
  LimitRate rate;
  const auto [end, ec] = std::from_chars(count_text.data(), count_text.data() + count_text.size(), rate.count);
  if (count_text.empty() || ec != std::errc() || end != count_text.data() + count_text.size()) {
    return bad("does not start with a whole number");
  }
  if (rate.count < 1 || rate.count > kMaxCount) return bad("must allow 1-1000000 starts");
  if (window_text == "s" || window_text == "m" || window_text == "h") {
    rate.window = window_text == "s" ? milliseconds(std::chrono::seconds(1))
                  : window_text == "m" ? milliseconds(std::chrono::minutes(1))
                                       : milliseconds(std::chrono::hours(1));
  } else {
    auto window = ParseDuration(window_text);
    if (!window) return bad("has a window that is not a duration");
    rate.window = *window;
  }
  if (rate.window < kMinWindow || rate.window > kMaxWindow) return bad("needs a window of 1s-24h");
  return rate;
}

std::string FormatLimitRate(const LimitRate& rate) {
  return std::to_string(rate.count) + "/" + FormatDuration(rate.window);
}

Result<void> CheckLimitName(std::string_view name) { return internal::CheckScheduleName("name", name); }

Result<void> Validate(const LimitSpec& spec) {
  if (auto ok = internal::CheckScheduleName("name", spec.name); !ok) return ok;
  if (spec.queue) {
    if (auto ok = internal::CheckScheduleName("queue", *spec.queue); !ok) return ok;
  }
  if (spec.kind) {
    if (auto ok = internal::CheckScheduleName("kind", *spec.kind); !ok) return ok;
  }
  if (spec.partition_by) {
    const std::string& f = *spec.partition_by;
    if (f.empty() || f.size() > kMaxFieldBytes) return Invalid("partition_by", "must be 1-64 characters");
    for (char c : f) {
      if (!IsFieldChar(c)) {
        return Invalid("partition_by", internal::Quoted(f) + " is not a top-level payload field (A-Z a-z 0-9 _)");
      }
    }
  }
  if (!spec.concurrency && !spec.rate) return Invalid("limit", "needs a concurrency, a rate or both");
  if (spec.concurrency && (*spec.concurrency < 1 || *spec.concurrency > kMaxCount)) {
    return Invalid("concurrency", std::to_string(*spec.concurrency) + " is not 1-1000000");
  }
  if (spec.rate) {
    if (spec.rate->count < 1 || spec.rate->count > kMaxCount) {
      return Invalid("rate", std::to_string(spec.rate->count) + " starts is not 1-1000000");
    }
    if (spec.rate->window < kMinWindow || spec.rate->window > kMaxWindow) {
      return Invalid("rate", "the window " + FormatDuration(spec.rate->window) + " is not 1s-24h");
    }
  }
  return {};
}

}  // namespace chime::schedule
