#include "common/db/stats_store.h"

#include <pqxx/pqxx>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <type_traits>

#include "common/db/pg_array.h"
#include "common/db/row_reader.h"
#include "common/db/stats_store_sql.h"

namespace chime::db {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;

constexpr int64_t kHourUs = int64_t{3600} * 1000 * 1000;
constexpr int kMaxRecentFailures = 50;


// The first hour boundary (UTC) at or after `us`.
int64_t CeilHour(int64_t us) {
  const int64_t floor = us - (((us % kHourUs) + kHourUs) % kHourUs);
  return floor == us ? us : floor + kHourUs;
}

// What the statements add up per key before it becomes a StatsRow.
struct Tally {
  // Attempts by outcome.
  int64_t succeeded = 0, partial = 0, failed = 0, discarded = 0, cancelled = 0, lease_expired = 0;
  int64_t skipped = 0;
  // Runs by final outcome.
  int64_t runs_succeeded = 0, runs_partial = 0, runs_failed = 0, runs_skipped = 0, runs_cancelled = 0;
  int64_t duration_n = 0;
  double duration_ms_sum = 0;
  std::vector<int64_t> buckets = std::vector<int64_t>(kDurationBuckets, 0);
};

void Finish(const Tally& t, StatsRow& row) {
  row.succeeded = t.runs_succeeded;
  row.partial = t.runs_partial;
  row.failed = t.runs_failed;
  row.skipped = t.runs_skipped;
  row.cancelled = t.runs_cancelled;
  row.total = row.succeeded + row.partial + row.failed + row.skipped + row.cancelled;
  row.attempts = AttemptCounts{.total = 0,
                               .succeeded = t.succeeded,
                               .partial = t.partial,
                               .skipped = t.skipped,
                               .failed = t.failed + t.discarded + t.lease_expired,
                               .cancelled = t.cancelled};
  row.attempts.total = row.attempts.succeeded + row.attempts.partial + row.attempts.skipped +
                       row.attempts.failed + row.attempts.cancelled;
  const int64_t decided = row.decided();
  if (decided > 0) {
    row.success_rate = static_cast<double>(row.succeeded + row.partial) / static_cast<double>(decided);
    row.failure_rate = static_cast<double>(row.failed) / static_cast<double>(decided);
  }
  if (t.duration_n > 0) row.avg_duration_ms = t.duration_ms_sum / static_cast<double>(t.duration_n);
  row.p95_duration_ms = HistogramPercentile(t.buckets, 0.95);
}

// Parses a pair of PostgreSQL array texts ("{12,13}", "{4,1}") and adds
// each count to its bucket (1-based in the text). The rollup's CHECK keeps
// the two the same length; a bucket out of range is clamped.
void AddSparse(std::string_view buckets, std::string_view counts, std::vector<int64_t>& out) {
  auto next = [](std::string_view& text, int64_t& value) {
    while (!text.empty() && (text.front() == '{' || text.front() == ',' || text.front() == '}')) {
      text.remove_prefix(1);
    }
    if (text.empty()) return false;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc()) return false;
    text.remove_prefix(static_cast<size_t>(end - text.data()));
    return true;
  };
  int64_t bucket = 0, count = 0;
  while (next(buckets, bucket) && next(counts, count)) {
    out[static_cast<size_t>(std::clamp<int64_t>(bucket - 1, 0, kDurationBuckets - 1))] += count;
  }
}

// Keys travel as text both ways: bigint ids for schedules, kinds as they are.
template <typename Key>
Key ReadKey(const pqxx::field& f) {
  if constexpr (std::is_same_v<Key, std::string>) {
    return std::string(f.c_str());
  } else {
    return f.as<int64_t>();
  }
}

template <typename Key>
std::string KeyArray(const std::vector<Key>& keys) {
  PgArrayBuilder b;
  for (const auto& k : keys) {
    if constexpr (std::is_same_v<Key, int64_t>) {
      b.AddInt(k);
    } else {
      b.AddText(k);
    }
  }
  return b.Finish();
}

// Runs the four statements of one report for `keys` (all keys of the scope
// when `one` is unset) in `tx`, filling `tallies` and `rows` by key.
template <typename Key>
void Collect(pqxx::transaction_base& tx, const sql::StatsScopeSql& scope,
             const std::optional<Key>& one, int64_t since_us, int64_t recent,
             std::map<Key, Tally>& tallies, std::map<Key, StatsRow>& rows) {
  // Kinds have no table of their own: every kind with runs is a row.
  constexpr bool kAdoptKeys = std::is_same_v<Key, std::string>;
  const int64_t edge_us = CeilHour(since_us);
  auto run = [&](const std::string& text) -> pqxx::result {
    return one ? tx.exec_params(text, since_us, edge_us, *one) : tx.exec_params(text, since_us, edge_us);
  };
  for (const pqxx::row& r : run(sql::StatsRollupSql(scope, one.has_value()))) {
    const Key key = ReadKey<Key>(r[0]);
    Tally& t = tallies[key];
    t.succeeded += r[1].as<int64_t>();
    t.partial += r[2].as<int64_t>();
    t.failed += r[3].as<int64_t>();
    t.discarded += r[4].as<int64_t>();
    t.cancelled += r[5].as<int64_t>();
    t.lease_expired += r[6].as<int64_t>();
    t.duration_n += r[7].as<int64_t>();
    t.duration_ms_sum += r[8].as<double>();
    AddSparse(r[9].c_str(), r[10].c_str(), t.buckets);
    t.skipped += r[11].as<int64_t>();
    t.runs_succeeded += r[12].as<int64_t>();
    t.runs_partial += r[13].as<int64_t>();
    t.runs_failed += r[14].as<int64_t>();
    t.runs_skipped += r[15].as<int64_t>();
    t.runs_cancelled += r[16].as<int64_t>();
    if constexpr (kAdoptKeys) rows[key].name = key;
  }
  for (const pqxx::row& r : run(sql::StatsHeadSql(scope, one.has_value()))) {
    const Key key = ReadKey<Key>(r[0]);
    Tally& t = tallies[key];
    const std::string_view outcome = r[1].c_str();
    const int64_t n = r[3].as<int64_t>();
    const bool timed = outcome != "lease_expired" && outcome != "released";
    if (outcome == "succeeded") t.succeeded += n;
    if (outcome == "partial") t.partial += n;
    if (outcome == "failed") t.failed += n;
    if (outcome == "discarded") t.discarded += n;
    if (outcome == "cancelled") t.cancelled += n;
    if (outcome == "lease_expired") t.lease_expired += n;
    if (outcome == "skipped") t.skipped += n;
    if (!r[5].is_null()) {
      const std::string_view job_outcome = r[5].c_str();
      if (job_outcome == "succeeded") t.runs_succeeded += n;
      if (job_outcome == "partial") t.runs_partial += n;
      if (job_outcome == "failed") t.runs_failed += n;
      if (job_outcome == "skipped") t.runs_skipped += n;
      if (job_outcome == "cancelled") t.runs_cancelled += n;
    }
    if (timed) {
      t.duration_n += n;
      t.duration_ms_sum += r[4].as<double>();
      const int bucket = std::clamp(r[2].as<int>() - 1, 0, kDurationBuckets - 1);
      t.buckets[static_cast<size_t>(bucket)] += n;
    }
    if constexpr (kAdoptKeys) rows[key].name = key;
  }
  std::vector<Key> keys;
  for (const auto& [key, row] : rows) keys.push_back(key);
  if (keys.empty()) return;
  const std::string array = KeyArray(keys);
  for (const pqxx::row& r : tx.exec_params(sql::StatsLatestSql(scope), array)) {
    StatsRow& row = rows[ReadKey<Key>(r[0])];
    if (!r[1].is_null()) {
      row.last_execution = MicrosToTime(r[1].as<int64_t>());
      row.last_status = r[2].c_str();
    }
    if (!r[3].is_null()) {
      row.last_success = MicrosToTime(r[3].as<int64_t>());
      row.last_success_job_id = r[4].as<int64_t>();
      row.last_success_attempts = r[5].as<int>();
    }
    row.consecutive_failures = r[6].as<int64_t>();
    row.failures_before_last_success = r[7].as<int64_t>();
  }
  if (recent == 0) return;
  for (const pqxx::row& r : tx.exec_params(sql::StatsRecentFailuresSql(scope), array, since_us, recent)) {
    rows[ReadKey<Key>(r[0])].recent_failures.push_back(
        RecentFailure{.job_id = r[1].as<int64_t>(), .attempt = r[2].as<int>(),
                      .finished_at = MicrosToTime(r[3].as<int64_t>()), .outcome = r[4].c_str(),
                      .error = r[5].c_str(), .response = r[6].c_str()});
  }
}

}  // namespace

std::string_view StatsScopeName(StatsScope scope) {
  return scope == StatsScope::kKind ? "kind" : "schedule";
}

std::optional<StatsScope> ParseStatsScope(std::string_view name) {
  if (name == "schedule") return StatsScope::kSchedule;
  if (name == "kind") return StatsScope::kKind;
  return std::nullopt;
}

Result<void> StatsParams::Validate() const {
  if (range < kMinStatsRange || range > kMaxStatsRange) {
    return Fail(ErrorCode::kInvalidArgument, "range: " + std::to_string(range.count()) +
                                                 "h is out of range 1-168 hours");
  }
  // No NUL: libpq sends parameters as C strings, so "nightly\0x" would
  // report on "nightly".
  if (name && (name->empty() || name->size() > 128 || name->find('\0') != std::string::npos)) {
    return Fail(ErrorCode::kInvalidArgument, "name: must be 1-128 bytes without NUL");
  }
  if (recent_failures < 0 || recent_failures > kMaxRecentFailures) {
    return Fail(ErrorCode::kInvalidArgument, "recent_failures: " + std::to_string(recent_failures) +
                                                 " is out of range 0-50");
  }
  return {};
}

std::optional<double> HistogramPercentile(const std::vector<int64_t>& buckets, double quantile) {
  int64_t total = 0;
  for (int64_t n : buckets) total += std::max<int64_t>(0, n);
  if (total == 0) return std::nullopt;
  // Nearest rank: the smallest value with at least ceil(q * total) values at or below it.
  const auto rank = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(quantile * static_cast<double>(total))));
  int64_t seen = 0;
  for (size_t k = 0; k < buckets.size(); ++k) {
    seen += std::max<int64_t>(0, buckets[k]);
    if (seen < rank) continue;
    if (k == 0) return 0.5;  // Under 1 ms.
    if (k + 1 == buckets.size()) return std::exp2((static_cast<double>(k) - 1) / 4);  // Open-ended: its floor.
    // The geometric middle of [2^((k-1)/4), 2^(k/4)): within 2^(1/8) of any value in it.
    return std::exp2((static_cast<double>(k) - 0.5) / 4);
  }
  return std::nullopt;
}

StatsStore::StatsStore(Connection& conn) : conn_(conn) {}

Result<StatsReport> StatsStore::StatsQuery(const StatsParams& params) {
  if (auto ok = params.Validate(); !ok) return std::unexpected(ok.error());
  StatsReport report;
  report.scope = params.scope;
  report.range = params.range;
  bool missing = false;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    report.rows.clear();
    missing = false;
    // One snapshot: the counts, histogram and latest runs agree.
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(c);
    const int64_t now_us = tx.exec("SELECT " CHIME_US("now()"))[0][0].as<int64_t>();
    const int64_t since_us = now_us - duration_cast<microseconds>(params.range).count();
    report.until = MicrosToTime(now_us);
    report.since = MicrosToTime(since_us);
    if (params.scope == StatsScope::kSchedule) {
      std::map<int64_t, StatsRow> rows;
      std::map<int64_t, Tally> tallies;
      auto schedules = params.name
                           ? tx.exec_params("SELECT id, name FROM chime.schedules WHERE name = $1", *params.name)
                           : tx.exec("SELECT id, name FROM chime.schedules");
      for (const auto& r : schedules) {
        StatsRow& row = rows[r[0].as<int64_t>()];
        row.schedule_id = r[0].as<int64_t>();
        row.name = r[1].c_str();
      }
      if (params.name && rows.empty()) {
        missing = true;
        return;
      }
      const std::optional<int64_t> one =
          params.name ? std::optional<int64_t>(rows.begin()->first) : std::nullopt;
      Collect(tx, sql::kScheduleScope, one, since_us, params.recent_failures, tallies, rows);
      for (auto& [id, row] : rows) {
        if (auto it = tallies.find(id); it != tallies.end()) Finish(it->second, row);
        report.rows.push_back(std::move(row));
      }
    } else {
      std::map<std::string, StatsRow> rows;
      std::map<std::string, Tally> tallies;
      // A named kind is shown even without runs.
      if (params.name) rows[*params.name].name = *params.name;
      Collect(tx, sql::kKindScope, params.name, since_us, params.recent_failures, tallies, rows);
      for (auto& [kind, row] : rows) {
        if (auto it = tallies.find(kind); it != tallies.end()) Finish(it->second, row);
        report.rows.push_back(std::move(row));
      }
    }
  });
  if (!ran) return std::unexpected(ran.error());
  if (missing) return Fail(ErrorCode::kNotFound, "schedule \"" + *params.name + "\" not found");
  std::sort(report.rows.begin(), report.rows.end(),
            [](const StatsRow& a, const StatsRow& b) { return a.name < b.name; });
  return report;
}

Result<std::vector<OldestRunning>> StatsStore::OldestRunningPerSchedule() {
  std::vector<OldestRunning> out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    out.clear();
    pqxx::read_transaction tx(c);
    for (const auto& r : tx.exec(
             "SELECT DISTINCT ON (schedule_id) schedule_id, id, " CHIME_US("attempted_at")
             " FROM chime.jobs WHERE state = 'running' AND schedule_id IS NOT NULL "
             "ORDER BY schedule_id, attempted_at, id")) {
      out.push_back(OldestRunning{.schedule_id = r[0].as<int64_t>(), .job_id = r[1].as<int64_t>(),
                                  .since = MicrosToTime(r[2].as<int64_t>())});
    }
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

}  // namespace chime::db
