// The alert store against a real PostgreSQL: a rule fires once and resolves
// once however often it is evaluated, at most one firing alert per schedule
// and rule, and the delivery queue on the rows retries, survives state
// changes and gives up.
#include "common/db/alert_store.h"

#include "common/db/schedule_store.h"
#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

class AlertStoreTest : public JobStoreTestBase {
 protected:
  void SetUp() override {
    JobStoreTestBase::SetUp();
    alerts_ = std::make_unique<AlertStore>(conn_);
    ScheduleStore schedules(conn_);
    for (const char* name : {"sync-github", "nightly"}) {
      schedule::ScheduleSpec spec;
      spec.name = name;
      spec.cron = "0 * * * *";
      spec.kind = "noop";
      auto row = schedules.ScheduleCreate(spec);
      ASSERT_TRUE(row.has_value()) << row.error().ToString();
      ids_.push_back(row->id);
    }
  }

  HoldingRule Holds(size_t schedule, const std::string& rule, const std::string& message = "bad") {
    return HoldingRule{.schedule_id = ids_[schedule],
                       .schedule_name = schedule == 0 ? "sync-github" : "nightly",
                       .rule = rule,
                       .message = message,
                       .values_json = R"({"n": 1})"};
  }

  AlertTransitions Apply(std::vector<HoldingRule> holding, bool deliver = true) {
    auto r = alerts_->AlertsApply({.evaluated = ids_, .holding = std::move(holding), .deliver = deliver});
    EXPECT_TRUE(r.has_value()) << r.error().ToString();
    return r ? *r : AlertTransitions{};
  }

  std::unique_ptr<AlertStore> alerts_;
  std::vector<int64_t> ids_;
};

TEST_F(AlertStoreTest, FiresOnceRefreshesAndResolvesOnce) {
  AlertTransitions first = Apply({Holds(0, "consecutive_failures", "3 in a row")});
  ASSERT_EQ(first.fired.size(), 1u);
  EXPECT_EQ(first.fired[0].state, "firing");
  EXPECT_EQ(first.fired[0].delivery, "pending");
  EXPECT_EQ(first.fired[0].schedule_name, "sync-github");

  AlertTransitions again = Apply({Holds(0, "consecutive_failures", "3 in a row")});
  EXPECT_TRUE(again.fired.empty());
  EXPECT_EQ(again.refreshed, 0);
  AlertTransitions worse = Apply({Holds(0, "consecutive_failures", "5 in a row")});
  EXPECT_TRUE(worse.fired.empty());
  EXPECT_EQ(worse.refreshed, 1);
  EXPECT_EQ(sql_.Scalar("SELECT message FROM chime.alerts"), "5 in a row");

  AlertTransitions gone = Apply({});
  ASSERT_EQ(gone.resolved.size(), 1u);
  EXPECT_EQ(gone.resolved[0].state, "resolved");
  EXPECT_TRUE(gone.resolved[0].resolved_at.has_value());
  EXPECT_TRUE(Apply({}).resolved.empty());
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.alerts"), 1);

  // Holding again is a new episode.
  EXPECT_EQ(Apply({Holds(0, "consecutive_failures")}).fired.size(), 1u);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.alerts"), 2);
}

TEST_F(AlertStoreTest, OnlyEvaluatedSchedulesResolve) {
  Apply({Holds(0, "failure_rate"), Holds(1, "no_success_within")});
  auto r = alerts_->AlertsApply({.evaluated = {ids_[0]}, .holding = {}});
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->resolved.size(), 1u);
  EXPECT_EQ(r->resolved[0].rule, "failure_rate");
  auto firing = alerts_->AlertsList({});
  ASSERT_TRUE(firing.has_value());
  ASSERT_EQ(firing->size(), 1u);
  EXPECT_EQ(firing->at(0).rule, "no_success_within");
  auto all = alerts_->AlertsList({.all = true});
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), 2u);
}

TEST_F(AlertStoreTest, AtMostOneFiringAlertPerScheduleAndRule) {
  Apply({Holds(0, "failure_rate")});
  EXPECT_THROW(sql_.Exec("INSERT INTO chime.alerts (schedule_id, schedule_name, rule, state, message) "
                         "VALUES ($1, 'sync-github', 'failure_rate', 'firing', 'x')",
                         ids_[0]),
               pqxx::unique_violation);
  EXPECT_THROW(sql_.Exec("INSERT INTO chime.alerts (schedule_id, schedule_name, rule, state, message) "
                         "VALUES ($1, 'sync-github', 'made_up', 'firing', 'x')",
                         ids_[0]),
               pqxx::check_violation);
}

TEST_F(AlertStoreTest, DeliveryRetriesAndQueuesTheNewStateAfterAChange) {
  const int64_t id = Apply({Holds(0, "failure_rate")}).fired.at(0).id;
  auto due = alerts_->AlertsDueForDelivery(10);
  ASSERT_TRUE(due.has_value());
  ASSERT_EQ(due->size(), 1u);

  ASSERT_TRUE(alerts_->AlertDeliveryRecord({.alert_id = id, .state = "firing", .ok = false,
                                            .error = "HTTP 500: oops",
                                            .retry_in = std::chrono::minutes(5)}).has_value());
  EXPECT_TRUE(alerts_->AlertsDueForDelivery(10)->empty());  // Not before its backoff.
  EXPECT_EQ(sql_.Scalar("SELECT delivery_attempts || ' ' || delivery || ' ' || delivery_error FROM chime.alerts"),
            "1 pending HTTP 500: oops");
  sql_.Exec("UPDATE chime.alerts SET next_delivery_at = now()");
  ASSERT_TRUE(alerts_->AlertDeliveryRecord({.alert_id = id, .state = "firing", .ok = true}).has_value());
  EXPECT_EQ(sql_.Scalar("SELECT delivery || ' ' || delivered_state FROM chime.alerts"), "sent firing");

  // Resolving queues the resolution; a late success for "firing" keeps it queued.
  Apply({});
  EXPECT_EQ(sql_.Scalar("SELECT delivery || ' ' || delivery_attempts FROM chime.alerts"), "pending 0");
  ASSERT_TRUE(alerts_->AlertDeliveryRecord({.alert_id = id, .state = "firing", .ok = true}).has_value());
  EXPECT_EQ(sql_.Scalar("SELECT delivery FROM chime.alerts"), "pending");
  ASSERT_TRUE(alerts_->AlertDeliveryRecord({.alert_id = id, .state = "resolved", .ok = false,
                                            .error = "timeout", .give_up = true}).has_value());
  EXPECT_EQ(sql_.Scalar("SELECT delivery FROM chime.alerts"), "failed");
  EXPECT_TRUE(alerts_->AlertsDueForDelivery(10)->empty());
}

TEST_F(AlertStoreTest, WithoutAWebhookTransitionsAreSkipped) {
  Apply({Holds(1, "success_rate")}, /*deliver=*/false);
  EXPECT_EQ(sql_.Scalar("SELECT delivery FROM chime.alerts"), "skipped");
  EXPECT_TRUE(alerts_->AlertsDueForDelivery(10)->empty());
}

TEST_F(AlertStoreTest, DeletingAScheduleDeletesItsAlerts) {
  Apply({Holds(0, "failure_rate")});
  sql_.Exec("DELETE FROM chime.schedules WHERE id = $1", ids_[0]);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.alerts"), 0);
  // An evaluation that still names it fires nothing for it.
  EXPECT_TRUE(Apply({Holds(0, "failure_rate")}).fired.empty());
}

TEST_F(AlertStoreTest, ListLimitIsValidated) {
  auto r = alerts_->AlertsList({.limit = 0});
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().message.starts_with("limit: "));
}

}  // namespace
}  // namespace chime::db::testing
