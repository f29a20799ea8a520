// Internal to common/db: turns result rows of the column lists in
// job_store_sql.h into job structs. Thread-safe (stateless).
#pragma once

#include <pqxx/pqxx>

#include <optional>

#include "common/db/job.h"

namespace chime::db {

TimePoint MicrosToTime(int64_t micros);

// A nullable column: nullopt for NULL.
template <typename T>
std::optional<T> Optional(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<T>();
}
// A nullable CHIME_US(...) column.
std::optional<TimePoint> OptionalTime(const pqxx::field& f);

// Columns of the claim statements' RETURNING list.
ClaimedJob ReadClaimedJob(const pqxx::row& row);
// A row of kLimitWaits.
LimitWait ReadLimitWait(const pqxx::row& row);
// Columns of sql::kJobColumns.
Job ReadJob(const pqxx::row& row);
// Columns of sql::kRunColumns.
Run ReadRun(const pqxx::row& row);

}  // namespace chime::db
