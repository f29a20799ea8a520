// Validate: every field, good and bad, with the exact message a user sees.
#include <gtest/gtest.h>

#include <string>

#include "common/schedule/schedule_spec.h"

namespace chime::schedule {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;

ScheduleSpec Good() {
  return ScheduleSpec{.name = "nightly-fanout", .cron = "0 3 * * *", .kind = "process_all_users"};
}

// The message Validate gives, or "ok".
std::string Check(const ScheduleSpec& spec, cron::ParseOptions options = {}) {
  auto ok = Validate(spec, options);
  if (ok) return "ok";
  EXPECT_EQ(ok.error().code, ErrorCode::kInvalidArgument) << ok.error().message;
  EXPECT_EQ(ok.error().message.find('\n'), std::string::npos) << ok.error().message;
  return ok.error().message;
}

template <typename Edit>
std::string CheckWith(Edit edit) {
  ScheduleSpec spec = Good();
  edit(spec);
  return Check(spec);
}

TEST(ValidateTest, AcceptsAMinimalSpecWithDefaults) {
  EXPECT_EQ(Check(Good()), "ok");
  const ScheduleSpec spec = Good();
  EXPECT_EQ(spec.time_zone, "UTC");
  EXPECT_EQ(spec.payload, "{}");
  EXPECT_EQ(spec.queue, "default");
  EXPECT_EQ(spec.max_attempts, 20);
}

TEST(ValidateTest, AcceptsEveryFieldAtItsLimits) {
  ScheduleSpec spec = Good();
  spec.name = std::string(128, 'n');
  spec.kind = "a-Z_0.9:x";
  spec.queue = std::string(128, 'q');
  spec.time_zone = "Europe/Berlin";
  spec.payload = R"({"dry_run": false, "ids": [1, 2.5, null, "x"]})";
  spec.priority = 9;
  spec.max_attempts = 1000;
  spec.timeout = hours(7 * 24);
  spec.jitter = hours(1);
  spec.overlap = OverlapPolicy::kCancelRunning;
  spec.misfire = MisfirePolicy::kRunAll;
  spec.paused = true;
  EXPECT_EQ(Check(spec), "ok");
  spec.priority = 0;
  spec.max_attempts = 1;
  spec.timeout = milliseconds(1);
  spec.jitter = milliseconds(0);
  EXPECT_EQ(Check(spec), "ok");
}

TEST(ValidateTest, RejectsBadNames) {
  EXPECT_EQ(CheckWith([](auto& s) { s.name = ""; }), "name: must not be empty");
  EXPECT_EQ(CheckWith([](auto& s) { s.name = "nightly fanout"; }),
            "name: \"nightly fanout\" has a character outside A-Z a-z 0-9 _ . : -");
  EXPECT_EQ(CheckWith([](auto& s) { s.name = "a/b"; }),
            "name: \"a/b\" has a character outside A-Z a-z 0-9 _ . : -");
  EXPECT_EQ(CheckWith([](auto& s) { s.name = "caf\xc3\xa9"; }),
            "name: \"caf\xc3\xa9\" has a character outside A-Z a-z 0-9 _ . : -");
  EXPECT_EQ(CheckWith([](auto& s) { s.name = std::string(129, 'n'); }),
            "name: \"" + std::string(63, 'n') + "\xe2\x80\xa6\" is longer than 128 bytes");
}

TEST(ValidateTest, CutsLongValuesInMessages) {
  const std::string message = CheckWith([](auto& s) { s.name = std::string(5000, 'x') + " "; });
  EXPECT_LT(message.size(), 140u) << message;
  EXPECT_TRUE(message.starts_with("name: \"xxx")) << message;
}

TEST(ValidateTest, RejectsBadKindAndQueue) {
  EXPECT_EQ(CheckWith([](auto& s) { s.kind = ""; }), "kind: must not be empty");
  EXPECT_EQ(CheckWith([](auto& s) { s.kind = "http request"; }),
            "kind: \"http request\" has a character outside A-Z a-z 0-9 _ . : -");
  EXPECT_EQ(CheckWith([](auto& s) { s.queue = ""; }), "queue: must not be empty");
  EXPECT_EQ(CheckWith([](auto& s) { s.queue = "q\n1"; }),
            "queue: \"q 1\" has a character outside A-Z a-z 0-9 _ . : -");
  EXPECT_EQ(CheckWith([](auto& s) { s.queue = std::string(129, 'q'); }),
            "queue: \"" + std::string(63, 'q') + "\xe2\x80\xa6\" is longer than 128 bytes");
}

TEST(ValidateTest, PrefixesCronErrorsWithTheField) {
  EXPECT_EQ(CheckWith([](auto& s) { s.cron = "60 * * * *"; }), "cron: minute: 60 is out of range 0-59");
  EXPECT_TRUE(CheckWith([](auto& s) { s.cron = ""; }).starts_with("cron: "))
      << CheckWith([](auto& s) { s.cron = ""; });
  EXPECT_TRUE(CheckWith([](auto& s) { s.cron = "@reboot"; }).starts_with("cron: "));
  EXPECT_EQ(CheckWith([](auto& s) { s.cron = "@daily"; }), "ok");
}

TEST(ValidateTest, PassesCronOptionsThrough) {
  ScheduleSpec spec = Good();
  spec.cron = "*/5 * * * * *";
  EXPECT_TRUE(Check(spec).starts_with("cron: ")) << Check(spec);
  EXPECT_EQ(Check(spec, {.seconds_field = true}), "ok");
}

TEST(ValidateTest, RejectsUnknownTimeZones) {
  EXPECT_EQ(CheckWith([](auto& s) { s.time_zone = "Mars/Base"; }),
            "time_zone: \"Mars/Base\": not in the zone database");
  EXPECT_TRUE(CheckWith([](auto& s) { s.time_zone = ""; }).starts_with("time_zone: "));
  EXPECT_TRUE(CheckWith([](auto& s) { s.time_zone = "../../etc/passwd"; }).starts_with("time_zone: "));
  EXPECT_EQ(CheckWith([](auto& s) { s.time_zone = "America/New_York"; }), "ok");
}

TEST(ValidateTest, AcceptsAnyJsonValueAsPayload) {
  for (const char* payload :
       {"{}", "[]", "null", "0", "-1.5e3", "\"text\"", "true", " {\"a\": {\"b\": [1]}} "}) {
    EXPECT_EQ(CheckWith([&](auto& s) { s.payload = payload; }), "ok") << payload;
  }
}

TEST(ValidateTest, RejectsPayloadsThatAreNotJson) {
  EXPECT_EQ(
      CheckWith([](auto& s) { s.payload = "{dry_run: true}"; }),
      "payload: not valid JSON (parse error at line 1, column 2: syntax error while parsing object key - "
      "invalid literal; expected string literal)");
  EXPECT_EQ(CheckWith([](auto& s) { s.payload = ""; }),
            "payload: not valid JSON (parse error at line 1, column 1: syntax error while parsing value - "
            "unexpected end of input; expected '[', '{', or a literal)");
  EXPECT_TRUE(CheckWith([](auto& s) { s.payload = "{} {}"; }).starts_with("payload: not valid JSON ("));
  EXPECT_TRUE(CheckWith([](auto& s) { s.payload = "[1e999]"; }).starts_with("payload: not valid JSON ("));
  EXPECT_TRUE(CheckWith([](auto& s) { s.payload = "\"\xff\""; }).starts_with("payload: not valid JSON ("));
}

TEST(ValidateTest, DoesNotEchoThePayloadInItsMessage) {
  const std::string message = CheckWith([](auto& s) { s.payload = "{\"token\": hunter2-hunter2}"; });
  EXPECT_TRUE(message.starts_with("payload: not valid JSON (")) << message;
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
}

TEST(ValidateTest, LimitsPayloadSizeToOneMebibyte) {
  const size_t limit = size_t{1} << 20;
  std::string payload = "\"" + std::string(limit - 2, 'x') + "\"";
  EXPECT_EQ(CheckWith([&](auto& s) { s.payload = payload; }), "ok");
  payload.insert(1, "x");
  EXPECT_EQ(CheckWith([&](auto& s) { s.payload = payload; }),
            "payload: 1048577 bytes is larger than the 1 MiB limit");
}

TEST(ValidateTest, LimitsPayloadNestingTo64Levels) {
  const std::string ok = std::string(64, '[') + std::string(64, ']');
  EXPECT_EQ(CheckWith([&](auto& s) { s.payload = ok; }), "ok");
  const std::string deep = "{\"a\":" + ok + "}";
  EXPECT_EQ(CheckWith([&](auto& s) { s.payload = deep; }), "payload: nested deeper than 64 levels");
  const std::string hostile = std::string(500'000, '[') + std::string(500'000, ']');
  EXPECT_EQ(CheckWith([&](auto& s) { s.payload = hostile; }), "payload: nested deeper than 64 levels");
}

TEST(ValidateTest, RejectsNulCharactersThatPostgresCannotStore) {
  EXPECT_EQ(CheckWith([](auto& s) { s.payload = R"({"a": "x\u0000y"})"; }),
            "payload: a string holds \\u0000, which PostgreSQL cannot store");
  EXPECT_EQ(CheckWith([](auto& s) { s.payload = R"({"\u0000": 1})"; }),
            "payload: a string holds \\u0000, which PostgreSQL cannot store");
}

TEST(ValidateTest, RejectsPriorityOutsideZeroToNine) {
  EXPECT_EQ(CheckWith([](auto& s) { s.priority = 12; }), "priority: 12 is out of range 0-9");
  EXPECT_EQ(CheckWith([](auto& s) { s.priority = -1; }), "priority: -1 is out of range 0-9");
}

TEST(ValidateTest, RejectsMaxAttemptsOutsideOneToAThousand) {
  EXPECT_EQ(CheckWith([](auto& s) { s.max_attempts = 0; }), "max_attempts: 0 is out of range 1-1000");
  EXPECT_EQ(CheckWith([](auto& s) { s.max_attempts = 1001; }), "max_attempts: 1001 is out of range 1-1000");
}

TEST(ValidateTest, RejectsTimeoutsNotPositiveOrOverSevenDays) {
  EXPECT_EQ(CheckWith([](auto& s) { s.timeout = milliseconds(0); }), "timeout: 0s must be more than 0");
  EXPECT_EQ(CheckWith([](auto& s) { s.timeout = milliseconds(-5000); }), "timeout: -5s must be more than 0");
  EXPECT_EQ(CheckWith([](auto& s) { s.timeout = hours(7 * 24) + milliseconds(1); }),
            "timeout: 604800001ms is longer than 7d");
  EXPECT_EQ(CheckWith([](auto& s) { s.timeout = hours(8 * 24); }), "timeout: 8d is longer than 7d");
  EXPECT_EQ(CheckWith([](auto& s) { s.timeout.reset(); }), "ok");
}

TEST(ValidateTest, RejectsJitterOutsideZeroToAnHour) {
  EXPECT_EQ(CheckWith([](auto& s) { s.jitter = milliseconds(-1); }), "jitter: -1ms is out of range 0-1h");
  EXPECT_EQ(CheckWith([](auto& s) { s.jitter = hours(2); }), "jitter: 2h is out of range 0-1h");
  EXPECT_EQ(CheckWith([](auto& s) { s.jitter = hours(1) + milliseconds(1); }),
            "jitter: 3600001ms is out of range 0-1h");
}

TEST(ValidateTest, RejectsPolicyValuesOutsideTheEnums) {
  EXPECT_EQ(CheckWith([](auto& s) { s.overlap = static_cast<OverlapPolicy>(9); }),
            "overlap: 9 is not a known policy");
  EXPECT_EQ(CheckWith([](auto& s) { s.misfire = static_cast<MisfirePolicy>(-1); }),
            "misfire: -1 is not a known policy");
}

TEST(ValidateTest, NamesTheFirstBadFieldInDeclarationOrder) {
  ScheduleSpec spec = Good();
  spec.priority = 12;
  spec.payload = "{";
  spec.kind = "";
  spec.time_zone = "Mars/Base";
  EXPECT_TRUE(Check(spec).starts_with("time_zone: ")) << Check(spec);
  spec.cron = "99 * * * *";
  EXPECT_TRUE(Check(spec).starts_with("cron: ")) << Check(spec);
  spec.name = "";
  EXPECT_EQ(Check(spec), "name: must not be empty");
}

TEST(PolicyNameTest, RoundTripsEveryPolicy) {
  for (auto policy : {OverlapPolicy::kSkip, OverlapPolicy::kAllow, OverlapPolicy::kBufferOne,
                      OverlapPolicy::kCancelRunning}) {
    EXPECT_EQ(ParseOverlapPolicy(OverlapPolicyName(policy)), policy);
  }
  for (auto policy : {MisfirePolicy::kSkip, MisfirePolicy::kRunOnce, MisfirePolicy::kRunAll}) {
    EXPECT_EQ(ParseMisfirePolicy(MisfirePolicyName(policy)), policy);
  }
  EXPECT_EQ(OverlapPolicyName(OverlapPolicy::kBufferOne), "buffer_one");
  EXPECT_EQ(OverlapPolicyName(OverlapPolicy::kCancelRunning), "cancel_running");
  EXPECT_EQ(MisfirePolicyName(MisfirePolicy::kRunOnce), "run_once");
}

TEST(PolicyNameTest, RejectsUnknownNames) {
  EXPECT_EQ(ParseOverlapPolicy("Skip"), std::nullopt);
  EXPECT_EQ(ParseOverlapPolicy(""), std::nullopt);
  EXPECT_EQ(ParseOverlapPolicy("buffer-one"), std::nullopt);
  EXPECT_EQ(ParseMisfirePolicy("run-once"), std::nullopt);
  EXPECT_EQ(ParseMisfirePolicy("all"), std::nullopt);
}

}  // namespace
}  // namespace chime::schedule
