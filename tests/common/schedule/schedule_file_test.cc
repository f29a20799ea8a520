// ParseScheduleFile, LoadScheduleFile and FormatProblems: the format in
// schedule_spec.h, per-entry problems collected together, and hostile input.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>

#include "common/schedule/schedule_limits.h"
#include "common/schedule/schedule_spec.h"

namespace chime::schedule {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

ParsedFile ParseOk(const std::string& yaml, cron::ParseOptions options = {}) {
  auto parsed = ParseScheduleFile(yaml, "schedules.yaml", options);
  EXPECT_TRUE(parsed) << parsed.error().message;
  return parsed ? *parsed : ParsedFile{};
}

std::string ParseError(const std::string& yaml) {
  auto parsed = ParseScheduleFile(yaml, "schedules.yaml");
  if (parsed) return "parsed";
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << parsed.error().message;
  EXPECT_EQ(parsed.error().message.find('\n'), std::string::npos) << parsed.error().message;
  return parsed.error().message;
}

// The single problem of a one-entry file whose entry is `entry` (indented
// as a list item's map).
std::string ProblemOf(const std::string& entry) {
  ParsedFile parsed = ParseOk("schedules:\n  - " + entry + "\n");
  EXPECT_TRUE(parsed.schedules.empty());
  if (parsed.problems.size() != 1) return "problems: " + std::to_string(parsed.problems.size());
  EXPECT_EQ(parsed.problems[0].index, 0u);
  return parsed.problems[0].message;
}

// The payload JSON of a one-entry file with this payload.
nlohmann::json PayloadOf(const std::string& payload_yaml) {
  ParsedFile parsed = ParseOk(
      "schedules:\n  - name: p\n    cron: '@daily'\n    kind: k\n    payload: " + payload_yaml + "\n");
  if (parsed.schedules.size() != 1) {
    ADD_FAILURE() << (parsed.problems.empty() ? "no schedule" : parsed.problems[0].message);
    return nullptr;
  }
  return nlohmann::json::parse(parsed.schedules[0].payload);
}

constexpr char kHeaderExample[] = R"(schedules:
  - name: reconcile-exam-capacity
    cron: "0 */2 * * *"
    kind: reconcile_exam_capacity
    time_zone: Europe/Berlin      # optional, default UTC
    payload: {dry_run: false}     # any YAML value, stored as JSON
    queue: default                # optional
    priority: 0                   # optional
    max_attempts: 3               # optional
    timeout: 5m                   # optional duration
    jitter: 30s                   # optional duration
    overlap: skip                 # skip | allow | buffer_one | cancel_running
    misfire: run_once             # skip | run_once | run_all
    paused: false                 # optional
)";

TEST(ParseScheduleFileTest, ReadsTheHeaderExample) {
  ParsedFile parsed = ParseOk(kHeaderExample);
  ASSERT_TRUE(parsed.problems.empty()) << FormatProblems("schedules.yaml", parsed.problems);
  ASSERT_EQ(parsed.schedules.size(), 1u);
  const ScheduleSpec& s = parsed.schedules[0];
  EXPECT_EQ(s.name, "reconcile-exam-capacity");
  EXPECT_EQ(s.cron, "0 */2 * * *");
  EXPECT_EQ(s.kind, "reconcile_exam_capacity");
  EXPECT_EQ(s.time_zone, "Europe/Berlin");
  EXPECT_EQ(s.payload, R"({"dry_run":false})");
  EXPECT_EQ(s.queue, "default");
  EXPECT_EQ(s.priority, 0);
  EXPECT_EQ(s.max_attempts, 3);
  EXPECT_EQ(s.timeout, minutes(5));
  EXPECT_EQ(s.jitter, seconds(30));
  EXPECT_EQ(s.overlap, OverlapPolicy::kSkip);
  EXPECT_EQ(s.misfire, MisfirePolicy::kRunOnce);
  EXPECT_FALSE(s.paused);
  EXPECT_TRUE(Validate(s));
}

TEST(ParseScheduleFileTest, ReadsEveryNonDefaultValue) {
  ParsedFile parsed = ParseOk(R"(schedules:
  - name: sync.github:15
    cron: '*/15 * * * *'
    kind: sync_integration
    queue: integrations
    priority: 9
    max_attempts: 1000
    timeout: 1h30m
    jitter: 1h
    overlap: buffer_one
    misfire: run_all
    paused: true
  - {name: b, cron: '@hourly', kind: k, overlap: cancel_running, misfire: skip}
  - {name: c, cron: '@hourly', kind: k, overlap: allow}
)");
  ASSERT_TRUE(parsed.problems.empty()) << FormatProblems("schedules.yaml", parsed.problems);
  ASSERT_EQ(parsed.schedules.size(), 3u);
  const ScheduleSpec& s = parsed.schedules[0];
  EXPECT_EQ(s.name, "sync.github:15");
  EXPECT_EQ(s.queue, "integrations");
  EXPECT_EQ(s.priority, 9);
  EXPECT_EQ(s.max_attempts, 1000);
  EXPECT_EQ(s.timeout, minutes(90));
  EXPECT_EQ(s.jitter, minutes(60));
  EXPECT_EQ(s.overlap, OverlapPolicy::kBufferOne);
  EXPECT_EQ(s.misfire, MisfirePolicy::kRunAll);
  EXPECT_TRUE(s.paused);
  EXPECT_EQ(parsed.schedules[1].overlap, OverlapPolicy::kCancelRunning);
  EXPECT_EQ(parsed.schedules[1].misfire, MisfirePolicy::kSkip);
  EXPECT_EQ(parsed.schedules[2].overlap, OverlapPolicy::kAllow);
}

TEST(ParseScheduleFileTest, FillsDefaultsForOmittedFields) {
  ParsedFile parsed = ParseOk("schedules:\n  - name: n\n    cron: '0 0 * * *'\n    kind: cleanup_old_jobs\n");
  ASSERT_EQ(parsed.schedules.size(), 1u);
  const ScheduleSpec& s = parsed.schedules[0];
  EXPECT_EQ(s.time_zone, "UTC");
  EXPECT_EQ(s.payload, "{}");
  EXPECT_EQ(s.queue, "default");
  EXPECT_EQ(s.priority, 0);
  EXPECT_EQ(s.max_attempts, 20);
  EXPECT_EQ(s.timeout, std::nullopt);
  EXPECT_EQ(s.jitter, milliseconds(0));
  EXPECT_EQ(s.overlap, OverlapPolicy::kSkip);
  EXPECT_EQ(s.misfire, MisfirePolicy::kRunOnce);
  EXPECT_FALSE(s.paused);
}

// Issue 18, finding 7: an empty or truncated file (a 0-byte ConfigMap, a
// write cut short) used to parse as "no schedules", and the sync then
// deleted every file schedule and its fire history. It is refused now;
// only `schedules: []` says "none" on purpose.
TEST(ParseScheduleFileTest, RefusesAnEmptyFileOrAnEmptySchedulesKey) {
  for (const char* yaml : {"", "\n", "# nothing yet\n", "---\n"}) {
    auto parsed = ParseScheduleFile(yaml, "s.yaml");
    ASSERT_FALSE(parsed) << '"' << yaml << '"';
    EXPECT_EQ(parsed.error().message,
              "s.yaml: the file is empty (truncated?); nothing was changed; write \"schedules: []\" to keep no "
              "schedules from this file");
  }
  for (const char* yaml : {"schedules:\n", "schedules: ~\n", "schedules:\nremove: [a]\n"}) {
    auto parsed = ParseScheduleFile(yaml, "s.yaml");
    ASSERT_FALSE(parsed) << '"' << yaml << '"';
    EXPECT_NE(parsed.error().message.find("\"schedules\" has no value (truncated?); nothing was changed"),
              std::string::npos)
        << parsed.error().message;
  }
}

TEST(ParseScheduleFileTest, AcceptsAnExplicitlyEmptyList) {
  ParsedFile parsed = ParseOk("schedules: []\n");
  EXPECT_TRUE(parsed.schedules.empty());
  EXPECT_TRUE(parsed.problems.empty());
  EXPECT_TRUE(parsed.remove.empty());
}

TEST(ParseScheduleFileTest, ReadsTheNamesToRemove) {
  ParsedFile parsed = ParseOk("schedules:\n  - {name: a, cron: '@daily', kind: k}\nremove: [old-1, legacy.sync]\n");
  ASSERT_EQ(parsed.schedules.size(), 1u);
  EXPECT_EQ(parsed.remove, (std::vector<std::string>{"old-1", "legacy.sync"}));
  EXPECT_TRUE(ParseOk("schedules: []\nremove: []\n").remove.empty());
  EXPECT_TRUE(ParseOk("schedules: []\nremove:\n").remove.empty());
  EXPECT_EQ(ParseError("schedules: []\nremove: old\n"),
            "schedules.yaml:2:9: \"remove\" must be a list of schedule names");
  EXPECT_EQ(ParseError("schedules: []\nremove: [a, a]\n"), "schedules.yaml:2:13: remove: \"a\" is listed twice");
  EXPECT_EQ(ParseError("schedules: []\nremove: [{name: a}]\n"),
            "schedules.yaml:2:10: remove: each entry must be a schedule name");
  EXPECT_EQ(ParseError("schedules: []\nremove: ['bad name']\n"),
            "schedules.yaml:2:10: remove: \"bad name\" has a character outside A-Z a-z 0-9 _ . : -");
  EXPECT_EQ(ParseError("schedules:\n  - {name: a, cron: '@daily', kind: k}\nremove: [a]\n"),
            "schedules.yaml:3:10: remove: \"a\" is also listed under \"schedules\"");
  EXPECT_EQ(ParseError("schedules: []\nremove: []\nremove: []\n"),
            "schedules.yaml:3:1: duplicate key \"remove\"");
}

TEST(ParseScheduleFileTest, KeepsFileOrder) {
  ParsedFile parsed = ParseOk(R"(schedules:
  - {name: c, cron: '@daily', kind: k}
  - {name: a, cron: '@daily', kind: k}
  - {name: b, cron: '@daily', kind: k}
)");
  ASSERT_EQ(parsed.schedules.size(), 3u);
  EXPECT_EQ(parsed.schedules[0].name, "c");
  EXPECT_EQ(parsed.schedules[1].name, "a");
  EXPECT_EQ(parsed.schedules[2].name, "b");
}

TEST(ParseScheduleFileTest, ConvertsPlainScalarsToJsonTypes) {
  const nlohmann::json payload = PayloadOf(R"(
      int: 42
      negative: -7
      zero: 0
      float: 1.5
      exponent: 1e3
      yes_bool: true
      no_bool: false
      null_word: null
      tilde: ~
      empty:
      big: 123456789012345678901234567890
      word: hello
      sentence: two words
      quoted_int: "42"
      quoted_bool: 'true'
      quoted_null: "null"
      tagged: !!str 5
      yaml11_yes: yes
      title_bool: True
      leading_zero: 007
      plus: +5
      hex: 0x1F
      inf: .inf
      huge_float: 1e999
      list: [1, "2", [3.25, x]]
      nested: {a: {b: c}}
      1: numeric key)");
  const nlohmann::json expected = {{"int", 42},
                                   {"negative", -7},
                                   {"zero", 0},
                                   {"float", 1.5},
                                   {"exponent", 1000.0},
                                   {"yes_bool", true},
                                   {"no_bool", false},
                                   {"null_word", nullptr},
                                   {"tilde", nullptr},
                                   {"empty", nullptr},
                                   {"big", 1.2345678901234568e29},
                                   {"word", "hello"},
                                   {"sentence", "two words"},
                                   {"quoted_int", "42"},
                                   {"quoted_bool", "true"},
                                   {"quoted_null", "null"},
                                   {"tagged", "5"},
                                   {"yaml11_yes", "yes"},
                                   {"title_bool", "True"},
                                   {"leading_zero", "007"},
                                   {"plus", "+5"},
                                   {"hex", "0x1F"},
                                   {"inf", ".inf"},
                                   {"huge_float", "1e999"},
                                   {"list", {1, "2", {3.25, "x"}}},
                                   {"nested", {{"a", {{"b", "c"}}}}},
                                   {"1", "numeric key"}};
  EXPECT_EQ(payload, expected) << payload.dump();
  EXPECT_TRUE(payload["int"].is_number_integer());
  EXPECT_TRUE(payload["exponent"].is_number_float());
}

TEST(ParseScheduleFileTest, ConvertsScalarAndListPayloads) {
  EXPECT_EQ(PayloadOf("42"), nlohmann::json(42));
  EXPECT_EQ(PayloadOf("hello"), nlohmann::json("hello"));
  EXPECT_EQ(PayloadOf("[]"), nlohmann::json::array());
  EXPECT_EQ(PayloadOf("{}"), nlohmann::json::object());
  EXPECT_EQ(PayloadOf("~"), nlohmann::json(nullptr));
  EXPECT_EQ(PayloadOf("|\n      line one\n      line two"), nlohmann::json("line one\nline two\n"));
}

TEST(ParseScheduleFileTest, RejectsBadPayloads) {
  EXPECT_EQ(ProblemOf("{name: a, cron: '@daily', kind: k, payload: {? [1, 2] : x}}"),
            "payload: the map key at line 2, column 52 is not a scalar");
  EXPECT_EQ(ProblemOf("{name: a, cron: '@daily', kind: k, payload: {x: 1, x: 2}}"),
            "payload: duplicate key \"x\" at line 2, column 56");
  EXPECT_EQ(ProblemOf("{name: a, cron: '@daily', kind: k, payload: {s: \"a\\0b\"}}"),
            "payload: a string holds \\u0000, which PostgreSQL cannot store");
}

TEST(ParseScheduleFileTest, ReportsEachKindOfProblem) {
  const std::string base = "name: a\n    cron: '@daily'\n    kind: k\n    ";
  EXPECT_EQ(ProblemOf(base + "crn: '@daily'"), "unknown key \"crn\"");
  EXPECT_EQ(ProblemOf(base + "kind: j"), "duplicate key \"kind\"");
  EXPECT_EQ(ProblemOf("name: a\n    kind: k"), "cron: is required");
  EXPECT_EQ(ProblemOf("cron: '@daily'\n    kind: k"), "name: is required");
  EXPECT_EQ(ProblemOf("name: a\n    cron: '@daily'"), "kind: is required");
  EXPECT_EQ(ProblemOf("just-a-string"), "an entry must be a map with name, cron and kind");
  EXPECT_EQ(ProblemOf(base + "queue:"), "queue: has no value");
  EXPECT_EQ(ProblemOf(base + "queue: [a]"), "queue: must be a string");
  EXPECT_EQ(ProblemOf(base + "time_zone: Mars/Base"), "time_zone: \"Mars/Base\": not in the zone database");
  EXPECT_EQ(ProblemOf("name: a\n    cron: '60 * * * *'\n    kind: k"),
            "cron: minute: 60 is out of range 0-59");
  EXPECT_EQ(ProblemOf("name: a b\n    cron: '@daily'\n    kind: k"),
            "name: \"a b\" has a character outside A-Z a-z 0-9 _ . : -");
  EXPECT_EQ(ProblemOf(base + "priority: 12"), "priority: 12 is out of range 0-9");
  EXPECT_EQ(ProblemOf(base + "priority: \"3\""), "priority: must be a plain integer, not the string \"3\"");
  EXPECT_EQ(ProblemOf(base + "priority: 2.5"), "priority: \"2.5\" is not an integer");
  EXPECT_EQ(ProblemOf(base + "priority: high"), "priority: \"high\" is not an integer");
  EXPECT_EQ(ProblemOf(base + "max_attempts: 99999999999999999999"),
            "max_attempts: 99999999999999999999 is out of range 1-1000");
  EXPECT_EQ(ProblemOf(base + "max_attempts: 0"), "max_attempts: 0 is out of range 1-1000");
  EXPECT_EQ(ProblemOf(base + "overlap: queue"),
            "overlap: \"queue\" is not one of skip, allow, buffer_one, cancel_running");
  EXPECT_EQ(ProblemOf(base + "misfire: all"), "misfire: \"all\" is not one of skip, run_once, run_all");
}

TEST(ParseScheduleFileTest, ReportsEntryLevelProblems) {
  EXPECT_EQ(ProblemOf("{name: a, cron: '@daily', kind: k, [x]: 1}"),
            "the key at line 2, column 40 is not a string");
  std::string many = "{name: a, cron: '@daily', kind: k";
  for (int i = 0; i < 40; ++i) many += ", k" + std::to_string(i) + ": 1";
  EXPECT_EQ(ProblemOf(many + "}"), "has 43 keys; a schedule has 14");
}

TEST(ParseScheduleFileTest, RejectsPayloadTextThatIsNotUtf8) {
  EXPECT_EQ(ProblemOf("{name: a, cron: '@daily', kind: k, payload: [\"\xff\xfe\"]}"),
            "payload: holds text that is not valid UTF-8");
}

TEST(ParseScheduleFileTest, StoresAQuotedJsonLookingPayloadAsAString) {
  EXPECT_EQ(PayloadOf("'{\"a\": 1}'"), nlohmann::json("{\"a\": 1}"));
}

TEST(ParseScheduleFileTest, ReadsDurationsWithUnitsOnly) {
  const std::string base = "name: a\n    cron: '@daily'\n    kind: k\n    ";
  EXPECT_EQ(ProblemOf(base + "timeout: 30"), "timeout: 30 needs a unit, e.g. 30s");
  EXPECT_EQ(ProblemOf(base + "jitter: 5"), "jitter: 5 needs a unit, e.g. 5s");
  EXPECT_EQ(ProblemOf(base + "timeout: 5x"),
            "timeout: bad duration \"5x\": expected <number><unit> parts with units ms, s, m, h, d "
            "(500ms, 30s, 5m, 2h, 1h30m)");
  EXPECT_EQ(ProblemOf(base + "timeout: 0s"), "timeout: 0s must be more than 0");
  EXPECT_EQ(ProblemOf(base + "timeout: 8d"), "timeout: 8d is longer than 7d");
  EXPECT_EQ(ProblemOf(base + "jitter: 2h"), "jitter: 2h is out of range 0-1h");
  EXPECT_EQ(ProblemOf(base + "timeout:"), "timeout: has no value");
  ParsedFile parsed = ParseOk("schedules:\n  - " + base + "timeout: '500ms'\n    jitter: 0\n");
  ASSERT_EQ(parsed.schedules.size(), 1u);
  EXPECT_EQ(parsed.schedules[0].timeout, milliseconds(500));
  EXPECT_EQ(parsed.schedules[0].jitter, milliseconds(0));
}

TEST(ParseScheduleFileTest, ReadsOnlyTrueAndFalseAsBooleans) {
  const std::string base = "name: a\n    cron: '@daily'\n    kind: k\n    ";
  EXPECT_EQ(ProblemOf(base + "paused: yes"), "paused: \"yes\" must be true or false");
  EXPECT_EQ(ProblemOf(base + "paused: True"), "paused: \"True\" must be true or false");
  EXPECT_EQ(ProblemOf(base + "paused: 'true'"), "paused: \"true\" must be true or false");
  EXPECT_EQ(ProblemOf(base + "paused: 1"), "paused: \"1\" must be true or false");
  EXPECT_EQ(ProblemOf(base + "paused: {}"), "paused: must be true or false");
}

TEST(ParseScheduleFileTest, CollectsEveryBadEntryAndKeepsTheGoodOnes) {
  ParsedFile parsed = ParseOk(R"(schedules:
  - name: good-1
    cron: "0 */2 * * *"
    kind: reconcile_exam_capacity
  - name: nightly-fanout
    cron: "60 3 * * *"
    kind: process_all_users
  - name: typo
    crn: "0 * * * *"
    kind: k
  - cron: "@daily"
    kind: k
  - name: good-2
    cron: "*/15 * * * *"
    kind: sync_integration
    payload: {provider: github}
  - name: bad-priority
    cron: "@daily"
    kind: k
    priority: 12
  - name: good-1
    cron: "@daily"
    kind: k
  - name: bad-zone
    cron: "@daily"
    kind: k
    time_zone: Mars/Base
)");
  ASSERT_EQ(parsed.schedules.size(), 2u);
  EXPECT_EQ(parsed.schedules[0].name, "good-1");
  EXPECT_EQ(parsed.schedules[1].name, "good-2");
  EXPECT_EQ(parsed.schedules[1].payload, R"({"provider":"github"})");
  ASSERT_EQ(parsed.problems.size(), 6u);
  const struct {
    size_t index;
    const char* name;
    const char* message;
  } expected[] = {
      {1, "nightly-fanout", "cron: minute: 60 is out of range 0-59"},
      {2, "typo", "unknown key \"crn\""},
      {3, "", "name: is required"},
      {5, "bad-priority", "priority: 12 is out of range 0-9"},
      {6, "good-1", "name: \"good-1\" is used by an earlier entry"},
      {7, "bad-zone", "time_zone: \"Mars/Base\": not in the zone database"},
  };
  for (size_t i = 0; i < parsed.problems.size(); ++i) {
    EXPECT_EQ(parsed.problems[i].index, expected[i].index) << i;
    EXPECT_EQ(parsed.problems[i].name, expected[i].name) << i;
    EXPECT_EQ(parsed.problems[i].message, expected[i].message) << i;
  }
}

TEST(ParseScheduleFileTest, ReportsADuplicateNameOnTheLaterEntryEvenWhenTheFirstIsBad) {
  ParsedFile parsed = ParseOk(R"(schedules:
  - {name: twin, cron: "99 * * * *", kind: k}
  - {name: twin, cron: "@daily", kind: k}
  - {name: twin, cron: "@hourly", kind: k}
)");
  EXPECT_TRUE(parsed.schedules.empty());
  ASSERT_EQ(parsed.problems.size(), 3u);
  EXPECT_EQ(parsed.problems[0].message, "cron: minute: 99 is out of range 0-59");
  EXPECT_EQ(parsed.problems[1].index, 1u);
  EXPECT_EQ(parsed.problems[1].message, "name: \"twin\" is used by an earlier entry");
  EXPECT_EQ(parsed.problems[2].index, 2u);
  EXPECT_EQ(parsed.problems[2].message, "name: \"twin\" is used by an earlier entry");
}

TEST(ParseScheduleFileTest, PassesCronOptionsThrough) {
  const std::string yaml = "schedules:\n  - {name: fast, cron: '*/5 * * * * *', kind: k}\n";
  EXPECT_EQ(ParseOk(yaml).problems.size(), 1u);
  ParsedFile parsed = ParseOk(yaml, {.seconds_field = true});
  EXPECT_TRUE(parsed.problems.empty());
  EXPECT_EQ(parsed.schedules.size(), 1u);
}

TEST(ParseScheduleFileTest, NamesLineAndColumnOfMalformedYaml) {
  EXPECT_EQ(ParseError("schedules:\n  - name: a\n    cron: *nope\n"),
            "schedules.yaml:3:11: the referenced anchor is not defined");
  EXPECT_EQ(ParseError("schedules:\n  - name: a\n   kind: x\n"),
            "schedules.yaml:3:4: end of sequence not found");
  EXPECT_EQ(ParseError("schedules:\n\t- name: a\n"), "schedules.yaml:2:2: illegal block entry");
}

TEST(ParseScheduleFileTest, RejectsATopLevelThatIsNotASchedulesList) {
  EXPECT_EQ(ParseError("- name: a\n"),
            "schedules.yaml:1:1: the top level must be a map with a \"schedules\" list");
  EXPECT_EQ(ParseError("just text\n"),
            "schedules.yaml:1:1: the top level must be a map with a \"schedules\" list");
  EXPECT_EQ(ParseError("{}\n"), "schedules.yaml:1:1: the top level must be a map with a \"schedules\" list");
  EXPECT_EQ(ParseError("schedule:\n  - name: a\n"),
            "schedules.yaml:1:1: unknown top-level key \"schedule\"; expected \"schedules\", \"remove\" and \"limits\"");
  EXPECT_EQ(ParseError("schedules: []\nextra: 1\n"),
            "schedules.yaml:2:1: unknown top-level key \"extra\"; expected \"schedules\", \"remove\" and \"limits\"");
  EXPECT_EQ(ParseError("schedules: 5\n"), "schedules.yaml:1:12: \"schedules\" must be a list");
  EXPECT_EQ(ParseError("schedules: {a: 1}\n"), "schedules.yaml:1:12: \"schedules\" must be a list");
  EXPECT_EQ(ParseError("schedules: []\n---\nschedules: []\n"),
            "schedules.yaml:3:1: holds 2 YAML documents; a schedule file has one");
}

TEST(ParseScheduleFileTest, FailsCleanlyOnTenThousandNestedSequences) {
  const std::string deep =
      "schedules:\n  - name: a\n    cron: '@daily'\n    kind: k\n    payload: " + std::string(10'000, '[') +
      std::string(10'000, ']') + "\n";
  const std::string message = ParseError(deep);
  EXPECT_TRUE(message.starts_with("schedules.yaml:5:")) << message;
  EXPECT_TRUE(message.ends_with(": nested too deeply")) << message;
  const std::string unclosed = "schedules: " + std::string(10'000, '[') + "\n";
  EXPECT_TRUE(ParseError(unclosed).starts_with("schedules.yaml:")) << ParseError(unclosed);
}

TEST(ParseScheduleFileTest, LimitsPayloadNestingTo64Levels) {
  EXPECT_EQ(PayloadOf(std::string(64, '[') + std::string(64, ']')).dump(),
            std::string(64, '[') + std::string(64, ']'));
  EXPECT_EQ(ProblemOf("{name: a, cron: '@daily', kind: k, payload: " + std::string(65, '[') +
                      std::string(65, ']') + "}"),
            "payload: nested deeper than 64 levels");
  EXPECT_EQ(ProblemOf("{name: a, cron: '@daily', kind: k, payload: &loop [*loop]}"),
            "payload: nested deeper than 64 levels");
}

TEST(ParseScheduleFileTest, StopsBillionLaughsAliases) {
  std::string yaml = "schedules:\n  - name: lol\n    cron: '@daily'\n    kind: k\n    payload:\n";
  yaml += "      a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  const char* names = "abcdefghi";
  for (int i = 1; i < 9; ++i) {
    yaml += "      " + std::string(1, names[i]) + ": &" + names[i] + " [";
    for (int k = 0; k < 10; ++k) yaml += std::string(k ? ", *" : "*") + names[i - 1];
    yaml += "]\n";
  }
  ParsedFile parsed = ParseOk(yaml);
  EXPECT_TRUE(parsed.schedules.empty());
  ASSERT_EQ(parsed.problems.size(), 1u);
  EXPECT_EQ(parsed.problems[0].name, "lol");
  EXPECT_TRUE(parsed.problems[0].message.starts_with("payload: ")) << parsed.problems[0].message;
}

TEST(ParseScheduleFileTest, BoundsTheValuesAliasesExpandToAcrossTheFile) {
  // Each payload is 1,234 values; the ninth passes a 10,000-value budget and
  // every later one finds it spent.
  std::string yaml = "schedules:\n";
  yaml += "  - name: e0\n    cron: '@daily'\n    kind: k\n    payload: &p\n";
  yaml += "      - &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n";
  yaml += "      - &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n";
  yaml += "      - [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n";
  for (int i = 1; i < 20; ++i) {
    yaml += "  - {name: e" + std::to_string(i) + ", cron: '@daily', kind: k, payload: *p}\n";
  }
  auto parsed = internal::ParseScheduleFile(yaml, "s.yaml", {}, {.max_values = 10'000});
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->schedules.size(), 8u);
  ASSERT_EQ(parsed->problems.size(), 12u);
  for (size_t i = 0; i < parsed->problems.size(); ++i) {
    EXPECT_EQ(parsed->problems[i].index, 8 + i);
    EXPECT_EQ(parsed->problems[i].message,
              "payload: the file's payloads hold more than 10000 values in all (aliases expanding?)");
  }
}

TEST(ParseScheduleFileTest, BoundsTheTextAliasesExpandToAcrossTheFile) {
  std::string yaml = "schedules:\n  - {name: e0, cron: '@daily', kind: k, payload: &big '" +
                     std::string(90'000, 'x') + "'}\n";
  for (int i = 1; i < 20; ++i) {
    yaml += "  - {name: e" + std::to_string(i) + ", cron: '@daily', kind: k, payload: *big}\n";
  }
  auto parsed = internal::ParseScheduleFile(yaml, "s.yaml", {}, {.max_text_bytes = 1'000'000});
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->schedules.size(), 11u);  // 1,000,000 / 90,002 bytes of JSON each.
  ASSERT_EQ(parsed->problems.size(), 9u);
  EXPECT_EQ(parsed->problems[0].index, 11u);
  EXPECT_EQ(parsed->problems[0].message,
            "payload: the file's payloads hold more than 1000000 bytes of text in all (aliases expanding?)");
}

TEST(ParseScheduleFileTest, LimitsAFileToAMillionValuesAnd64MiBOfPayloadText) {
  const internal::FileLimits limits;
  EXPECT_EQ(limits.max_values, 1'000'000u);
  EXPECT_EQ(limits.max_text_bytes, size_t{64} << 20);
}

TEST(ParseScheduleFileTest, RefusesPayloadsOverOneMebibyte) {
  std::string yaml = "schedules:\n  - name: big\n    cron: '@daily'\n    kind: k\n    payload:\n";
  for (int i = 0; i < 20; ++i) yaml += "      - '" + std::string(60'000, 'x') + "'\n";
  ParsedFile parsed = ParseOk(yaml);
  ASSERT_EQ(parsed.problems.size(), 1u);
  EXPECT_EQ(parsed.problems[0].message, "payload: larger than the 1 MiB limit as JSON");
}

TEST(ParseScheduleFileTest, RefusesLongStringFieldsWithoutEchoingThem) {
  const std::string yaml = "schedules:\n  - {name: a, cron: '" + std::string(5000, '1') + "', kind: k}\n";
  ParsedFile parsed = ParseOk(yaml);
  ASSERT_EQ(parsed.problems.size(), 1u);
  EXPECT_EQ(parsed.problems[0].message, "cron: is longer than 1024 bytes");
  const std::string long_name =
      "schedules:\n  - {name: '" + std::string(5000, 'n') + "', cron: '@daily', kind: k}\n";
  parsed = ParseOk(long_name);
  ASSERT_EQ(parsed.problems.size(), 1u);
  EXPECT_EQ(parsed.problems[0].message, "name: is longer than 1024 bytes");
  EXPECT_LT(parsed.problems[0].name.size(), 200u);
}

TEST(ParseScheduleFileTest, RefusesTextOverFourMebibytes) {
  const std::string huge = "schedules: []\n#" + std::string(4 << 20, 'x') + "\n";
  EXPECT_EQ(ParseError(huge), "schedules.yaml: larger than the 4 MiB limit for a schedule file");
}

// Mutates the header example at random (fixed seed): whatever comes back,
// nothing throws, every returned spec passes Validate and every message is
// one line.
TEST(ParseScheduleFileTest, SurvivesRandomMutationsOfAGoodFile) {
  const std::string good =
      std::string(kHeaderExample) +
      "  - {name: b, cron: '@hourly', kind: k, payload: &x [1, {a: *x}], timeout: 30s}\n";
  const std::string alphabet = "[]{}:,&*!|>'\"#-? \n\t0a\xff";
  std::mt19937 rng(20240531);
  size_t parsed_ok = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string text = good;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % text.size();
      const char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          text[at] = c;
          break;
        case 1:
          text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        default:
          text.erase(at, 1);
      }
    }
    auto parsed = ParseScheduleFile(text, "m.yaml");
    if (!parsed) {
      EXPECT_EQ(parsed.error().message.find('\n'), std::string::npos) << parsed.error().message;
      continue;
    }
    ++parsed_ok;
    for (const ScheduleSpec& spec : parsed->schedules) {
      EXPECT_TRUE(Validate(spec)) << text;
    }
    for (const Problem& problem : parsed->problems) {
      EXPECT_FALSE(problem.message.empty()) << text;
      EXPECT_EQ(problem.message.find('\n'), std::string::npos) << problem.message;
    }
    const std::string report = FormatProblems("m.yaml", parsed->problems);
    EXPECT_EQ(static_cast<size_t>(std::count(report.begin(), report.end(), '\n')) + 1,
              std::max<size_t>(parsed->problems.size(), 1))
        << report;
  }
  EXPECT_GT(parsed_ok, 100u);  // The mutations reach past the YAML parser.
}

class LoadScheduleFileTest : public testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = testing::TempDir() + "/schedule_file_test_" + name;
    std::ofstream(path, std::ios::binary) << text;
    paths_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const std::string& path : paths_) std::remove(path.c_str());
  }

 private:
  std::vector<std::string> paths_;
};

TEST_F(LoadScheduleFileTest, ReadsAFile) {
  const std::string path = Write("good.yaml", kHeaderExample);
  auto parsed = LoadScheduleFile(path);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->schedules.size(), 1u);
  EXPECT_EQ(parsed->schedules[0].name, "reconcile-exam-capacity");
}

TEST_F(LoadScheduleFileTest, NamesTheFileInYamlErrors) {
  const std::string path = Write("bad.yaml", "schedules:\n  - name: a\n    cron: *nope\n");
  auto parsed = LoadScheduleFile(path);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message, path + ":3:11: the referenced anchor is not defined");
}

TEST_F(LoadScheduleFileTest, RejectsAMissingFile) {
  const std::string path = testing::TempDir() + "/schedule_file_test_missing.yaml";
  auto parsed = LoadScheduleFile(path);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(parsed.error().message, path + ": cannot read: No such file or directory");
}

TEST_F(LoadScheduleFileTest, RejectsADirectory) {
  auto parsed = LoadScheduleFile(testing::TempDir());
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(parsed.error().message.ends_with(": cannot read: Is a directory")) << parsed.error().message;
}

TEST_F(LoadScheduleFileTest, RefusesFilesOverFourMebibytes) {
  const std::string path = Write("huge.yaml", "schedules: []\n#" + std::string(5 << 20, 'x') + "\n");
  auto parsed = LoadScheduleFile(path);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().message, path + ": larger than the 4 MiB limit for a schedule file");
}

TEST(FormatProblemsTest, PrintsOneLinePerProblem) {
  const std::vector<Problem> problems = {
      {.index = 3, .name = "nightly-fanout", .message = "cron: minute: 60 is out of range 0-59"},
      {.index = 4, .name = "", .message = "name: is required"},
  };
  EXPECT_EQ(FormatProblems("schedules.yaml", problems),
            "schedules.yaml: entry 3 (nightly-fanout): cron: minute: 60 is out of range 0-59\n"
            "schedules.yaml: entry 4: name: is required");
  EXPECT_EQ(FormatProblems("schedules.yaml", {}), "");
}

TEST(FormatProblemsTest, KeepsEachProblemOnOneLine) {
  const std::vector<Problem> problems = {{.index = 0, .name = "a\nb", .message = "x\ny"}};
  EXPECT_EQ(FormatProblems("f", problems), "f: entry 0 (a b): x y");
}

}  // namespace
}  // namespace chime::schedule

namespace chime::schedule {
namespace {

TEST(ParseScheduleFileLimitsTest, ReadsLimitsBesideSchedules) {
  auto parsed = ParseScheduleFile(R"(
schedules: []
limits:
  - name: github-rate
    kind: sync_integration
    partition_by: provider
    rate: 5000/1h
  - name: one-sync-per-user
    queue: default
    kind: sync_integration
    partition_by: userId
    concurrency: 1
)",
                                  "f.yaml");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  ASSERT_TRUE(parsed->problems.empty()) << FormatProblems("f.yaml", parsed->problems);
  ASSERT_EQ(parsed->limits.size(), 2u);
  const LimitSpec& rate = parsed->limits[0];
  EXPECT_EQ(rate.name, "github-rate");
  EXPECT_EQ(rate.kind, "sync_integration");
  EXPECT_EQ(rate.partition_by, "provider");
  EXPECT_FALSE(rate.queue.has_value());
  EXPECT_FALSE(rate.concurrency.has_value());
  ASSERT_TRUE(rate.rate.has_value());
  EXPECT_EQ(rate.rate->count, 5000);
  EXPECT_EQ(rate.rate->window, std::chrono::hours(1));
  EXPECT_EQ(parsed->limits[1].concurrency, 1);
  EXPECT_EQ(parsed->limits[1].queue, "default");
}

TEST(ParseScheduleFileLimitsTest, NamesEachBadLimitAndKeepsTheGoodOnes) {
  auto parsed = ParseScheduleFile(R"(
schedules:
  - {name: a, cron: "* * * * *", kind: noop}
limits:
  - {name: ok, kind: k, concurrency: 2}
  - {name: no-budget, kind: k}
  - {name: bad-rate, rate: "100 per minute"}
  - {name: ok, concurrency: 1}
  - {name: typo, concurency: 1}
  - {name: "a/b", concurrency: 1}
  - {name: field, partition_by: "user.id", concurrency: 1}
  - {name: big, concurrency: 0}
  - just-a-string
)",
                                  "f.yaml");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  EXPECT_EQ(parsed->schedules.size(), 1u);
  ASSERT_EQ(parsed->limits.size(), 1u);
  EXPECT_EQ(parsed->limits[0].name, "ok");
  const std::string report = FormatProblems("f.yaml", parsed->problems);
  EXPECT_EQ(parsed->problems.size(), 8u) << report;
  for (const char* expected :
       {"f.yaml: limits entry 1 (no-budget): limit: needs a concurrency, a rate or both",
        "f.yaml: limits entry 2 (bad-rate): rate:", "f.yaml: limits entry 3 (ok): name: \"ok\" is used by an earlier limit",
        "f.yaml: limits entry 4 (typo): unknown key \"concurency\"", "limits entry 5 (a/b): name:",
        "limits entry 6 (field): partition_by:", "limits entry 7 (big): concurrency: 0 is out of range",
        "limits entry 8: a limit must be a map"}) {
    EXPECT_NE(report.find(expected), std::string::npos) << expected << "\n" << report;
  }
}

TEST(ParseScheduleFileLimitsTest, RefusesALimitsKeyThatIsNotAList) {
  auto parsed = ParseScheduleFile("schedules: []\nlimits: {name: x}\n", "f.yaml");
  ASSERT_FALSE(parsed.has_value());
  EXPECT_NE(parsed.error().message.find("\"limits\" must be a list"), std::string::npos) << parsed.error().message;
}

}  // namespace
}  // namespace chime::schedule

namespace chime::schedule {
namespace {

TEST(ParseKindsFileLimitsTest, ReadsTheLimitsAndLeavesTheRestToTheWorker) {
  auto parsed = ParseKindsFileLimits(R"(
providers:
  - name: github
    cadence: 15m
limits:
  - name: provider-rate
    kind: sync_integration
    partition_by: provider
    rate: 5000/1h
http: {allow: [10.0.0.0/8]}
)",
                                     "kinds.yaml");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  ASSERT_TRUE(parsed->problems.empty()) << FormatProblems("kinds.yaml", parsed->problems);
  ASSERT_EQ(parsed->limits.size(), 1u);
  EXPECT_EQ(parsed->limits[0].name, "provider-rate");
  EXPECT_EQ(parsed->limits[0].partition_by, "provider");
  ASSERT_TRUE(parsed->limits[0].rate.has_value());
  EXPECT_EQ(parsed->limits[0].rate->count, 5000);
  EXPECT_EQ(parsed->limits[0].rate->window, std::chrono::hours(1));
}

TEST(ParseKindsFileLimitsTest, AFileWithoutLimitsDeclaresNone) {
  for (const char* text : {"", "# nothing\n", "providers: []\n", "limits:\n", "limits: []\n"}) {
    auto parsed = ParseKindsFileLimits(text, "kinds.yaml");
    ASSERT_TRUE(parsed.has_value()) << text << ": " << parsed.error().ToString();
    EXPECT_TRUE(parsed->limits.empty()) << text;
    EXPECT_TRUE(parsed->problems.empty()) << text;
  }
}

TEST(ParseKindsFileLimitsTest, BadLimitsAreNamedAsInTheScheduleFile) {
  auto parsed = ParseKindsFileLimits(R"(
limits:
  - {name: ok, kind: k, concurrency: 2}
  - {name: no-budget, kind: k}
  - {name: ok, rate: 10/s}
  - {name: typo, concurency: 1}
)",
                                     "kinds.yaml");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
  ASSERT_EQ(parsed->limits.size(), 1u);
  EXPECT_EQ(FormatProblems("kinds.yaml", parsed->problems),
            "kinds.yaml: limits entry 1 (no-budget): limit: needs a concurrency, a rate or both\n"
            "kinds.yaml: limits entry 2 (ok): name: \"ok\" is used by an earlier limit\n"
            "kinds.yaml: limits entry 3 (typo): unknown key \"concurency\"; a limit has name, queue, kind, "
            "partition_by, concurrency, rate");
}

TEST(ParseKindsFileLimitsTest, ALimitsKeyThatIsNotAListOrATopLevelThatIsNotAMapIsAnError) {
  for (const auto& [text, expected] :
       std::vector<std::pair<std::string, std::string>>{
           {"limits: {name: x}\n", "kinds.yaml:1:9: \"limits\" must be a list of limits"},
           {"limits: []\nlimits: []\n", "kinds.yaml:2:1: duplicate key \"limits\""},
           {"- a\n- b\n", "kinds.yaml:1:1: the top level must be a map"},
           {"limits: [\n", "kinds.yaml:2:1: "}}) {
    auto parsed = ParseKindsFileLimits(text, "kinds.yaml");
    ASSERT_FALSE(parsed.has_value()) << text;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument) << text;
    EXPECT_EQ(parsed.error().message.rfind(expected, 0), 0u) << parsed.error().message;
  }
}

TEST(CombineFileLimitsTest, KeepsBothFilesLimitsAndRefusesANameDeclaredTwice) {
  const std::vector<LimitSpec> schedule_file = {{.name = "one-sync-per-user", .concurrency = 1}};
  const std::vector<LimitSpec> kinds_file = {{.name = "provider-rate", .rate = LimitRate{5000, std::chrono::hours(1)}}};
  auto both = CombineFileLimits("schedules.yaml", schedule_file, "kinds.yaml", kinds_file);
  ASSERT_TRUE(both.has_value()) << both.error().ToString();
  ASSERT_EQ(both->size(), 2u);
  EXPECT_EQ((*both)[0].name, "one-sync-per-user");
  EXPECT_EQ((*both)[1].name, "provider-rate");

  auto twice = CombineFileLimits("schedules.yaml", kinds_file, "kinds.yaml", kinds_file);
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(twice.error().message,
            "limit \"provider-rate\" is declared in both schedules.yaml and kinds.yaml; declare it in one");
}

// The shipped pairs (the demo's compose files, Kubernetes, the examples):
// the schedule file keeps one sync per user, the kinds file paces each
// provider, and the scheduler can load both.
TEST(CombineFileLimitsTest, TheShippedFilesDeclareEachLimitOnce) {
  const std::string root = CHIME_SOURCE_DIR;
  for (const auto& [schedules, kinds] : std::vector<std::pair<std::string, std::string>>{
           {"/deploy/schedules.example.yaml", "/deploy/kinds.compose.yaml"},
           {"/deploy/schedules.example.yaml", "/deploy/kinds.example.yaml"},
           {"/deploy/k8s/schedules.yaml", "/deploy/k8s/kinds.yaml"}}) {
    auto s = LoadScheduleFile(root + schedules);
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    auto k = LoadKindsFileLimits(root + kinds);
    ASSERT_TRUE(k.has_value()) << k.error().ToString();
    ASSERT_TRUE(k->problems.empty()) << FormatProblems(kinds, k->problems);
    auto both = CombineFileLimits(schedules, s->limits, kinds, k->limits);
    ASSERT_TRUE(both.has_value()) << both.error().ToString();
    std::vector<std::string> names;
    for (const auto& l : *both) names.push_back(l.name);
    EXPECT_EQ(names, (std::vector<std::string>{"one-sync-per-user", "provider-rate"})) << schedules << " " << kinds;
  }
}

}  // namespace
}  // namespace chime::schedule
