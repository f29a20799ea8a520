// jobctl cron next and jobctl schedule ...: against the fake backend, with
// the real cron library and schedule-file parser.
#include <gtest/gtest.h>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "common/schedule/schedule_spec.h"
#include "jobctl/text_view.h"
#include "tests/jobctl/cli_harness.h"

namespace chime::jobctl {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TimePoint At(std::string_view rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  EXPECT_TRUE(t.has_value()) << rfc3339;
  return t.value_or(TimePoint{});
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

size_t CountLines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

class ScheduleCliTest : public test_support::CliTest {
 protected:
  ~ScheduleCliTest() override {
    std::error_code ignored;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
  }

  // Writes `text` to a file of this test's private directory; returns its path.
  std::string WriteFile(const std::string& name, const std::string& text) {
    if (dir_.empty()) {
      const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
      dir_ = std::filesystem::temp_directory_path() /
             ("jobctl_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
      std::filesystem::create_directories(dir_);
    }
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }

  // A stored schedule "reconcile" every two hours in UTC.
  db::ScheduleRow AddSchedule(const std::string& name = "reconcile") {
    db::ScheduleRow row;
    row.id = 3;
    row.spec.name = name;
    row.spec.cron = "0 */2 * * *";
    row.spec.kind = "reconcile_exam_capacity";
    row.spec.payload = R"({"dry_run":true})";
    row.spec.queue = "maintenance";
    row.spec.priority = 3;
    row.spec.max_attempts = 4;
    row.spec.timeout = minutes(5);
    row.spec.jitter = seconds(30);
    row.spec.overlap = schedule::OverlapPolicy::kBufferOne;
    row.spec.misfire = schedule::MisfirePolicy::kRunAll;
    row.created_at = row.updated_at = Now() - hours(24);
    fake.schedules[name] = row;
    return row;
  }

  static db::LeaderState Leader(std::chrono::milliseconds expires_in) {
    db::LeaderState l;
    l.holder = "sched-a";
    l.epoch = 4;
    l.db_now = Now();
    l.expires_at = Now() + expires_in;
    l.acquired_at = Now() - hours(1);
    return l;
  }

  std::filesystem::path dir_;
};

// --- cron next -------------------------------------------------------------

TEST_F(ScheduleCliTest, CronNextPrintsFireTimesStrictlyAfterFrom) {
  ASSERT_EQ(Run({"cron", "next", "0 */2 * * *", "--from", "2026-01-31T01:30:00Z", "--count", "3"}), 0)
      << err.str();
  EXPECT_EQ(out.str(), "2026-01-31T02:00:00Z\n2026-01-31T04:00:00Z\n2026-01-31T06:00:00Z\n");
  EXPECT_EQ(backends_made, 0);

  // Strictly after: a --from on a fire time skips it.
  ASSERT_EQ(Run({"cron", "next", "0 */2 * * *", "--from", "2026-01-31T02:00:00Z", "--count", "1"}), 0);
  EXPECT_EQ(out.str(), "2026-01-31T04:00:00Z\n");
}

TEST_F(ScheduleCliTest, CronNextDefaultsToFiveFromNow) {
  ASSERT_EQ(Run({"cron", "next", "@hourly"}), 0) << err.str();
  EXPECT_EQ(out.str(),
            "2026-01-31T03:00:00Z\n2026-01-31T04:00:00Z\n2026-01-31T05:00:00Z\n"
            "2026-01-31T06:00:00Z\n2026-01-31T07:00:00Z\n");
  ASSERT_EQ(Run({"cron", "next", "0 */2 * * *", "--count", "2", "--json"}), 0);
  EXPECT_EQ(nlohmann::json::parse(out.str()),
            nlohmann::json::parse(R"(["2026-01-31T04:00:00Z", "2026-01-31T06:00:00Z"])"));
  EXPECT_EQ(backends_made, 0);
}

TEST_F(ScheduleCliTest, CronNextFollowsTheZoneAcrossDaylightSaving) {
  // 2026-03-08 02:00 does not exist in New York: the fire moves to 03:00 EDT.
  ASSERT_EQ(Run({"cron", "next", "0 2 * * *", "--tz", "America/New_York", "--from",
                 "2026-03-06T12:00:00Z", "--count", "4"}),
            0)
      << err.str();
  EXPECT_EQ(out.str(),
            "2026-03-07T07:00:00Z\n2026-03-08T07:00:00Z\n2026-03-09T06:00:00Z\n2026-03-10T06:00:00Z\n");
  // 2026-11-01 01:30 happens twice: a fixed-time schedule fires at the first.
  ASSERT_EQ(Run({"cron", "next", "30 1 * * *", "--tz", "America/New_York", "--from",
                 "2026-10-31T00:00:00Z", "--count", "3"}),
            0);
  EXPECT_EQ(out.str(), "2026-10-31T05:30:00Z\n2026-11-01T05:30:00Z\n2026-11-02T06:30:00Z\n");
}

TEST_F(ScheduleCliTest, CronNextRejectsBadInputWithExitTwoAndNoBackend) {
  EXPECT_EQ(Run({"cron", "next", "61 * * * *"}), 2);
  EXPECT_TRUE(err.str().starts_with("jobctl: ")) << err.str();
  EXPECT_NE(err.str().find("minute"), std::string::npos) << err.str();
  EXPECT_NE(err.str().find("61"), std::string::npos) << err.str();
  EXPECT_EQ(CountLines(err.str()), 1u) << err.str();
  EXPECT_EQ(out.str(), "");

  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"cron", "next", "0 0 30 2 *"},
           {"cron", "next", "* * * *"},
           {"cron", "next", "@reboot"},
           {"cron", "next", "0 2 * * *", "--tz", "Mars/Base"},
           {"cron", "next", "0 2 * * *", "--tz", "../../etc/passwd"},
           {"cron", "next", "0 2 * * *", "--count", "0"},
           {"cron", "next", "0 2 * * *", "--count", "1001"},
           {"cron", "next", "0 2 * * *", "--count", "x"},
           {"cron", "next", "0 2 * * *", "--from", "yesterday"},
           {"cron", "next"},
       }) {
    EXPECT_EQ(Run(args), 2) << args.back();
    EXPECT_TRUE(err.str().starts_with("jobctl: ")) << err.str();
    EXPECT_EQ(CountLines(err.str()), 1u) << err.str();
  }
  EXPECT_EQ(Run({"cron", "next", "0 2 * * *", "--tz", "Mars/Base"}), 2);
  EXPECT_NE(err.str().find("Mars/Base"), std::string::npos) << err.str();
  EXPECT_EQ(backends_made, 0);
}

TEST_F(ScheduleCliTest, CronNextNearTheEndOfTimeDoesNotCrash) {
  const int code = Run({"cron", "next", "0 0 29 2 *", "--from", "9999-12-31T00:00:00Z", "--count", "3"});
  EXPECT_TRUE(code == 0 || code == 2) << code;
  EXPECT_EQ(Run({"cron", "next", "* * * * *", "--count", "1000"}), 0);
  EXPECT_EQ(CountLines(out.str()), 1000u);
}

// --- schedule lint ---------------------------------------------------------

TEST_F(ScheduleCliTest, LintAcceptsAGoodFileWithoutABackend) {
  const std::string path = WriteFile("good.yaml", R"(schedules:
  - name: reconcile-exam-capacity
    cron: "0 */2 * * *"
    kind: reconcile_exam_capacity
    payload: {dry_run: false}
  - name: nightly
    cron: "@daily"
    kind: process_all_users
    time_zone: Europe/Berlin
    timeout: 5m
)");
  ASSERT_EQ(Run({"schedule", "lint", path}), 0) << err.str();
  EXPECT_EQ(out.str(), path + ": 2 schedules OK\n");
  EXPECT_EQ(err.str(), "");
  EXPECT_EQ(backends_made, 0);
}

TEST_F(ScheduleCliTest, LintNamesEveryBadEntry) {
  const std::string path = WriteFile("bad.yaml", R"(schedules:
  - name: bad-cron
    cron: "61 * * * *"
    kind: noop
  - name: fine
    cron: "@hourly"
    kind: noop
  - name: bad-zone
    cron: "@daily"
    kind: noop
    time_zone: Mars/Base
)");
  EXPECT_EQ(Run({"schedule", "lint", path}), 2);
  EXPECT_EQ(out.str(), "");
  const auto lines = Lines(err.str());
  ASSERT_EQ(lines.size(), 3u) << err.str();
  EXPECT_NE(lines[0].find("(bad-cron): cron: minute"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("(bad-zone): time_zone"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("Mars/Base"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[2], "jobctl: " + path + ": 2 of 3 entries invalid");
  EXPECT_EQ(backends_made, 0);
}

TEST_F(ScheduleCliTest, LintRejectsMalformedOrMissingFiles) {
  EXPECT_EQ(Run({"schedule", "lint", WriteFile("broken.yaml", "schedules: [\n  - name: x\n")}), 2);
  EXPECT_TRUE(err.str().starts_with("jobctl: ")) << err.str();
  EXPECT_EQ(CountLines(err.str()), 1u) << err.str();
  EXPECT_EQ(Run({"schedule", "lint", WriteFile("list.yaml", "- name: x\n")}), 2);
  EXPECT_EQ(Run({"schedule", "lint", (dir_ / "absent.yaml").string()}), 2);
  EXPECT_TRUE(err.str().starts_with("jobctl: ")) << err.str();
  EXPECT_EQ(backends_made, 0);
}

TEST_F(ScheduleCliTest, LintReadsStdin) {
  ASSERT_EQ(Run({"schedule", "lint", "-"}, "schedules:\n  - {name: a, cron: '@daily', kind: noop}\n"), 0)
      << err.str();
  EXPECT_EQ(out.str(), "<stdin>: 1 schedule OK\n");
}

// --- create / update -------------------------------------------------------

TEST_F(ScheduleCliTest, CreatePassesEveryFlagAndShowsTheNextFires) {
  ASSERT_EQ(Run({"schedule", "create", "reconcile", "--cron", "0 */2 * * *", "--kind",
                 "reconcile_exam_capacity", "--tz", "Europe/Berlin", "--payload", R"({"dry_run":false})",
                 "--queue", "maintenance", "--priority", "3", "--max-attempts", "4", "--timeout", "5m",
                 "--jitter", "30s", "--overlap", "buffer_one", "--misfire", "run_all"}),
            0)
      << err.str();
  ASSERT_EQ(fake.create_calls.size(), 1u);
  const schedule::ScheduleSpec& s = fake.create_calls[0];
  EXPECT_EQ(s.name, "reconcile");
  EXPECT_EQ(s.cron, "0 */2 * * *");
  EXPECT_EQ(s.time_zone, "Europe/Berlin");
  EXPECT_EQ(s.kind, "reconcile_exam_capacity");
  EXPECT_EQ(s.payload, R"({"dry_run":false})");
  EXPECT_EQ(s.queue, "maintenance");
  EXPECT_EQ(s.priority, 3);
  EXPECT_EQ(s.max_attempts, 4);
  EXPECT_EQ(s.timeout, minutes(5));
  EXPECT_EQ(s.jitter, seconds(30));
  EXPECT_EQ(s.overlap, schedule::OverlapPolicy::kBufferOne);
  EXPECT_EQ(s.misfire, schedule::MisfirePolicy::kRunAll);
  EXPECT_FALSE(s.paused);
  // Even hours in Berlin (UTC+1 in winter) after 03:00 local.
  const std::string text = out.str();
  EXPECT_NE(text.find("next_fires:       2026-01-31T03:00:00Z\n"
                      "                  2026-01-31T05:00:00Z\n"
                      "                  2026-01-31T07:00:00Z\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("overlap:          buffer_one\n"), std::string::npos) << text;
  EXPECT_NE(text.find("state:            active\n"), std::string::npos) << text;
}

TEST_F(ScheduleCliTest, CreateUsesDefaultsAndPrintsJson) {
  ASSERT_EQ(Run({"schedule", "create", "sync", "--cron", "*/15 * * * *", "--kind", "sync_integration",
                 "--paused", "--json"}),
            0)
      << err.str();
  ASSERT_EQ(fake.create_calls.size(), 1u);
  const schedule::ScheduleSpec& s = fake.create_calls[0];
  EXPECT_EQ(s.time_zone, "UTC");
  EXPECT_EQ(s.payload, "{}");
  EXPECT_EQ(s.queue, "default");
  EXPECT_EQ(s.max_attempts, 20);
  EXPECT_FALSE(s.timeout);
  EXPECT_TRUE(s.paused);
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["name"], "sync");
  EXPECT_EQ(j["paused"], true);
  EXPECT_EQ(j["overlap"], "skip");
  EXPECT_TRUE(j["timeout_ms"].is_null());
  EXPECT_TRUE(j["next_fires"].empty());  // Paused.
}

TEST_F(ScheduleCliTest, CreateRejectsBadInputNamingTheFlag) {
  struct Case {
    std::vector<std::string> extra;
    std::string expected;  // In the message.
  };
  for (const Case& c : std::vector<Case>{
           {{"--cron", "61 * * * *"}, "--cron: minute"},
           {{"--tz", "Mars/Base"}, "--tz: "},
           {{"--priority", "12"}, "--priority: 12 is out of range 0-9"},
           {{"--max-attempts", "0"}, "--max-attempts:"},
           {{"--payload", "{bad"}, "--payload: not valid JSON"},
           {{"--overlap", "sometimes"}, "--overlap: unknown policy \"sometimes\""},
           {{"--misfire", "never"}, "--misfire: unknown policy"},
           {{"--timeout", "5x"}, "--timeout:"},
           {{"--jitter", "2h"}, "--jitter:"},
           {{"--kind", "bad kind"}, "--kind:"},
           {{"--queue", ""}, "--queue:"},
           {{"--payload", "{}", "--payload-file", "-"}, "excludes"},
       }) {
    std::vector<std::string> args{"schedule", "create", "s1"};
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    for (const char* required : {"--cron", "--kind"}) {
      if (std::find(c.extra.begin(), c.extra.end(), required) == c.extra.end()) {
        args.insert(args.end(), {required, required == std::string("--cron") ? "@daily" : "noop"});
      }
    }
    EXPECT_EQ(Run(args), 2) << c.expected;
    EXPECT_TRUE(err.str().starts_with("jobctl: ")) << err.str();
    EXPECT_NE(err.str().find(c.expected), std::string::npos) << err.str();
    EXPECT_EQ(CountLines(err.str()), 1u) << err.str();
  }
  EXPECT_EQ(Run({"schedule", "create", "bad name", "--cron", "@daily", "--kind", "noop"}), 2);
  EXPECT_NE(err.str().find("NAME:"), std::string::npos) << err.str();
  EXPECT_EQ(Run({"schedule", "create", "s1", "--cron", "@daily"}), 2);  // No --kind.
  EXPECT_NE(err.str().find("--kind"), std::string::npos) << err.str();
  EXPECT_TRUE(fake.create_calls.empty());
}

TEST_F(ScheduleCliTest, CreateReadsThePayloadFileAndReportsAnExistingName) {
  const std::string path = WriteFile("payload.json", R"({"retentionDays": 7})");
  ASSERT_EQ(Run({"schedule", "create", "cleanup", "--cron", "@daily", "--kind", "cleanup_old_jobs",
                 "--payload-file", path}),
            0)
      << err.str();
  EXPECT_EQ(fake.create_calls.at(0).payload, R"({"retentionDays": 7})");
  EXPECT_EQ(Run({"schedule", "create", "cleanup", "--cron", "@daily", "--kind", "cleanup_old_jobs"}), 4);
  EXPECT_NE(err.str().find("already exists"), std::string::npos) << err.str();
}

TEST_F(ScheduleCliTest, UpdateChangesOnlyTheFlagsGiven) {
  const db::ScheduleRow before = AddSchedule();
  ASSERT_EQ(Run({"schedule", "update", "reconcile", "--priority", "5", "--overlap", "allow",
                 "--timeout", "none", "--tz", "Europe/Berlin"}),
            0)
      << err.str();
  ASSERT_EQ(fake.update_calls.size(), 1u);
  const schedule::ScheduleSpec& s = fake.update_calls[0];
  EXPECT_EQ(s.priority, 5);
  EXPECT_EQ(s.overlap, schedule::OverlapPolicy::kAllow);
  EXPECT_FALSE(s.timeout);
  EXPECT_EQ(s.time_zone, "Europe/Berlin");
  // Everything else as stored.
  EXPECT_EQ(s.name, before.spec.name);
  EXPECT_EQ(s.cron, before.spec.cron);
  EXPECT_EQ(s.kind, before.spec.kind);
  EXPECT_EQ(s.payload, before.spec.payload);
  EXPECT_EQ(s.queue, before.spec.queue);
  EXPECT_EQ(s.max_attempts, before.spec.max_attempts);
  EXPECT_EQ(s.jitter, before.spec.jitter);
  EXPECT_EQ(s.misfire, before.spec.misfire);
  EXPECT_NE(out.str().find("priority:         5\n"), std::string::npos) << out.str();
}

TEST_F(ScheduleCliTest, UpdateNeedsAFlagAndValidatesTheResult) {
  AddSchedule();
  EXPECT_EQ(Run({"schedule", "update", "reconcile"}), 2);
  EXPECT_NE(err.str().find("give at least one flag"), std::string::npos) << err.str();
  EXPECT_EQ(fake.show_calls, 0);
  EXPECT_EQ(Run({"schedule", "update", "reconcile", "--cron", "0 0 31 2 *"}), 2);
  EXPECT_NE(err.str().find("--cron:"), std::string::npos) << err.str();
  EXPECT_EQ(Run({"schedule", "update", "reconcile", "--payload", "[1,"}), 2);
  EXPECT_TRUE(fake.update_calls.empty());
  EXPECT_EQ(Run({"schedule", "update", "absent", "--priority", "1"}), 3);
  EXPECT_EQ(err.str(), "jobctl: schedule \"absent\" not found\n");
}

// --- show / pause / resume / delete ---------------------------------------

TEST_F(ScheduleCliTest, ShowPauseResumeAndDelete) {
  AddSchedule();
  ASSERT_EQ(Run({"schedule", "show", "reconcile"}), 0) << err.str();
  EXPECT_NE(out.str().find("next_fires:       2026-01-31T04:00:00Z\n"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("timeout:          5m\n"), std::string::npos) << out.str();
  ASSERT_EQ(Run({"schedule", "show", "reconcile", "--json"}), 0);
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["payload"]["dry_run"], true);
  EXPECT_EQ(j["next_fires"].size(), 3u);
  EXPECT_EQ(j["next_fires"][0], "2026-01-31T04:00:00.000Z");
  EXPECT_EQ(j["timeout_ms"], 300000);

  ASSERT_EQ(Run({"schedule", "pause", "reconcile"}), 0);
  EXPECT_EQ(out.str(), "schedule reconcile paused\n");
  EXPECT_TRUE(fake.schedules["reconcile"].spec.paused);
  ASSERT_EQ(Run({"schedule", "show", "reconcile"}), 0);
  EXPECT_NE(out.str().find("next_fires:       - (paused)\n"), std::string::npos) << out.str();
  ASSERT_EQ(Run({"schedule", "resume", "reconcile"}), 0);
  EXPECT_EQ(out.str(), "schedule reconcile resumed; next fire 2026-01-31T04:00:00Z\n");
  EXPECT_FALSE(fake.schedules["reconcile"].spec.paused);

  ASSERT_EQ(Run({"schedule", "delete", "reconcile"}), 0);
  EXPECT_EQ(out.str(), "schedule reconcile deleted\n");
  EXPECT_EQ(Run({"schedule", "show", "reconcile"}), 3);
  EXPECT_EQ(Run({"schedule", "pause", "reconcile"}), 3);
  EXPECT_EQ(Run({"schedule", "delete", "reconcile"}), 3);
}

// --- list / leader ---------------------------------------------------------

class ScheduleListTest : public ScheduleCliTest {
 protected:
  ScheduleListTest() {
    db::ScheduleStatus active;
    active.row.spec.name = "reconcile";
    active.row.spec.cron = "0 */2 * * *";
    active.row.spec.kind = "reconcile_exam_capacity";
    active.last_fire_for = At("2026-01-31T02:00:00Z");
    active.last_fire_outcome = db::FireOutcome::kEnqueued;
    active.last_job_id = 17;
    active.last_job_state = db::JobState::kSucceeded;
    active.last_run_outcome = db::JobOutcome::kSucceeded;
    active.last_run_finished_at = At("2026-01-31T02:00:05Z");
    db::ScheduleStatus nightly;
    nightly.row.spec.name = "nightly";
    nightly.row.spec.cron = "0 3 * * *";
    nightly.row.spec.time_zone = "Europe/Berlin";
    nightly.row.spec.kind = "process_all_users";
    nightly.row.spec.paused = true;
    fake.statuses = {active, nightly};
  }
};

TEST_F(ScheduleListTest, ShowsTheLeaderAndEverySchedule) {
  fake.leader = std::optional(Leader(milliseconds(12'500)));
  ASSERT_EQ(Run({"schedule", "list"}), 0) << err.str();
  const auto lines = Lines(out.str());
  ASSERT_EQ(lines.size(), 4u) << out.str();
  EXPECT_EQ(lines[0], "leader: sched-a (epoch 4, lease expires in 12s)");
  EXPECT_TRUE(std::regex_search(lines[1], std::regex("^NAME +CRON +TZ +KIND +STATE +NEXT +LAST_FIRE +LAST_RUN$")))
      << lines[1];
  EXPECT_TRUE(std::regex_search(
      lines[2], std::regex("^reconcile +0 \\*/2 \\* \\* \\* +UTC +reconcile_exam_capacity +active +"
                           "2026-01-31T04:00:00Z +2026-01-31T02:00:00Z enqueued, job 17 succeeded +"
                           "succeeded 2026-01-31T02:00:05Z$")))
      << lines[2];
  EXPECT_TRUE(std::regex_search(
      lines[3], std::regex("^nightly +0 3 \\* \\* \\* +Europe/Berlin +process_all_users +paused +- +- +-$")))
      << lines[3];
}

TEST_F(ScheduleListTest, SaysWhenNoSchedulerLeads) {
  fake.leader = std::optional<db::LeaderState>{};
  ASSERT_EQ(Run({"schedule", "list"}), 0);
  EXPECT_EQ(Lines(out.str()).at(0), "leader: none (no scheduler is leading)");
  fake.leader = std::optional(Leader(-seconds(3)));  // Expired.
  ASSERT_EQ(Run({"schedule", "list"}), 0);
  EXPECT_EQ(Lines(out.str()).at(0), "leader: none (no scheduler is leading)");
  fake.leader = Fail(ErrorCode::kFailedPrecondition, "leader unknown to this scheduler");
  ASSERT_EQ(Run({"schedule", "list"}), 0);
  EXPECT_EQ(Lines(out.str()).at(0), "leader: unknown (leader unknown to this scheduler)");
  EXPECT_EQ(Lines(out.str()).size(), 4u);
}

TEST_F(ScheduleListTest, JsonHasTheLeaderAndEveryField) {
  fake.leader = std::optional(Leader(seconds(12)));
  ASSERT_EQ(Run({"schedule", "list", "--json"}), 0);
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["leader"]["holder"], "sched-a");
  EXPECT_EQ(j["leader"]["epoch"], 4);
  EXPECT_EQ(j["leader"]["leading"], true);
  EXPECT_EQ(j["leader"]["expires_in_ms"], 12000);
  ASSERT_EQ(j["schedules"].size(), 2u);
  const auto& a = j["schedules"][0];
  EXPECT_EQ(a["name"], "reconcile");
  EXPECT_EQ(a["state"], "active");
  EXPECT_EQ(a["next_fire"], "2026-01-31T04:00:00.000Z");
  EXPECT_EQ(a["last_fire_outcome"], "enqueued");
  EXPECT_EQ(a["last_job_id"], 17);
  EXPECT_EQ(a["last_job_state"], "succeeded");
  EXPECT_EQ(a["last_run_outcome"], "succeeded");
  const auto& b = j["schedules"][1];
  EXPECT_EQ(b["state"], "paused");
  EXPECT_TRUE(b["next_fire"].is_null());
  EXPECT_TRUE(b["last_fire_for"].is_null());

  fake.leader = std::optional<db::LeaderState>{};
  ASSERT_EQ(Run({"schedule", "list", "--json"}), 0);
  EXPECT_TRUE(nlohmann::json::parse(out.str())["leader"].is_null());
}

TEST_F(ScheduleListTest, EmptyListStillShowsTheLeader) {
  fake.statuses.clear();
  ASSERT_EQ(Run({"schedule", "list"}), 0);
  EXPECT_EQ(out.str(), "leader: none (no scheduler is leading)\nno schedules\n");
}

TEST_F(ScheduleCliTest, LeaderShowsTheLease) {
  fake.leader = std::optional(Leader(seconds(12)));
  ASSERT_EQ(Run({"schedule", "leader"}), 0);
  EXPECT_TRUE(out.str().starts_with("leader: sched-a (epoch 4, lease expires in 12s)\n")) << out.str();
  EXPECT_NE(out.str().find("acquired_at:      2026-01-31T01:00:00Z\n"), std::string::npos) << out.str();
  fake.leader = std::optional(Leader(-minutes(3)));
  ASSERT_EQ(Run({"schedule", "leader"}), 0);
  EXPECT_TRUE(out.str().starts_with("leader: none (no scheduler is leading)\n")) << out.str();
  EXPECT_NE(out.str().find("last_holder:      sched-a\n"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("(expired 3m ago)"), std::string::npos) << out.str();
  ASSERT_EQ(Run({"schedule", "leader", "--json"}), 0);
  EXPECT_EQ(nlohmann::json::parse(out.str())["leader"]["leading"], false);
  fake.leader = Fail(ErrorCode::kUnavailable, "cannot connect to database");
  EXPECT_EQ(Run({"schedule", "leader"}), 5);
}

// --- trigger / backfill ----------------------------------------------------

TEST_F(ScheduleCliTest, TriggerSaysWhatTheTickDid) {
  fake.trigger_result = db::FireResult{.schedule_id = 3, .scheduled_for = Now(),
                                       .outcome = db::FireOutcome::kEnqueued, .job_id = 17};
  ASSERT_EQ(Run({"schedule", "trigger", "reconcile"}), 0);
  EXPECT_EQ(out.str(), "schedule reconcile: triggered, job 17\n");
  EXPECT_EQ(fake.triggered, std::vector<std::string>{"reconcile"});

  fake.trigger_result = db::FireResult{.schedule_id = 3, .scheduled_for = Now(),
                                       .outcome = db::FireOutcome::kSkippedOverlap};
  ASSERT_EQ(Run({"schedule", "trigger", "reconcile"}), 0);
  EXPECT_EQ(out.str(),
            "schedule reconcile: skipped, a job from an earlier tick is still live (overlap policy skip)\n");

  fake.trigger_result = db::FireResult{.schedule_id = 3, .scheduled_for = Now(),
                                       .outcome = db::FireOutcome::kBuffered};
  ASSERT_EQ(Run({"schedule", "trigger", "reconcile"}), 0);
  EXPECT_TRUE(out.str().starts_with("schedule reconcile: buffered")) << out.str();
  ASSERT_EQ(Run({"schedule", "trigger", "reconcile", "--json"}), 0);
  EXPECT_EQ(nlohmann::json::parse(out.str())["outcome"], "buffered");
}

TEST_F(ScheduleCliTest, TriggerRateLimitExitsWithFailedPrecondition) {
  fake.trigger_result =
      Fail(ErrorCode::kFailedPrecondition,
           "schedule \"reconcile\": 5 manual triggers in the last minute; next allowed at 2026-01-31T02:00:41Z");
  EXPECT_EQ(Run({"schedule", "trigger", "reconcile"}), 4);
  EXPECT_EQ(err.str(),
            "jobctl: schedule \"reconcile\": 5 manual triggers in the last minute; next allowed at "
            "2026-01-31T02:00:41Z\n");
  EXPECT_EQ(out.str(), "");
  fake.trigger_result = test_support::FakeBackend::NoSchedule("absent");
  EXPECT_EQ(Run({"schedule", "trigger", "absent"}), 3);
}

TEST_F(ScheduleCliTest, BackfillPrintsEachTickAndASummary) {
  fake.backfill_result = std::vector<db::FireResult>{
      {3, At("2026-01-30T02:00:00Z"), db::FireOutcome::kEnqueued, 17},
      {3, At("2026-01-30T04:00:00Z"), std::nullopt, std::nullopt},
      {3, At("2026-01-30T06:00:00Z"), db::FireOutcome::kEnqueued, 18},
  };
  ASSERT_EQ(Run({"schedule", "backfill", "reconcile", "--from", "2026-01-30T01:00:00Z", "--to",
                 "2026-01-30T06:00:00+00:00"}),
            0)
      << err.str();
  EXPECT_EQ(out.str(),
            "2026-01-30T02:00:00Z enqueued job 17\n"
            "2026-01-30T04:00:00Z already fired\n"
            "2026-01-30T06:00:00Z enqueued job 18\n"
            "3 ticks: 2 enqueued, 1 already fired\n");
  ASSERT_EQ(fake.backfills.size(), 1u);
  EXPECT_EQ(fake.backfills[0].name, "reconcile");
  EXPECT_EQ(fake.backfills[0].from, At("2026-01-30T01:00:00Z"));
  EXPECT_EQ(fake.backfills[0].to, At("2026-01-30T06:00:00Z"));

  ASSERT_EQ(Run({"schedule", "backfill", "reconcile", "--from", "2026-01-30T01:00:00Z", "--to",
                 "2026-01-30T06:00:00Z", "--json"}),
            0);
  auto j = nlohmann::json::parse(out.str());
  EXPECT_EQ(j["enqueued"], 2);
  EXPECT_EQ(j["already_fired"], 1);
  EXPECT_EQ(j["ticks"][2]["job_id"], 18);
  EXPECT_TRUE(j["ticks"][1]["outcome"].is_null());
}

TEST_F(ScheduleCliTest, BackfillRejectsBadRangesBeforeTheBackend) {
  EXPECT_EQ(Run({"schedule", "backfill", "r", "--from", "2026-01-30T06:00:00Z", "--to", "2026-01-30T01:00:00Z"}), 2);
  EXPECT_NE(err.str().find("--from must be before --to"), std::string::npos) << err.str();
  EXPECT_EQ(Run({"schedule", "backfill", "r", "--from", "last week", "--to", "2026-01-30T01:00:00Z"}), 2);
  EXPECT_NE(err.str().find("--from:"), std::string::npos) << err.str();
  EXPECT_EQ(Run({"schedule", "backfill", "r", "--from", "2026-01-30T01:00:00Z"}), 2);  // No --to.
  fake.backfill_result = Fail(ErrorCode::kInvalidArgument, "1441 ticks in range; at most 1000: narrow it");
  EXPECT_EQ(Run({"schedule", "backfill", "r", "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-02T00:00:00Z"}), 2);
  EXPECT_EQ(fake.backfills.size(), 1u);
}

// --- import-vercel ---------------------------------------------------------

constexpr const char* kVercelJson = R"({
  "crons": [
    {"path": "/api/cron/sync", "schedule": "*/5 * * * *"},
    {"path": "/api/cron/reconcile?all=1", "schedule": "0 */2 * * *"}
  ]
})";

void ExpectSameSpec(const schedule::ScheduleSpec& a, const schedule::ScheduleSpec& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.cron, b.cron);
  EXPECT_EQ(a.time_zone, b.time_zone);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(nlohmann::json::parse(a.payload), nlohmann::json::parse(b.payload)) << a.payload;
  EXPECT_EQ(a.queue, b.queue);
  EXPECT_EQ(a.priority, b.priority);
  EXPECT_EQ(a.max_attempts, b.max_attempts);
  EXPECT_EQ(a.timeout, b.timeout);
  EXPECT_EQ(a.jitter, b.jitter);
  EXPECT_EQ(a.overlap, b.overlap);
  EXPECT_EQ(a.misfire, b.misfire);
  EXPECT_EQ(a.paused, b.paused);
}

TEST_F(ScheduleCliTest, ImportDryRunPrintsAScheduleFileThatLintAccepts) {
  const std::string vercel = WriteFile("vercel.json", kVercelJson);
  ASSERT_EQ(Run({"schedule", "import-vercel", vercel, "--base-url", "https://app.example.com", "--dry-run"}), 0)
      << err.str();
  EXPECT_EQ(backends_made, 0);
  const std::string yaml = out.str();

  auto expected = schedule::ImportVercel(kVercelJson, {.base_url = "https://app.example.com"});
  ASSERT_TRUE(expected.has_value()) << expected.error().message;
  auto parsed = schedule::ParseScheduleFile(yaml, "dry-run");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message << "\n" << yaml;
  EXPECT_TRUE(parsed->problems.empty()) << schedule::FormatProblems("dry-run", parsed->problems) << "\n"
                                        << yaml;
  ASSERT_EQ(parsed->schedules.size(), 2u) << yaml;
  for (size_t i = 0; i < 2; ++i) ExpectSameSpec(parsed->schedules[i], (*expected)[i]);
  EXPECT_EQ(parsed->schedules[0].name, "vercel-api-cron-sync");

  const std::string file = WriteFile("schedules.yaml", yaml);
  ASSERT_EQ(Run({"schedule", "lint", file}), 0) << err.str();
  EXPECT_EQ(out.str(), file + ": 2 schedules OK\n");

  // From stdin, as JSON.
  ASSERT_EQ(Run({"schedule", "import-vercel", "-", "--base-url", "https://app.example.com", "--dry-run",
                 "--json", "--secret-ref", "env:VERCEL_CRON"},
                kVercelJson),
            0)
      << err.str();
  auto j = nlohmann::json::parse(out.str());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["payload"]["auth"]["secret"], "env:VERCEL_CRON");
  EXPECT_EQ(backends_made, 0);
}

TEST_F(ScheduleCliTest, ScheduleFileRoundTripsUnusualValues) {
  schedule::ScheduleSpec spec;
  spec.name = "odd.name:v2";
  spec.cron = "*/7 1-5 * JAN,mar mon-fri";
  spec.time_zone = "America/Argentina/Buenos_Aires";
  spec.kind = "render_test";
  spec.payload = R"({"q": "say \"hi\"\n# not a comment", "n": [1, 2.5, -3, true, null], "e": {}, "u": "Zürich"})";
  spec.queue = "q-1";
  spec.priority = 9;
  spec.max_attempts = 1;
  spec.timeout = milliseconds(90'500);
  spec.jitter = milliseconds(250);
  spec.overlap = schedule::OverlapPolicy::kCancelRunning;
  spec.misfire = schedule::MisfirePolicy::kSkip;
  spec.paused = true;
  ASSERT_TRUE(schedule::Validate(spec).has_value()) << schedule::Validate(spec).error().message;
  const std::string yaml = RenderScheduleFile({spec}, "line one\nline two");
  auto parsed = schedule::ParseScheduleFile(yaml, "x");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message << "\n" << yaml;
  ASSERT_TRUE(parsed->problems.empty()) << schedule::FormatProblems("x", parsed->problems) << "\n" << yaml;
  ASSERT_EQ(parsed->schedules.size(), 1u);
  ExpectSameSpec(parsed->schedules[0], spec);
  EXPECT_EQ(DurationForParse(milliseconds(90'500)), "1m30s500ms");
  EXPECT_EQ(DurationForParse(hours(49)), "2d1h");
  EXPECT_EQ(DurationForParse(milliseconds(0)), "0s");
}

TEST_F(ScheduleCliTest, ImportCreatesEachScheduleAndReportsExistingOnes) {
  AddSchedule("vercel-api-cron-sync");
  ASSERT_EQ(Run({"schedule", "import-vercel", WriteFile("vercel.json", kVercelJson), "--base-url",
                 "https://app.example.com/"}),
            0)
      << err.str();
  EXPECT_EQ(backends_made, 1);
  EXPECT_EQ(out.str(),
            "exists vercel-api-cron-sync (a schedule of that name exists; left unchanged)\n"
            "created vercel-api-cron-reconcile-all-1 (0 */2 * * *)\n"
            "2 schedules: 1 created, 1 already existed, 0 failed\n");
  ASSERT_EQ(fake.create_calls.size(), 2u);
  EXPECT_EQ(fake.create_calls[1].kind, "http_request");
  auto payload = nlohmann::json::parse(fake.create_calls[1].payload);
  EXPECT_EQ(payload["url"], "https://app.example.com/api/cron/reconcile?all=1");
  EXPECT_EQ(payload["auth"]["secret"], "env:CRON_SECRET");
}

TEST_F(ScheduleCliTest, ImportContinuesPastAFailureAndExitsNonZero) {
  fake.create_errors["vercel-api-cron-sync"] = Error{ErrorCode::kInternal, "disk full"};
  EXPECT_EQ(Run({"schedule", "import-vercel", WriteFile("vercel.json", kVercelJson), "--base-url",
                 "https://app.example.com"}),
            1);
  EXPECT_EQ(fake.create_calls.size(), 2u);
  EXPECT_NE(out.str().find("failed vercel-api-cron-sync: disk full\n"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("created vercel-api-cron-reconcile-all-1"), std::string::npos) << out.str();
  EXPECT_EQ(err.str(), "jobctl: 1 of 2 schedules not created; first error: disk full\n");
}

TEST_F(ScheduleCliTest, ImportRejectsBadInputBeforeCreatingAnything) {
  const std::string vercel = WriteFile("vercel.json", kVercelJson);
  EXPECT_EQ(Run({"schedule", "import-vercel", vercel, "--base-url", "ftp://x"}), 2);
  EXPECT_TRUE(err.str().starts_with("jobctl: --base-url:")) << err.str();
  EXPECT_EQ(Run({"schedule", "import-vercel", vercel, "--base-url", "https://x", "--secret-ref", "hunter2"}), 2);
  EXPECT_TRUE(err.str().starts_with("jobctl: --secret-ref:")) << err.str();
  EXPECT_EQ(err.str().find("hunter2"), std::string::npos) << err.str();
  const std::string bad = WriteFile("bad.json", R"({"crons": [{"path": "/a", "schedule": "61 * * * *"}]})");
  EXPECT_EQ(Run({"schedule", "import-vercel", bad, "--base-url", "https://x"}), 2);
  EXPECT_TRUE(err.str().starts_with("jobctl: " + bad + ": crons[0]: schedule: minute")) << err.str();
  EXPECT_EQ(Run({"schedule", "import-vercel", WriteFile("nojson.json", "{"), "--base-url", "https://x",
                 "--dry-run"}),
            2);
  EXPECT_EQ(CountLines(err.str()), 1u) << err.str();
  EXPECT_EQ(Run({"schedule", "import-vercel", (dir_ / "absent.json").string(), "--base-url", "https://x"}), 2);
  EXPECT_NE(err.str().find("cannot open"), std::string::npos) << err.str();
  EXPECT_EQ(Run({"schedule", "import-vercel", vercel}), 2);  // No --base-url.
  EXPECT_TRUE(fake.create_calls.empty());
}

TEST_F(ScheduleCliTest, ImportVercelTakesTheSeedsOptions) {
  const std::string vercel = WriteFile("vercel.json", kVercelJson);
  ASSERT_EQ(Run({"schedule", "import-vercel", vercel, "--base-url", "https://app.example.com", "--method", "POST",
                 "--auth", "header:x-cron-key", "--secret-ref", "env:INTEGRATIONS_CRON_SECRET", "--timeout", "10m",
                 "--max-attempts", "5", "--overlap", "buffer_one", "--tz", "Europe/Berlin", "--dry-run"}),
            0)
      << err.str();
  EXPECT_EQ(backends_made, 0);
  auto parsed = schedule::ParseScheduleFile(out.str(), "dry-run");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  ASSERT_TRUE(parsed->problems.empty()) << schedule::FormatProblems("dry-run", parsed->problems);
  ASSERT_EQ(parsed->schedules.size(), 2u);
  const auto& spec = parsed->schedules[1];
  EXPECT_EQ(spec.time_zone, "Europe/Berlin");
  EXPECT_EQ(spec.max_attempts, 5);
  EXPECT_EQ(spec.overlap, schedule::OverlapPolicy::kBufferOne);
  const auto payload = nlohmann::json::parse(spec.payload);
  EXPECT_EQ(payload["method"], "POST");
  EXPECT_EQ(payload["url"], "https://app.example.com/api/cron/reconcile?all=1");
  EXPECT_EQ(payload["timeoutMs"], 600000);
  EXPECT_EQ(payload["auth"], nlohmann::json({{"type", "header"}, {"name", "x-cron-key"},
                                             {"secret", "env:INTEGRATIONS_CRON_SECRET"}}));
  EXPECT_EQ(Run({"schedule", "import-vercel", vercel, "--base-url", "https://x", "--auth", "basic"}), 2);
  EXPECT_TRUE(err.str().starts_with("jobctl: --auth:")) << err.str();
  EXPECT_EQ(Run({"schedule", "import-vercel", vercel, "--base-url", "https://x", "--timeout", "2h"}), 2);
  EXPECT_TRUE(err.str().starts_with("jobctl: --timeout:")) << err.str();
  EXPECT_EQ(Run({"schedule", "import-vercel", vercel, "--base-url", "https://x", "--overlap", "never"}), 2);
  EXPECT_TRUE(err.str().starts_with("jobctl: --overlap:")) << err.str();
  EXPECT_TRUE(fake.create_calls.empty());
}

constexpr const char* kGcloudJson = R"([{
  "name": "projects/p/locations/us-central1/jobs/nightly-sync",
  "schedule": "0 2 * * *", "timeZone": "Etc/UTC", "attemptDeadline": "180s",
  "httpTarget": {"uri": "https://yourdomain.com/api/integrations/cron", "httpMethod": "POST",
                 "headers": {"Content-Type": "application/json", "x-cron-key": "YOUR_CRON_SECRET"},
                 "body": "eyJvcGVyYXRpb24iOiJwcm9jZXNzX2FsbF91c2VycyIsInRpbWVmcmFtZURheXMiOjF9"}}])";

TEST_F(ScheduleCliTest, ImportCloudSchedulerPrintsAScheduleFileAndNeverTheSecret) {
  const std::string file = WriteFile("jobs.json", kGcloudJson);
  ASSERT_EQ(Run({"schedule", "import-cloud-scheduler", file, "--secret-ref", "env:INTEGRATIONS_CRON_SECRET",
                 "--dry-run"}),
            0)
      << err.str();
  EXPECT_EQ(backends_made, 0);
  EXPECT_EQ(out.str().find("YOUR_CRON_SECRET"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("by jobctl schedule import-cloud-scheduler"), std::string::npos) << out.str();
  const std::string yaml = WriteFile("schedules.yaml", out.str());
  ASSERT_EQ(Run({"schedule", "lint", yaml}), 0) << err.str();
  auto parsed = schedule::LoadScheduleFile(yaml);
  ASSERT_TRUE(parsed.has_value() && parsed->schedules.size() == 1u);
  const auto payload = nlohmann::json::parse(parsed->schedules[0].payload);
  EXPECT_EQ(payload["auth"]["type"], "header");
  EXPECT_EQ(payload["auth"]["name"], "x-cron-key");
  EXPECT_EQ(payload["body"]["operation"], "process_all_users");

  ASSERT_EQ(Run({"schedule", "import-cloud-scheduler", file, "--secret-ref", "env:K"}), 0) << err.str();
  EXPECT_EQ(out.str(), "created nightly-sync (0 2 * * *)\n1 schedule: 1 created, 0 already existed, 0 failed\n");
  ASSERT_EQ(fake.create_calls.size(), 1u);
  EXPECT_EQ(fake.create_calls[0].payload.find("YOUR_CRON_SECRET"), std::string::npos);

  EXPECT_EQ(Run({"schedule", "import-cloud-scheduler", WriteFile("bad.json", R"([{"name": "j", "schedule": "* * * * *",
    "pubsubTarget": {"topicName": "t"}}])")}),
            2);
  EXPECT_NE(err.str().find("jobs[0] (j): has a pubsubTarget"), std::string::npos) << err.str();
}

// Issue 17: a schedule whose payload carries a secret is refused by create,
// update and lint (and by the scheduler and store, which call the same
// schedule::Validate).
TEST_F(ScheduleCliTest, SchedulesCarryingASecretAreRefusedByCreateUpdateAndLint) {
  const std::string leaky = R"({"url": "https://app.example.com/api/cron", "headers": {"x-cron-key": "s3cr3t-abc"}})";
  EXPECT_EQ(Run({"schedule", "create", "leaky", "--cron", "0 2 * * *", "--kind", "http_request", "--payload", leaky}),
            2);
  EXPECT_TRUE(err.str().starts_with("jobctl: --payload: headers.x-cron-key: credentials are not accepted"))
      << err.str();
  EXPECT_EQ(err.str().find("s3cr3t-abc"), std::string::npos);
  AddSchedule("existing");
  EXPECT_EQ(Run({"schedule", "update", "existing", "--kind", "http_request", "--payload", leaky}), 2);
  EXPECT_TRUE(err.str().starts_with("jobctl: --payload: headers.x-cron-key:")) << err.str();
  EXPECT_TRUE(fake.create_calls.empty());
  EXPECT_TRUE(fake.update_calls.empty());

  const std::string file = WriteFile("leaky.yaml", R"(schedules:
  - name: nightly
    cron: "0 2 * * *"
    kind: http_request
    payload: {url: "https://app.example.com/api/cron", auth: {type: bearer, secret: s3cr3t-abc}}
)");
  EXPECT_EQ(Run({"schedule", "lint", file}), 2);
  EXPECT_NE(err.str().find("entry 0 (nightly): payload: auth.secret: must be a secret reference"), std::string::npos)
      << err.str();
  EXPECT_EQ(err.str().find("s3cr3t-abc"), std::string::npos);
}

// --- the command line itself ------------------------------------------------

TEST_F(ScheduleCliTest, EveryScheduleCommandAnswersHelpWithoutABackend) {
  for (const char* sub : {"lint", "create", "update", "delete", "show", "list", "pause", "resume",
                          "trigger", "backfill", "import-vercel", "import-cloud-scheduler", "leader"}) {
    EXPECT_EQ(Run({"schedule", sub, "--help"}), 0) << sub;
    EXPECT_NE(out.str().find("Exit codes"), std::string::npos) << sub;
  }
  EXPECT_EQ(Run({"cron", "next", "--help"}), 0);
  EXPECT_NE(out.str().find("--tz"), std::string::npos);
  EXPECT_EQ(Run({"schedule", "--help"}), 0);
  EXPECT_NE(out.str().find("import-vercel"), std::string::npos);
  EXPECT_EQ(backends_made, 0);
}

TEST_F(ScheduleCliTest, UnknownOrMissingScheduleCommandsAreUsageErrors) {
  EXPECT_EQ(Run({"schedule"}), 2);
  EXPECT_EQ(err.str(),
            "jobctl: schedule: give a command: lint, list, create, update, show, delete, pause, resume, "
            "trigger, backfill, import-vercel, import-cloud-scheduler, fires, leader\n");
  EXPECT_EQ(Run({"schedule", "bogus"}), 2);
  EXPECT_TRUE(err.str().starts_with("jobctl: unknown schedule command \"bogus\"; commands: lint,")) << err.str();
  EXPECT_EQ(Run({"cron"}), 2);
  EXPECT_EQ(err.str(), "jobctl: cron: give a command: next\n");
  EXPECT_EQ(Run({"schedule", "show"}), 2);  // No NAME.
  EXPECT_TRUE(err.str().starts_with("jobctl: ")) << err.str();
  EXPECT_EQ(Run({"bogus"}), 2);
  EXPECT_NE(err.str().find("schedule"), std::string::npos) << err.str();
  EXPECT_EQ(backends_made, 0);
}

TEST_F(ScheduleCliTest, GlobalOptionsWorkAfterNestedCommands) {
  ASSERT_EQ(Run({"schedule", "list", "--database-url", "postgresql://flag"}), 0) << err.str();
  EXPECT_EQ(backend_url, "postgresql://flag");
  ASSERT_EQ(Run({"--scheduler", "tcp://s:7700", "schedule", "leader"}), 0) << err.str();
  EXPECT_EQ(backend_scheduler, "tcp://s:7700");
  // A schedule named like a command is still a name.
  AddSchedule("list");
  ASSERT_EQ(Run({"schedule", "show", "list"}), 0) << err.str();
  EXPECT_NE(out.str().find("name:             list\n"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace chime::jobctl
