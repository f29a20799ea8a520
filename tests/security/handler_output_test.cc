// Issue 18, finding 1: whatever a handler returns, the worker records it and
// keeps going. A summary holding ill-formed UTF-8 (a response body, or one
// cut at 4,096 bytes inside 'é') used to make the executor's strict JSON dump
// throw outside the handler's try block, and the process aborted; the job
// was rescued onto the next worker, which aborted too. Now the text is
// repaired (U+FFFD) and the attempt is recorded like any other.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "common/base/utf8.h"
#include "common/db/migrations.h"
#include "tests/support/test_database.h"
#include "tests/support/wait_until.h"
#include "worker/builtin_kinds.h"
#include "worker/worker.h"

namespace chime::worker {
namespace {

using chime::testing::WaitUntil;
using std::chrono::milliseconds;
using std::chrono::seconds;

// 4,095 x 'a' then 'é', cut at byte 4,096 the way a byte-counting excerpt cut it.
const std::string kCutPage = (std::string(4095, 'a') + "\xC3\xA9").substr(0, 4096);

// Returns ill-formed UTF-8 everywhere a handler can put text: summary
// values and keys, nested, and errors. Payload {"fail": true} fails.
class Garbled final : public Handler {
 public:
  std::string_view Kind() const override { return "garbled"; }
  HandlerResult Run(JobContext& ctx) override {
    nlohmann::json summary = {{"bodyExcerpt", kCutPage},
                              {"binary", "\xFF\xFE" "ok"},
                              {"key\xC0\xAF", "overlong key"},
                              {"nested", {{"list", {"\xED\xA0\x80", 1, "fine"}}}}};
    std::vector<std::string> errors = {"upstream said \xE2\x82", kCutPage};
    if (ctx.payload().value("fail", false)) return HandlerResult::Fail(summary, errors, false);
    return HandlerResult::Partial(summary, errors);
  }
};

class HandlerOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db::Connection conn(db::ConnectionConfig{.url = db_.url()});
    ASSERT_TRUE(db::MigrationsApply(conn).has_value());
    RegisterBuiltinKinds(handlers_);
    handlers_.Register(std::make_unique<Garbled>());
    config_.database_url = db_.url();
    config_.worker_id = "w-utf8";
    config_.slots = 2;
    config_.poll_interval = milliseconds(20);
    config_.lease = seconds(30);
    worker_ = std::make_unique<Worker>(config_, handlers_);
  }
  void TearDown() override {
    if (worker_) worker_->Drain();
  }

  int64_t Enqueue(const std::string& kind, const std::string& payload = "{}") {
    return std::stoll(db_.Scalar("INSERT INTO chime.jobs (kind, payload) VALUES ('" + kind + "', '" + payload +
                                 "'::jsonb) RETURNING id"));
  }
  std::string Sql(const std::string& sql) { return db_.Scalar(sql); }

  chime::testing::TestDatabase db_;
  HandlerRegistry handlers_;
  WorkerConfig config_;
  std::unique_ptr<Worker> worker_;
};

TEST_F(HandlerOutputTest, IllFormedUtf8InASummaryOrErrorsIsRepairedAndRecorded) {
  const int64_t partial = Enqueue("garbled");
  const int64_t failed = Enqueue("garbled", R"({"fail": true})");
  auto started = worker_->Start();
  ASSERT_TRUE(started.has_value()) << started.error().ToString();
  const std::string ids = std::to_string(partial) + ", " + std::to_string(failed);
  ASSERT_TRUE(WaitUntil([&] {
    return Sql("SELECT count(*) FROM chime.jobs_all WHERE id IN (" + ids + ") AND state IN ('succeeded', 'discarded')") ==
           "2";
  })) << "states: " << Sql("SELECT string_agg(state::text, ',') FROM chime.jobs_all");
  EXPECT_EQ(Sql("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(partial)), "succeeded");
  EXPECT_EQ(Sql("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(failed)), "discarded");
  for (int64_t id : {partial, failed}) {
    const std::string where = " FROM chime.runs WHERE job_id = " + std::to_string(id);
    ASSERT_EQ(Sql("SELECT count(*)" + where), "1");
    // The summary is JSON, as the handler shaped it, with U+FFFD where the
    // bytes were ill-formed; the cut 'é' is one U+FFFD after the a's.
    EXPECT_EQ(Sql("SELECT summary->>'bodyExcerpt'" + where), std::string(4095, 'a') + "\xEF\xBF\xBD");
    EXPECT_EQ(Sql("SELECT summary->>'binary'" + where), "\xEF\xBF\xBD\xEF\xBF\xBD" "ok");
    EXPECT_EQ(Sql("SELECT summary->'nested'->'list'->>2" + where), "fine");
    EXPECT_EQ(Sql("SELECT count(*)" + where + " AND summary ? 'key\xEF\xBF\xBD\xEF\xBF\xBD'"), "1");
    EXPECT_EQ(Sql("SELECT errors[1]" + where), "upstream said \xEF\xBF\xBD");
    EXPECT_EQ(Sql("SELECT errors[2]" + where), std::string(4095, 'a') + "\xEF\xBF\xBD");
  }
  // The worker is still working.
  const int64_t after = Enqueue("noop");
  ASSERT_TRUE(WaitUntil([&] { return Sql("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(after)) == "succeeded"; }));
}

}  // namespace
}  // namespace chime::worker
