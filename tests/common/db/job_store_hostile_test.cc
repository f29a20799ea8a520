// Hostile and malformed input: every string is either stored verbatim or
// rejected with InvalidArgument, a rejected batch writes nothing, and the
// schema survives.
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <tuple>

#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

struct Hostile {
  std::string name;
  std::string value;
};

std::vector<Hostile> HostileStrings() {
  return {
      {"sql_injection", "'); DROP TABLE jobs;--"},
      {"sql_injection_schema", "x'); DROP TABLE chime.jobs; --"},
      {"placeholder", "$1"},
      {"nul_byte", std::string("a\0b", 3)},
      {"invalid_utf8", "\xff\xfe"},
      {"truncated_utf8", "ok\xe2\x82"},
      {"array_literal", "{\"a\",NULL}\\"},
      {"null_word", "NULL"},
  };
}

enum class Field { kKind, kQueue, kUniqueKey, kPayload };

const char* FieldName(Field f) {
  switch (f) {
    case Field::kKind: return "kind";
    case Field::kQueue: return "queue";
    case Field::kUniqueKey: return "unique_key";
    case Field::kPayload: return "payload";
  }
  return "?";
}

// A job whose `field` carries `value` (inside a JSON string for the payload).
EnqueueParams WithField(Field field, const std::string& value) {
  EnqueueParams p;
  p.kind = "hostile";
  switch (field) {
    case Field::kKind: p.kind = value; break;
    case Field::kQueue: p.queue = value; break;
    case Field::kUniqueKey: p.unique_key = value; break;
    case Field::kPayload: {
      std::string escaped;
      for (char c : value) {
        if (c == '"' || c == '\\') escaped.push_back('\\');
        escaped.push_back(c);
      }
      p.payload = "{\"s\": \"" + escaped + "\"}";
      break;
    }
  }
  return p;
}

class JobStoreHostileInputTest : public JobStoreTestBase {
 protected:
  void SetUp() override {
    JobStoreTestBase::SetUp();
    // A canary for "DROP TABLE jobs" through the default search_path.
    sql_.Exec("CREATE TABLE public.jobs (canary int)");
  }

  void ExpectSchemaIntact() {
    EXPECT_EQ(sql_.Scalar("SELECT to_regclass('chime.jobs') IS NOT NULL"), "t");
    EXPECT_EQ(sql_.Scalar("SELECT to_regclass('chime.runs') IS NOT NULL"), "t");
    EXPECT_EQ(sql_.Scalar("SELECT to_regclass('public.jobs') IS NOT NULL"), "t");
  }

  // What the database holds for `field` of job `id`.
  std::string StoredField(Field field, int64_t id) {
    switch (field) {
      case Field::kKind: return sql_.Scalar("SELECT kind FROM chime.jobs_all WHERE id = $1", id);
      case Field::kQueue: return sql_.Scalar("SELECT queue FROM chime.jobs_all WHERE id = $1", id);
      case Field::kUniqueKey:
        return sql_.Scalar("SELECT unique_key FROM chime.jobs_all WHERE id = $1", id);
      case Field::kPayload:
        return sql_.Scalar("SELECT payload->>'s' FROM chime.jobs_all WHERE id = $1", id);
    }
    return "";
  }

  // Batches of three with a hostile value in the middle job's field: stored
  // byte for byte, or the whole batch refused naming the job's index.
  void InsertManyStoresVerbatimOrRejects() {
    int64_t rows = 0;
    for (Field field : {Field::kKind, Field::kQueue, Field::kUniqueKey, Field::kPayload}) {
      for (const auto& h : HostileStrings()) {
        SCOPED_TRACE(std::string(FieldName(field)) + " = " + h.name);
        std::vector<EnqueueParams> batch{Params("fine"), WithField(field, h.value), Params("fine")};
        auto r = store().JobsInsertMany(batch);
        if (r.has_value()) {
          rows += 3;
          ASSERT_EQ(r->size(), 3u);
          EXPECT_EQ(StoredField(field, (*r)[1].id), h.value);
          EXPECT_EQ(ApiField(field, (*r)[1].id), h.value);
          EXPECT_EQ(sql_.Scalar("SELECT kind FROM chime.jobs_all WHERE id = $1", (*r)[0].id), "fine");
          EXPECT_EQ(sql_.Scalar("SELECT kind FROM chime.jobs_all WHERE id = $1", (*r)[2].id), "fine");
        } else {
          EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().ToString();
          // The message names the bad item's index.
          EXPECT_TRUE(std::regex_search(r.error().message, std::regex("\\b1\\b")))
              << r.error().message;
        }
        EXPECT_EQ(JobCount(), rows);
        ExpectSchemaIntact();
      }
    }
  }

  // The same field read back through the store.
  std::string ApiField(Field field, int64_t id) {
    auto got = store().JobGet(id);
    if (!got) {
      ADD_FAILURE() << "JobGet: " << got.error().ToString();
      return "";
    }
    switch (field) {
      case Field::kKind: return got->job.kind;
      case Field::kQueue: return got->job.queue;
      case Field::kUniqueKey: return got->job.unique_key.value_or("<none>");
      case Field::kPayload: return StoredField(field, id);  // JSON text; compared in SQL.
    }
    return "";
  }
};

TEST_F(JobStoreHostileInputTest, JobInsertStoresHostileStringsVerbatimOrRejectsThem) {
  int64_t rows = 0;
  for (Field field : {Field::kKind, Field::kQueue, Field::kUniqueKey, Field::kPayload}) {
    for (const auto& h : HostileStrings()) {
      SCOPED_TRACE(std::string(FieldName(field)) + " = " + h.name);
      auto r = store().JobInsert(WithField(field, h.value));
      if (r.has_value()) {
        ++rows;
        EXPECT_FALSE(r->existing);
        EXPECT_EQ(StoredField(field, r->id), h.value);
        EXPECT_EQ(ApiField(field, r->id), h.value);
      } else {
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().ToString();
      }
      EXPECT_EQ(JobCount(), rows);
      ExpectSchemaIntact();
    }
  }
}

TEST_F(JobStoreHostileInputTest, InsertManyStoresHostileStringsVerbatimOrRejectsTheWholeBatch) {
  InsertManyStoresVerbatimOrRejects();
}

// The same batches through JobsInsertMany's COPY path (all but the
// unique-key ones, which COPY never takes).
class JobStoreHostileCopyTest : public JobStoreHostileInputTest {
 protected:
  JobStoreConfig StoreConfig() const override {
    JobStoreConfig config = JobStoreHostileInputTest::StoreConfig();
    config.copy_min_batch = 1;
    return config;
  }
};

TEST_F(JobStoreHostileCopyTest, CopyStoresHostileStringsVerbatimOrRejectsTheWholeBatch) {
  InsertManyStoresVerbatimOrRejects();
}

TEST_F(JobStoreHostileInputTest, EscapedNulInsideJsonIsStoredOrRejected) {
  for (const std::string payload :
       {R"({"s": "\u0000"})", R"({"\u0000": 1})", R"({"s": "a\u0000b"})", R"(["\u0000"])"}) {
    SCOPED_TRACE(payload);
    EnqueueParams p = Params("hostile");
    p.payload = payload;
    auto r = store().JobInsert(p);
    if (r.has_value()) {
      EXPECT_EQ(sql_.Scalar("SELECT payload = $1::jsonb FROM chime.jobs_all WHERE id = $2", payload,
                            r->id),
                "t");
    } else {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().ToString();
    }
  }
  ExpectSchemaIntact();
}

TEST_F(JobStoreHostileInputTest, RejectsMalformedJsonAndWritesNothing) {
  const std::vector<std::string> malformed{
      "",        "{",           "{\"a\":}",      "{'a': 1}",           "nul",
      "[1, 2",   "{} trailing", "{\"a\": 1,}",   std::string("{}\0", 3), "\"unterminated",
      "{\"a\": NaN}", "{\"a\": 01}",
  };
  for (const auto& payload : malformed) {
    SCOPED_TRACE("payload: " + payload);
    EnqueueParams p = Params("json");
    p.payload = payload;
    auto one = store().JobInsert(p);
    ASSERT_FALSE(one.has_value());
    EXPECT_EQ(one.error().code, ErrorCode::kInvalidArgument) << one.error().ToString();

    std::vector<EnqueueParams> batch{Params("json"), p};
    auto many = store().JobsInsertMany(batch);
    ASSERT_FALSE(many.has_value());
    EXPECT_EQ(many.error().code, ErrorCode::kInvalidArgument) << many.error().ToString();
    EXPECT_EQ(JobCount(), 0);
  }
  ExpectSchemaIntact();
}

TEST_F(JobStoreHostileInputTest, AcceptsAnyJsonValueAsPayload) {
  for (const std::string payload : {"[]", "42", "\"text\"", "null", "true", "{\"a\": [1, {}]}"}) {
    SCOPED_TRACE(payload);
    EnqueueParams p = Params("json");
    p.payload = payload;
    ASSERT_OK_AND_ASSIGN(EnqueueResult r, store().JobInsert(p));
    EXPECT_EQ(sql_.Scalar("SELECT payload = $1::jsonb FROM chime.jobs_all WHERE id = $2", payload, r.id),
              "t");
  }
}

TEST_F(JobStoreHostileInputTest, RejectsOutOfRangeFields) {
  std::vector<std::pair<std::string, EnqueueParams>> bad;
  auto add = [&](std::string name, auto mutate) {
    EnqueueParams p = Params("fields");
    mutate(p);
    bad.emplace_back(std::move(name), std::move(p));
  };
  add("empty kind", [](EnqueueParams& p) { p.kind = ""; });
  add("long kind", [](EnqueueParams& p) { p.kind = std::string(129, 'k'); });
  add("space in queue", [](EnqueueParams& p) { p.queue = "my queue"; });
  add("empty queue", [](EnqueueParams& p) { p.queue = ""; });
  add("priority 10", [](EnqueueParams& p) { p.priority = 10; });
  add("priority -1", [](EnqueueParams& p) { p.priority = -1; });
  add("max_attempts 0", [](EnqueueParams& p) { p.max_attempts = 0; });
  add("empty unique key", [](EnqueueParams& p) { p.unique_key = ""; });
  add("long unique key", [](EnqueueParams& p) { p.unique_key = std::string(513, 'u'); });
  add("zero timeout", [](EnqueueParams& p) { p.timeout = milliseconds(0); });
  for (const auto& [name, p] : bad) {
    SCOPED_TRACE(name);
    auto r = store().JobInsert(p);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().ToString();
    auto v = ValidateEnqueue(p, 1 << 20);
    EXPECT_FALSE(v.has_value());
  }
  EXPECT_EQ(JobCount(), 0);
  // The longest allowed values are fine.
  EnqueueParams longest = Params(std::string(128, 'k'), std::string(128, 'q'));
  longest.unique_key = std::string(512, 'u');
  ASSERT_OK(store().JobInsert(longest));
  EXPECT_EQ(JobCount(), 1);
}

TEST_F(JobStoreHostileInputTest, HostileQueueOrWorkerInAClaimIsStoredVerbatimOrRejected) {
  const int64_t id = Enqueue("claimable");
  for (const auto& h : HostileStrings()) {
    SCOPED_TRACE(h.name);
    ClaimParams queue;
    queue.worker_id = "w";
    queue.queues = {h.value};
    auto r = store().JobsClaim(queue);
    if (r.has_value()) {
      EXPECT_TRUE(r->empty());
    } else {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().ToString();
    }
    EXPECT_EQ(State(id), "available");
    ExpectSchemaIntact();
  }
  for (const auto& h : HostileStrings()) {
    SCOPED_TRACE(h.name);
    ClaimParams worker;
    worker.worker_id = h.value;
    auto r = store().JobsClaim(worker);
    if (r.has_value()) {
      ASSERT_EQ(r->size(), 1u);
      EXPECT_EQ(sql_.Scalar("SELECT worker_id FROM chime.jobs_all WHERE id = $1", id), h.value);
      ASSERT_OK(store().JobsReleaseIfLeased(std::vector<Lease>{(*r)[0].lease}, "w"));
    } else {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().ToString();
    }
    EXPECT_EQ(State(id), "available");
    ExpectSchemaIntact();
  }
}

TEST_F(JobStoreHostileInputTest, HostileErrorsNeverLoseTheCompletion) {
  for (const auto& h : HostileStrings()) {
    SCOPED_TRACE(h.name);
    const int64_t id = Enqueue("handler");
    ClaimedJob j = ClaimOne();
    ASSERT_EQ(j.id, id);
    CompletionResult r = Complete(j, CompletionKind::kSucceeded, {h.value, "second"});
    EXPECT_TRUE(r.applied);
    EXPECT_EQ(State(id), "succeeded");
    ASSERT_EQ(RunCount(id), 1);
    EXPECT_EQ(sql_.Scalar("SELECT outcome FROM chime.runs WHERE job_id = $1", id), "partial");
    EXPECT_EQ(sql_.Int("SELECT cardinality(errors) FROM chime.runs WHERE job_id = $1", id), 2);
    EXPECT_EQ(sql_.Scalar("SELECT errors[2] FROM chime.runs WHERE job_id = $1", id), "second");
    // Text PostgreSQL can hold comes back byte for byte.
    const bool representable = h.value.find('\0') == std::string::npos &&
                               h.name != "invalid_utf8" && h.name != "truncated_utf8";
    if (representable) {
      EXPECT_EQ(sql_.Scalar("SELECT errors[1] FROM chime.runs WHERE job_id = $1", id), h.value);
    }
    ExpectSchemaIntact();
  }
}

TEST_F(JobStoreHostileInputTest, HostileStringsInsideASummaryAreStoredOrRejected) {
  for (const auto& h : HostileStrings()) {
    SCOPED_TRACE(h.name);
    const int64_t id = Enqueue("handler");
    ClaimedJob j = ClaimOne();
    ASSERT_EQ(j.id, id);
    const std::string before = Snapshot(id);
    const std::string summary = WithField(Field::kPayload, h.value).payload;
    const Completion c = MakeCompletion(j, CompletionKind::kSucceeded, {}, summary);
    auto r = store().JobsCompleteIfLeased(std::span<const Completion>(&c, 1));
    if (r.has_value()) {
      ASSERT_EQ(r->size(), 1u);
      EXPECT_TRUE((*r)[0].applied);
      EXPECT_EQ(State(id), "succeeded");
      ASSERT_EQ(RunCount(id), 1);
      const bool representable = h.value.find('\0') == std::string::npos &&
                                 h.name != "invalid_utf8" && h.name != "truncated_utf8";
      if (representable) {
        EXPECT_EQ(sql_.Scalar("SELECT summary->>'s' FROM chime.runs WHERE job_id = $1", id),
                  h.value);
      }
    } else {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().ToString();
      EXPECT_EQ(Snapshot(id), before);
      EXPECT_EQ(RunCount(id), 0);
      ASSERT_TRUE(Complete(j, CompletionKind::kSucceeded).applied);
    }
    ExpectSchemaIntact();
  }
}

TEST_F(JobStoreHostileInputTest, HostileLeaseTokensHoldNoLease) {
  const int64_t id = Enqueue("leased");
  ClaimedJob j = ClaimOne();
  const std::string before = Snapshot(id);
  for (const auto& h : HostileStrings()) {
    SCOPED_TRACE(h.name);
    ClaimedJob forged = j;
    forged.lease.token = h.value;
    const Completion c = MakeCompletion(forged, CompletionKind::kSucceeded);
    auto done = store().JobsCompleteIfLeased(std::span<const Completion>(&c, 1));
    if (done.has_value()) {
      ASSERT_EQ(done->size(), 1u);
      EXPECT_FALSE((*done)[0].applied);
    } else {
      EXPECT_EQ(done.error().code, ErrorCode::kInvalidArgument) << done.error().ToString();
    }
    auto hb = store().JobsHeartbeat(std::vector<Lease>{forged.lease}, milliseconds(60'000));
    if (hb.has_value()) {
      EXPECT_TRUE(hb->extended.empty());
    } else {
      EXPECT_EQ(hb.error().code, ErrorCode::kInvalidArgument) << hb.error().ToString();
    }
    auto released = store().JobsReleaseIfLeased(std::vector<Lease>{forged.lease}, "w");
    if (released.has_value()) {
      EXPECT_TRUE(released->empty());
    } else {
      EXPECT_EQ(released.error().code, ErrorCode::kInvalidArgument);
    }
    EXPECT_EQ(Snapshot(id), before);
    ExpectSchemaIntact();
  }
  EXPECT_EQ(TotalRuns(), 0);
}

TEST_F(JobStoreHostileInputTest, ListWithAHostileFilterMatchesNothingOrIsRejected) {
  Enqueue("a", "a");
  Enqueue("b", "b");
  for (const auto& h : HostileStrings()) {
    SCOPED_TRACE(h.name);
    for (bool by_kind : {true, false}) {
      SCOPED_TRACE(by_kind ? "kind filter" : "queue filter");
      ListParams p;
      (by_kind ? p.kind : p.queue) = h.value;
      auto r = store().JobsList(p);
      if (r.has_value()) {
        EXPECT_TRUE(r->jobs.empty()) << r->jobs.size() << " jobs matched";
      } else {
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().ToString();
      }
    }
    ExpectSchemaIntact();
  }
  EXPECT_EQ(JobCount(), 2);
}

// Deeply nested JSON, run in a child process so that a crash (stack
// overflow in a recursive walk) fails this test instead of the whole binary.
// The child exits 0 when every outcome was acceptable, and prints why not.
int DeepJsonOutcome(int depth, bool as_summary) {
  const std::string nested = std::string(depth, '[') + std::string(depth, ']');
  chime::testing::TestDatabase db;
  Connection conn(ConnectionConfig{.url = db.url()});
  if (!MigrationsApply(conn)) return 2;
  JobStore store(conn);
  Inspector sql(db.url());
  EnqueueParams p;
  p.kind = "deep";
  if (!as_summary) p.payload = nested;
  auto inserted = store.JobInsert(p);
  if (!inserted) {
    if (as_summary || inserted.error().code != ErrorCode::kInvalidArgument) {
      std::fprintf(stderr, "insert: %s\n", inserted.error().ToString().c_str());
      return 3;
    }
    return sql.Int("SELECT count(*) FROM chime.jobs_all") == 0 ? 0 : 4;
  }
  if (!as_summary) return 0;
  ClaimParams cp;
  cp.worker_id = "w";
  auto claimed = store.JobsClaim(cp);
  if (!claimed || claimed->size() != 1) return 5;
  Completion c;
  c.lease = (*claimed)[0].lease;
  c.attempt = 1;
  c.summary = nested;
  c.worker_id = "w";
  auto done = store.JobsCompleteIfLeased(std::span<const Completion>(&c, 1));
  if (!done) {
    // Rejecting is fine if nothing changed; the job keeps its lease.
    if (done.error().code != ErrorCode::kInvalidArgument) {
      std::fprintf(stderr, "complete: %s\n", done.error().ToString().c_str());
      return 6;
    }
    return sql.Scalar("SELECT state FROM chime.jobs_all") == "running" ? 0 : 7;
  }
  if (done->size() != 1 || !(*done)[0].applied) {
    std::fprintf(stderr, "complete: not applied under a valid lease\n");
    return 8;
  }
  return sql.Int("SELECT count(*) FROM chime.runs") == 1 ? 0 : 9;
}

class JobStoreDeepJsonTest : public ::testing::TestWithParam<std::tuple<int, bool>> {};

TEST_P(JobStoreDeepJsonTest, DeeplyNestedJsonIsStoredOrRejectedWithoutCrashing) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const auto [depth, as_summary] = GetParam();
  EXPECT_EXIT(std::_Exit(DeepJsonOutcome(depth, as_summary)), ::testing::ExitedWithCode(0), "")
      << (as_summary ? "summary" : "payload") << " nested " << depth << " deep";
}

// 20,000 is past PostgreSQL's own jsonb depth limit; 500,000 fills ~1 MB.
INSTANTIATE_TEST_SUITE_P(Depths, JobStoreDeepJsonTest,
                         ::testing::Combine(::testing::Values(20'000, 500'000),
                                            ::testing::Bool()));

// A payload as large as `bytes`: {"p":"xxx..."}.
std::string PayloadOfSize(size_t bytes) {
  const std::string head = "{\"p\":\"", tail = "\"}";
  return head + std::string(bytes - head.size() - tail.size(), 'x') + tail;
}

class JobStoreSmallPayloadTest : public JobStoreTestBase {
 protected:
  JobStoreConfig StoreConfig() const override {
    JobStoreConfig config;
    config.max_payload_bytes = 1024;
    return config;
  }
};

TEST_F(JobStoreSmallPayloadTest, RejectsPayloadsOverTheConfiguredLimit) {
  EnqueueParams at_limit = Params("big");
  at_limit.payload = PayloadOfSize(1024);
  ASSERT_EQ(at_limit.payload.size(), 1024u);
  ASSERT_OK(store().JobInsert(at_limit));
  EXPECT_EQ(JobCount(), 1);

  EnqueueParams over = Params("big");
  over.payload = PayloadOfSize(1025);
  auto one = store().JobInsert(over);
  ASSERT_FALSE(one.has_value());
  EXPECT_EQ(one.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(one.error().message.find("payload"), std::string::npos) << one.error().message;

  auto many = store().JobsInsertMany(std::vector<EnqueueParams>{at_limit, over});
  ASSERT_FALSE(many.has_value());
  EXPECT_EQ(many.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(JobCount(), 1);
}

class JobStoreDefaultPayloadTest : public JobStoreTestBase {};

TEST_F(JobStoreDefaultPayloadTest, DefaultLimitIsOneMebibyte) {
  EnqueueParams at_limit = Params("big");
  at_limit.payload = PayloadOfSize(1 << 20);
  ASSERT_OK_AND_ASSIGN(EnqueueResult r, store().JobInsert(at_limit));
  EXPECT_EQ(sql_.Int("SELECT length(payload->>'p') FROM chime.jobs_all WHERE id = $1", r.id),
            static_cast<int64_t>((1 << 20) - 8));

  EnqueueParams over = Params("big");
  over.payload = PayloadOfSize((1 << 20) + 1);
  auto one = store().JobInsert(over);
  ASSERT_FALSE(one.has_value());
  EXPECT_EQ(one.error().code, ErrorCode::kInvalidArgument);
  auto many = store().JobsInsertMany(std::vector<EnqueueParams>{Params("small"), over});
  ASSERT_FALSE(many.has_value());
  EXPECT_EQ(many.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(JobCount(), 1);
}

}  // namespace
}  // namespace chime::db::testing
