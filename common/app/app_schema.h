// The default application schema "chime_app" (common/app/app_schema.sql,
// embedded in the binary) and a small demo data set for trying the seeds'
// kinds on it. Both only add: they never drop, update or delete a row.
// Thread-compatible (like the Connection they use).
#pragma once

#include <cstdint>
#include <string_view>

#include "common/base/error.h"
#include "common/db/connection.h"

namespace chime::app {

// The text of app_schema.sql.
std::string_view AppSchemaSql();

// Creates whatever of schema chime_app is missing, in one transaction under
// an advisory lock (concurrent callers serialize; the later ones find
// nothing to do). Idempotent.
[[nodiscard]] Result<void> ApplyAppSchema(db::Connection& conn);

// How much demo data to load. Users get ids 1..users, exams 1..exams.
struct DemoSize {
  int users = 12;  // Each with an integration per seed provider.
  int exams = 6;   // Each with a few bookings, some cancelled.

  // InvalidArgument naming the field: users 1..1,000,000, exams 0..100,000.
  [[nodiscard]] Result<void> Validate() const;
};

// Rows this call inserted (a second call with the same size inserts none).
struct DemoCounts {
  int64_t users = 0;
  int64_t integrations = 0;
  int64_t exams = 0;
  int64_t bookings = 0;
};

// Applies the schema, then inserts the demo rows that are missing, in one
// transaction. The data is a deterministic function of the ids, chosen so
// every branch of the kinds shows up:
//   users          every 10th inactive.
//   integrations   github, notion, slack, google_calendar per user; every
//                  7th inactive, every 13th user's needing re-auth; a third
//                  never synced (due), a third synced 2 hours ago (due), a
//                  third 5 minutes ago (not due); every 5th user's slack with
//                  a 60-minute cadence of its own.
//   exams          dated from tomorrow on, one a day; every 6th inactive.
//   bookings       3-9 per exam, every 4th cancelled. Exams whose id is a
//                  multiple of 3 store 2 too many, of 4 one too few (not below
//                  zero): the drift reconcile_exam_capacity finds.
// Rows that already exist are left alone, so counters a reconcile corrected
// stay corrected.
[[nodiscard]] Result<DemoCounts> LoadDemoData(db::Connection& conn, const DemoSize& size = {});

}  // namespace chime::app
