// reconcile_exam_capacity against a real PostgreSQL (schema chime_app) and a
// recording HTTP server on loopback: drift corrected with one signed webhook
// per correction, dry runs, partial success, lost races, fan-out into
// children, and the seed's result fields. Jobs are enqueued and claimed
// through the real JobStore and run by calling the handler directly.
#include "worker/kinds/reconcile_exam_capacity.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <cstdlib>
#include <future>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "common/app/app_schema.h"
#include "common/db/job_store.h"
#include "common/db/migrations.h"
#include "common/http/webhook.h"
#include "tests/support/fake_clock.h"
#include "tests/support/http_test_server.h"
#include "tests/support/test_database.h"
#include "tests/support/wait_until.h"

namespace chime::worker::kinds {
namespace {

using nlohmann::json;

constexpr char kSecretEnv[] = "CHIME_TEST_CAPACITY_WEBHOOK_SECRET";
constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

std::set<std::string> Keys(const json& object) {
  std::set<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.insert(key);
  return keys;
}

class ReconcileExamCapacityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db::MigrationsApply(conn_).has_value());
    ASSERT_TRUE(app::ApplyAppSchema(conn_).has_value());
    ::setenv(kSecretEnv, kSecret, /*overwrite=*/1);
    Endpoint endpoint;
    endpoint.url = server_.Url("/hooks/capacity");
    endpoint.secret_ref = std::string("env:") + kSecretEnv;
    config_.webhook = endpoint;
  }

  // Builds the handler from config_; the address policy opens 127.0.0.1 only.
  std::unique_ptr<ReconcileExamCapacity> MakeHandler() {
    auto policy = http::AddressPolicy::FromLists({"127.0.0.1/32"}, {});
    EXPECT_TRUE(policy.has_value());
    auto client = std::make_shared<const http::HttpClient>(std::move(*policy));
    auto secrets = std::make_shared<const http::SecretResolver>(
        http::SecretRefPolicy{.env_names = {kSecretEnv}, .files = {}});
    auto handler = ReconcileExamCapacity::Create(config_, client, secrets, clock_);
    EXPECT_TRUE(handler.has_value()) << handler.error().ToString();
    return std::move(*handler);
  }

  // An exam with `stored` as its counter, `active_bookings` active and
  // `cancelled` cancelled bookings.
  void AddExam(int64_t id, int stored, int active_bookings, int cancelled = 0, bool active = true) {
    db_.Exec("INSERT INTO chime_app.exams (id, exam_date, mock_type, active, booking_count) VALUES (" +
             std::to_string(id) + ", date '2026-01-01' + " + std::to_string(id % 300) +
             ", 'Mock Discussion', " + (active ? "true" : "false") + ", " + std::to_string(stored) + ")");
    AddBookings(id, active_bookings, true);
    AddBookings(id, cancelled, false);
  }

  void AddBookings(int64_t exam, int count, bool active) {
    db_.Exec("INSERT INTO chime_app.bookings (id, exam_id, active) SELECT " +
             std::to_string(next_booking_) + " + g, " + std::to_string(exam) + ", " +
             (active ? "true" : "false") + " FROM generate_series(1, " + std::to_string(count) + ") g");
    next_booking_ += count;
  }

  int Counter(int64_t exam) {
    return std::stoi(db_.Scalar("SELECT booking_count FROM chime_app.exams WHERE id = " + std::to_string(exam)));
  }

  int64_t Enqueue(const json& payload, bool dry_run = false,
                  db::Invocation invocation = db::Invocation::kCron) {
    db::EnqueueParams params;
    params.kind = std::string(kReconcileExamCapacityKind);
    params.payload = payload.dump();
    params.dry_run = dry_run;
    params.invocation = invocation;
    auto inserted = store_.JobInsert(params);
    EXPECT_TRUE(inserted.has_value());
    return inserted->id;
  }

  // Claims the next ready job and runs it through `handler`.
  HandlerResult RunNext(Handler& handler) {
    auto claimed = store_.JobsClaim(db::ClaimParams{.worker_id = "reconcile-test"});
    EXPECT_TRUE(claimed.has_value() && claimed->size() == 1);
    last_job_ = claimed->front();
    auto logger = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
    JobContext::Services services{[this]() -> Result<db::Connection*> { return &conn_; },
                                  [this]() -> Result<db::JobStore*> { return &store_; }};
    JobContext ctx(last_job_, json::parse(last_job_.payload), {}, logger, services);
    return handler.Run(ctx);
  }

  HandlerResult Run(const json& payload, bool dry_run = false,
                    db::Invocation invocation = db::Invocation::kCron) {
    Enqueue(payload, dry_run, invocation);
    auto handler = MakeHandler();
    return RunNext(*handler);
  }

  // The webhook bodies received, by examId; fails on a bad signature.
  std::map<std::string, json> VerifiedWebhooks() {
    auto key = http::WebhookKey::FromSecret(http::Secret(kSecret));
    EXPECT_TRUE(key.has_value());
    std::map<std::string, json> bodies;
    for (const auto& r : server_.Requests()) {
      EXPECT_EQ(r.method, "POST");
      EXPECT_EQ(r.path, "/hooks/capacity");
      auto verified = chime::testing::VerifyWebhook(*key, r, clock_.WallNow());
      EXPECT_TRUE(verified.has_value()) << verified.error().ToString();
      json body = json::parse(r.body);
      EXPECT_TRUE(bodies.emplace(body["examId"].get<std::string>(), body).second)
          << "two webhooks for exam " << body["examId"];
    }
    return bodies;
  }

  chime::testing::TestDatabase db_;
  db::Connection conn_{db::ConnectionConfig{.url = db_.url()}};
  db::JobStore store_{conn_};
  chime::testing::HttpTestServer server_;
  chime::testing::FakeClock clock_;
  ReconcileExamCapacityConfig config_;
  db::ClaimedJob last_job_;
  int64_t next_booking_ = 0;
};

TEST_F(ReconcileExamCapacityTest, CorrectsDriftAndSendsOneSignedWebhookPerCorrection) {
  AddExam(1, 8, 7, 2);  // One booking too many stored.
  AddExam(2, 3, 7);     // Four too few.
  AddExam(3, 5, 5, 3);  // Accurate.
  AddExam(4, 0, 9, 0, /*active=*/false);  // Not active: not part of "all".

  const HandlerResult result = Run(json::object());

  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess);
  EXPECT_TRUE(result.errors.empty());
  EXPECT_EQ(Counter(1), 7);
  EXPECT_EQ(Counter(2), 7);
  EXPECT_EQ(Counter(3), 5);
  EXPECT_EQ(Counter(4), 0);
  const json& s = result.summary;
  EXPECT_EQ(s["summary"], (json{{"processed", 3}, {"successful", 3}, {"failed", 0}, {"updated", 2},
                                {"unchanged", 1}, {"totalCorrections", 5}}));
  EXPECT_EQ(s["mode"], "live");
  EXPECT_EQ(s["invocation_type"], "cron");
  EXPECT_EQ(s["message"], "⏰ Scheduled sync complete: 2 exams updated");
  ASSERT_EQ(s["results"]["updated"].size(), 2u);
  EXPECT_EQ(s["results"]["updated"][0],
            (json{{"examId", "1"}, {"examDate", "2026-01-02"}, {"mockType", "Mock Discussion"},
                  {"previousCount", 8}, {"actualCount", 7}, {"difference", -1},
                  {"needsUpdate", true}, {"updated", true}}));
  EXPECT_EQ(s["results"]["unchanged"][0]["examId"], "3");

  auto hooks = VerifiedWebhooks();
  ASSERT_EQ(hooks.size(), 2u);
  EXPECT_EQ(hooks["1"], (json{{"type", "exam.capacity.corrected"}, {"examId", "1"},
                              {"examDate", "2026-01-02"}, {"mockType", "Mock Discussion"},
                              {"previousCount", 8}, {"actualCount", 7}, {"difference", -1},
                              {"jobId", last_job_.id}}));
  EXPECT_EQ(hooks["2"]["difference"], 4);
}

TEST_F(ReconcileExamCapacityTest, DryRunReportsTheDifferencesAndChangesNothing) {
  AddExam(1, 8, 7);
  AddExam(2, 5, 5);

  const HandlerResult result = Run(json::object(), /*dry_run=*/true);

  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess);
  EXPECT_EQ(Counter(1), 8);
  EXPECT_EQ(server_.Connections(), 0);
  const json& s = result.summary;
  EXPECT_EQ(s["mode"], "dry_run");
  EXPECT_EQ(s["summary"]["updated"], 1);
  EXPECT_EQ(s["summary"]["unchanged"], 1);
  EXPECT_EQ(s["summary"]["totalCorrections"], 1);
  EXPECT_EQ(s["results"]["updated"][0]["difference"], -1);
  EXPECT_EQ(s["results"]["updated"][0]["needsUpdate"], true);
  EXPECT_EQ(s["results"]["updated"][0]["updated"], false);
  EXPECT_EQ(s["message"], "Dry run complete: 1 exams would be updated");
}

TEST_F(ReconcileExamCapacityTest, PayloadInTheSeedsWordsMakesADryRunOfTheGivenExams) {
  AddExam(1, 8, 7);
  AddExam(2, 1, 4);

  const HandlerResult result = Run({{"mock_exam_ids", {"2"}}, {"dry_run", true}});

  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess);
  EXPECT_EQ(result.summary["mode"], "dry_run");
  EXPECT_EQ(result.summary["summary"]["processed"], 1);
  EXPECT_EQ(result.summary["results"]["updated"][0]["examId"], "2");
  EXPECT_EQ(Counter(2), 1);
  EXPECT_EQ(server_.Connections(), 0);
}

TEST_F(ReconcileExamCapacityTest, PayloadCannotTurnADryRunJobLive) {
  AddExam(1, 8, 7);

  const HandlerResult result = Run({{"dryRun", false}}, /*dry_run=*/true);

  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess);
  EXPECT_EQ(result.summary["mode"], "dry_run");
  EXPECT_EQ(Counter(1), 8);
}

TEST_F(ReconcileExamCapacityTest, UnknownExamIdIsAFailedEntryAndTheOthersAreReconciled) {
  AddExam(1, 8, 7);
  AddExam(2, 5, 5);

  const HandlerResult result = Run({{"examIds", {1, "999", 2, 1}}});

  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess);
  ASSERT_EQ(result.errors, std::vector<std::string>{"exam 999: no such exam"});
  EXPECT_EQ(Counter(1), 7);
  const json& s = result.summary;
  EXPECT_EQ(s["summary"], (json{{"processed", 3}, {"successful", 2}, {"failed", 1}, {"updated", 1},
                                {"unchanged", 1}, {"totalCorrections", 1}}));
  EXPECT_EQ(s["results"]["failed"][0], (json{{"examId", "999"}, {"error", "exam 999: no such exam"}}));
  EXPECT_EQ(VerifiedWebhooks().size(), 1u);
}

TEST_F(ReconcileExamCapacityTest, FailedWebhookKeepsTheCorrectionAndGivesPartialSuccess) {
  AddExam(1, 8, 7);
  AddExam(2, 1, 4);
  server_.Enqueue({.status = 500, .headers = {}, .body = "down", .hold = false});

  const HandlerResult result = Run(json::object());

  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_NE(result.errors[0].find("exam 1: counter corrected 8 -> 7, but the receiver was not told"),
            std::string::npos)
      << result.errors[0];
  EXPECT_NE(result.errors[0].find("HTTP 500"), std::string::npos) << result.errors[0];
  EXPECT_EQ(Counter(1), 7);
  EXPECT_EQ(Counter(2), 4);
  const json& s = result.summary;
  EXPECT_EQ(s["summary"], (json{{"processed", 2}, {"successful", 1}, {"failed", 1}, {"updated", 1},
                                {"unchanged", 0}, {"totalCorrections", 4}}));
  EXPECT_EQ(s["results"]["failed"][0]["updated"], true);
  EXPECT_EQ(s["results"]["updated"][0]["examId"], "2");
  EXPECT_EQ(VerifiedWebhooks().size(), 2u);
}

TEST_F(ReconcileExamCapacityTest, CounterThatMovesDuringTheSyncIsReportedNotOverwritten) {
  AddExam(1, 8, 7);
  AddExam(2, 1, 4);
  // The application books exam 1 in a transaction that is still open: the
  // reconcile counts without it, then waits on the row.
  pqxx::connection app(db_.url());
  pqxx::work booking(app);
  booking.exec("INSERT INTO chime_app.bookings (id, exam_id) VALUES (1000, 1)");
  booking.exec("UPDATE chime_app.exams SET booking_count = booking_count + 1 WHERE id = 1");
  Enqueue(json::object());
  auto handler = MakeHandler();
  auto running = std::async(std::launch::async, [&] { return RunNext(*handler); });
  pqxx::connection watcher(db_.url());
  ASSERT_TRUE(chime::testing::WaitUntil("the reconcile to wait on the booked exam's row lock", [&] {
    pqxx::nontransaction q(watcher);
    return !q.exec("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND "
                   "wait_event_type = 'Lock'").empty();
  }));
  booking.commit();

  const HandlerResult result = running.get();

  ASSERT_EQ(result.kind, HandlerResult::Kind::kSuccess);
  EXPECT_EQ(Counter(1), 9);  // The application's value stands.
  EXPECT_EQ(Counter(2), 4);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0],
            "exam 1: its counter changed from 8 while being reconciled; left as is for the next run");
  EXPECT_EQ(result.summary["results"]["failed"][0]["updated"], false);
  EXPECT_EQ(VerifiedWebhooks().size(), 1u);

  // The next run finds the drift that is left and corrects it.
  const HandlerResult next = Run({{"examIds", {1}}});
  EXPECT_TRUE(next.errors.empty());
  EXPECT_EQ(Counter(1), 8);
}

TEST_F(ReconcileExamCapacityTest, ExamsOverBatchSizeFanOutIntoChildrenCoveringEachExamOnce) {
  std::set<std::string> drifted;
  for (int64_t id = 1; id <= 25; ++id) {
    AddExam(id, id % 3 == 0 ? 0 : 2, 2);
    if (id % 3 == 0) drifted.insert(std::to_string(id));
  }
  AddExam(26, 0, 5, 0, /*active=*/false);
  auto handler = MakeHandler();
  const int64_t parent = Enqueue({{"batchSize", 10}});

  const HandlerResult fan_out = RunNext(*handler);

  ASSERT_EQ(fan_out.kind, HandlerResult::Kind::kSuccess);
  EXPECT_EQ(fan_out.summary,
            (json{{"mode", "live"}, {"invocation_type", "cron"},
                  {"fanOut", {{"exams", 25}, {"children", 3}, {"batchSize", 10}}},
                  {"message", "Capacity sync fanned out: 25 exams in 3 child jobs"}}));
  EXPECT_EQ(server_.Connections(), 0);
  EXPECT_EQ(db_.Scalar("SELECT string_agg(payload->>'examIds', ' ' ORDER BY id) FROM chime.jobs_all "
                       "WHERE parent_id = " + std::to_string(parent) +
                       " AND invocation = 'cron' AND NOT dry_run"),
            "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10] [11, 12, 13, 14, 15, 16, 17, 18, 19, 20] "
            "[21, 22, 23, 24, 25]");

  int processed = 0;
  for (int child = 0; child < 3; ++child) {
    const HandlerResult r = RunNext(*handler);
    EXPECT_EQ(last_job_.parent_id, parent);
    EXPECT_TRUE(r.errors.empty());
    EXPECT_EQ(r.summary["invocation_type"], "cron");
    processed += r.summary["summary"]["processed"].get<int>();
  }
  EXPECT_EQ(processed, 25);
  EXPECT_EQ(db_.Scalar("SELECT count(*) FROM chime_app.exams WHERE active AND booking_count <> 2"), "0");
  std::set<std::string> notified;
  for (const auto& [exam, body] : VerifiedWebhooks()) notified.insert(exam);
  EXPECT_EQ(notified, drifted);
}

TEST_F(ReconcileExamCapacityTest, DryRunFanOutMakesDryRunChildren) {
  for (int64_t id = 1; id <= 3; ++id) AddExam(id, 0, 1);
  const int64_t parent = Enqueue({{"examIds", {3, 1, 2}}, {"batchSize", 2}}, /*dry_run=*/true,
                                 db::Invocation::kManual);
  auto handler = MakeHandler();

  const HandlerResult fan_out = RunNext(*handler);

  EXPECT_EQ(fan_out.summary["mode"], "dry_run");
  EXPECT_EQ(fan_out.summary["invocation_type"], "manual");
  EXPECT_EQ(db_.Scalar("SELECT string_agg(payload->>'examIds', ' ' ORDER BY id) FROM chime.jobs_all "
                       "WHERE parent_id = " + std::to_string(parent) +
                       " AND invocation = 'manual' AND dry_run"),
            "[3, 1] [2]");
  for (int child = 0; child < 2; ++child) EXPECT_EQ(RunNext(*handler).summary["mode"], "dry_run");
  EXPECT_EQ(db_.Scalar("SELECT sum(booking_count) FROM chime_app.exams"), "0");
  EXPECT_EQ(server_.Connections(), 0);
}

TEST_F(ReconcileExamCapacityTest, ResultHasExactlyTheSeedsFieldNames) {
  AddExam(1, 8, 7);
  AddExam(2, 5, 5);

  const HandlerResult result = Run({{"examIds", {1, 2, 3}}}, false, db::Invocation::kManual);

  const json& s = result.summary;
  // The seed's fields, plus the webhooks' delivery (the outbox).
  EXPECT_EQ(Keys(s), (std::set<std::string>{"summary", "mode", "invocation_type", "results", "message",
                                            "webhooks"}));
  EXPECT_EQ(s["webhooks"]["delivered"], 1);
  EXPECT_EQ(s["webhooks"]["pending"], 0);
  EXPECT_EQ(Keys(s["summary"]), (std::set<std::string>{"processed", "successful", "failed", "updated",
                                                       "unchanged", "totalCorrections"}));
  EXPECT_EQ(Keys(s["results"]), (std::set<std::string>{"updated", "unchanged", "failed"}));
  const std::set<std::string> entry{"examId",     "examDate",   "mockType",    "previousCount",
                                    "actualCount", "difference", "needsUpdate", "updated"};
  EXPECT_EQ(Keys(s["results"]["updated"][0]), entry);
  EXPECT_EQ(Keys(s["results"]["unchanged"][0]), entry);
  EXPECT_EQ(s["invocation_type"], "manual");
  EXPECT_EQ(s["message"], "Manual sync complete: 1 exams updated");
}

TEST_F(ReconcileExamCapacityTest, BadPayloadFailsPermanentlyNamingTheField) {
  const std::vector<std::pair<json, std::string>> cases = {
      {json::array(), "payload: must be a JSON object"},
      {{{"examIds", "1"}}, "examIds: must be an array"},
      {{{"examIds", json::array()}}, "examIds: is empty"},
      {{{"examIds", {1, "x2"}}}, "examIds[1]: must be an exam id"},
      {{{"examIds", {1}}, {"mock_exam_ids", {2}}}, "not both"},
      {{{"dryRun", "yes"}}, "dryRun: must be true or false"},
      {{{"batchSize", 0}}, "batchSize: must be an integer from 1 to 10000"},
      {{{"examIDs", {1}}}, "unknown field \"examIDs\""},
  };
  auto handler = MakeHandler();
  for (const auto& [payload, expected] : cases) {
    Enqueue(payload);
    const HandlerResult r = RunNext(*handler);
    ASSERT_EQ(r.kind, HandlerResult::Kind::kFailure) << payload;
    EXPECT_FALSE(r.retryable) << payload;
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].find(expected), std::string::npos) << r.errors[0];
    EXPECT_EQ(r.errors[0].rfind("reconcile_exam_capacity: ", 0), 0u) << r.errors[0];
  }
}

TEST_F(ReconcileExamCapacityTest, UnresolvableSecretFailsTheRunWithNothingChanged) {
  AddExam(1, 8, 7);
  ::unsetenv(kSecretEnv);

  const HandlerResult result = Run(json::object());

  ASSERT_EQ(result.kind, HandlerResult::Kind::kFailure);
  EXPECT_TRUE(result.retryable);  // The operator may still set it.
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_NE(result.errors[0].find(kSecretEnv), std::string::npos) << result.errors[0];
  EXPECT_EQ(Counter(1), 8);
  EXPECT_EQ(server_.Connections(), 0);
}

TEST_F(ReconcileExamCapacityTest, BearerEndpointGetsTheSecretAsAToken) {
  AddExam(1, 8, 7);
  config_.webhook->auth = AuthStyle::kBearer;

  const HandlerResult result = Run(json::object());

  EXPECT_TRUE(result.errors.empty());
  ASSERT_EQ(server_.Requests().size(), 1u);
  EXPECT_EQ(server_.Requests()[0].Header("Authorization"), std::string("Bearer ") + kSecret);
  EXPECT_FALSE(server_.Requests()[0].Header("webhook-signature").has_value());
}

TEST_F(ReconcileExamCapacityTest, WithoutAWebhookCorrectionsAreMadeAndReported) {
  AddExam(1, 8, 7);
  config_.webhook.reset();

  const HandlerResult result = Run(json::object());

  EXPECT_TRUE(result.errors.empty());
  EXPECT_EQ(result.summary["summary"]["updated"], 1);
  EXPECT_EQ(Counter(1), 7);
  EXPECT_EQ(server_.Connections(), 0);
}

TEST(ReconcileExamCapacityConfigTest, RejectsWhatCannotWork) {
  ReconcileExamCapacityConfig config;
  config.default_batch_size = 0;
  EXPECT_FALSE(config.Validate().has_value());
  config.default_batch_size = 500;
  config.webhook = Endpoint{.url = "https://example.com/hook", .secret_ref = "CRON_SECRET",
                            .auth = AuthStyle::kStandardWebhooks, .timeout = std::chrono::seconds(5)};
  auto bad_ref = config.Validate();
  ASSERT_FALSE(bad_ref.has_value());
  EXPECT_NE(bad_ref.error().message.find("capacity_webhook.secret_ref"), std::string::npos);
  config.webhook->secret_ref = "env:CRON_SECRET";
  EXPECT_TRUE(config.Validate().has_value());
  auto no_client = ReconcileExamCapacity::Create(config, nullptr, nullptr);
  ASSERT_FALSE(no_client.has_value());
  EXPECT_EQ(no_client.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace chime::worker::kinds
