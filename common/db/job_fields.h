// The job record's fields, declared once: every member of db::Job with its
// name in each shape the record takes. Expanded from CHIME_JOB_FIELDS: the job
// store's column list and row reader (sql::kJobColumns in job_store_sql.h,
// ReadJob in row_reader.cc), the proto conversion (common/wire/convert.cc)
// and the JSON of `jobctl --json` and /api (common/view/json_view.cc);
// jobctl's text (jobctl/text_view.cc) shows a field its layout does not place
// as "json_key: value". The build fails while db::Job has a member the list
// lacks. Adding a job field: its column (a migration), the member in job.h,
// its row here and the proto field the row names. Thread-safe (constants).
//
// Why a macro: the rows must name proto accessors (set_NAME, has_NAME) and
// members in code the compiler checks. A constexpr table of member pointers
// could hold the db and JSON side, but protobuf's string setters are
// templates whose address cannot be taken, so the proto side would need
// reflection by name (checked only at run time, slower per field) or a
// second, parallel table. The macro is expanded only in the four files above,
// in kJobFields below and in tests/common/wire/job_fields_test.cc; each
// expansion #undefs its row macro.
#pragma once

#include <cstddef>
#include <iterator>
#include <string_view>
#include <utility>

#include "common/db/job.h"

namespace chime::db {

// How a field is written where its type alone does not say.
enum class JobFieldEncoding {
  // As the member's type says: numbers, bools and text as they are; times as
  // Unix milliseconds (proto) or RFC 3339 (JSON); durations in milliseconds;
  // enums by name. An unset optional is null (JSON) and unset (proto:
  // absent where the field is `optional`, else 0 or "").
  kValue,
  // Text holding JSON: embedded as a JSON value in the JSON view.
  kJsonText,
  // JSON: the value while the job Waiting() for its children, else null.
  kWhileWaiting,
};

// The name of the schedule that fired a job; NULL when none did or it was
// deleted.
inline constexpr std::string_view kScheduleNameColumn =
    "(SELECT s.name FROM chime.schedules s WHERE s.id = schedule_id)";

}  // namespace chime::db

// X(member, column, proto field, JSON key, encoding), rows in the JSON
// object's order (which scripts may rely on; the proto's order is its field
// numbers', the columns' is this one).
// member: db::Job's. column: the SQL that reads it from a chime.jobs row
// (sql::kJobColumns, ReadJob; a time column is read as microseconds, wrapped
// by the column list), "" when the row does not hold it (JobGet counts
// children_live apart). proto field: chime.v1.Job's. JSON key: stable,
// snake_case; the dashboard and scripts read it. chime.v1.Job's
// lease_expires_at_ms has no member: it is never filled
// (kJobProtoFieldsNotInJob).
// clang-format off
#define CHIME_JOB_FIELDS(X)                                                                         \
  X(id,               "id",                id,               "id",                   kValue)        \
  X(kind,             "kind",              kind,             "kind",                 kValue)        \
  X(queue,            "queue",             queue,            "queue",                kValue)        \
  X(priority,         "priority",          priority,         "priority",             kValue)        \
  X(state,            "state",             state,            "state",                kValue)        \
  X(outcome,          "outcome",           outcome,          "outcome",              kValue)        \
  X(payload,          "payload::text",     payload_json,     "payload",              kJsonText)     \
  X(attempt,          "attempt",           attempt,          "attempt",              kValue)        \
  X(max_attempts,     "max_attempts",      max_attempts,     "max_attempts",         kValue)        \
  X(rescue_count,     "rescue_count",      rescue_count,     "rescue_count",         kValue)        \
  X(timeout,          "timeout_ms",        timeout_ms,       "timeout_ms",           kValue)        \
  X(unique_key,       "unique_key",        unique_key,       "unique_key",           kValue)        \
  X(parent_id,        "parent_id",         parent_id,        "parent_id",            kValue)        \
  X(dry_run,          "dry_run",           dry_run,          "dry_run",              kValue)        \
  X(invocation,       "invocation",        invocation,       "invocation",           kValue)        \
  X(cancel_requested, "cancel_requested",  cancel_requested, "cancel_requested",     kValue)        \
  X(worker_id,        "worker_id",         worker_id,        "worker_id",            kValue)        \
  X(created_at,       "created_at",        created_at_ms,    "created_at",           kValue)        \
  X(run_at,           "run_at",            run_at_ms,        "run_at",               kValue)        \
  X(attempted_at,     "attempted_at",      attempted_at_ms,  "attempted_at",         kValue)        \
  X(finished_at,      "finished_at",       finished_at_ms,   "finished_at",          kValue)        \
  X(last_error,       "last_error",        last_error,       "last_error",           kValue)        \
  X(progress,         "progress::text",    progress_json,    "progress",             kJsonText)     \
  X(schedule_id,      "schedule_id",       schedule_id,      "schedule_id",          kValue)        \
  X(schedule_name,    kScheduleNameColumn, schedule_name,    "schedule",             kValue)        \
  X(scheduled_for,    "scheduled_for",     scheduled_for_ms, "scheduled_for",        kValue)        \
  X(fan_out,          "fan_out",           fan_out,          "fan_out",              kValue)        \
  X(children_live,    "",                  children_live,    "waiting_for_children", kWhileWaiting)
// clang-format on

namespace chime::db {

// One row of CHIME_JOB_FIELDS as names, for code that walks the fields at run
// time (jobctl's text, the tests).
struct JobFieldNames {
  std::string_view member;
  std::string_view column;
  std::string_view proto;
  std::string_view json;
  JobFieldEncoding encoding;
};

#define CHIME_JOB_FIELD_NAMES(member, column, proto, json, encoding) \
  JobFieldNames{#member, column, #proto, json, JobFieldEncoding::encoding},
inline constexpr JobFieldNames kJobFields[] = {CHIME_JOB_FIELDS(CHIME_JOB_FIELD_NAMES)};
#undef CHIME_JOB_FIELD_NAMES

// chime.v1.Job fields no member fills: declared in the proto, never set by
// this code (their tags stay taken).
inline constexpr std::string_view kJobProtoFieldsNotInJob[] = {"lease_expires_at_ms"};

namespace internal {

// Converts to any member type, to count an aggregate's members.
struct AnyMember {
  template <typename T>
  operator T&() const noexcept;  // Declared only: used unevaluated.
};

template <typename T, size_t... I>
constexpr bool BraceInitializableWith(std::index_sequence<I...>) {
  return requires { T{(void(I), AnyMember{})...}; };
}

// The number of members of the aggregate T (none of which is itself an
// aggregate: braces would be elided into it).
template <typename T, size_t N = 0>
constexpr size_t AggregateMemberCount() {
  if constexpr (BraceInitializableWith<T>(std::make_index_sequence<N + 1>{})) {
    return AggregateMemberCount<T, N + 1>();
  } else {
    return N;
  }
}

}  // namespace internal

static_assert(internal::AggregateMemberCount<Job>() == std::size(kJobFields),
              "db::Job's members and CHIME_JOB_FIELDS' rows (common/db/job_fields.h) differ in number: "
              "add the row of a new member (and its proto field), or drop a row listed twice or whose "
              "member is gone");

}  // namespace chime::db
