#include "common/app/app_schema.h"

#include <pqxx/pqxx>

#include <string>

namespace chime::app {
namespace internal {
// Defined in the app_schema_sql.cc that CMake generates from app_schema.sql.
extern const char* const kAppSchemaSql;
}  // namespace internal

namespace {

// Arbitrary constant: the advisory lock every process applying the app
// schema takes, so two CREATE TABLE IF NOT EXISTS cannot race on the catalog.
constexpr int64_t kAppSchemaLockKey = 0x6368696d65617070;  // "chimeapp"

constexpr int kMaxDemoUsers = 1'000'000;
constexpr int kMaxDemoExams = 100'000;

// $1 users. See LoadDemoData in the header for the pattern.
constexpr const char* kDemoUsers = R"sql(
INSERT INTO chime_app.users (id, email, active)
SELECT g, 'user' || g || '@example.com', g % 10 <> 0
FROM generate_series(1, $1::int) g
ON CONFLICT (id) DO NOTHING)sql";

// $1 users. Last sync tiers by (user + provider ordinal) % 4: never, 2 hours
// ago, 45 minutes ago (due at 15/30 minutes, not at slack's 60), 5 minutes ago.
constexpr const char* kDemoIntegrations = R"sql(
INSERT INTO chime_app.integrations
  (user_id, provider, active, cadence_minutes, last_synced_at, needs_reauth)
SELECT u, p.name, (u * 4 + p.ord) % 7 <> 0,
       CASE WHEN p.name = 'slack' AND u % 5 = 0 THEN 60 END,
       CASE (u + p.ord) % 4 WHEN 0 THEN NULL
                            WHEN 1 THEN now() - interval '2 hours'
                            WHEN 2 THEN now() - interval '45 minutes'
                            ELSE now() - interval '5 minutes' END,
       p.name = 'github' AND u % 13 = 0
FROM generate_series(1, $1::int) u
CROSS JOIN unnest(ARRAY['github', 'notion', 'slack', 'google_calendar'])
           WITH ORDINALITY AS p(name, ord)
ON CONFLICT (user_id, provider) DO NOTHING)sql";

// $1 exams. Booking n (1 .. 3 + exam % 7) of an exam is cancelled when n % 4
// = 0; the stored counter drifts by +2 (exam % 3 = 0) or -1 (exam % 4 = 0).
constexpr const char* kDemoExams = R"sql(
INSERT INTO chime_app.exams (id, exam_date, mock_type, active, booking_count)
SELECT e, current_date + e,
       (ARRAY['Mock Discussion', 'Situational Judgment', 'Clinical Skills'])[1 + e % 3],
       e % 6 <> 0,
       CASE WHEN e % 3 = 0 THEN b.actual + 2
            WHEN e % 4 = 0 THEN b.actual - 1
            ELSE b.actual END
FROM generate_series(1, $1::int) e
CROSS JOIN LATERAL (SELECT count(*) FILTER (WHERE n % 4 <> 0)::int AS actual
                    FROM generate_series(1, 3 + e % 7) n) b
ON CONFLICT (id) DO NOTHING)sql";

constexpr const char* kDemoBookings = R"sql(
INSERT INTO chime_app.bookings (id, exam_id, active)
SELECT e::bigint * 100 + n, e, n % 4 <> 0
FROM generate_series(1, $1::int) e
CROSS JOIN LATERAL generate_series(1, 3 + e % 7) n
ON CONFLICT (id) DO NOTHING)sql";

}  // namespace

std::string_view AppSchemaSql() { return internal::kAppSchemaSql; }

Result<void> ApplyAppSchema(db::Connection& conn) {
  return conn.Run([](pqxx::connection_base& c) {
    pqxx::work tx(c);
    tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kAppSchemaLockKey) + ")");
    tx.exec(internal::kAppSchemaSql);
    tx.commit();
  });
}

Result<void> DemoSize::Validate() const {
  if (users < 1 || users > kMaxDemoUsers) {
    return Fail(ErrorCode::kInvalidArgument, "users: must be 1-" + std::to_string(kMaxDemoUsers));
  }
  if (exams < 0 || exams > kMaxDemoExams) {
    return Fail(ErrorCode::kInvalidArgument, "exams: must be 0-" + std::to_string(kMaxDemoExams));
  }
  return {};
}

Result<DemoCounts> LoadDemoData(db::Connection& conn, const DemoSize& size) {
  if (auto ok = size.Validate(); !ok) return std::unexpected(ok.error());
  if (auto ok = ApplyAppSchema(conn); !ok) return std::unexpected(ok.error());
  DemoCounts counts;
  auto ran = conn.Run([&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    counts.users = tx.exec_params(kDemoUsers, size.users).affected_rows();
    counts.integrations = tx.exec_params(kDemoIntegrations, size.users).affected_rows();
    counts.exams = tx.exec_params(kDemoExams, size.exams).affected_rows();
    counts.bookings = tx.exec_params(kDemoBookings, size.exams).affected_rows();
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  return counts;
}

}  // namespace chime::app
