// JobInsertTx and JobsInsertManyTx: jobs enqueued inside a transaction the
// caller holds commit with it, vanish when it aborts, and are checked like
// every other enqueue.
#include <pqxx/pqxx>

#include <vector>

#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

using std::chrono::hours;

// The caller's transactions run on a session of their own (a plain libpqxx
// connection, which never prepared the store's statements), so the store's
// connection is not what makes them work.
class JobStoreInsertTxTest : public JobStoreTestBase {
 protected:
  pqxx::connection caller_{db_.url()};
};

TEST_F(JobStoreInsertTxTest, JobsCommitWithTheCallersTransactionAndNotBefore) {
  pqxx::work tx(caller_);
  tx.exec("CREATE TABLE public.app_rows (note text)");
  tx.exec("INSERT INTO public.app_rows VALUES ('the change the jobs follow')");
  EnqueueParams later = Params("deliver_webhooks");
  later.payload = R"({"outboxIds": [1, 2]})";
  later.delay = hours(1);
  const std::vector<EnqueueParams> batch{Params("first"), later, Params("third", "other")};
  ASSERT_OK_AND_ASSIGN(auto results, store().JobsInsertManyTx(tx, batch));
  ASSERT_OK_AND_ASSIGN(EnqueueResult one, store().JobInsertTx(tx, Params("fourth")));

  ASSERT_EQ(results.size(), 3u);
  EXPECT_LT(results[0].id, results[1].id);
  EXPECT_LT(results[1].id, results[2].id);
  EXPECT_EQ(results[0].state, JobState::kAvailable);
  EXPECT_EQ(results[1].state, JobState::kScheduled);
  EXPECT_FALSE(one.existing);
  // Inside the transaction they are there; outside, not yet.
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM chime.jobs_all")[0].as<int64_t>(), 4);
  EXPECT_EQ(JobCount(), 0);

  tx.commit();
  EXPECT_EQ(JobCount(), 4);
  EXPECT_EQ(State(results[1].id), "scheduled");
  EXPECT_EQ(sql_.Scalar("SELECT queue FROM chime.jobs_all WHERE id = $1", results[2].id), "other");
  EXPECT_EQ(sql_.Scalar("SELECT payload->'outboxIds'->>1 FROM chime.jobs_all WHERE id = $1", results[1].id), "2");
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM public.app_rows"), 1);
}

TEST_F(JobStoreInsertTxTest, NothingIsInsertedWhenTheCallerAborts) {
  {
    pqxx::work tx(caller_);
    ASSERT_OK(store().JobsInsertManyTx(tx, std::vector<EnqueueParams>{Params("a"), Params("b")}));
    ASSERT_OK(store().JobInsertTx(tx, Params("c")));
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM chime.jobs_all")[0].as<int64_t>(), 3);
    tx.abort();
  }
  {
    // A transaction that ends without commit (a handler that threw) is the same.
    pqxx::work tx(caller_);
    ASSERT_OK(store().JobInsertTx(tx, Params("d")));
  }
  EXPECT_EQ(JobCount(), 0);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.jobs_enqueued WHERE n > 0"), 0);
}

TEST_F(JobStoreInsertTxTest, AnInvalidJobNamesItsFieldAndLeavesTheTransactionUsable) {
  pqxx::work tx(caller_);
  EnqueueParams bad_queue = Params("ok", "no spaces allowed");
  auto many = store().JobsInsertManyTx(tx, std::vector<EnqueueParams>{Params("fine"), bad_queue});
  ASSERT_FALSE(many.has_value());
  EXPECT_EQ(many.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(many.error().message.rfind("job 1: queue: ", 0), 0u) << many.error().message;

  EnqueueParams bad_attempts = Params("ok");
  bad_attempts.max_attempts = 0;
  auto one = store().JobInsertTx(tx, bad_attempts);
  ASSERT_FALSE(one.has_value());
  EXPECT_EQ(one.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(one.error().message.rfind("max_attempts: ", 0), 0u) << one.error().message;

  EnqueueParams bad_payload = Params("ok");
  bad_payload.payload = "{not json";
  auto payload = store().JobInsertTx(tx, bad_payload);
  ASSERT_FALSE(payload.has_value());
  EXPECT_EQ(payload.error().message.rfind("payload: ", 0), 0u) << payload.error().message;

  // No statement ran for them: the transaction goes on and commits what
  // came after, and only that.
  ASSERT_OK_AND_ASSIGN(EnqueueResult after, store().JobInsertTx(tx, Params("after")));
  tx.commit();
  EXPECT_EQ(JobCount(), 1);
  EXPECT_EQ(sql_.Scalar("SELECT kind FROM chime.jobs_all WHERE id = $1", after.id), "after");
}

TEST_F(JobStoreInsertTxTest, UniqueKeysHeldBeforeOrEarlierInTheTransactionReturnTheirHolder) {
  EnqueueParams keyed = Params("sync_integration");
  keyed.unique_key = "user:1:provider:github";
  const int64_t committed = Enqueue(keyed);

  pqxx::work tx(caller_);
  ASSERT_OK_AND_ASSIGN(EnqueueResult held, store().JobInsertTx(tx, keyed));
  EXPECT_TRUE(held.existing);
  EXPECT_EQ(held.id, committed);

  EnqueueParams fresh = keyed;
  fresh.unique_key = "user:2:provider:github";
  ASSERT_OK_AND_ASSIGN(auto first, store().JobsInsertManyTx(tx, std::vector<EnqueueParams>{fresh, keyed}));
  EXPECT_FALSE(first[0].existing);
  EXPECT_TRUE(first[1].existing);
  EXPECT_EQ(first[1].id, committed);
  // The key this transaction took itself is held too.
  ASSERT_OK_AND_ASSIGN(EnqueueResult again, store().JobInsertTx(tx, fresh));
  EXPECT_TRUE(again.existing);
  EXPECT_EQ(again.id, first[0].id);
  tx.commit();
  EXPECT_EQ(JobCount(), 2);
}

TEST_F(JobStoreInsertTxTest, ADatabaseErrorThrowsIntoTheCallersRunAndIsMapped) {
  // A read-only transaction: the valid job's statement fails inside it,
  // and Connection::Run maps the exception.
  bool returned = false;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    tx.exec("SET TRANSACTION READ ONLY");
    auto inserted = store().JobInsertTx(tx, Params("valid"));
    returned = true;
    (void)inserted;
    tx.commit();
  });
  EXPECT_FALSE(returned);
  ASSERT_FALSE(ran.has_value());
  EXPECT_EQ(ran.error().code, ErrorCode::kInternal) << ran.error().ToString();
  EXPECT_NE(ran.error().message.find("25006"), std::string::npos) << ran.error().message;
  EXPECT_EQ(JobCount(), 0);
}

}  // namespace
}  // namespace chime::db::testing
