// process_all_users' live, uncapped fan-out: the due integrations are split
// into user-id ranges ("lanes") that run at the same time, each on its own
// database session, and each page of a lane is ONE statement that selects
// the due rows and inserts their sync_integration children server-side
// (nothing travels through the worker but the counts): this file writes the
// query over the application's tables, JobStore::JobsInsertSelected the
// insert into chime.jobs (sql::InsertSelected). Internal to chime::kinds.
//
// Why: inserting into chime.jobs is the floor of a fan-out (heap, four
// index entries - the text unique key twice, for ON CONFLICT -, checks, WAL,
// the jsonb payload, the statement triggers): ~25 us of backend CPU per
// child on the 2-core dev machine, 10 CPU-seconds for 400,000, so only
// several backends at once can make it in a few seconds, and a round trip of
// the rows through the worker per page only adds to it.
//
// Idempotent like the rest of process_all_users: the insert skips a row
// whose unique key a live job holds (ON CONFLICT DO NOTHING on
// jobs_unique_live_idx), so the pending rows are counted as skipped without
// a probe of their own, and lanes (disjoint user ranges) never wait on each
// other. Rows are inserted in unique-key order, as JobsInsertMany does, so
// concurrent fan-outs and batch enqueues take the key locks in one order.
// The children skip ValidateEnqueue (their kind, queue and payload shape
// are fixed here; the table's CHECKs still apply).
//
// Thread-safety: RunLanes is called on the job's slot thread; it starts and
// joins its own threads, and only the calling thread touches the JobContext.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/base/error.h"
#include "common/db/connection.h"
#include "worker/handler.h"
#include "worker/kinds/app_config.h"

namespace chime::worker::kinds {

// The page statement on the configured tables, in the two parts
// JobStore::JobsInsertSelected takes: `ctes` select the due rows (`due`)
// and make their children (`children`); `result` reads the count due, the
// last due (user, provider) as the next cursor, and the inserted rows'
// count, distinct users and least and greatest user id. Parameters: $1, $2
// the keyset cursor (last user id and provider), $3 the lane's last user
// id, $4, $5 provider names and cadences, $6 LIMIT, $7 the payload's tail
// after the provider, $8 parent job id, $9 invocation, $10 the child's
// max_attempts.
struct PageSql {
  std::string ctes;
  std::string result;
};
PageSql BuildInsertPageSql(const IntegrationTables& tables);

struct LaneCounts {
  int64_t users = 0;    // Users who got at least one sync queued.
  int64_t queued = 0;   // Children inserted.
  int64_t skipped = 0;  // Due rows whose sync was still pending.
};

struct LanesSpec {
  IntegrationTables tables;
  int parallelism = 4;   // Upper bound; small fan-outs use fewer lanes.
  int page_size = 5000;  // Due rows per statement.
  int64_t min_users_per_lane = 1000;
  std::string provider_names;    // text[] literal.
  std::string provider_minutes;  // int[] literal.
  std::string payload_tail;      // ',"jobType":...,"timeframeDays":N}'
  int child_max_attempts = 5;
};

// Runs the fan-out on `slot` (the job's own connection) plus up to
// parallelism - 1 sessions of its own, calling `progress` on this thread
// with the totals so far after each of its pages and while it waits. The
// first error (or a stop) ends every lane at its next page; then the counts
// cover what was committed, and the error is returned with them.
struct LanesOutcome {
  LaneCounts counts;
  int lanes = 0;
  std::optional<Error> error;
};
LanesOutcome RunLanes(JobContext& ctx, db::Connection& slot, const PageSql& page_sql,
                      const LanesSpec& spec, const std::function<Result<void>(const LaneCounts&)>& progress);

}  // namespace chime::worker::kinds
