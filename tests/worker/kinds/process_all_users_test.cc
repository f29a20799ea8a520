// process_all_users against a real PostgreSQL: exactly the due integrations
// get a child, reruns add none, maxUsers caps, dry runs change nothing, bad
// payloads fail permanently, and pages join up.
#include "worker/kinds/process_all_users.h"

#include <gtest/gtest.h>

#include <future>

#include "tests/support/test_database.h"
#include "tests/worker/kinds/job_harness.h"
#include "worker/kinds/app_config.h"

namespace chime::worker::kinds {
namespace {

using testing::JobHarness;

bool StartsWith(const std::string& text, const std::string& prefix) { return text.starts_with(prefix); }

class ProcessAllUsersTest : public ::testing::Test {
 protected:
  std::string Sql(const std::string& sql) { return db_.Scalar(sql); }

  // The fixture's due integrations, one per line, and what is not due:
  //   user 1: github never synced (due); notion 10 min ago (not due at 30);
  //           slack 40 min ago (due); google_calendar inactive.
  //   user 2: inactive user, github never synced.
  //   user 3: github needs re-auth; notion with its own 120-minute cadence,
  //           60 min ago (not due); slack with its own 5-minute cadence,
  //           10 min ago (due).
  //   user 4: jira, a provider the config does not list, never synced.
  //   user 5: github 16 min ago (due at 15).
  void InsertMixedIntegrations() {
    db_.Exec(R"sql(
      INSERT INTO chime_app.users (id, email, active) VALUES
        (1, 'a@example.com', true), (2, 'b@example.com', false), (3, 'c@example.com', true),
        (4, 'd@example.com', true), (5, 'e@example.com', true);
      INSERT INTO chime_app.integrations
        (user_id, provider, active, cadence_minutes, last_synced_at, needs_reauth) VALUES
        (1, 'github', true, NULL, NULL, false),
        (1, 'notion', true, NULL, now() - interval '10 minutes', false),
        (1, 'slack', true, NULL, now() - interval '40 minutes', false),
        (1, 'google_calendar', false, NULL, NULL, false),
        (2, 'github', true, NULL, NULL, false),
        (3, 'github', true, NULL, NULL, true),
        (3, 'notion', true, 120, now() - interval '60 minutes', false),
        (3, 'slack', true, 5, now() - interval '10 minutes', false),
        (4, 'jira', true, NULL, NULL, false),
        (5, 'github', true, NULL, now() - interval '16 minutes', false))sql");
  }

  // `users` users with github and notion never synced: 2 due rows each.
  void InsertDueUsers(int users) {
    db_.Exec("INSERT INTO chime_app.users (id, email) SELECT g, 'u' || g FROM generate_series(1, " +
             std::to_string(users) + ") g");
    db_.Exec(
        "INSERT INTO chime_app.integrations (user_id, provider) SELECT u.id, p FROM chime_app.users u "
        "CROSS JOIN unnest(ARRAY['github', 'notion']) p");
  }

  std::string ChildKeys() {
    return Sql("SELECT string_agg(unique_key, ' ' ORDER BY unique_key) FROM chime.jobs_all WHERE kind = 'sync_integration'");
  }

  chime::testing::TestDatabase db_;
  JobHarness harness_{db_};
  ProcessAllUsers handler_{DefaultAppConfig()};
};

TEST_F(ProcessAllUsersTest, EnqueuesOneChildPerDueIntegration) {
  InsertMixedIntegrations();
  const HandlerResult result = harness_.Run(handler_, nlohmann::json::object());
  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess) << result.summary.dump();
  EXPECT_EQ(ChildKeys(),
            "user:1:provider:github user:1:provider:slack user:3:provider:slack user:5:provider:github");
  EXPECT_EQ(result.summary["usersProcessed"], 3);
  EXPECT_EQ(result.summary["jobsQueued"], 4);
  EXPECT_EQ(result.summary["jobsSkipped"], 0);
  EXPECT_EQ(result.summary["jobType"], "scheduled-sync");
  EXPECT_EQ(result.summary["timeframeDays"], 1);
  EXPECT_EQ(result.summary["invocation"], "manual");
  EXPECT_EQ(result.summary["dryRun"], false);
}

TEST_F(ProcessAllUsersTest, ChildrenCarryTheSyncPayloadAndTheirParent) {
  InsertMixedIntegrations();
  const HandlerResult result =
      harness_.Run(handler_, {{"jobType", "manual-sync"}, {"timeframeDays", 7}},
                   {.invocation = db::Invocation::kCron});
  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess) << result.summary.dump();
  const std::string parent = std::to_string(harness_.last_job_id());
  EXPECT_EQ(Sql("SELECT count(*) FROM chime.jobs_all WHERE kind = 'sync_integration' AND parent_id = " + parent +
                " AND invocation = 'cron' AND state = 'available' AND max_attempts = 5"),
            "4");
  EXPECT_EQ(nlohmann::json::parse(Sql("SELECT payload::text FROM chime.jobs_all WHERE unique_key = 'user:3:provider:slack'")),
            (nlohmann::json{{"userId", 3}, {"provider", "slack"}, {"jobType", "manual-sync"}, {"timeframeDays", 7}}));
  EXPECT_EQ(result.summary["invocation"], "cron");
  EXPECT_EQ(nlohmann::json::parse(Sql("SELECT progress::text FROM chime.jobs_all WHERE id = " + parent)),
            (nlohmann::json{{"usersProcessed", 3}, {"jobsQueued", 4}, {"jobsSkipped", 0}}));
}

TEST_F(ProcessAllUsersTest, ARerunWhileChildrenArePendingEnqueuesNone) {
  InsertMixedIntegrations();
  ASSERT_EQ(harness_.Run(handler_, nlohmann::json::object()).kind, HandlerResult::Kind::kSuccess);
  const HandlerResult again = harness_.Run(handler_, nlohmann::json::object());
  ASSERT_EQ(again.kind, HandlerResult::Kind::kSuccess) << again.summary.dump();
  EXPECT_EQ(again.summary["jobsQueued"], 0);
  EXPECT_EQ(again.summary["jobsSkipped"], 4);
  EXPECT_EQ(again.summary["usersProcessed"], 0);
  EXPECT_EQ(Sql("SELECT count(*) FROM chime.jobs_all WHERE kind = 'sync_integration'"), "4");
}

TEST_F(ProcessAllUsersTest, AFinishedSyncNoLongerCountsAsPending) {
  InsertMixedIntegrations();
  ASSERT_EQ(harness_.Run(handler_, nlohmann::json::object()).kind, HandlerResult::Kind::kSuccess);
  // user 5's sync failed for good without recording a sync: still due.
  db_.Exec("UPDATE chime.jobs SET state = 'discarded', finished_at = now() WHERE unique_key = 'user:5:provider:github'");
  const HandlerResult again = harness_.Run(handler_, nlohmann::json::object());
  EXPECT_EQ(again.summary["jobsQueued"], 1);
  EXPECT_EQ(again.summary["jobsSkipped"], 3);
  EXPECT_EQ(Sql("SELECT count(*) FROM chime.jobs_all WHERE unique_key = 'user:5:provider:github'"), "2");
}

TEST_F(ProcessAllUsersTest, MaxUsersCapsTheUsersWhoGetSyncs) {
  InsertDueUsers(10);
  const HandlerResult first = harness_.Run(handler_, {{"maxUsers", 3}});
  ASSERT_EQ(first.kind, HandlerResult::Kind::kSuccess) << first.summary.dump();
  EXPECT_EQ(first.summary["usersProcessed"], 3);
  EXPECT_EQ(first.summary["jobsQueued"], 6);
  EXPECT_EQ(first.summary["maxUsers"], 3);
  EXPECT_EQ(ChildKeys(),
            "user:1:provider:github user:1:provider:notion user:2:provider:github user:2:provider:notion "
            "user:3:provider:github user:3:provider:notion");
  // Pending users do not use up the cap: the next run moves on.
  const HandlerResult second = harness_.Run(handler_, {{"maxUsers", 3}});
  EXPECT_EQ(second.summary["usersProcessed"], 3);
  EXPECT_EQ(second.summary["jobsQueued"], 6);
  EXPECT_EQ(second.summary["jobsSkipped"], 6);
  EXPECT_EQ(Sql("SELECT count(DISTINCT (payload->>'userId')) FROM chime.jobs_all WHERE kind = 'sync_integration'"), "6");
}

TEST_F(ProcessAllUsersTest, ADryRunReportsTheSameCountsAndChangesNothing) {
  InsertMixedIntegrations();
  const std::string before = Sql("SELECT string_agg(i::text, ';' ORDER BY user_id, provider) FROM chime_app.integrations i");
  const HandlerResult result = harness_.Run(handler_, nlohmann::json::object(), {.dry_run = true});
  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess) << result.summary.dump();
  EXPECT_EQ(result.summary["jobsQueued"], 4);
  EXPECT_EQ(result.summary["usersProcessed"], 3);
  EXPECT_EQ(result.summary["dryRun"], true);
  EXPECT_EQ(Sql("SELECT count(*) FROM chime.jobs_all WHERE kind = 'sync_integration'"), "0");
  EXPECT_EQ(Sql("SELECT string_agg(i::text, ';' ORDER BY user_id, provider) FROM chime_app.integrations i"), before);
}

TEST_F(ProcessAllUsersTest, PagesJoinUpWithoutLosingOrRepeatingRows) {
  const int users = ProcessAllUsers::kPageSize / 2 + 7;  // 2 rows each: a bit over 1 page.
  InsertDueUsers(users);
  const HandlerResult result = harness_.Run(handler_, nlohmann::json::object());
  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess) << result.summary.dump();
  EXPECT_EQ(result.summary["jobsQueued"], 2 * users);
  EXPECT_EQ(result.summary["usersProcessed"], users);
  EXPECT_EQ(Sql("SELECT count(DISTINCT unique_key) FROM chime.jobs_all WHERE kind = 'sync_integration'"),
            std::to_string(2 * users));
}

TEST_F(ProcessAllUsersTest, AStopRequestEndsTheRunRetryablyBeforeAnyWork) {
  InsertMixedIntegrations();
  const HandlerResult result = harness_.Run(handler_, nlohmann::json::object(), {.stop_requested = true});
  ASSERT_EQ(result.kind, HandlerResult::Kind::kFailure);
  EXPECT_TRUE(result.retryable);
  EXPECT_EQ(Sql("SELECT count(*) FROM chime.jobs_all WHERE kind = 'sync_integration'"), "0");
}

TEST_F(ProcessAllUsersTest, AnUnknownJobTypeFailsPermanentlyNamingIt) {
  const HandlerResult result = harness_.Run(handler_, {{"jobType", "nightly"}});
  ASSERT_EQ(result.kind, HandlerResult::Kind::kFailure);
  EXPECT_FALSE(result.retryable);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_NE(result.errors[0].find("jobType: \"nightly\" is not one of scheduled-sync, manual-sync, initial-backfill"),
            std::string::npos)
      << result.errors[0];
}

TEST_F(ProcessAllUsersTest, ParallelSessionsQueueEveryDueIntegrationOnceWithTheSameCounts) {
  // 5,000 users x 2 providers, plus users with nothing due in between: four
  // sessions of 1,250 user ids each.
  InsertDueUsers(5000);
  db_.Exec("UPDATE chime_app.users SET active = false WHERE id % 7 = 0");
  db_.Exec("UPDATE chime_app.integrations SET last_synced_at = now() WHERE user_id % 11 = 0 AND provider = 'notion'");
  const int64_t users = std::stoll(Sql("SELECT count(*) FROM chime_app.users WHERE active"));
  const int64_t due = std::stoll(Sql("SELECT count(*) FROM chime_app.integrations i JOIN chime_app.users u "
                                     "ON u.id = i.user_id WHERE u.active AND i.last_synced_at IS NULL"));
  // Some are pending already: a sync for every user divisible by 13.
  db_.Exec("INSERT INTO chime.jobs (kind, unique_key) SELECT 'sync_integration', 'user:' || u.id || "
           "':provider:github' FROM chime_app.users u WHERE u.id % 13 = 0 AND u.active");
  const int64_t pending = std::stoll(Sql("SELECT count(*) FROM chime.jobs_all"));

  const HandlerResult result = harness_.Run(handler_, {{"parallelism", 4}});

  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess) << result.summary.dump();
  EXPECT_EQ(result.summary["jobsQueued"], due - pending);
  EXPECT_EQ(result.summary["jobsSkipped"], pending);
  // Users divisible by 13 and by 11 have nothing left to queue.
  EXPECT_EQ(result.summary["usersProcessed"],
            users - std::stoll(Sql("SELECT count(*) FROM chime_app.users WHERE active AND id % 143 = 0")));
  const std::string parent = std::to_string(harness_.last_job_id());
  EXPECT_EQ(Sql("SELECT count(*) FROM chime.jobs_all WHERE parent_id = " + parent), std::to_string(due - pending));
  EXPECT_EQ(Sql("SELECT count(*) - count(DISTINCT unique_key) FROM chime.jobs_all WHERE kind = 'sync_integration'"), "0");
  EXPECT_EQ(nlohmann::json::parse(Sql("SELECT progress::text FROM chime.jobs_all WHERE id = " + parent)),
            (nlohmann::json{{"usersProcessed", result.summary["usersProcessed"]},
                            {"jobsQueued", due - pending},
                            {"jobsSkipped", pending}}));
}

TEST_F(ProcessAllUsersTest, AUserWhoseRowsStraddleTwoPagesCountsOnce) {
  // Three providers each: page 1 ends in the middle of user 1,667's rows.
  const int users = ProcessAllUsers::kPageSize / 3 + 40;
  InsertDueUsers(users);
  db_.Exec("INSERT INTO chime_app.integrations (user_id, provider) SELECT id, 'slack' FROM chime_app.users");
  const HandlerResult result = harness_.Run(handler_, {{"parallelism", 1}});
  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess) << result.summary.dump();
  EXPECT_EQ(result.summary["jobsQueued"], 3 * users);
  EXPECT_EQ(result.summary["usersProcessed"], users);
}

TEST_F(ProcessAllUsersTest, ConcurrentRunsNeverDuplicateASync) {
  InsertDueUsers(3000);
  JobHarness other(db_);
  ProcessAllUsers other_handler{DefaultAppConfig()};
  auto a = std::async(std::launch::async, [&] { return harness_.Run(handler_, {{"parallelism", 2}}); });
  auto b = std::async(std::launch::async, [&] { return other.Run(other_handler, {{"parallelism", 3}}, {.queue = "harness-2"}); });
  const HandlerResult ra = a.get();
  const HandlerResult rb = b.get();
  ASSERT_EQ(ra.kind, HandlerResult::Kind::kSuccess) << ra.summary.dump() << (ra.errors.empty() ? "" : ra.errors[0]);
  ASSERT_EQ(rb.kind, HandlerResult::Kind::kSuccess) << rb.summary.dump() << (rb.errors.empty() ? "" : rb.errors[0]);
  EXPECT_EQ(ra.summary["jobsQueued"].get<int64_t>() + rb.summary["jobsQueued"].get<int64_t>(), 6000);
  EXPECT_EQ(ra.summary["jobsQueued"].get<int64_t>() + ra.summary["jobsSkipped"].get<int64_t>(), 6000);
  EXPECT_EQ(rb.summary["jobsQueued"].get<int64_t>() + rb.summary["jobsSkipped"].get<int64_t>(), 6000);
  EXPECT_EQ(Sql("SELECT count(*) || ' ' || count(DISTINCT unique_key) FROM chime.jobs_all WHERE kind = 'sync_integration'"),
            "6000 6000");
}

TEST(FanOutParamsTest, RejectsBadValuesAndUnknownKeysNamingThem) {
  EXPECT_PRED2(StartsWith, ParseFanOutParams({{"maxUsers", 0}}).error().message, "maxUsers:");
  EXPECT_PRED2(StartsWith, ParseFanOutParams({{"maxUsers", "50"}}).error().message, "maxUsers:");
  EXPECT_PRED2(StartsWith, ParseFanOutParams({{"timeframeDays", 0}}).error().message, "timeframeDays:");
  EXPECT_PRED2(StartsWith, ParseFanOutParams({{"timeframeDays", 366}}).error().message, "timeframeDays:");
  EXPECT_PRED2(StartsWith, ParseFanOutParams({{"maxUser", 5}}).error().message, "maxUser:");
  EXPECT_PRED2(StartsWith, ParseFanOutParams({{"operation", "cleanup_old_jobs"}}).error().message, "operation:");
  EXPECT_PRED2(StartsWith, ParseFanOutParams({{"parallelism", 0}}).error().message, "parallelism:");
  EXPECT_PRED2(StartsWith, ParseFanOutParams({{"parallelism", 17}}).error().message, "parallelism:");
}

TEST(FanOutParamsTest, AcceptsTheSeedsRequestBody) {
  auto params = ParseFanOutParams({{"operation", "process_all_users"}, {"maxUsers", 50},
                                   {"jobType", "initial-backfill"}, {"timeframeDays", 30}});
  ASSERT_TRUE(params.has_value()) << params.error().message;
  EXPECT_EQ(params->max_users, 50);
  EXPECT_EQ(params->job_type, "initial-backfill");
  EXPECT_EQ(params->timeframe_days, 30);
}

}  // namespace
}  // namespace chime::worker::kinds
