// JobInsert and JobsInsertMany: defaults, scheduling, input order, unique keys.
#include <map>
#include <set>
#include <thread>

#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

class JobStoreInsertTest : public JobStoreTestBase {};

TEST_F(JobStoreInsertTest, InsertsWithDefaultQueuePriorityAttemptsAndAvailableState) {
  EnqueueParams p;
  p.kind = "send_email";
  ASSERT_OK_AND_ASSIGN(EnqueueResult r, store().JobInsert(p));
  EXPECT_FALSE(r.existing);
  EXPECT_EQ(r.state, JobState::kAvailable);
  ASSERT_GT(r.id, 0);

  auto row = sql_.Query(
      "SELECT kind, queue, priority, state, payload::text, attempt, max_attempts, rescue_count,"
      " timeout_ms IS NULL, unique_key IS NULL, parent_id IS NULL, dry_run, cancel_requested,"
      " lease_token IS NULL, run_at <= now(), finished_at IS NULL"
      " FROM chime.jobs_all WHERE id = $1",
      r.id);
  ASSERT_EQ(row.size(), 1u);
  EXPECT_STREQ(row[0][0].c_str(), "send_email");
  EXPECT_STREQ(row[0][1].c_str(), "default");
  EXPECT_EQ(row[0][2].as<int>(), 0);
  EXPECT_STREQ(row[0][3].c_str(), "available");
  EXPECT_STREQ(row[0][4].c_str(), "{}");
  EXPECT_EQ(row[0][5].as<int>(), 0);
  EXPECT_EQ(row[0][6].as<int>(), 20);
  EXPECT_EQ(row[0][7].as<int>(), 0);
  for (int col = 8; col <= 15; ++col) {
    if (col == 11 || col == 12) {
      EXPECT_FALSE(row[0][col].as<bool>()) << "column " << col;
    } else {
      EXPECT_TRUE(row[0][col].as<bool>()) << "column " << col;
    }
  }
  EXPECT_EQ(JobCount(), 1);
}

TEST_F(JobStoreInsertTest, StoresEveryFieldGiven) {
  const int64_t parent = Enqueue("fan_out");
  EnqueueParams p = Params("sync_integration", "integrations");
  p.priority = 7;
  p.payload = R"({"user": 42, "provider": "github"})";
  p.max_attempts = 3;
  p.timeout = milliseconds(90'000);
  p.unique_key = "user-42/github";
  p.parent_id = parent;
  p.dry_run = true;
  ASSERT_OK_AND_ASSIGN(EnqueueResult r, store().JobInsert(p));

  ASSERT_OK_AND_ASSIGN(JobWithRuns got, store().JobGet(r.id));
  EXPECT_EQ(got.job.kind, "sync_integration");
  EXPECT_EQ(got.job.queue, "integrations");
  EXPECT_EQ(got.job.priority, 7);
  EXPECT_EQ(sql_.Scalar("SELECT payload = $1::jsonb FROM chime.jobs_all WHERE id = $2", p.payload, r.id),
            "t");
  EXPECT_EQ(got.job.max_attempts, 3);
  EXPECT_EQ(got.job.timeout, milliseconds(90'000));
  EXPECT_EQ(got.job.unique_key, "user-42/github");
  EXPECT_EQ(got.job.parent_id, parent);
  EXPECT_TRUE(got.job.dry_run);
  EXPECT_TRUE(got.runs.empty());
}

TEST_F(JobStoreInsertTest, DelayInTheFutureMakesTheJobScheduled) {
  EnqueueParams p = Params("later");
  p.delay = hours(1);
  ASSERT_OK_AND_ASSIGN(EnqueueResult r, store().JobInsert(p));
  EXPECT_EQ(r.state, JobState::kScheduled);
  EXPECT_EQ(State(r.id), "scheduled");
  // created_at and run_at come from the same now().
  EXPECT_EQ(sql_.Int("SELECT (extract(epoch FROM run_at - created_at) * 1000)::bigint"
                     " FROM chime.jobs_all WHERE id = $1",
                     r.id),
            3'600'000);
}

TEST_F(JobStoreInsertTest, RunAtInTheFutureIsKeptExactlyAndWinsOverDelay) {
  const auto wall = std::chrono::system_clock::now() + hours(2);
  const TimePoint at = std::chrono::time_point_cast<std::chrono::microseconds>(wall);
  EnqueueParams p = Params("at_time");
  p.run_at = at;
  p.delay = hours(48);
  ASSERT_OK_AND_ASSIGN(EnqueueResult r, store().JobInsert(p));
  EXPECT_EQ(r.state, JobState::kScheduled);
  EXPECT_EQ(sql_.Int("SELECT (extract(epoch FROM run_at) * 1000000)::bigint FROM chime.jobs_all"
                     " WHERE id = $1",
                     r.id),
            Micros(at));
}

TEST_F(JobStoreInsertTest, RunAtInThePastIsAvailable) {
  EnqueueParams p = Params("overdue");
  p.run_at = std::chrono::system_clock::now() - hours(1);
  ASSERT_OK_AND_ASSIGN(EnqueueResult r, store().JobInsert(p));
  EXPECT_EQ(r.state, JobState::kAvailable);
  EXPECT_EQ(State(r.id), "available");
}

// Checks that ids[i] is the row made from params[i] (payload {"i": i}).
void ExpectIdsInInputOrder(Inspector& sql, const std::vector<EnqueueResult>& results, int n) {
  ASSERT_EQ(results.size(), static_cast<size_t>(n));
  auto rows = sql.Query("SELECT id, (payload->>'i')::int FROM chime.jobs_all");
  ASSERT_EQ(rows.size(), static_cast<size_t>(n));
  std::map<int64_t, int> index_of;
  for (const auto& row : rows) index_of[row[0].as<int64_t>()] = row[1].as<int>();
  std::set<int64_t> seen;
  for (int i = 0; i < n; ++i) {
    EXPECT_FALSE(results[i].existing) << i;
    EXPECT_TRUE(seen.insert(results[i].id).second) << "duplicate id at " << i;
    auto it = index_of.find(results[i].id);
    ASSERT_NE(it, index_of.end()) << "no row for result " << i;
    ASSERT_EQ(it->second, i) << "result " << i << " names the row of input " << it->second;
  }
}

std::vector<EnqueueParams> Numbered(int n) {
  std::vector<EnqueueParams> params;
  for (int i = 0; i < n; ++i) {
    EnqueueParams p;
    p.kind = i % 3 == 0 ? "a" : "b";
    p.queue = i % 2 == 0 ? "even" : "odd";
    p.priority = (i * 7) % 10;
    p.payload = "{\"i\": " + std::to_string(i) + "}";
    params.push_back(std::move(p));
  }
  return params;
}

TEST_F(JobStoreInsertTest, InsertManyReturnsIdsInInputOrderForAHundredJobs) {
  const auto params = Numbered(100);
  ASSERT_OK_AND_ASSIGN(auto results, store().JobsInsertMany(params));
  ExpectIdsInInputOrder(sql_, results, 100);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.jobs_all WHERE queue = 'even'"), 50);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.jobs_all WHERE kind = 'a'"), 34);
}

TEST_F(JobStoreInsertTest, InsertManyWritesTenThousandJobsInOneCall) {
  const auto params = Numbered(10'000);
  ASSERT_OK_AND_ASSIGN(auto results, store().JobsInsertMany(params));
  ExpectIdsInInputOrder(sql_, results, 10'000);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.jobs_all WHERE state = 'available'"), 10'000);
}

// JobsInsertMany with the COPY path taken for any batch it can serve.
class JobStoreCopyTest : public JobStoreTestBase {
 protected:
  JobStoreConfig StoreConfig() const override {
    JobStoreConfig config = JobStoreTestBase::StoreConfig();
    config.copy_min_batch = 1;
    return config;
  }

  // What a job's row holds, apart from its id and times.
  std::string Row(int64_t id) {
    return sql_.Scalar(
        "SELECT concat_ws('|', kind, queue, priority, state, payload::text, attempt, max_attempts,"
        " timeout_ms, unique_key, parent_id, dry_run, invocation, run_at <= now(), created_at <= now(),"
        " lease_token IS NULL) FROM chime.jobs_all WHERE id = $1",
        id);
  }
};

TEST_F(JobStoreCopyTest, CopyWritesTheRowsTheArrayStatementWrites) {
  const int64_t parent = Enqueue("fan_out");
  std::vector<EnqueueParams> params(6, Params("copied"));
  params[0].payload = R"({"s": "tab\there, \\N, \"quoted\", 'single'"})";
  params[1].payload = "{\n\t\"a\": 1,\r\n  \"b\": [true, null, -0.5e3]\n}";  // JSON whitespace.
  params[2].payload = R"({"u": "ünï € \u00e9 \ud83d\ude00", "$1": "'); DROP TABLE jobs;--"})";
  params[3].queue = "q.with-punct:1";
  params[3].priority = 9;
  params[3].max_attempts = 1;
  params[3].timeout = milliseconds(1'500);
  params[4].parent_id = parent;
  params[4].dry_run = true;
  params[4].invocation = Invocation::kCron;
  params[5].payload = R"("just a string")";

  ASSERT_OK_AND_ASSIGN(auto copied, store().JobsInsertMany(params));
  Connection arrays_conn(ConnectionConfig{.url = db_.url()});
  JobStore arrays(arrays_conn, JobStoreConfig{.copy_min_batch = 0});
  ASSERT_OK_AND_ASSIGN(auto inserted, arrays.JobsInsertMany(params));
  ASSERT_EQ(copied.size(), params.size());
  ASSERT_EQ(inserted.size(), params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(copied[i].state, JobState::kAvailable);
    EXPECT_FALSE(copied[i].existing);
    if (i > 0) {
      EXPECT_GT(copied[i].id, copied[i - 1].id);
    }
    EXPECT_LT(copied[i].id, inserted[0].id);
    EXPECT_EQ(Row(copied[i].id), Row(inserted[i].id));
  }
  // The payload is the JSON given, whitespace aside.
  EXPECT_EQ(sql_.Scalar("SELECT payload = $1::jsonb FROM chime.jobs_all WHERE id = $2", params[1].payload,
                        copied[1].id),
            "t");
  // A later plain insert still takes a fresh id from the sequence.
  EXPECT_GT(Enqueue("after"), inserted.back().id);
}

TEST_F(JobStoreCopyTest, BatchesCopyCannotServeTakeTheArrayStatement) {
  // A unique key or a delay needs the array statement; the results are the
  // same as without COPY.
  std::vector<EnqueueParams> params(3, Params("mixed"));
  params[1].unique_key = "k";
  ASSERT_OK_AND_ASSIGN(auto first, store().JobsInsertMany(params));
  ASSERT_OK_AND_ASSIGN(auto again, store().JobsInsertMany(params));
  EXPECT_TRUE(again[1].existing);
  EXPECT_EQ(again[1].id, first[1].id);
  params[1].unique_key.reset();
  params[1].delay = hours(1);
  ASSERT_OK_AND_ASSIGN(auto delayed, store().JobsInsertMany(params));
  EXPECT_EQ(delayed[1].state, JobState::kScheduled);
  EXPECT_EQ(State(delayed[1].id), "scheduled");
  EXPECT_EQ(JobCount(), 3 + 2 + 3);
}

TEST_F(JobStoreInsertTest, InsertManyReportsEachJobsState) {
  std::vector<EnqueueParams> params(3, Params("mixed"));
  params[1].delay = hours(1);
  params[2].run_at = std::chrono::system_clock::now() - seconds(5);
  ASSERT_OK_AND_ASSIGN(auto results, store().JobsInsertMany(params));
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].state, JobState::kAvailable);
  EXPECT_EQ(results[1].state, JobState::kScheduled);
  EXPECT_EQ(results[2].state, JobState::kAvailable);
  EXPECT_EQ(State(results[1].id), "scheduled");
}

TEST_F(JobStoreInsertTest, InsertManyOfNothingWritesNothing) {
  ASSERT_OK_AND_ASSIGN(auto results, store().JobsInsertMany({}));
  EXPECT_TRUE(results.empty());
  EXPECT_EQ(JobCount(), 0);
}

TEST_F(JobStoreInsertTest, UniqueKeyHeldByALiveJobReturnsThatJob) {
  EnqueueParams p = Params("sync_integration");
  p.unique_key = "user-1/github";
  ASSERT_OK_AND_ASSIGN(EnqueueResult first, store().JobInsert(p));
  EXPECT_FALSE(first.existing);

  p.payload = R"({"different": true})";
  ASSERT_OK_AND_ASSIGN(EnqueueResult second, store().JobInsert(p));
  EXPECT_TRUE(second.existing);
  EXPECT_EQ(second.id, first.id);
  EXPECT_EQ(second.state, JobState::kAvailable);
  EXPECT_EQ(JobCount(), 1);
  EXPECT_EQ(sql_.Scalar("SELECT payload::text FROM chime.jobs_all WHERE id = $1", first.id), "{}");

  // Still live while running.
  ClaimedJob claimed = ClaimOne();
  ASSERT_EQ(claimed.id, first.id);
  ASSERT_OK_AND_ASSIGN(EnqueueResult third, store().JobInsert(p));
  EXPECT_TRUE(third.existing);
  EXPECT_EQ(third.id, first.id);
  EXPECT_EQ(third.state, JobState::kRunning);
  EXPECT_EQ(JobCount(), 1);
}

TEST_F(JobStoreInsertTest, UniqueKeyIsFreedWhenTheJobFinishes) {
  EnqueueParams p = Params("sync_integration");
  p.unique_key = "user-1/github";
  const int64_t first = Enqueue(p);
  ClaimedJob claimed = ClaimOne();
  ASSERT_EQ(claimed.id, first);
  ASSERT_TRUE(Complete(claimed, CompletionKind::kSucceeded).applied);

  ASSERT_OK_AND_ASSIGN(EnqueueResult again, store().JobInsert(p));
  EXPECT_FALSE(again.existing);
  EXPECT_NE(again.id, first);
  EXPECT_EQ(JobCount(), 2);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.jobs_all WHERE unique_key = 'user-1/github'"
                     " AND state = 'available'"),
            1);
}

TEST_F(JobStoreInsertTest, UniqueKeyIsPerKind) {
  EnqueueParams a = Params("kind_a");
  a.unique_key = "same";
  EnqueueParams b = Params("kind_b");
  b.unique_key = "same";
  ASSERT_OK_AND_ASSIGN(EnqueueResult ra, store().JobInsert(a));
  ASSERT_OK_AND_ASSIGN(EnqueueResult rb, store().JobInsert(b));
  EXPECT_FALSE(rb.existing);
  EXPECT_NE(ra.id, rb.id);
  EXPECT_EQ(JobCount(), 2);
}

TEST_F(JobStoreInsertTest, ConcurrentInsertsOfOneUniqueKeyMakeExactlyOneJob) {
  constexpr int kThreads = 8;
  constexpr int kEach = 50;
  std::vector<std::vector<EnqueueResult>> results(kThreads);
  std::vector<std::string> errors(kThreads);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        Connection conn(ConnectionConfig{.url = db_.url()});
        JobStore store(conn);
        EnqueueParams p = Params("process_all_users");
        p.unique_key = "tick-2024-01-01T00:00";
        for (int i = 0; i < kEach; ++i) {
          auto r = store.JobInsert(p);
          if (!r) {
            errors[t] = r.error().ToString();
            return;
          }
          results[t].push_back(*r);
        }
      });
    }
  }
  std::set<int64_t> ids;
  int created = 0;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[t], "") << "thread " << t;
    EXPECT_EQ(results[t].size(), static_cast<size_t>(kEach)) << "thread " << t;
    for (const auto& r : results[t]) {
      ids.insert(r.id);
      if (!r.existing) ++created;
    }
  }
  EXPECT_EQ(JobCount(), 1);
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(created, 1);
  EXPECT_EQ(sql_.Int("SELECT id FROM chime.jobs_all"), *ids.begin());
}

TEST_F(JobStoreInsertTest, InsertManyWithADuplicateKeyInsideTheBatchMakesOneJob) {
  std::vector<EnqueueParams> params(4, Params("sync_integration"));
  params[0].unique_key = "x";
  params[1].unique_key = "y";
  params[2].unique_key = "x";
  // params[3] has no key.
  for (size_t i = 0; i < params.size(); ++i) {
    params[i].payload = "{\"i\": " + std::to_string(i) + "}";
  }
  ASSERT_OK_AND_ASSIGN(auto results, store().JobsInsertMany(params));
  ASSERT_EQ(results.size(), 4u);
  EXPECT_FALSE(results[0].existing);
  EXPECT_FALSE(results[1].existing);
  EXPECT_TRUE(results[2].existing);
  EXPECT_FALSE(results[3].existing);
  EXPECT_EQ(results[2].id, results[0].id);
  EXPECT_NE(results[1].id, results[0].id);
  EXPECT_EQ(JobCount(), 3);
  // The first of the duplicates wins.
  EXPECT_EQ(sql_.Scalar("SELECT payload->>'i' FROM chime.jobs_all WHERE unique_key = 'x'"), "0");
  EXPECT_EQ(sql_.Scalar("SELECT payload->>'i' FROM chime.jobs_all WHERE id = $1", results[1].id), "1");
  EXPECT_EQ(sql_.Scalar("SELECT payload->>'i' FROM chime.jobs_all WHERE id = $1", results[3].id), "3");
}

TEST_F(JobStoreInsertTest, InsertManyReturnsLiveHoldersOfExistingKeys) {
  EnqueueParams held = Params("sync_integration");
  held.unique_key = "z";
  const int64_t holder = Enqueue(held);

  std::vector<EnqueueParams> params(3, Params("sync_integration"));
  params[0].payload = R"({"i": 0})";
  params[1].unique_key = "z";
  params[2].unique_key = "fresh";
  ASSERT_OK_AND_ASSIGN(auto results, store().JobsInsertMany(params));
  ASSERT_EQ(results.size(), 3u);
  EXPECT_FALSE(results[0].existing);
  EXPECT_TRUE(results[1].existing);
  EXPECT_EQ(results[1].id, holder);
  EXPECT_FALSE(results[2].existing);
  EXPECT_EQ(JobCount(), 3);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.jobs_all WHERE unique_key = 'z'"), 1);
  EXPECT_EQ(sql_.Scalar("SELECT payload->>'i' FROM chime.jobs_all WHERE id = $1", results[0].id), "0");
}

TEST_F(JobStoreInsertTest, ConcurrentInsertManyOfTheSameKeysMakesOneJobPerKey) {
  constexpr int kThreads = 4;
  constexpr int kKeys = 25;
  std::vector<std::string> errors(kThreads);
  std::vector<std::vector<EnqueueResult>> results(kThreads);
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        Connection conn(ConnectionConfig{.url = db_.url()});
        JobStore store(conn);
        std::vector<EnqueueParams> params;
        for (int k = 0; k < kKeys; ++k) {
          EnqueueParams p = Params("sync_integration");
          p.unique_key = "user-" + std::to_string((k + t * 7) % kKeys);
          params.push_back(p);
        }
        for (int round = 0; round < 5; ++round) {
          auto r = store.JobsInsertMany(params);
          if (!r) {
            errors[t] = r.error().ToString();
            return;
          }
          results[t].insert(results[t].end(), r->begin(), r->end());
        }
      });
    }
  }
  std::map<int64_t, int> created;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[t], "") << "thread " << t;
    for (const auto& r : results[t]) {
      if (!r.existing) ++created[r.id];
    }
  }
  EXPECT_EQ(JobCount(), kKeys);
  EXPECT_EQ(sql_.Int("SELECT count(DISTINCT unique_key) FROM chime.jobs_all"), kKeys);
  EXPECT_EQ(created.size(), static_cast<size_t>(kKeys));
  for (const auto& [id, n] : created) EXPECT_EQ(n, 1) << "job " << id << " reported created " << n;
}

TEST_F(JobStoreInsertTest, InsertSelectedInsertsWhatTheQuerySelectsAndSkipsHeldKeys) {
  EnqueueParams held = Params("numbered");
  held.unique_key = "n:2";
  const int64_t holder = Enqueue(held);
  const std::string ctes =
      "src AS (SELECT g FROM generate_series(1, $1::int) g),\n"
      "children AS (SELECT 'numbered'::text AS kind, $2::text AS queue, ('{\"n\":' || g || '}')::jsonb AS payload,\n"
      "  3 AS max_attempts, 'n:' || g AS unique_key, NULL::bigint AS parent_id, 'manual'::text AS invocation\n"
      "  FROM src)";
  const std::vector<std::string> params{"3", "selected"};
  ASSERT_OK_AND_ASSIGN(auto row, store().JobsInsertSelected(
                                     ctes, "SELECT (SELECT count(*) FROM src), count(*), NULL FROM inserted", params));
  ASSERT_EQ(row.size(), 3u);
  EXPECT_EQ(row[0], "3");
  EXPECT_EQ(row[1], "2") << "n:2 is held by a live job";
  EXPECT_EQ(row[2], std::nullopt);
  EXPECT_EQ(JobCount(), 3);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.jobs_all WHERE queue = 'selected' AND max_attempts = 3"
                     " AND payload->>'n' = substr(unique_key, 3)"),
            2);
  EXPECT_EQ(State(holder), "available");
}

}  // namespace
}  // namespace chime::db::testing
