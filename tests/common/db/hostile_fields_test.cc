// Hostile values in every field that reaches SQL, past what
// job_store_hostile_test.cc covers: 10 MB of SQL-looking text, 10,000-deep
// JSON, NUL bytes and invalid UTF-8 in every job field, in the errors,
// summary and worker id of failed and succeeded completions and of releases,
// in progress reports, and in every schedule field and lookup by name.
// Each value is stored verbatim (read back byte for byte) or refused with
// InvalidArgument (NotFound for a lookup of a name that does not exist), and
// the schema is intact afterwards. (The scheduler's worker registry never
// reaches SQL: it lives in memory.)
#include <optional>

#include "common/db/schedule_store.h"
#include "common/db/stats_store.h"
#include "tests/common/db/job_store_test_base.h"

namespace chime::db::testing {
namespace {

struct Hostile {
  std::string name;
  std::string value;
  bool storable;  // Valid UTF-8 without NUL: PostgreSQL text can hold it.
};

std::string TenMegabytesOfSql() {
  const std::string unit = "'); DROP TABLE chime.jobs; -- $1 \\x00 ";
  std::string out;
  while (out.size() < (10u << 20)) out += unit;
  return out;
}

const std::string kDeepJson = std::string(10'000, '[') + std::string(10'000, ']');

std::vector<Hostile> Values() {
  return {{"sql", "x'); DROP TABLE chime.jobs; --", true},
          {"ten_mb_sql", TenMegabytesOfSql(), true},
          {"deep_json", kDeepJson, true},
          {"nul", std::string("nightly\0evil", 12), false},
          {"invalid_utf8", "bad\xff\xfe", false}};
}

// `value` as a JSON string literal.
std::string JsonString(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Byte-for-byte equality without printing 10 MB on failure.
void ExpectSame(const std::string& got, const std::string& want, const std::string& what) {
  if (got == want) return;
  size_t at = 0;
  while (at < got.size() && at < want.size() && got[at] == want[at]) ++at;
  ADD_FAILURE() << what << ": stored " << got.size() << " bytes, sent " << want.size()
                << ", first difference at byte " << at;
}

class HostileFieldsTest : public JobStoreTestBase {
 protected:
  void SetUp() override {
    JobStoreTestBase::SetUp();
    sql_.Exec("CREATE TABLE public.jobs (canary int)");  // For "DROP TABLE jobs".
    schema_ = Schema();
  }
  void TearDown() override { EXPECT_EQ(Schema(), schema_) << "the schema changed"; }

  std::string Schema() {
    return sql_.Scalar(
        "SELECT md5(string_agg(table_schema || '.' || table_name || '.' || column_name || ' ' || data_type, ','"
        " ORDER BY table_schema, table_name, ordinal_position)) FROM information_schema.columns"
        " WHERE table_schema IN ('chime', 'public')");
  }

  // A result that must be a value or InvalidArgument.
  template <typename T>
  static bool Stored(const Result<T>& r) {
    if (!r.has_value()) {
      EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << r.error().ToString();
    }
    return r.has_value();
  }

  std::string schema_;
};

TEST_F(HostileFieldsTest, EveryJobFieldStoresHostileValuesVerbatimOrRefusesThem) {
  for (const auto& h : Values()) {
    for (const std::string field : {"kind", "queue", "unique_key", "payload", "payload_string"}) {
      SCOPED_TRACE(field + " = " + h.name);
      EnqueueParams p = Params("hostile");
      if (field == "kind") p.kind = h.value;
      if (field == "queue") p.queue = h.value;
      if (field == "unique_key") p.unique_key = h.value;
      if (field == "payload") p.payload = h.value;
      if (field == "payload_string") p.payload = "{\"s\": " + JsonString(h.value) + "}";
      const int64_t before = JobCount();
      auto one = store().JobInsert(p);
      auto many = store().JobsInsertMany(std::vector<EnqueueParams>{Params("fine"), p});
      EXPECT_EQ(one.has_value(), many.has_value());
      const bool stored_one = Stored(one), stored_many = Stored(many);
      if (!stored_one || !stored_many) {
        EXPECT_EQ(JobCount(), before + (one.has_value() ? 1 : 0) + (many.has_value() ? 2 : 0));
        continue;
      }
      EXPECT_TRUE(h.storable);
      for (int64_t id : {one->id, (*many)[1].id}) {
        const std::string column = field == "payload_string" ? "payload->>'s'"
                                   : field == "payload"      ? "payload::text"
                                                             : field;
        const std::string stored = sql_.Scalar("SELECT " + column + " FROM chime.jobs_all WHERE id = $1", id);
        if (field == "payload") {
          EXPECT_EQ(sql_.Scalar("SELECT payload = $1::jsonb FROM chime.jobs_all WHERE id = $2", h.value, id), "t");
        } else {
          ExpectSame(stored, h.value, field);
        }
      }
    }
  }
}

TEST_F(HostileFieldsTest, CompletionsKeepHostileErrorsSummariesAndWorkerIds) {
  for (CompletionKind kind : {CompletionKind::kFailed, CompletionKind::kFailedPermanent,
                              CompletionKind::kSucceeded}) {
    for (const auto& h : Values()) {
      SCOPED_TRACE(h.name + " completing as " + std::to_string(static_cast<int>(kind)));
      const int64_t id = Enqueue("handler");
      ClaimedJob j = ClaimOne();
      ASSERT_EQ(j.id, id);
      // A handler's outcome is data: nothing in it may lose the completion.
      CompletionResult r = Complete(j, kind, {h.value, "second"}, h.value, h.value);
      ASSERT_TRUE(r.applied);
      EXPECT_EQ(State(id), kind == CompletionKind::kFailed            ? "retryable"
                           : kind == CompletionKind::kFailedPermanent ? "discarded"
                                                                      : "succeeded");
      ASSERT_EQ(RunCount(id), 1);
      EXPECT_EQ(sql_.Scalar("SELECT errors[2] FROM chime.runs WHERE job_id = $1", id), "second");
      if (!h.storable) {
        // Made storable (U+FFFD, "\0"), never dropped.
        EXPECT_FALSE(sql_.Scalar("SELECT errors[1] FROM chime.runs WHERE job_id = $1", id).empty());
        continue;
      }
      ExpectSame(sql_.Scalar("SELECT errors[1] FROM chime.runs WHERE job_id = $1", id), h.value, "errors[1]");
      ExpectSame(sql_.Scalar("SELECT worker_id FROM chime.runs WHERE job_id = $1", id), h.value, "worker_id");
      // Not storable as JSON (not JSON, or deeper than jsonb goes): kept as
      // one JSON string holding the text.
      ExpectSame(sql_.Scalar("SELECT summary #>> '{}' FROM chime.runs WHERE job_id = $1", id), h.value,
                 "summary");
      if (kind != CompletionKind::kSucceeded) {
        // Holds the last error, cut to 2,000 characters.
        EXPECT_EQ(sql_.Scalar("SELECT last_error FROM chime.jobs_all WHERE id = $1", id), "second");
      }
    }
  }
}

TEST_F(HostileFieldsTest, ProgressClaimsAndReleasesStoreHostileValuesVerbatimOrRefuseThem) {
  const int64_t id = Enqueue("handler");
  ClaimedJob j = ClaimOne();
  for (const auto& h : Values()) {
    SCOPED_TRACE(h.name);
    const std::string before = Snapshot(id);
    // As the whole report (never storable here), and inside one.
    auto raw = store().JobProgressSetIfLeased(j.lease, h.value);
    EXPECT_FALSE(Stored(raw));
    EXPECT_EQ(Snapshot(id), before);
    auto inside = store().JobProgressSetIfLeased(j.lease, "{\"note\": " + JsonString(h.value) + "}");
    if (Stored(inside)) {
      EXPECT_TRUE(*inside);
      ExpectSame(sql_.Scalar("SELECT progress->>'note' FROM chime.jobs_all WHERE id = $1", id), h.value, "progress");
    } else {
      EXPECT_EQ(Snapshot(id), before);
    }
    ClaimParams claim;
    claim.worker_id = h.value;
    auto claimed = store().JobsClaim(claim);
    if (Stored(claimed)) {
      EXPECT_TRUE(claimed->empty());  // The only job is leased.
    }
    ListParams list;
    list.kind = h.value;
    auto listed = store().JobsList(list);
    if (Stored(listed)) {
      EXPECT_TRUE(listed->jobs.empty());
    }
  }
  for (const auto& h : Values()) {
    SCOPED_TRACE("release by " + h.name);
    auto released = store().JobsReleaseIfLeased(std::vector<Lease>{j.lease}, h.value);
    ASSERT_TRUE(released.has_value()) << released.error().ToString();
    ASSERT_EQ(released->size(), 1u);
    if (h.storable) {
      ExpectSame(sql_.Scalar("SELECT worker_id FROM chime.runs WHERE job_id = $1 ORDER BY id DESC LIMIT 1", id),
                 h.value, "released run's worker_id");
    }
    j = ClaimOne();
  }
}

class HostileScheduleTest : public HostileFieldsTest {
 protected:
  HostileScheduleTest() : schedules_(conn_) {}

  static schedule::ScheduleSpec Nightly() {
    schedule::ScheduleSpec spec;
    spec.name = "nightly";
    spec.cron = "0 2 * * *";
    spec.kind = "noop";
    return spec;
  }
  static std::string& Field(schedule::ScheduleSpec& spec, const std::string& field) {
    if (field == "name") return spec.name;
    if (field == "cron") return spec.cron;
    if (field == "time_zone") return spec.time_zone;
    if (field == "kind") return spec.kind;
    if (field == "queue") return spec.queue;
    return spec.payload;
  }

  std::string Rows() {
    return sql_.Scalar("SELECT coalesce(string_agg(s::text, ','), '') FROM chime.schedules s") +
           sql_.Scalar("SELECT count(*) FROM chime.fires") + sql_.Scalar("SELECT count(*) FROM chime.jobs_all");
  }

  ScheduleStore schedules_;
};

TEST_F(HostileScheduleTest, EveryScheduleFieldStoresHostileValuesVerbatimOrRefusesThem) {
  ASSERT_OK(schedules_.ScheduleCreate(Nightly()));
  for (const auto& h : Values()) {
    for (const std::string field : {"name", "cron", "time_zone", "kind", "queue", "payload", "payload_string"}) {
      SCOPED_TRACE(field + " = " + h.name);
      schedule::ScheduleSpec spec = Nightly();
      spec.name = "hostile";
      Field(spec, field) = field == "payload_string" ? "{\"s\": " + JsonString(h.value) + "}" : h.value;
      const std::string before = Rows();
      // Made anew, and the same change to an existing schedule.
      auto created = schedules_.ScheduleCreate(spec);
      std::optional<Result<ScheduleRow>> updated;
      if (field != "name") {
        schedule::ScheduleSpec change = spec;
        change.name = "nightly";
        updated = schedules_.ScheduleUpdate(change);
        EXPECT_EQ(updated->has_value(), created.has_value());
      }
      const bool stored = Stored(created);
      if (updated && Stored(*updated)) ASSERT_OK(schedules_.ScheduleUpdate(Nightly()));
      if (!stored) {
        EXPECT_EQ(Rows(), before);
        continue;
      }
      EXPECT_TRUE(h.storable);
      const std::string column = field == "payload_string" ? "payload->>'s'"
                                 : field == "payload"      ? "payload::text"
                                                           : field;
      if (field != "payload") {
        ExpectSame(sql_.Scalar("SELECT " + column + " FROM chime.schedules WHERE name = 'hostile'"), h.value,
                   field);
      }
      if (field != "payload" && field != "payload_string") {
        ASSERT_OK_AND_ASSIGN(ScheduleRow row, schedules_.ScheduleGet("hostile"));
        ExpectSame(Field(row.spec, field), h.value, "read back");
      }
      ASSERT_OK(schedules_.ScheduleDelete("hostile"));
    }
  }
}

TEST_F(HostileScheduleTest, LookingUpAHostileNameNeverReachesAnotherSchedule) {
  ASSERT_OK(schedules_.ScheduleCreate(Nightly()));
  const std::string before = Rows();
  for (const auto& h : Values()) {
    SCOPED_TRACE(h.name);
    auto refused = [&](const Error& e) {
      EXPECT_TRUE(e.code == ErrorCode::kNotFound || e.code == ErrorCode::kInvalidArgument) << e.ToString();
    };
    const TimePoint now = std::chrono::system_clock::now();
    const auto got = schedules_.ScheduleGet(h.value);
    const auto paused = schedules_.ScheduleSetPaused(h.value, true);
    const auto triggered = schedules_.TriggerNow(h.value);
    const auto backfilled =
        schedules_.Backfill(h.value, now - std::chrono::hours(48), now - std::chrono::hours(1));
    const auto deleted = schedules_.ScheduleDelete(h.value);
    const auto stats = StatsStore(conn_).StatsQuery({.scope = StatsScope::kSchedule, .name = h.value});
    EXPECT_FALSE(got.has_value()) << "found " << got->spec.name;
    EXPECT_FALSE(paused.has_value()) << "paused " << paused->spec.name;
    EXPECT_FALSE(triggered.has_value()) << "triggered";
    EXPECT_FALSE(backfilled.has_value()) << "backfilled " << backfilled->size() << " ticks";
    EXPECT_FALSE(deleted.has_value()) << "deleted";
    EXPECT_FALSE(stats.has_value()) << "reported on " << stats->rows.size() << " schedules";
    if (!got) refused(got.error());
    if (!paused) refused(paused.error());
    if (!triggered) refused(triggered.error());
    if (!backfilled) refused(backfilled.error());
    if (!deleted) refused(deleted.error());
    if (!stats) refused(stats.error());
    EXPECT_EQ(Rows(), before);
  }
}

}  // namespace
}  // namespace chime::db::testing
