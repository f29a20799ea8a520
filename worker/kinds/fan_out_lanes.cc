#include "worker/kinds/fan_out_lanes.h"

#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/db/job_store.h"

namespace chime::worker::kinds {
namespace {

// One lane's user-id range, both ends included.
struct Range {
  int64_t first = 0;
  int64_t last = 0;
};

// What one page statement did.
struct Page {
  int64_t due = 0;  // Rows selected (at most the page size).
  int64_t last_user = 0;
  std::string last_provider;
  int64_t inserted = 0;
  int64_t users = 0;  // Distinct users among the inserted rows.
  int64_t min_user = 0;
  int64_t max_user = 0;
};

// The page statement's one row, read from text: the count due, the last
// due (user, provider), the count inserted, distinct users inserted and
// their least and greatest id.
Result<Page> ReadPage(const std::vector<std::optional<std::string>>& row) {
  if (row.size() != 7 || !row[0] || !row[3] || !row[4]) {
    return Fail(ErrorCode::kInternal, "fan-out page: unexpected result row");
  }
  const auto number = [](const std::optional<std::string>& text) -> int64_t {
    return text ? std::stoll(*text) : 0;
  };
  Page page;
  page.due = number(row[0]);
  if (page.due > 0) {
    if (!row[1] || !row[2]) return Fail(ErrorCode::kInternal, "fan-out page: no cursor after due rows");
    page.last_user = number(row[1]);
    page.last_provider = *row[2];
  }
  page.inserted = number(row[3]);
  page.users = number(row[4]);
  if (page.inserted > 0) {
    page.min_user = number(row[5]);
    page.max_user = number(row[6]);
  }
  return page;
}

// Counts shared between a lane's thread and the slot thread.
struct SharedCounts {
  std::atomic<int64_t> users{0};
  std::atomic<int64_t> queued{0};
  std::atomic<int64_t> skipped{0};

  LaneCounts Load() const { return {users.load(), queued.load(), skipped.load()}; }
};

// Walks one range page by page on one connection. Thread-compatible: runs
// on one thread; publishes its counts through `counts`.
class Lane {
 public:
  Lane(const PageSql& page_sql, const LanesSpec& spec, Range range, const JobContext& ctx,
       SharedCounts& counts)
      : page_sql_(page_sql), spec_(spec), range_(range), ctx_(ctx), counts_(counts) {}

  // Returns after the last page, at a stop, or at the first error. `after_page`
  // runs after each page on this thread (the slot thread reports progress).
  Result<void> Run(db::Connection& conn, std::stop_token stop, const std::function<Result<void>()>& after_page) {
    db::JobStore store(conn);
    // "" sorts before every provider name (they are never empty), so the
    // first page starts at the range's first user.
    int64_t cursor_user = range_.first;
    std::string cursor_provider;
    std::optional<int64_t> last_counted_user;
    while (true) {
      if (stop.stop_requested() || ctx_.stop_requested()) {
        return Fail(ErrorCode::kUnavailable, "stopped before the end; a retry skips what is queued");
      }
      const std::vector<std::string> params{std::to_string(cursor_user),
                                            cursor_provider,
                                            std::to_string(range_.last),
                                            spec_.provider_names,
                                            spec_.provider_minutes,
                                            std::to_string(spec_.page_size),
                                            spec_.payload_tail,
                                            std::to_string(ctx_.job_id()),
                                            std::string(db::InvocationName(ctx_.invocation())),
                                            std::to_string(spec_.child_max_attempts)};
      auto row = store.JobsInsertSelected(page_sql_.ctes, page_sql_.result, params);
      if (!row) return std::unexpected(row.error());
      auto page = ReadPage(*row);
      if (!page) return std::unexpected(page.error());
      // A user whose rows straddle two pages is counted once: pages follow
      // user order, so only the previous page's last user can repeat.
      int64_t users = page->users;
      if (page->inserted > 0 && last_counted_user == page->min_user) --users;
      if (page->inserted > 0) last_counted_user = page->max_user;
      counts_.users += users;
      counts_.queued += page->inserted;
      counts_.skipped += page->due - page->inserted;
      if (after_page) {
        if (auto ok = after_page(); !ok) return ok;
      }
      if (page->due < spec_.page_size) return {};
      cursor_user = page->last_user;
      cursor_provider = std::move(page->last_provider);
    }
  }

 private:
  const PageSql& page_sql_;
  const LanesSpec& spec_;
  const Range range_;
  const JobContext& ctx_;
  SharedCounts& counts_;
};

// The lanes' ranges: the span of user ids with an integration, cut into
// equal id ranges (ids are usually dense; a skewed table only balances
// worse). None when there is no integration.
Result<std::vector<Range>> PlanRanges(db::Connection& conn, const IntegrationTables& t, const LanesSpec& spec) {
  std::optional<Range> span;
  auto ran = conn.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    // Two ends of the integrations' primary key: an index lookup each.
    const std::string user = QuoteColumn(t.integration_user_id);
    const auto r = tx.exec1("SELECT min(" + user + "), max(" + user + ") FROM " + QuoteTable(t.integrations));
    if (!r[0].is_null()) span = Range{r[0].as<int64_t>(), r[1].as<int64_t>()};
  });
  if (!ran) return std::unexpected(ran.error());
  std::vector<Range> ranges;
  if (!span) return ranges;
  // In unsigned arithmetic: the span of two int64 ids may not fit an int64.
  const uint64_t width = static_cast<uint64_t>(span->last) - static_cast<uint64_t>(span->first) + 1;
  const uint64_t wanted = std::max<uint64_t>(1, width / static_cast<uint64_t>(spec.min_users_per_lane));
  const uint64_t lanes = std::min<uint64_t>(static_cast<uint64_t>(std::max(1, spec.parallelism)), wanted);
  int64_t first = span->first;
  for (uint64_t k = 0; k < lanes; ++k) {
    const int64_t last = k + 1 == lanes ? span->last
                                        : static_cast<int64_t>(static_cast<uint64_t>(span->first) +
                                                               width / lanes * (k + 1) - 1);
    ranges.push_back({first, last});
    first = last + 1;
  }
  return ranges;
}

}  // namespace

PageSql BuildInsertPageSql(const IntegrationTables& t) {
  const std::string i_user = "i." + QuoteColumn(t.integration_user_id);
  const std::string i_provider = "i." + QuoteColumn(t.provider);
  const std::string u_id = "u." + QuoteColumn(t.user_id);
  const std::string last = "i." + QuoteColumn(t.last_synced_at);
  // The bounds on u.id repeat what the row comparison and the range imply,
  // so the users side of the merge join starts at the cursor and stops at
  // the range's end. `due` is read three times, so it is materialized once;
  // `children`, read once by the insert, is inlined into it.
  PageSql page;
  page.ctes =
      "due AS MATERIALIZED (\n"
      "  SELECT " + i_user + " AS user_id, " + i_provider + " AS provider\n"
      "  FROM " + QuoteTable(t.integrations) + " i\n"
      "  JOIN unnest($4::text[], $5::int[]) AS p(name, minutes) ON p.name = " + i_provider + "\n"
      "  JOIN " + QuoteTable(t.users) + " u ON " + u_id + " = " + i_user + "\n"
      "  WHERE (" + i_user + ", " + i_provider + ") > ($1::bigint, $2::text)\n"
      "    AND " + u_id + " >= $1::bigint AND " + i_user + " <= $3::bigint AND " + u_id + " <= $3::bigint\n"
      "    AND i." + QuoteColumn(t.integration_active) + " AND NOT i." + QuoteColumn(t.needs_reauth) +
      " AND u." + QuoteColumn(t.user_active) + "\n"
      "    AND (" + last + " IS NULL OR " + last + " <= now() - make_interval(mins => coalesce(i." +
      QuoteColumn(t.cadence_minutes) + ", p.minutes)))\n"
      "  ORDER BY " + i_user + ", " + i_provider + "\n"
      "  LIMIT $6::int),\n"
      "children AS (\n"
      "  SELECT 'sync_integration' AS kind, 'default' AS queue,\n"
      "         ('{\"userId\":' || d.user_id || ',\"provider\":' || to_json(d.provider)::text || $7::text)::jsonb\n"
      "           AS payload,\n"
      "         $10::int AS max_attempts, 'user:' || d.user_id || ':provider:' || d.provider AS unique_key,\n"
      "         $8::bigint AS parent_id, $9::text AS invocation\n"
      "  FROM due d)";
  page.result =
      "SELECT (SELECT count(*) FROM due),\n"
      "       (SELECT user_id FROM due ORDER BY user_id DESC, provider DESC LIMIT 1),\n"
      "       (SELECT provider FROM due ORDER BY user_id DESC, provider DESC LIMIT 1),\n"
      "       count(*), count(DISTINCT user_id), min(user_id), max(user_id)\n"
      "FROM (SELECT split_part(unique_key, ':', 2)::bigint AS user_id FROM inserted) ins";
  return page;
}

LanesOutcome RunLanes(JobContext& ctx, db::Connection& slot, const PageSql& page_sql, const LanesSpec& spec,
                      const std::function<Result<void>(const LaneCounts&)>& progress) {
  LanesOutcome out;
  auto ranges = PlanRanges(slot, spec.tables, spec);
  if (!ranges) {
    out.error = ranges.error();
    return out;
  }
  out.lanes = static_cast<int>(ranges->size());
  if (ranges->empty()) return out;

  SharedCounts counts;
  std::stop_source abort;  // The first error ends every lane.
  std::mutex mu;
  std::condition_variable finished;
  size_t running = ranges->size() - 1;  // Guarded by mu.
  std::optional<Error> first_error;     // Guarded by mu.
  const auto record = [&](const Result<void>& result, bool lane_thread) {
    std::lock_guard lock(mu);
    if (!result && !first_error) {
      first_error = result.error();
      abort.request_stop();
    }
    if (lane_thread) --running;
    finished.notify_all();
  };
  const db::ConnectionConfig config = slot.config();  // The extra sessions connect like the slot's.
  std::vector<std::jthread> threads;
  for (size_t k = 1; k < ranges->size(); ++k) {
    threads.emplace_back([&, range = (*ranges)[k]] {
      db::Connection conn(config);
      Lane lane(page_sql, spec, range, ctx, counts);
      record(lane.Run(conn, abort.get_token(), nullptr), /*lane_thread=*/true);
    });
  }
  // The first range runs here, on the job's own session, and reports the
  // totals after each of its pages.
  Lane first(page_sql, spec, ranges->front(), ctx, counts);
  record(first.Run(slot, abort.get_token(), [&] { return progress(counts.Load()); }), false);
  {
    std::unique_lock lock(mu);
    while (running > 0) {
      finished.wait_for(lock, std::chrono::milliseconds(250));
      lock.unlock();
      const auto reported = progress(counts.Load());
      lock.lock();
      if (!reported && !first_error) {
        first_error = reported.error();
        abort.request_stop();
      }
    }
  }
  threads.clear();  // Joins.
  out.counts = counts.Load();
  out.error = first_error;
  return out;
}

}  // namespace chime::worker::kinds
