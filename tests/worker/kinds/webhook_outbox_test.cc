// The webhook outbox behind reconcile_exam_capacity, against a real
// PostgreSQL and a recording HTTP server on loopback: a correction and its
// webhook intent commit together, a receiver that fails the first deliveries
// gets the webhook exactly once successfully with one stable id, retries go
// through the deliver_webhooks job's real retry state, nothing is lost when
// the run stops between the correction and the delivery, and the outbox
// holds secret references only. A sweep delivers what an exhausted delivery
// job left behind, leaving leased rows to their deliverer.
#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <cstdlib>
#include <set>
#include <utility>
#include <vector>

#include "common/db/job_store.h"
#include "common/db/migrations.h"
#include "common/http/webhook.h"
#include "tests/support/fake_clock.h"
#include "tests/support/http_test_server.h"
#include "tests/support/test_database.h"
#include "common/app/app_schema.h"
#include "worker/kinds/deliver_webhooks.h"
#include "worker/kinds/reconcile_exam_capacity.h"

namespace chime::worker::kinds {
namespace {

using nlohmann::json;

constexpr char kSecretEnv[] = "CHIME_TEST_OUTBOX_WEBHOOK_SECRET";
constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

class WebhookOutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db::MigrationsApply(conn_).has_value());
    ASSERT_TRUE(app::ApplyAppSchema(conn_).has_value());
    ::setenv(kSecretEnv, kSecret, /*overwrite=*/1);
    config_.webhook = Endpoint{.url = server_.Url("/hooks/capacity"),
                               .secret_ref = std::string("env:") + kSecretEnv,
                               .auth = AuthStyle::kStandardWebhooks,
                               .timeout = std::chrono::seconds(10)};
    // The delivery job is due at once, so the test claims it without waiting.
    config_.redelivery_delay = std::chrono::milliseconds(0);
    auto policy = http::AddressPolicy::FromLists({"127.0.0.1/32"}, {});
    ASSERT_TRUE(policy.has_value());
    client_ = std::make_shared<const http::HttpClient>(std::move(*policy));
    secrets_ = std::make_shared<const http::SecretResolver>(
        http::SecretRefPolicy{.env_names = {kSecretEnv}, .files = {}});
    auto reconcile = ReconcileExamCapacity::Create(config_, client_, secrets_, clock_);
    ASSERT_TRUE(reconcile.has_value()) << reconcile.error().ToString();
    reconcile_ = std::move(*reconcile);
    const WebhookTargets targets{
        {"capacity_webhook", *config_.webhook},
        {"sweep_target", Endpoint{.url = server_.Url("/hooks/sweep"), .secret_ref = "", .auth = AuthStyle::kNone,
                                  .timeout = std::chrono::seconds(10)}}};
    deliver_ = std::make_unique<DeliverWebhooks>(client_, secrets_, targets, clock_);
  }

  // An exam whose stored counter is `stored` with `active` active bookings.
  void AddExam(int64_t id, int stored, int active) {
    db_.Exec("INSERT INTO chime_app.exams (id, exam_date, mock_type, booking_count) VALUES (" +
             std::to_string(id) + ", date '2026-03-01', 'Mock Discussion', " + std::to_string(stored) + ")");
    db_.Exec("INSERT INTO chime_app.bookings (id, exam_id) SELECT " + std::to_string(id * 1000) +
             " + g, " + std::to_string(id) + " FROM generate_series(1, " + std::to_string(active) + ") g");
  }

  int64_t Int(const std::string& sql) { return std::stoll(db_.Scalar(sql)); }

  // An undelivered row for the test server's sweep target (auth none),
  // written `age` ago and not tried before `not_before`; returns its id.
  int64_t AddRow(const std::string& webhook_id, const std::string& age = "1 minute",
                 const std::string& not_before = "now()") {
    return Int("INSERT INTO chime.webhook_outbox (webhook_id, event_type, target, timeout_ms, body, "
               "created_at, not_before) VALUES ('" + webhook_id + "', 'test.event', 'sweep_target', 10000, "
               "'{\"id\": \"" + webhook_id + "\"}', now() - interval '" + age + "', " + not_before +
               ") RETURNING id");
  }

  // The webhook ids the receiver got, in order.
  std::vector<std::string> ReceivedIds() {
    std::vector<std::string> ids;
    for (const auto& r : server_.Requests()) ids.push_back(r.Header("webhook-id").value_or(""));
    return ids;
  }

  int64_t Enqueue(std::string_view kind, const json& payload) {
    db::EnqueueParams p;
    p.kind = std::string(kind);
    p.payload = payload.dump();
    auto inserted = store_.JobInsert(p);
    EXPECT_TRUE(inserted.has_value());
    return inserted->id;
  }

  // Claims the next ready job (it must be `kind`) and runs `handler` on it
  // with `stop` as its stop token.
  HandlerResult RunNext(Handler& handler, std::stop_token stop = {}) {
    auto claimed = store_.JobsClaim(db::ClaimParams{.worker_id = "outbox-test"});
    EXPECT_TRUE(claimed.has_value() && claimed->size() == 1) << "no job ready";
    if (!claimed.has_value() || claimed->size() != 1) return HandlerResult::Fail({}, {"no job"}, false);
    job_ = claimed->front();
    EXPECT_EQ(job_.kind, handler.Kind());
    auto logger = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
    JobContext::Services services{[this]() -> Result<db::Connection*> { return &conn_; },
                                  [this]() -> Result<db::JobStore*> { return &store_; }};
    JobContext ctx(job_, json::parse(job_.payload), stop, logger, services);
    return handler.Run(ctx);
  }

  // Records `result` as the worker's completer would, then makes a retry due
  // now instead of after its backoff (the test does not wait on the clock).
  void Complete(const HandlerResult& result) {
    db::Completion c;
    c.lease = job_.lease;
    c.attempt = job_.attempt;
    c.worker_id = "outbox-test";
    c.summary = result.summary.dump();
    c.errors = result.errors;
    c.kind = result.kind == HandlerResult::Kind::kSuccess ? db::CompletionKind::kSucceeded
             : result.retryable                           ? db::CompletionKind::kFailed
                                                          : db::CompletionKind::kFailedPermanent;
    auto done = store_.JobsCompleteIfLeased(std::span(&c, 1));
    ASSERT_TRUE(done.has_value()) << done.error().ToString();
    db_.Exec("UPDATE chime.jobs SET run_at = now() WHERE id = " + std::to_string(job_.id) +
             " AND state = 'retryable'");
  }

  // Every request verified against the secret (fails the test otherwise).
  std::vector<chime::testing::RecordedRequest> VerifiedRequests() {
    auto key = http::WebhookKey::FromSecret(http::Secret(kSecret));
    EXPECT_TRUE(key.has_value());
    auto requests = server_.Requests();
    for (const auto& r : requests) {
      auto verified = chime::testing::VerifyWebhook(*key, r, clock_.WallNow());
      EXPECT_TRUE(verified.has_value()) << verified.error().ToString();
    }
    return requests;
  }

  chime::testing::TestDatabase db_;
  db::Connection conn_{db::ConnectionConfig{.url = db_.url()}};
  db::JobStore store_{conn_};
  chime::testing::HttpTestServer server_;
  chime::testing::FakeClock clock_;
  ReconcileExamCapacityConfig config_;
  std::shared_ptr<const http::HttpClient> client_;
  std::shared_ptr<const http::SecretResolver> secrets_;
  std::unique_ptr<ReconcileExamCapacity> reconcile_;
  std::unique_ptr<DeliverWebhooks> deliver_;
  db::ClaimedJob job_;
};

TEST_F(WebhookOutboxTest, AReceiverThatFailsThreeTimesGetsTheWebhookOnceWithOneStableId) {
  AddExam(1, 8, 7);
  server_.Enqueue({.status = 500, .headers = {}, .body = "down", .hold = false});
  server_.Enqueue({.status = 503, .headers = {}, .body = "still down", .hold = false});
  server_.Enqueue({.status = 502, .headers = {}, .body = "nearly", .hold = false});
  const int64_t reconcile_job = Enqueue(kReconcileExamCapacityKind, json::object());

  const HandlerResult reconciled = RunNext(*reconcile_);
  Complete(reconciled);

  // The correction stands and the webhook is queued, not lost.
  ASSERT_EQ(reconciled.kind, HandlerResult::Kind::kSuccess);
  EXPECT_EQ(Int("SELECT booking_count FROM chime_app.exams WHERE id = 1"), 7);
  ASSERT_EQ(reconciled.errors.size(), 1u);
  EXPECT_NE(reconciled.errors[0].find("HTTP 500; the webhook stays queued and job"), std::string::npos)
      << reconciled.errors[0];
  const json& hooks = reconciled.summary["webhooks"];
  EXPECT_EQ(hooks["delivered"], 0);
  EXPECT_EQ(hooks["pending"], 1);
  const int64_t delivery_job = hooks["deliveryJobId"].get<int64_t>();
  EXPECT_EQ(Int("SELECT parent_id FROM chime.jobs_all WHERE id = " + std::to_string(delivery_job)), reconcile_job);

  // The delivery job retries through the worker's retry state until the
  // receiver takes it.
  for (int failure = 0; failure < 2; ++failure) {
    const HandlerResult r = RunNext(*deliver_);
    EXPECT_EQ(job_.id, delivery_job);
    ASSERT_EQ(r.kind, HandlerResult::Kind::kFailure);
    EXPECT_TRUE(r.retryable);
    EXPECT_EQ(r.summary, (json{{"delivered", 0}, {"alreadyDelivered", 0}, {"pending", 1}}));
    Complete(r);
    EXPECT_EQ(db_.Scalar("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(delivery_job)), "retryable");
  }
  const HandlerResult delivered = RunNext(*deliver_);
  ASSERT_EQ(delivered.kind, HandlerResult::Kind::kSuccess) << delivered.summary.dump();
  EXPECT_EQ(delivered.summary, (json{{"delivered", 1}, {"alreadyDelivered", 0}, {"pending", 0}}));
  Complete(delivered);
  EXPECT_EQ(db_.Scalar("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(delivery_job)), "succeeded");

  // Four attempts, one id, one body, exactly one accepted.
  const auto requests = VerifiedRequests();
  ASSERT_EQ(requests.size(), 4u);
  const std::string id = requests[0].Header("webhook-id").value_or("");
  EXPECT_TRUE(id.starts_with("msg_")) << id;
  for (const auto& r : requests) {
    EXPECT_EQ(r.Header("webhook-id"), id);
    EXPECT_EQ(r.body, requests[0].body);
  }
  EXPECT_EQ(json::parse(requests[0].body),
            (json{{"type", "exam.capacity.corrected"}, {"examId", "1"}, {"examDate", "2026-03-01"},
                  {"mockType", "Mock Discussion"}, {"previousCount", 8}, {"actualCount", 7},
                  {"difference", -1}, {"jobId", reconcile_job}}));
  EXPECT_EQ(db_.Scalar("SELECT webhook_id || ' ' || attempts || ' ' || last_status || ' ' || "
                       "(delivered_at IS NOT NULL) FROM chime.webhook_outbox"),
            id + " 4 200 true");
}

TEST_F(WebhookOutboxTest, ADeliveredWebhookIsNotSentAgain) {
  AddExam(1, 8, 7);
  Enqueue(kReconcileExamCapacityKind, json::object());
  const HandlerResult reconciled = RunNext(*reconcile_);
  ASSERT_TRUE(reconciled.errors.empty()) << reconciled.errors[0];
  EXPECT_EQ(reconciled.summary["webhooks"]["delivered"], 1);
  EXPECT_EQ(reconciled.summary["webhooks"]["pending"], 0);
  Complete(reconciled);

  const HandlerResult redelivery = RunNext(*deliver_);

  ASSERT_EQ(redelivery.kind, HandlerResult::Kind::kSuccess);
  EXPECT_EQ(redelivery.summary, (json{{"delivered", 0}, {"alreadyDelivered", 1}, {"pending", 0}}));
  EXPECT_EQ(VerifiedRequests().size(), 1u);
}

// The run is stopped (the worker shuts down, or dies) after the correction
// committed and before any request: the delivery job, committed with the
// correction, sends the webhook.
TEST_F(WebhookOutboxTest, NothingIsLostWhenTheRunEndsBetweenTheCorrectionAndTheDelivery) {
  AddExam(1, 8, 7);
  AddExam(2, 2, 4);
  Enqueue(kReconcileExamCapacityKind, json::object());
  std::stop_source stop;
  stop.request_stop();

  const HandlerResult reconciled = RunNext(*reconcile_, stop.get_token());

  EXPECT_EQ(server_.Connections(), 0);
  EXPECT_EQ(Int("SELECT count(*) FROM chime_app.exams WHERE booking_count = (SELECT count(*) FROM "
                "chime_app.bookings b WHERE b.exam_id = exams.id)"),
            2);
  EXPECT_EQ(reconciled.summary["webhooks"]["pending"], 2);
  EXPECT_EQ(Int("SELECT count(*) FROM chime.webhook_outbox WHERE delivered_at IS NULL"), 2);
  // The worker never records this attempt (it died): the delivery job is due anyway.
  const HandlerResult delivered = RunNext(*deliver_);

  ASSERT_EQ(delivered.kind, HandlerResult::Kind::kSuccess) << delivered.summary.dump();
  EXPECT_EQ(delivered.summary["delivered"], 2);
  std::set<std::string> exams, ids;
  for (const auto& r : VerifiedRequests()) {
    exams.insert(json::parse(r.body)["examId"].get<std::string>());
    ids.insert(r.Header("webhook-id").value_or(""));
  }
  EXPECT_EQ(exams, (std::set<std::string>{"1", "2"}));
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_EQ(db_.Scalar("SELECT string_agg(webhook_id, ' ' ORDER BY webhook_id) FROM chime.webhook_outbox"),
            *ids.begin() + " " + *ids.rbegin());
}

TEST_F(WebhookOutboxTest, TheOutboxNamesItsTargetNeverTheSecretOrWhereItGoes) {
  AddExam(1, 8, 7);
  server_.Enqueue({.status = 500, .headers = {}, .body = "", .hold = false});
  Enqueue(kReconcileExamCapacityKind, json::object());
  (void)RunNext(*reconcile_);

  EXPECT_EQ(db_.Scalar("SELECT target FROM chime.webhook_outbox"), "capacity_webhook");
  EXPECT_EQ(Int("SELECT count(*) FROM chime.webhook_outbox o WHERE o::text LIKE '%MfKQ9r8GKYqrTwjUPD8I%'"), 0);
  EXPECT_EQ(Int("SELECT count(*) FROM chime.webhook_outbox o WHERE o::text LIKE '%127.0.0.1%'"), 0);
  EXPECT_EQ(Int("SELECT count(*) FROM chime.jobs_all j WHERE j::text LIKE '%MfKQ9r8GKYqrTwjUPD8I%'"), 0);
  // Where to send is not the row's to say (migration 0016).
  EXPECT_THROW(db_.Exec("UPDATE chime.webhook_outbox SET url = 'https://elsewhere.example/'"), std::exception);
}

// A row naming a target this worker does not know is not sent anywhere; its
// attempt fails naming the target.
TEST_F(WebhookOutboxTest, ARowNamingAnUnknownTargetFailsClearlyAndSendsNothing) {
  const int64_t id = Int("INSERT INTO chime.webhook_outbox (webhook_id, event_type, target, timeout_ms, body) "
                         "VALUES ('wh_unknown', 'test.event', 'attacker', 1000, '{}') RETURNING id");
  Enqueue(kDeliverWebhooksKind, {{"outboxIds", {id}}});
  const HandlerResult r = RunNext(*deliver_);
  EXPECT_EQ(r.kind, HandlerResult::Kind::kFailure);
  ASSERT_FALSE(r.errors.empty());
  EXPECT_NE(r.errors[0].find("unknown webhook target \"attacker\""), std::string::npos) << r.errors[0];
  EXPECT_TRUE(server_.Requests().empty());
  EXPECT_NE(db_.Scalar("SELECT last_error FROM chime.webhook_outbox WHERE id = " + std::to_string(id))
                .find("unknown webhook target"),
            std::string::npos);
}

TEST_F(WebhookOutboxTest, ADryRunWritesNoWebhook) {
  AddExam(1, 8, 7);
  db::EnqueueParams p;
  p.kind = std::string(kReconcileExamCapacityKind);
  p.dry_run = true;
  ASSERT_TRUE(store_.JobInsert(p).has_value());

  const HandlerResult r = RunNext(*reconcile_);

  EXPECT_EQ(r.summary["mode"], "dry_run");
  EXPECT_EQ(r.summary["webhooks"], (json{{"delivered", 0}, {"pending", 0}, {"deliveryJobId", nullptr}}));
  EXPECT_EQ(Int("SELECT count(*) FROM chime.webhook_outbox"), 0);
  EXPECT_EQ(Int("SELECT count(*) FROM chime.jobs_all WHERE kind = 'deliver_webhooks'"), 0);
  EXPECT_EQ(server_.Connections(), 0);
}

// A delivery job that ran out of attempts leaves its row undelivered; the
// sweep, with no `jobctl retry`, delivers it once under the same id.
TEST_F(WebhookOutboxTest, ASweepDeliversWhatAnExhaustedDeliveryJobLeftBehind) {
  AddExam(1, 8, 7);
  server_.Enqueue({.status = 500, .headers = {}, .body = "down", .hold = false});
  server_.Enqueue({.status = 503, .headers = {}, .body = "still down", .hold = false});
  Enqueue(kReconcileExamCapacityKind, json::object());
  Complete(RunNext(*reconcile_));
  db_.Exec("UPDATE chime.jobs SET max_attempts = 1 WHERE kind = 'deliver_webhooks'");

  const HandlerResult last_try = RunNext(*deliver_);
  Complete(last_try);

  ASSERT_EQ(last_try.kind, HandlerResult::Kind::kFailure);
  EXPECT_NE(last_try.errors.back().find("out of attempts"), std::string::npos) << last_try.errors.back();
  EXPECT_EQ(db_.Scalar("SELECT state FROM chime.jobs_all WHERE kind = 'deliver_webhooks'"), "discarded");
  EXPECT_EQ(Int("SELECT count(*) FROM chime.webhook_outbox WHERE delivered_at IS NULL"), 1);

  Enqueue(kDeliverWebhooksKind, {{"sweep", true}});
  const HandlerResult swept = RunNext(*deliver_);
  Complete(swept);

  ASSERT_EQ(swept.kind, HandlerResult::Kind::kSuccess) << swept.summary.dump();
  EXPECT_EQ(swept.summary, (json{{"delivered", 1}, {"alreadyDelivered", 0}, {"pending", 0}, {"swept", 1}}));
  // A second sweep finds nothing: the webhook went out exactly once.
  Enqueue(kDeliverWebhooksKind, {{"sweep", true}});
  const HandlerResult again = RunNext(*deliver_);
  ASSERT_EQ(again.kind, HandlerResult::Kind::kSuccess) << again.summary.dump();
  EXPECT_EQ(again.summary, (json{{"delivered", 0}, {"alreadyDelivered", 0}, {"pending", 0}, {"swept", 0}}));

  const auto requests = VerifiedRequests();
  ASSERT_EQ(requests.size(), 3u);  // The writer, the exhausted job, the sweep.
  const std::string id = db_.Scalar("SELECT webhook_id FROM chime.webhook_outbox");
  for (const auto& r : requests) {
    EXPECT_EQ(r.Header("webhook-id"), id);
    EXPECT_EQ(r.body, requests[0].body);
  }
  EXPECT_EQ(db_.Scalar("SELECT attempts || ' ' || last_status || ' ' || (delivered_at IS NOT NULL) "
                       "FROM chime.webhook_outbox"),
            "3 200 true");
}

TEST_F(WebhookOutboxTest, ASweepLeavesRowsUnderALiveLeaseAndDeliveredRowsAlone) {
  const int64_t due = AddRow("wh_due");
  // What a deliverer's claim leaves: one attempt, not due until its lease ends.
  const int64_t leased = AddRow("wh_leased", "1 hour", "now() + interval '1 hour'");
  db_.Exec("UPDATE chime.webhook_outbox SET attempts = 1 WHERE id = " + std::to_string(leased));
  AddRow("wh_delivered", "2 hours");
  db_.Exec("UPDATE chime.webhook_outbox SET delivered_at = now(), attempts = 1 WHERE webhook_id = 'wh_delivered'");
  const std::string leased_before =
      db_.Scalar("SELECT attempts || ' ' || not_before FROM chime.webhook_outbox WHERE id = " + std::to_string(leased));

  Enqueue(kDeliverWebhooksKind, {{"sweep", true}});
  const HandlerResult r = RunNext(*deliver_);

  ASSERT_EQ(r.kind, HandlerResult::Kind::kSuccess) << r.summary.dump();
  EXPECT_EQ(r.summary, (json{{"delivered", 1}, {"alreadyDelivered", 0}, {"pending", 0}, {"swept", 1}}));
  EXPECT_EQ(ReceivedIds(), std::vector<std::string>{"wh_due"});
  EXPECT_EQ(db_.Scalar("SELECT delivered_at IS NOT NULL FROM chime.webhook_outbox WHERE id = " + std::to_string(due)),
            "t");
  EXPECT_EQ(db_.Scalar("SELECT attempts || ' ' || not_before FROM chime.webhook_outbox WHERE id = " +
                       std::to_string(leased)),
            leased_before);
  EXPECT_EQ(Int("SELECT attempts FROM chime.webhook_outbox WHERE webhook_id = 'wh_delivered'"), 1);
}

TEST_F(WebhookOutboxTest, ASweepTakesTheOldestDueRowsUpToItsLimit) {
  // Ids and ages in different orders: the sweep goes by age.
  AddRow("wh_newest", "1 minute");
  AddRow("wh_oldest", "3 minutes");
  AddRow("wh_middle", "2 minutes");

  Enqueue(kDeliverWebhooksKind, {{"sweep", true}, {"limit", 2}});
  const HandlerResult r = RunNext(*deliver_);

  ASSERT_EQ(r.kind, HandlerResult::Kind::kSuccess) << r.summary.dump();
  EXPECT_EQ(r.summary, (json{{"delivered", 2}, {"alreadyDelivered", 0}, {"pending", 0}, {"swept", 2}}));
  const auto received = ReceivedIds();
  EXPECT_EQ(std::set<std::string>(received.begin(), received.end()),
            (std::set<std::string>{"wh_oldest", "wh_middle"}));
  EXPECT_EQ(received.size(), 2u);
  EXPECT_EQ(db_.Scalar("SELECT string_agg(webhook_id, ' ' ORDER BY webhook_id) FROM chime.webhook_outbox "
                       "WHERE delivered_at IS NULL AND attempts = 0"),
            "wh_newest");
}

TEST_F(WebhookOutboxTest, ASweepThatCannotDeliverFailsRetryablyAndKeepsTheRowDue) {
  const int64_t id = AddRow("wh_refused");
  server_.Enqueue({.status = 500, .headers = {}, .body = "down", .hold = false});

  Enqueue(kDeliverWebhooksKind, {{"sweep", true}});
  const HandlerResult r = RunNext(*deliver_);

  ASSERT_EQ(r.kind, HandlerResult::Kind::kFailure);
  EXPECT_TRUE(r.retryable);
  EXPECT_EQ(r.summary, (json{{"delivered", 0}, {"alreadyDelivered", 0}, {"pending", 1}, {"swept", 1}}));
  ASSERT_FALSE(r.errors.empty());
  EXPECT_EQ(r.errors[0], "deliver_webhooks: outbox row " + std::to_string(id) + ": the webhook answered HTTP 500");
  EXPECT_EQ(Int("SELECT count(*) FROM chime.webhook_outbox WHERE delivered_at IS NULL AND not_before <= now()"), 1);
}

TEST_F(WebhookOutboxTest, ADryRunSendsNothingInEitherMode) {
  const int64_t named = AddRow("wh_a");
  AddRow("wh_b");
  // A sweep finds both due rows; naming one, the run considers that one.
  for (const auto& [payload, candidates] : {std::pair{json{{"sweep", true}}, 2},
                                            std::pair{json{{"outboxIds", {named}}}, 1}}) {
    SCOPED_TRACE(payload.dump());
    db::EnqueueParams p;
    p.kind = std::string(kDeliverWebhooksKind);
    p.payload = payload.dump();
    p.dry_run = true;
    ASSERT_TRUE(store_.JobInsert(p).has_value());

    const HandlerResult r = RunNext(*deliver_);

    ASSERT_EQ(r.kind, HandlerResult::Kind::kSuccess);
    EXPECT_EQ(r.summary["candidates"], candidates);
    EXPECT_EQ(r.summary["delivered"], 0);
    EXPECT_EQ(r.summary.contains("swept"), payload.contains("sweep"));
  }
  EXPECT_EQ(server_.Connections(), 0);
  EXPECT_EQ(Int("SELECT count(*) FROM chime.webhook_outbox WHERE delivered_at IS NULL AND attempts = 0"), 2);
}

TEST_F(WebhookOutboxTest, ABadPayloadFailsPermanentlyNamingTheField) {
  AddRow("wh_untouched");
  const std::vector<std::pair<json, std::string>> cases = {
      {json{{"sweep", true}, {"outboxIds", {1}}}, "exactly one of outboxIds"},
      {json::object(), "exactly one of outboxIds"},
      {json{{"sweep", true}, {"limt", 5}}, "unknown field \"limt\""},
      {json{{"sweep", false}}, "sweep: must be true"},
      {json{{"sweep", "yes"}}, "sweep: must be true"},
      {json{{"sweep", true}, {"limit", 0}}, "limit: must be an integer from 1 to 100000"},
      {json{{"sweep", true}, {"limit", 100001}}, "limit: must be an integer from 1 to 100000"},
      {json{{"outboxIds", {1}}, {"limit", 5}}, "limit: only a sweep takes a limit"},
  };
  for (const auto& [payload, expected] : cases) {
    Enqueue(kDeliverWebhooksKind, payload);
    const HandlerResult r = RunNext(*deliver_);
    EXPECT_EQ(r.kind, HandlerResult::Kind::kFailure) << payload;
    EXPECT_FALSE(r.retryable) << payload;
    ASSERT_EQ(r.errors.size(), 1u) << payload;
    EXPECT_TRUE(r.errors[0].starts_with("deliver_webhooks: ")) << r.errors[0];
    EXPECT_NE(r.errors[0].find(expected), std::string::npos) << payload << ": " << r.errors[0];
    Complete(r);
  }
  EXPECT_EQ(server_.Connections(), 0);
  EXPECT_EQ(Int("SELECT count(*) FROM chime.jobs_all WHERE kind = 'deliver_webhooks' AND state = 'discarded'"),
            static_cast<int64_t>(cases.size()));
}

TEST(DeliverWebhooksPayloadTest, RejectsBadPayloadsNamingTheField) {
  EXPECT_FALSE(ParseDeliverWebhooksPayload(json::array()).has_value());
  EXPECT_NE(ParseDeliverWebhooksPayload({{"outboxIds", json::array()}}).error().message.find("outboxIds"),
            std::string::npos);
  EXPECT_NE(ParseDeliverWebhooksPayload({{"outboxIds", {1, -2}}}).error().message.find("outboxIds[1]"),
            std::string::npos);
  EXPECT_NE(ParseDeliverWebhooksPayload({{"ids", {1}}}).error().message.find("unknown field \"ids\""),
            std::string::npos);
  auto ok = ParseDeliverWebhooksPayload({{"outboxIds", {3, 1}}});
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->outbox_ids, (std::vector<int64_t>{3, 1}));
  EXPECT_FALSE(ok->sweep);
}

TEST(DeliverWebhooksPayloadTest, ASweepTakesAnOptionalLimit) {
  auto plain = ParseDeliverWebhooksPayload({{"sweep", true}});
  ASSERT_TRUE(plain.has_value()) << plain.error().message;
  EXPECT_TRUE(plain->sweep);
  EXPECT_TRUE(plain->outbox_ids.empty());
  EXPECT_EQ(plain->limit, 1000);
  auto bounded = ParseDeliverWebhooksPayload({{"sweep", true}, {"limit", 100000}});
  ASSERT_TRUE(bounded.has_value()) << bounded.error().message;
  EXPECT_EQ(bounded->limit, 100000);
}

}  // namespace
}  // namespace chime::worker::kinds
