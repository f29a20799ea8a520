// db::OutboxStore: rows written inside a caller's transaction, and the claim
// that keeps two deliverers off one row.
#include "common/db/outbox_store.h"

#include <pqxx/pqxx>

#include <vector>

#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

using std::chrono::milliseconds;

class OutboxStoreTest : public JobStoreTestBase {
 protected:
  static std::vector<OutboxMessage> Messages(int n) {
    std::vector<OutboxMessage> out;
    for (int i = 0; i < n; ++i) {
      out.push_back({.webhook_id = "msg_" + std::to_string(i),
                     .event_type = "exam.capacity.corrected",
                     .subject = "exam " + std::to_string(i),
                     .body = "{\"exam\":" + std::to_string(i) + "}"});
    }
    return out;
  }
  int64_t Rows() { return sql_.Int("SELECT count(*) FROM chime.webhook_outbox"); }

  OutboxStore outbox_{conn_};
  pqxx::connection caller_{db_.url()};
  const OutboxTarget target_{.name = "capacity_webhook", .timeout = milliseconds(2'000)};
};

TEST_F(OutboxStoreTest, RowsCommitWithTheCallersTransactionInMessageOrder) {
  const auto messages = Messages(3);
  pqxx::work tx(caller_);
  const std::vector<int64_t> ids = outbox_.OutboxInsertTx(tx, target_, 77, messages);
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(Rows(), 0) << "visible before the caller commits";
  tx.commit();
  ASSERT_EQ(Rows(), 3);
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(sql_.Scalar("SELECT webhook_id || ' ' || target || ' ' || timeout_ms || ' ' || source_job_id"
                          " FROM chime.webhook_outbox WHERE id = $1",
                          ids[i]),
              "msg_" + std::to_string(i) + " capacity_webhook 2000 77");
  }
}

TEST_F(OutboxStoreTest, NothingIsWrittenWhenTheCallerAborts) {
  {
    pqxx::work tx(caller_);
    EXPECT_EQ(outbox_.OutboxInsertTx(tx, target_, 1, Messages(2)).size(), 2u);
    tx.abort();
  }
  EXPECT_EQ(Rows(), 0);
}

TEST_F(OutboxStoreTest, AClaimedRowIsBusyForOthersUntilMarkedThenDelivered) {
  pqxx::work tx(caller_);
  const int64_t id = outbox_.OutboxInsertTx(tx, target_, 1, Messages(1)).front();
  tx.commit();

  ASSERT_OK_AND_ASSIGN(OutboxClaimed first, outbox_.OutboxClaim(id, milliseconds(30'000)));
  ASSERT_EQ(first.status, OutboxClaimed::Status::kClaimed);
  ASSERT_TRUE(first.row.has_value());
  EXPECT_EQ(first.row->webhook_id, "msg_0");
  EXPECT_EQ(first.row->target, "capacity_webhook");
  EXPECT_EQ(first.row->body, "{\"exam\":0}");
  EXPECT_EQ(first.row->attempts, 1);

  ASSERT_OK_AND_ASSIGN(OutboxClaimed second, outbox_.OutboxClaim(id, milliseconds(30'000)));
  EXPECT_EQ(second.status, OutboxClaimed::Status::kBusy);
  EXPECT_FALSE(second.row.has_value());

  // A failure makes it due again at once, for the next claim.
  ASSERT_OK(outbox_.OutboxMarkFailed(id, 503, "the webhook answered HTTP 503"));
  ASSERT_OK_AND_ASSIGN(OutboxClaimed retry, outbox_.OutboxClaim(id, milliseconds(30'000)));
  ASSERT_EQ(retry.status, OutboxClaimed::Status::kClaimed);
  EXPECT_EQ(retry.row->attempts, 2);

  ASSERT_OK(outbox_.OutboxMarkDelivered(id, 204));
  ASSERT_OK_AND_ASSIGN(OutboxClaimed after, outbox_.OutboxClaim(id, milliseconds(30'000)));
  EXPECT_EQ(after.status, OutboxClaimed::Status::kDelivered);
  ASSERT_OK_AND_ASSIGN(auto delivered, outbox_.OutboxDeliveredAmong(std::vector<int64_t>{id, id + 1}));
  EXPECT_EQ(delivered, std::vector<int64_t>{id});

  ASSERT_OK_AND_ASSIGN(OutboxClaimed missing, outbox_.OutboxClaim(id + 1, milliseconds(30'000)));
  EXPECT_EQ(missing.status, OutboxClaimed::Status::kMissing);
}

TEST_F(OutboxStoreTest, ListDueRefusesALimitOutOfRangeNamingIt) {
  auto due = outbox_.OutboxListDue(0);
  ASSERT_FALSE(due.has_value());
  EXPECT_EQ(due.error().message.rfind("limit: ", 0), 0u) << due.error().message;
}

}  // namespace
}  // namespace chime::db::testing
