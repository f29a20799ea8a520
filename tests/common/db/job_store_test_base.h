// Shared fixture and helpers for the job store tests: a fresh migrated
// database per test, a JobStore over it with a fixed RNG, and a separate
// libpqxx connection that reads (and, where a test needs to move time, edits)
// rows behind the store's back. Thread-compatible, like the store.
#pragma once

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/base/backoff.h"
#include "common/base/clock.h"
#include "common/db/connection.h"
#include "common/db/job.h"
#include "common/db/job_store.h"
#include "common/db/migrations.h"
#include "tests/support/fake_clock.h"
#include "tests/support/test_database.h"

// ASSERT_OK(expr) for Result<void>; ASSERT_OK_AND_ASSIGN(lhs, expr) for Result<T>.
#define CHIME_TEST_CONCAT_INNER(a, b) a##b
#define CHIME_TEST_CONCAT(a, b) CHIME_TEST_CONCAT_INNER(a, b)
#define ASSERT_OK(expr)                                                  \
  do {                                                                   \
    auto chime_test_result = (expr);                                     \
    ASSERT_TRUE(chime_test_result.has_value())                           \
        << #expr << ": " << chime_test_result.error().ToString();        \
  } while (0)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  CHIME_TEST_ASSIGN_IMPL(CHIME_TEST_CONCAT(chime_test_result_, __LINE__), lhs, expr)
#define CHIME_TEST_ASSIGN_IMPL(tmp, lhs, expr)                              \
  auto tmp = (expr);                                                        \
  ASSERT_TRUE(tmp.has_value()) << #expr << ": " << tmp.error().ToString(); \
  lhs = std::move(*tmp)

namespace chime::db::testing {

using std::chrono::milliseconds;

// Always returns the same value, so retry jitter is known in advance.
class FixedRng final : public Rng {
 public:
  explicit FixedRng(double value) : value_(value) {}
  double Uniform01() override { return value_; }

 private:
  double value_;
};

using FakeClock = chime::testing::FakeClock;

// Reads rows with its own connection. Values come back as text; NULL is
// std::nullopt.
class Inspector {
 public:
  explicit Inspector(std::string url) : url_(std::move(url)) {}

  template <typename... Args>
  pqxx::result Query(const std::string& sql, Args&&... args) {
    pqxx::nontransaction tx(Conn());
    return tx.exec_params(sql, std::forward<Args>(args)...);
  }

  // First column of the first row; "" when there is no row, "<null>" for NULL.
  template <typename... Args>
  std::string Scalar(const std::string& sql, Args&&... args) {
    pqxx::result r = Query(sql, std::forward<Args>(args)...);
    if (r.empty()) return "";
    if (r[0][0].is_null()) return "<null>";
    return r[0][0].c_str();
  }

  template <typename... Args>
  int64_t Int(const std::string& sql, Args&&... args) {
    pqxx::result r = Query(sql, std::forward<Args>(args)...);
    if (r.empty() || r[0][0].is_null()) {
      ADD_FAILURE() << "no value from: " << sql;
      return -1;
    }
    return r[0][0].as<int64_t>();
  }

  template <typename... Args>
  void Exec(const std::string& sql, Args&&... args) {
    Query(sql, std::forward<Args>(args)...);
  }

 private:
  pqxx::connection& Conn() {
    if (!conn_ || !conn_->is_open()) conn_ = std::make_unique<pqxx::connection>(url_);
    return *conn_;
  }

  std::string url_;
  std::unique_ptr<pqxx::connection> conn_;
};

// Listens on the ready-job channel (chime_jobs_ready) from its own
// connection, from construction on. Next() waits for the next notification
// (at most 10 s: "" and a test failure then) and answers its payload
// without the unique tail (",#<uuid>").
class ReadyNotifications {
 public:
  explicit ReadyNotifications(const std::string& url) : conn_(url), receiver_(conn_) { conn_.get_notifs(); }

  std::string Next() {
    if (next_ == receiver_.payloads.size()) conn_.await_notification(10, 0);
    if (next_ == receiver_.payloads.size()) {
      ADD_FAILURE() << "no ready notification within 10 s";
      return "";
    }
    const std::string& payload = receiver_.payloads[next_++];
    return payload.substr(0, payload.find(",#"));
  }
  // Notifications received and not yet taken by Next().
  size_t Pending() {
    conn_.get_notifs();
    return receiver_.payloads.size() - next_;
  }

 private:
  struct Receiver final : pqxx::notification_receiver {
    explicit Receiver(pqxx::connection& c) : pqxx::notification_receiver(c, "chime_jobs_ready") {}
    void operator()(const std::string& payload, int) override { payloads.push_back(payload); }
    std::vector<std::string> payloads;
  };
  pqxx::connection conn_;
  Receiver receiver_;
  size_t next_ = 0;
};

// A migrated database and a store over it. Subclasses override
// StoreConfig() to change payload limits or the retry backoff.
class JobStoreTestBase : public ::testing::Test {
 protected:
  JobStoreTestBase() : conn_(ConnectionConfig{.url = db_.url()}), sql_(db_.url()) {}

  void SetUp() override {
    auto migrated = MigrationsApply(conn_);
    ASSERT_TRUE(migrated.has_value()) << migrated.error().ToString();
    store_ = std::make_unique<JobStore>(conn_, StoreConfig(), &rng_);
  }

  // Retries wait an hour unless a test says otherwise, so "not due yet"
  // never depends on how fast the test runs; tests move run_at by SQL.
  virtual JobStoreConfig StoreConfig() const {
    JobStoreConfig config;
    config.retry_backoff = BackoffPolicy{std::chrono::hours(1), std::chrono::hours(4), 0.1};
    return config;
  }

  JobStore& store() { return *store_; }

  static EnqueueParams Params(std::string kind, std::string queue = "default") {
    EnqueueParams p;
    p.kind = std::move(kind);
    p.queue = std::move(queue);
    return p;
  }

  // Inserts one job and returns its id; 0 (and a test failure) on error.
  int64_t Enqueue(const EnqueueParams& params);
  int64_t Enqueue(const std::string& kind, const std::string& queue = "default") {
    return Enqueue(Params(kind, queue));
  }

  std::vector<ClaimedJob> Claim(int limit, std::vector<std::string> queues = {"default"},
                                milliseconds lease = std::chrono::seconds(30),
                                const std::string& worker = "worker-1");
  // Claims exactly one job from `queue`; adds a failure when there is none.
  ClaimedJob ClaimOne(const std::string& queue = "default",
                      const std::string& worker = "worker-1");

  static Completion MakeCompletion(const ClaimedJob& job, CompletionKind kind,
                                   std::vector<std::string> errors = {},
                                   std::string summary = "{}",
                                   std::string worker = "worker-1");
  // Completes one job and returns its result (applied=false on error, with a failure).
  CompletionResult Complete(const ClaimedJob& job, CompletionKind kind,
                            std::vector<std::string> errors = {}, std::string summary = "{}",
                            std::string worker = "worker-1");

  // Moves database time instead of waiting for it.
  void ExpireLease(int64_t id);
  void MakeDue(int64_t id);

  std::string State(int64_t id);
  // The whole job row as JSON, to show that an operation changed nothing.
  std::string Snapshot(int64_t id);
  int64_t JobCount() { return sql_.Int("SELECT count(*) FROM chime.jobs_all"); }
  int64_t RunCount(int64_t job_id) {
    return sql_.Int("SELECT count(*) FROM chime.runs WHERE job_id = $1", job_id);
  }
  int64_t TotalRuns() { return sql_.Int("SELECT count(*) FROM chime.runs"); }

  FixedRng rng_{0.5};
  chime::testing::TestDatabase db_;
  Connection conn_;
  Inspector sql_;
  std::unique_ptr<JobStore> store_;
};

// Microseconds since the epoch of a time point, as the database stores it.
int64_t Micros(TimePoint t);

}  // namespace chime::db::testing
