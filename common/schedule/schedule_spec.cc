#include "common/schedule/schedule_spec.h"

#include <nlohmann/json.hpp>

#include <exception>
#include <string>

#include "common/base/name_rule.h"
#include "common/base/text_format.h"
#include "common/payload/job_payload.h"
#include "common/schedule/schedule_limits.h"

namespace chime::schedule {
namespace internal {

std::string Quoted(std::string_view text) { return "\"" + OneLine(text, kMaxEchoChars) + "\""; }

// nlohmann's what() is "[json.exception.parse_error.101] parse error at line 1,
// column 2: syntax error while parsing value - invalid literal; last read:
// '<input>'; expected ...". Keeps the position and reason, drops the echoed input.
std::string JsonErrorReason(std::string_view what) {
  if (what.starts_with("[json.exception.")) {
    if (size_t end = what.find("] "); end != std::string_view::npos) what.remove_prefix(end + 2);
  }
  std::string reason;
  if (size_t last_read = what.find("; last read: "); last_read != std::string_view::npos) {
    reason = std::string(what.substr(0, last_read));
    if (size_t expected = what.rfind("; expected ");
        expected != std::string_view::npos && expected > last_read) {
      reason += what.substr(expected);
    }
  } else {
    reason = std::string(what);
  }
  return OneLine(reason, 200);
}

}  // namespace internal
namespace {

using internal::JsonErrorReason;
using internal::Quoted;
using std::chrono::milliseconds;

Result<void> Invalid(std::string_view field, std::string message) {
  return Fail(ErrorCode::kInvalidArgument, std::string(field) + ": " + message);
}

// name, kind and queue: IsValidName (common/base/name_rule.h), with a
// message that says which part of the rule the value breaks.
Result<void> CheckToken(std::string_view field, std::string_view value) {
  if (value.empty()) return Invalid(field, "must not be empty");
  if (value.size() > internal::kMaxTokenBytes) {
    return Invalid(field,
                   Quoted(value) + " is longer than " + std::to_string(internal::kMaxTokenBytes) + " bytes");
  }
  for (char c : value) {
    if (!IsNameChar(c)) {
      return Invalid(field, Quoted(value) + " has a character outside A-Z a-z 0-9 _ . : -");
    }
  }
  return {};
}

// FormatDuration drops milliseconds above a minute; a value just over a limit
// must not read as the limit itself.
std::string ShowDuration(milliseconds d) {
  if (d >= std::chrono::minutes(1) && d % std::chrono::seconds(1) != milliseconds(0)) {
    return std::to_string(d.count()) + "ms";
  }
  return FormatDuration(d);
}

Result<void> CheckRange(std::string_view field, int value, int lo, int hi) {
  if (value >= lo && value <= hi) return {};
  return Invalid(field,
                 std::to_string(value) + " is out of range " + std::to_string(lo) + "-" + std::to_string(hi));
}

// Checks a payload's JSON text without building it: syntax, nesting depth,
// and no U+0000 in a string (PostgreSQL's jsonb refuses it).
class PayloadChecker final : public nlohmann::json::json_sax_t {
 public:
  // The reason the payload is bad, or "" when it is good.
  static std::string Check(std::string_view text) {
    PayloadChecker checker;
    try {
      const bool ok = nlohmann::json::sax_parse(text.begin(), text.end(), &checker);
      if (!ok && checker.reason_.empty()) checker.reason_ = "not valid JSON";
    } catch (const std::exception& e) {
      checker.reason_ = "not valid JSON (" + JsonErrorReason(e.what()) + ")";
    }
    return checker.reason_;
  }

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t& value) override { return CheckString(value); }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return Enter(); }
  bool key(string_t& value) override { return CheckString(value); }
  bool end_object() override { return Leave(); }
  bool start_array(std::size_t) override { return Enter(); }
  bool end_array() override { return Leave(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& error) override {
    reason_ = "not valid JSON (" + JsonErrorReason(error.what()) + ")";
    return false;
  }

 private:
  bool Enter() {
    if (++depth_ <= internal::kMaxPayloadDepth) return true;
    reason_ = "nested deeper than " + std::to_string(internal::kMaxPayloadDepth) + " levels";
    return false;
  }
  bool Leave() {
    --depth_;
    return true;
  }
  bool CheckString(const string_t& value) {
    if (value.find('\0') == string_t::npos) return true;
    reason_ = "a string holds \\u0000, which PostgreSQL cannot store";
    return false;
  }

  int depth_ = 0;
  std::string reason_;
};

Result<void> CheckPayload(std::string_view payload) {
  if (payload.size() > internal::kMaxPayloadBytes) {
    return Invalid("payload", std::to_string(payload.size()) + " bytes is larger than the 1 MiB limit");
  }
  if (std::string reason = PayloadChecker::Check(payload); !reason.empty()) {
    return Invalid("payload", std::move(reason));
  }
  return {};
}

// Zone::Load says `time zone "Mars/Base": not in the zone database`; the
// field name replaces its leading "time zone ".
std::string ZoneReason(std::string message) {
  constexpr std::string_view kPrefix = "time zone ";
  if (message.starts_with(kPrefix)) message.erase(0, kPrefix.size());
  return message;
}

Result<void> ValidateFields(const ScheduleSpec& spec, cron::ParseOptions cron_options) {
  if (auto ok = CheckToken("name", spec.name); !ok) return ok;
  if (auto expression = cron::Expression::Parse(spec.cron, cron_options); !expression) {
    return Invalid("cron", expression.error().message);
  }
  if (auto zone = cron::Zone::Load(spec.time_zone); !zone) {
    return Invalid("time_zone", ZoneReason(zone.error().message));
  }
  if (auto ok = CheckToken("kind", spec.kind); !ok) return ok;
  if (auto ok = CheckPayload(spec.payload); !ok) return ok;
  // The kind's own rules (an http_request payload carries no secret, ...).
  if (auto ok = payload::ValidateJobPayload(spec.kind, spec.payload); !ok) return ok;
  if (auto ok = CheckToken("queue", spec.queue); !ok) return ok;
  if (auto ok = CheckRange("priority", spec.priority, internal::kMinPriority, internal::kMaxPriority); !ok) {
    return ok;
  }
  if (auto ok = CheckRange("max_attempts", spec.max_attempts, internal::kMinAttempts, internal::kMaxAttempts);
      !ok) {
    return ok;
  }
  if (spec.timeout && *spec.timeout <= milliseconds(0)) {
    return Invalid("timeout", ShowDuration(*spec.timeout) + " must be more than 0");
  }
  if (spec.timeout && *spec.timeout > internal::kMaxTimeout) {
    return Invalid("timeout",
                   ShowDuration(*spec.timeout) + " is longer than " + FormatDuration(internal::kMaxTimeout));
  }
  if (spec.jitter < milliseconds(0) || spec.jitter > internal::kMaxJitter) {
    return Invalid("jitter",
                   ShowDuration(spec.jitter) + " is out of range 0-" + FormatDuration(internal::kMaxJitter));
  }
  // The enums can only be out of range through a cast; the DB CHECK would refuse them.
  if (OverlapPolicyName(spec.overlap).empty()) {
    return Invalid("overlap", std::to_string(static_cast<int>(spec.overlap)) + " is not a known policy");
  }
  if (MisfirePolicyName(spec.misfire).empty()) {
    return Invalid("misfire", std::to_string(static_cast<int>(spec.misfire)) + " is not a known policy");
  }
  return ValidateHealth(spec.health);
}

}  // namespace

std::string_view OverlapPolicyName(OverlapPolicy policy) {
  switch (policy) {
    case OverlapPolicy::kSkip:
      return "skip";
    case OverlapPolicy::kAllow:
      return "allow";
    case OverlapPolicy::kBufferOne:
      return "buffer_one";
    case OverlapPolicy::kCancelRunning:
      return "cancel_running";
  }
  return "";
}

std::optional<OverlapPolicy> ParseOverlapPolicy(std::string_view name) {
  for (OverlapPolicy policy : {OverlapPolicy::kSkip, OverlapPolicy::kAllow, OverlapPolicy::kBufferOne,
                               OverlapPolicy::kCancelRunning}) {
    if (name == OverlapPolicyName(policy)) return policy;
  }
  return std::nullopt;
}

std::string_view MisfirePolicyName(MisfirePolicy policy) {
  switch (policy) {
    case MisfirePolicy::kSkip:
      return "skip";
    case MisfirePolicy::kRunOnce:
      return "run_once";
    case MisfirePolicy::kRunAll:
      return "run_all";
  }
  return "";
}

std::optional<MisfirePolicy> ParseMisfirePolicy(std::string_view name) {
  for (MisfirePolicy policy : {MisfirePolicy::kSkip, MisfirePolicy::kRunOnce, MisfirePolicy::kRunAll}) {
    if (name == MisfirePolicyName(policy)) return policy;
  }
  return std::nullopt;
}

Result<void> Validate(const ScheduleSpec& spec, cron::ParseOptions cron_options) {
  // Parsing allocates; running out of memory is the only way to throw here.
  try {
    return ValidateFields(spec, cron_options);
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kInternal, std::string("validating schedule: ") + e.what());
  }
}

namespace internal {

Result<void> CheckScheduleName(std::string_view field, std::string_view name) { return CheckToken(field, name); }

}  // namespace internal
}  // namespace chime::schedule
