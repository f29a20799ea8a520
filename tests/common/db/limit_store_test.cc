// Cluster-wide limits (issue 20): their definitions, and the claim keeping
// concurrency and rate per partition (migration 0022), with one claimer and
// with many at once.
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/db/limit_store.h"
#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

using schedule::LimitRate;
using schedule::LimitSpec;
using std::chrono::seconds;

class LimitStoreTest : public JobStoreTestBase {
 protected:
  void SetUp() override {
    JobStoreTestBase::SetUp();
    limits_ = std::make_unique<LimitStore>(conn_);
  }

  LimitRow Set(LimitSpec spec) {
    auto row = limits_->LimitSet(spec);
    EXPECT_TRUE(row.has_value()) << row.error().ToString();
    return row ? *row : LimitRow{};
  }

  int64_t EnqueueFor(const std::string& kind, const std::string& payload) {
    EnqueueParams p = Params(kind);
    p.payload = payload;
    return Enqueue(p);
  }

  static std::multiset<std::string> Kinds(const std::vector<ClaimedJob>& jobs) {
    std::multiset<std::string> out;
    for (const auto& j : jobs) out.insert(j.kind);
    return out;
  }

  std::string NotifiedWhenOneOfTwoFinishes(const LimitSpec& spec);

  // `claimers` threads claim `batch` at a time and complete what they took
  // until `starts` jobs started (or 400 rounds each); answers the most jobs
  // held at once, each claimer counting what it holds between its claim and
  // its completion, and the jobs started.
  struct Crowd {
    int most = 0;
    int started = 0;
  };
  Crowd ClaimInACrowd(int claimers, int batch, int starts);

  std::unique_ptr<LimitStore> limits_;
};

LimitStoreTest::Crowd LimitStoreTest::ClaimInACrowd(int claimers, int batch, int starts) {
  std::atomic<int> holding{0};
  std::atomic<int> most{0};
  std::atomic<int> started{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < claimers; ++t) {
    threads.emplace_back([&, t] {
      Connection conn(ConnectionConfig{.url = db_.url()});
      JobStore store(conn, StoreConfig(), &rng_);
      for (int round = 0; round < 400 && started.load() < starts; ++round) {
        ClaimParams p;
        p.worker_id = "w" + std::to_string(t);
        p.limit = batch;
        auto jobs = store.JobsClaim(p);
        if (!jobs) {
          ADD_FAILURE() << jobs.error().ToString();
          failed = true;
          return;
        }
        const int now_holding = holding += static_cast<int>(jobs->size());
        started += static_cast<int>(jobs->size());
        int seen = most.load();
        while (now_holding > seen && !most.compare_exchange_weak(seen, now_holding)) {
        }
        std::vector<Completion> done;
        for (const auto& j : *jobs) done.push_back(MakeCompletion(j, CompletionKind::kSucceeded, {}, "{}", p.worker_id));
        holding -= static_cast<int>(jobs->size());
        if (!done.empty() && !store.JobsCompleteIfLeased(done)) {
          ADD_FAILURE() << "completion failed";
          failed = true;
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(failed.load());
  return {most.load(), started.load()};
}

TEST(LimitRateTest, ParsesCountsPerWindow) {
  auto r = schedule::ParseLimitRate("100/1m");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->count, 100);
  EXPECT_EQ(r->window, std::chrono::minutes(1));
  EXPECT_EQ(schedule::ParseLimitRate("10/s")->window, seconds(1));
  EXPECT_EQ(schedule::ParseLimitRate("5000/h")->window, std::chrono::hours(1));
  EXPECT_EQ(schedule::ParseLimitRate("3/90s")->window, seconds(90));
  EXPECT_EQ(schedule::FormatLimitRate(*schedule::ParseLimitRate("5000/1h")), "5000/1h");
  for (const char* bad : {"", "100", "/1m", "x/1m", "0/1m", "-1/1m", "100/", "100/1ms", "100/2d", "1e3/1m",
                          "2000000/1h", "100/1m/2"}) {
    auto parsed = schedule::ParseLimitRate(bad);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.error().message.find("rate:"), std::string::npos) << parsed.error().message;
  }
}

TEST_F(LimitStoreTest, RefusesBadDefinitionsNamingTheField) {
  auto fails_on = [&](LimitSpec spec, const std::string& field) {
    auto r = limits_->LimitSet(spec);
    ASSERT_FALSE(r.has_value()) << field;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().message.rfind(field + ":", 0), 0u) << r.error().message;
  };
  fails_on({.name = "a/b", .concurrency = 1}, "name");
  fails_on({.name = "ok"}, "limit");
  fails_on({.name = "ok", .kind = "bad kind", .concurrency = 1}, "kind");
  fails_on({.name = "ok", .partition_by = "user.id", .concurrency = 1}, "partition_by");
  fails_on({.name = "ok", .concurrency = 0}, "concurrency");
  fails_on({.name = "ok", .rate = LimitRate{10, std::chrono::milliseconds(10)}}, "rate");
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.limits"), 0);
  auto gone = limits_->LimitDelete("nothing");
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
}

TEST_F(LimitStoreTest, ConcurrencyHoldsJobsReadyUntilASlotFrees) {
  Set({.name = "sync", .kind = "sync", .concurrency = 2});
  std::vector<int64_t> syncs;
  for (int i = 0; i < 5; ++i) syncs.push_back(Enqueue("sync"));
  Enqueue("other");
  Enqueue("other");
  EnqueueParams later = Params("sync");  // Not due: neither claimed nor counted as ready.
  later.run_at = std::chrono::system_clock::now() + std::chrono::hours(1);
  Enqueue(later);

  auto first = Claim(10);
  EXPECT_EQ(Kinds(first), (std::multiset<std::string>{"other", "other", "sync", "sync"}));
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.jobs_all WHERE kind = 'sync' AND state = 'available'"), 3);
  EXPECT_TRUE(Claim(10).empty()) << "a full partition gives nothing more";
  // Held jobs are not attempts: nothing about them changed.
  EXPECT_EQ(sql_.Int("SELECT max(attempt) FROM chime.jobs_all WHERE state = 'available'"), 0);

  auto lists = limits_->LimitsList();
  ASSERT_TRUE(lists.has_value());
  ASSERT_EQ(lists->size(), 1u);
  EXPECT_EQ((*lists)[0].running, 2);
  EXPECT_EQ((*lists)[0].ready, 3);

  for (const auto& j : first) {
    if (j.kind == "sync") {
      Complete(j, CompletionKind::kSucceeded);
      break;
    }
  }
  auto next = Claim(10);
  EXPECT_EQ(Kinds(next), (std::multiset<std::string>{"sync"}));
}

TEST_F(LimitStoreTest, PartitionsByAPayloadField) {
  Set({.name = "per-provider", .kind = "sync_integration", .partition_by = "provider", .concurrency = 1});
  for (int i = 0; i < 3; ++i) {
    EnqueueFor("sync_integration", R"({"provider":"github"})");
    EnqueueFor("sync_integration", R"({"provider":"google"})");
  }
  EnqueueFor("sync_integration", R"({"userId":7})");  // No provider: the partition "".
  auto claimed = Claim(10);
  std::multiset<std::string> providers;
  for (const auto& j : claimed) providers.insert(j.payload);
  EXPECT_EQ(claimed.size(), 3u);
  EXPECT_EQ(sql_.Int("SELECT count(DISTINCT limit_keys[1]) FROM chime.jobs_all WHERE state = 'running'"), 3);
  EXPECT_EQ(sql_.Scalar("SELECT string_agg(limit_keys[1], ',' ORDER BY limit_keys[1]) FROM chime.jobs_all "
                        "WHERE state = 'running'"),
            "per-provider/,per-provider/github,per-provider/google");

  auto rows = limits_->LimitsList();
  ASSERT_TRUE(rows.has_value());
  EXPECT_EQ((*rows)[0].partitions_total, 3);
  EXPECT_EQ((*rows)[0].partitions.size(), 3u);

  // Why the next github job waits.
  const int64_t waiting = sql_.Int(
      "SELECT min(id) FROM chime.jobs_all WHERE state = 'available' AND payload->>'provider' = 'github'");
  auto shown = store().JobGet(waiting);
  ASSERT_TRUE(shown.has_value()) << shown.error().ToString();
  const auto& waits = shown->waiting_on;
  ASSERT_EQ(waits.size(), 1u);
  EXPECT_EQ(waits[0].limit, "per-provider");
  EXPECT_EQ(waits[0].partition, "github");
  EXPECT_EQ(waits[0].running, 1);
  EXPECT_FALSE(waits[0].next_slot.has_value());
  // A running job waits on nothing.
  EXPECT_TRUE(store().JobGet(claimed[0].id)->waiting_on.empty());
}

// Held back: each ready job a claim passed over because its partition was
// full, counted per limit; jobs of a partition held by another claim are not
// this claim's to count, and jobs under two limits count once.
TEST_F(LimitStoreTest, CountsTheJobsAClaimHeldBack) {
  Set({.name = "one", .kind = "sync", .concurrency = 1});
  for (int i = 0; i < 3; ++i) Enqueue("sync");
  ASSERT_EQ(Claim(10).size(), 1u);
  EXPECT_EQ(limits_->LimitsList()->at(0).held_back, 2) << "the claim passed over two";
  EXPECT_TRUE(Claim(10).empty());
  EXPECT_EQ(limits_->LimitsList()->at(0).held_back, 4) << "and the next one the same two again";

  // Two limits on a job (the loop, not the set-based assignment).
  Set({.name = "per-user", .kind = "call", .partition_by = "userId", .concurrency = 1});
  Set({.name = "wide", .kind = "call", .concurrency = 100});
  for (int i = 0; i < 3; ++i) EnqueueFor("call", R"({"userId": "u1"})");
  EXPECT_EQ(Claim(10).size(), 1u);
  auto rows = limits_->LimitsList();
  ASSERT_TRUE(rows.has_value());
  std::map<std::string, int64_t> held;
  for (const auto& r : *rows) held[r.spec.name] = r.held_back;
  EXPECT_EQ(held["per-user"], 2);
  EXPECT_EQ(held["wide"], 0);
}

TEST_F(LimitStoreTest, RateCountsStartsInASlidingWindow) {
  Set({.name = "slow", .kind = "call", .rate = LimitRate{3, std::chrono::minutes(1)}});
  for (int i = 0; i < 5; ++i) Enqueue("call");
  auto first = Claim(10);
  ASSERT_EQ(first.size(), 3u);
  for (const auto& j : first) Complete(j, CompletionKind::kSucceeded);
  EXPECT_TRUE(Claim(10).empty()) << "finishing does not give a rate back";

  auto next = limits_->LimitsNextSlot(std::vector<std::string>{"default"});
  ASSERT_TRUE(next.has_value());
  ASSERT_TRUE(next->has_value());
  const auto ahead = **next - std::chrono::system_clock::now();
  EXPECT_GT(ahead, seconds(50));
  EXPECT_LE(ahead, seconds(61));
  const int64_t waiting = sql_.Int("SELECT min(id) FROM chime.jobs_all WHERE state = 'available'");
  auto shown = store().JobGet(waiting);
  ASSERT_TRUE(shown.has_value());
  ASSERT_EQ(shown->waiting_on.size(), 1u);
  EXPECT_EQ(shown->waiting_on[0].started_in_window, 3);
  ASSERT_TRUE(shown->waiting_on[0].next_slot.has_value());
  EXPECT_EQ(*shown->waiting_on[0].next_slot, **next) << "the slot the claimer sleeps until";

  // The three starts share one bucket (one claim); two of them move to a
  // bucket of their own that left the window.
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.limit_starts"), 1);
  sql_.Exec("INSERT INTO chime.limit_starts (key, shard, started_at, n) "
            "SELECT key, shard, started_at - interval '61 seconds', 2 FROM chime.limit_starts");
  sql_.Exec("UPDATE chime.limit_starts SET n = 1 WHERE started_at > now() - interval '1 minute'");
  EXPECT_EQ(Claim(10).size(), 2u);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.limit_starts WHERE started_at < now() - interval '1 minute'"), 0)
      << "the old bucket was pruned";
  EXPECT_EQ(sql_.Int("SELECT sum(n) FROM chime.limit_starts"), 3);
}

TEST_F(LimitStoreTest, ARescueFreesTheSlotOfAKilledWorker) {
  Set({.name = "one", .kind = "sync", .concurrency = 1});
  const int64_t a = Enqueue("sync");
  Enqueue("sync");
  ASSERT_EQ(Claim(10).size(), 1u);
  EXPECT_TRUE(Claim(10).empty());
  // The worker dies: its lease runs out, but until the rescue the job still
  // counts, so no second holder runs beside it.
  ExpireLease(a);
  EXPECT_TRUE(Claim(10).empty());
  ASSERT_OK(store().JobsRescue(RescueParams{}));
  EXPECT_EQ(Claim(10).size(), 1u);
}

TEST_F(LimitStoreTest, DeletingALimitReleasesWhatItHeld) {
  Set({.name = "one", .kind = "sync", .concurrency = 1});
  for (int i = 0; i < 3; ++i) Enqueue("sync");
  ASSERT_EQ(Claim(10).size(), 1u);
  ASSERT_OK(limits_->LimitDelete("one"));
  EXPECT_EQ(Claim(10).size(), 2u);
}

// Under `spec` (concurrency 1, kind sync), two sync jobs, one claimed: the
// payload of the notification its completion sends.
std::string LimitStoreTest::NotifiedWhenOneOfTwoFinishes(const LimitSpec& spec) {
  Set(spec);
  Enqueue("sync");
  Enqueue("sync");
  auto claimed = Claim(10);
  EXPECT_EQ(claimed.size(), 1u);
  if (claimed.empty()) return {};
  ReadyNotifications ready(db_.url());
  Complete(claimed[0], CompletionKind::kSucceeded);
  // Delivered at the completion's commit.
  const std::string payload = ready.Next();
  EXPECT_EQ(ready.Pending(), 0u);
  return payload;
}

TEST_F(LimitStoreTest, AFinishedLimitedJobWakesItsQueue) {
  const std::string payload = NotifiedWhenOneOfTwoFinishes({.name = "one", .queue = "default", .kind = "sync",
                                                            .concurrency = 1});
  EXPECT_EQ(payload, "default:1");
}

// The jobs waiting for the slot of a limit on every queue may be on any
// queue: the notification says '*' (every worker looks).
TEST_F(LimitStoreTest, AFinishedJobUnderALimitOnEveryQueueWakesEveryWorker) {
  const std::string payload = NotifiedWhenOneOfTwoFinishes({.name = "one", .kind = "sync", .concurrency = 1});
  EXPECT_EQ(payload, "default:1,*:1");
}

// A deleted or raised limit lets waiting jobs through at once: their
// workers are woken, not left to their next poll.
TEST_F(LimitStoreTest, ChangingOrDeletingALimitWakesItsWorkers) {
  ReadyNotifications ready(db_.url());
  Set({.name = "mail", .queue = "mail", .concurrency = 1});
  EXPECT_EQ(ready.Next(), "mail:1");
  Set({.name = "any", .kind = "sync", .concurrency = 1});
  EXPECT_EQ(ready.Next(), "*:1");
  ASSERT_OK(limits_->LimitDelete("mail"));
  EXPECT_EQ(ready.Next(), "mail:1");
}

// Many claimers at once on one partition of concurrency 3 and a rate of
// 40 a minute: each claimer counts what it holds between the claim and the
// completion, so the sum can only exceed 3 if two claims both took the
// last slot.
TEST_F(LimitStoreTest, ConcurrentClaimersNeverExceedTheLimit) {
  Set({.name = "three", .kind = "sync", .concurrency = 3, .rate = LimitRate{40, std::chrono::minutes(1)}});
  for (int i = 0; i < 60; ++i) Enqueue("sync");
  const Crowd crowd = ClaimInACrowd(6, 2, 40);
  EXPECT_LE(crowd.most, 3);
  EXPECT_EQ(crowd.started, 40) << "the rate's 40 starts, no more, no fewer";
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.jobs_all WHERE state = 'succeeded'"), 40);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.jobs_all WHERE state = 'available'"), 20);
}

// Claimers over many partitions go side by side (a claim that finds every
// partition held waits for one row, migration 0026), and no partition ever
// runs two: each claimer adds what it holds to a shared tally between its
// claim and its completion.
TEST_F(LimitStoreTest, ClaimersOverManyPartitionsNeverRunTwoOfOne) {
  Set({.name = "per-user", .kind = "sync", .partition_by = "userId", .concurrency = 1});
  sql_.Exec(
      "INSERT INTO chime.jobs (kind, queue, payload) "
      "SELECT 'sync', 'default', jsonb_build_object('userId', 'u' || (g % 40)) FROM generate_series(1, 400) g");
  std::mutex mu;
  std::map<std::string, int> running;  // Guarded by mu.
  int most = 0;                        // Guarded by mu.
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      Connection conn(ConnectionConfig{.url = db_.url()});
      JobStore store(conn, StoreConfig(), &rng_);
      for (int round = 0; round < 2000 && done.load() < 400; ++round) {
        ClaimParams p;
        p.worker_id = "w" + std::to_string(t);
        p.limit = 25;
        auto jobs = store.JobsClaim(p);
        ASSERT_TRUE(jobs.has_value()) << jobs.error().ToString();
        std::vector<std::string> users;
        {
          std::lock_guard<std::mutex> lock(mu);
          for (const auto& j : *jobs) {
            users.push_back(nlohmann::json::parse(j.payload).at("userId").get<std::string>());
            most = std::max(most, ++running[users.back()]);
          }
        }
        std::vector<Completion> finished;
        for (const auto& j : *jobs) {
          finished.push_back(MakeCompletion(j, CompletionKind::kSucceeded, {}, "{}", p.worker_id));
        }
        {
          std::lock_guard<std::mutex> lock(mu);
          for (const auto& u : users) --running[u];
        }
        if (!finished.empty()) {
          ASSERT_TRUE(store.JobsCompleteIfLeased(finished).has_value());
        }
        done += static_cast<int>(jobs->size());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(most, 1);
  EXPECT_EQ(done.load(), 400);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.jobs_all WHERE state = 'succeeded'"), 400);
}

// A larger budget is split over shards (migration 0023) that claimers take
// side by side: together they still never exceed it, and they use all of it.
TEST_F(LimitStoreTest, ShardsOfABudgetAddUpToIt) {
  Set({.name = "wide", .kind = "sync", .concurrency = 50, .rate = LimitRate{130, std::chrono::minutes(1)}});
  EXPECT_EQ(sql_.Int("SELECT chime.limit_shard_count(50, 130)"), 3);
  for (int i = 0; i < 300; ++i) Enqueue("sync");
  const Crowd crowd = ClaimInACrowd(8, 7, 130);
  EXPECT_LE(crowd.most, 50);
  EXPECT_EQ(crowd.started, 130) << "the rate's 130 starts, no more, no fewer";
  EXPECT_EQ(sql_.Int("SELECT sum(n) FROM chime.limit_starts"), 130);
  EXPECT_EQ(sql_.Int("SELECT count(DISTINCT shard) FROM chime.limit_starts"), 3) << "every shard's share used";
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.jobs_all WHERE state = 'available'"), 170);
}

// One claimer alone uses every shard's share: a claim that finds its own
// shard short takes the others too.
TEST_F(LimitStoreTest, OneClaimerUsesTheWholeBudget) {
  Set({.name = "wide", .kind = "sync", .concurrency = 64});
  for (int i = 0; i < 100; ++i) Enqueue("sync");
  EXPECT_EQ(Claim(100).size(), 64u);
  EXPECT_EQ(sql_.Int("SELECT count(DISTINCT s) FROM chime.jobs_all, unnest(limit_shards) s WHERE state = 'running'"), 4);
  EXPECT_TRUE(Claim(100).empty());
}

// A claim in progress holds its shard, not the limit: another claim on the
// same limit takes another shard instead of waiting for the first's commit
// (0022 made it wait: claims under one limit ran one at a time).
TEST_F(LimitStoreTest, ClaimsUnderOneLimitDoNotWaitForEachOther) {
  Set({.name = "wide", .kind = "sync", .concurrency = 1000});
  // (More than the first claim's candidates, which it locks.)
  for (int i = 0; i < 100; ++i) Enqueue("sync");
  // (A partition's first claim creates its shards' rows: others wait for
  // that claim's commit on the unique index, once.)
  ASSERT_EQ(Claim(1).size(), 1u);
  pqxx::connection first(db_.url());
  pqxx::work open(first);
  EXPECT_EQ(open.exec("SELECT * FROM chime.jobs_claim_limited(ARRAY['default'], 5)").size(), 5u);
  // Still open: its shard's lock is held. The second claim would block on
  // it; the timeout turns a wait into an error.
  sql_.Exec("DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET lock_timeout = ''2s''', current_database()); END $$");
  Connection conn(ConnectionConfig{.url = db_.url()});
  JobStore store(conn, StoreConfig(), &rng_);
  ClaimParams p;
  p.worker_id = "second";
  p.limit = 5;
  auto second = store.JobsClaim(p);
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  EXPECT_EQ(second->size(), 5u);
  open.abort();
}

// The claim counts a shard's running attempts from chime.limit_running
// (migration 0028), which triggers keep as jobs move into and out of
// 'running': after every kind of move it must equal a count of the running
// jobs themselves, or a partition would run over its concurrency (counted
// short) or starve (counted long).
TEST_F(LimitStoreTest, TheRunningCountFollowsEveryMoveOfAJob) {
  // Jobs under two limits: one partition of each user (one shard), and one
  // wide partition of every sync (1000 / 16: 8 shards).
  Set({.name = "per-user", .kind = "sync", .partition_by = "userId", .concurrency = 3});
  Set({.name = "all", .kind = "sync", .concurrency = 1000});
  sql_.Exec(
      "INSERT INTO chime.jobs (kind, queue, payload, max_attempts) "
      "SELECT 'sync', 'default', jsonb_build_object('userId', 'u' || (g % 4)), 3 FROM generate_series(1, 40) g");
  // Counted short or long, per key and shard; and any row below zero.
  const auto drift = [&] {
    return sql_.Scalar(R"sql(
      SELECT coalesce(string_agg(x.key || '|' || x.shard || ': ' || x.n, ', ' ORDER BY x.key, x.shard), '')
      FROM (SELECT key, shard, sum(n) AS n FROM (
              SELECT key, shard, n FROM chime.limit_running
              UNION ALL
              SELECT u.key, coalesce(u.shard, 0), -count(*)
              FROM chime.jobs_all j, unnest(j.limit_keys, j.limit_shards) u(key, shard)
              WHERE j.state = 'running' AND j.finished_at IS NULL AND j.limit_keys IS NOT NULL
              GROUP BY 1, 2) c
            GROUP BY 1, 2 HAVING sum(n) <> 0
            UNION ALL
            SELECT key || ' slot ' || slot, shard, n FROM chime.limit_running WHERE n < 0) x)sql");
  };
  const auto running = [&] { return sql_.Int("SELECT count(*) FROM chime.jobs_all WHERE state = 'running'"); };

  std::vector<ClaimedJob> held = Claim(10);
  ASSERT_EQ(held.size(), 10u);
  EXPECT_EQ(drift(), "") << "after a claim";
  EXPECT_GT(sql_.Int("SELECT sum(n) FROM chime.limit_running"), 0);

  std::vector<Lease> leases;
  for (const auto& j : held) leases.push_back(j.lease);
  ASSERT_TRUE(store().JobsHeartbeat(leases, std::chrono::minutes(5)).has_value());
  EXPECT_EQ(drift(), "") << "after a heartbeat";

  Complete(held[0], CompletionKind::kSucceeded);
  Complete(held[1], CompletionKind::kFailed);  // Retryable.
  Complete(held[2], CompletionKind::kFailedPermanent);
  Complete(held[3], CompletionKind::kCancelled);
  EXPECT_EQ(drift(), "") << "after completions";

  ASSERT_TRUE(store().JobsReleaseIfLeased(std::vector<Lease>{held[4].lease}, "w").has_value());
  EXPECT_EQ(drift(), "") << "after a release";

  ExpireLease(held[5].id);
  ExpireLease(held[6].id);
  ASSERT_OK(store().JobsRescue(RescueParams{}));
  EXPECT_EQ(drift(), "") << "after a rescue";

  sql_.Exec("DELETE FROM chime.jobs WHERE id = $1", held[7].id);
  EXPECT_EQ(drift(), "") << "after a delete";
  // An UPDATE that moves a running job to another shard, and one that sets
  // a ready job running by hand.
  sql_.Exec("UPDATE chime.jobs SET limit_shards = ARRAY[0, 7]::smallint[] WHERE id = $1", held[8].id);
  sql_.Exec(
      "UPDATE chime.jobs SET state = 'running', lease_token = gen_random_uuid(), "
      "lease_expires_at = now() + interval '1 hour', limit_keys = ARRAY['per-user/u1', 'all'], limit_shards = '{0,3}' "
      "WHERE id = (SELECT min(id) FROM chime.jobs_all WHERE state = 'available')");
  EXPECT_EQ(drift(), "") << "after updates by hand";

  // Claims and completions in a crowd, then everything finished.
  const Crowd crowd = ClaimInACrowd(4, 3, 15);
  EXPECT_GT(crowd.started, 0);
  EXPECT_EQ(drift(), "") << "after a crowd";
  sql_.Exec("UPDATE chime.jobs SET state = 'succeeded', finished_at = now(), lease_token = NULL "
            "WHERE state = 'running'");
  EXPECT_EQ(running(), 0);
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.limit_running WHERE n <> 0"), 0);

  // A claim after all that takes the users' full concurrency again.
  sql_.Exec("INSERT INTO chime.jobs (kind, queue, payload) VALUES ('sync', 'default', '{\"userId\": \"u9\"}'), "
            "('sync', 'default', '{\"userId\": \"u9\"}'), ('sync', 'default', '{\"userId\": \"u9\"}'), "
            "('sync', 'default', '{\"userId\": \"u9\"}')");
  sql_.Exec("UPDATE chime.jobs SET run_at = now() + interval '1 hour' "
            "WHERE state IN ('available', 'retryable') AND payload ->> 'userId' <> 'u9'");
  EXPECT_EQ(Claim(10).size(), 3u);
  EXPECT_EQ(drift(), "");
  sql_.Exec("TRUNCATE chime.jobs");
  EXPECT_EQ(sql_.Int("SELECT count(*) FROM chime.limit_running"), 0) << "a truncate empties the counts";
}

}  // namespace
}  // namespace chime::db::testing
