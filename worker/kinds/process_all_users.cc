#include "worker/kinds/process_all_users.h"

#include <pqxx/pqxx>

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <vector>

#include "common/db/connection.h"
#include "common/db/job_state_sql.h"
#include "common/db/pg_array.h"
#include "worker/kinds/fan_out_lanes.h"

namespace chime::worker::kinds {
namespace {

constexpr std::string_view kJobTypes[] = {"scheduled-sync", "manual-sync", "initial-backfill"};

HandlerResult Permanent(std::string message) {
  return HandlerResult::Fail({}, {"process_all_users: " + std::move(message)}, /*retryable=*/false);
}

Result<FanOutParams> Invalid(std::string message) {
  return Fail(ErrorCode::kInvalidArgument, std::move(message));
}

Result<void> ReadMaxUsers(const nlohmann::json& value, FanOutParams* out) {
  if (!value.is_number_integer() || value.get<int64_t>() < 1) {
    return Fail(ErrorCode::kInvalidArgument, "maxUsers: must be a positive integer, got " + value.dump());
  }
  out->max_users = value.get<int64_t>();
  return {};
}

Result<void> ReadJobType(const nlohmann::json& value, FanOutParams* out) {
  if (!value.is_string() || !IsSyncJobType(value.get<std::string>())) {
    return Fail(ErrorCode::kInvalidArgument,
                "jobType: " + value.dump() + " is not one of scheduled-sync, manual-sync, initial-backfill");
  }
  out->job_type = value.get<std::string>();
  return {};
}

Result<void> ReadParallelism(const nlohmann::json& value, FanOutParams* out) {
  if (!value.is_number_integer() || value.get<int64_t>() < 1 || value.get<int64_t>() > kMaxFanOutParallelism) {
    return Fail(ErrorCode::kInvalidArgument,
                "parallelism: must be an integer 1-" + std::to_string(kMaxFanOutParallelism) + ", got " + value.dump());
  }
  out->parallelism = static_cast<int>(value.get<int64_t>());
  return {};
}

Result<void> ReadTimeframeDays(const nlohmann::json& value, FanOutParams* out) {
  if (!value.is_number_integer() || value.get<int64_t>() < 1 || value.get<int64_t>() > kMaxTimeframeDays) {
    return Fail(ErrorCode::kInvalidArgument,
                "timeframeDays: must be an integer 1-" + std::to_string(kMaxTimeframeDays) + ", got " + value.dump());
  }
  out->timeframe_days = static_cast<int>(value.get<int64_t>());
  return {};
}

// One page of due integrations, in (user, provider) order, each flagged when
// a live sync job already holds its unique key.
// $1, $2: the keyset cursor (last user id and provider of the previous page);
// $3, $4: configured provider names and cadences in minutes; $5: LIMIT.
// Plan notes, checked with EXPLAIN at 100,000 users x 4 providers:
// - The bound on u.id repeats what the row comparison implies, so that the
//   users side of the merge join starts at the cursor instead of at the
//   first user on every page.
// - The pending test is a LATERAL probe of chime.jobs' unique index on
//   (kind, unique_key) for live states, one per row of the page; written as
//   EXISTS, the planner hashed every live sync job on every page instead.
std::string BuildPageSql(const IntegrationTables& t) {
  const std::string i_user = "i." + QuoteColumn(t.integration_user_id);
  const std::string i_provider = "i." + QuoteColumn(t.provider);
  const std::string u_id = "u." + QuoteColumn(t.user_id);
  const std::string last = "i." + QuoteColumn(t.last_synced_at);
  return "SELECT " + i_user + ", " + i_provider + ", pj.pending IS NOT NULL\n"
         "FROM " + QuoteTable(t.integrations) + " i\n"
         "JOIN unnest($3::text[], $4::int[]) AS p(name, minutes) ON p.name = " + i_provider + "\n"
         "JOIN " + QuoteTable(t.users) + " u ON " + u_id + " = " + i_user + "\n"
         "LEFT JOIN LATERAL (SELECT true AS pending FROM chime.jobs j WHERE j.kind = 'sync_integration'"
         " AND j.unique_key = 'user:' || " + i_user + " || ':provider:' || " + i_provider +
         " AND j.state IN " CHIME_SQL_LIVE_STATES " LIMIT 1) pj ON true\n"
         "WHERE (" + i_user + ", " + i_provider + ") > ($1::bigint, $2::text) AND " + u_id + " >= $1::bigint\n"
         "  AND i." + QuoteColumn(t.integration_active) + " AND NOT i." + QuoteColumn(t.needs_reauth) +
         " AND u." + QuoteColumn(t.user_active) + "\n"
         "  AND (" + last + " IS NULL OR " + last + " <= now() - make_interval(mins => coalesce(i." +
         QuoteColumn(t.cadence_minutes) + ", p.minutes)))\n"
         "ORDER BY " + i_user + ", " + i_provider + "\nLIMIT $5::int";
}

struct DueRow {
  int64_t user_id = 0;
  std::string provider;
  bool pending = false;  // A live sync job holds the key already.
};

// One run's walk over the due integrations: pages, the maxUsers cap and the
// counts. Lives for one Run() call.
class FanOut {
 public:
  FanOut(JobContext& ctx, const AppConfig& config, const std::string& page_sql,
         const PageSql& insert_page_sql, FanOutParams params)
      : ctx_(ctx), config_(config), page_sql_(page_sql), insert_page_sql_(insert_page_sql),
        params_(std::move(params)) {
    db::PgArrayBuilder names, minutes;
    for (const auto& p : config.providers) {
      names.AddText(p.name);
      minutes.AddInt(p.cadence.count());
    }
    provider_names_ = names.Finish();
    provider_minutes_ = minutes.Finish();
    provider_count_ = static_cast<int64_t>(config.providers.size());
    // A child's payload is {"userId", "provider", "jobType", "timeframeDays"};
    // all but the user id are known now, so 400,000 payloads cost a few
    // string appends each rather than building and dumping a JSON object.
    for (const auto& p : config.providers) provider_json_[p.name] = nlohmann::json(p.name).dump();
    payload_tail_ = ",\"jobType\":" + nlohmann::json(params_.job_type).dump() +
                    ",\"timeframeDays\":" + std::to_string(params_.timeframe_days) + "}";
  }

  HandlerResult Run() {
    auto conn = ctx_.Database();
    if (!conn) return Retryable("database: " + conn.error().ToString());
    if (!ctx_.dry_run() && !params_.max_users) return RunLanes(**conn);
    bool more = provider_count_ > 0;
    while (more) {
      if (ctx_.stop_requested()) return Retryable("stopped before the end; a retry skips what is queued");
      const int limit = PageLimit();
      auto rows = FetchPage(**conn, limit);
      if (!rows) return Retryable("reading due integrations: " + rows.error().ToString());
      more = static_cast<int>(rows->size()) == limit;
      if (!rows->empty()) cursor_ = {rows->back().user_id, rows->back().provider};
      std::vector<db::EnqueueParams> children = TakeRows(*rows, &more);
      if (auto ok = Enqueue(std::move(children)); !ok) return Retryable(ok.error().ToString());
      if (auto ok = ctx_.ReportProgress(Counts()); !ok) return Retryable("progress: " + ok.error().ToString());
    }
    return HandlerResult::Success(Summary());
  }

 private:
  struct Cursor {
    int64_t user_id = std::numeric_limits<int64_t>::min();
    std::string provider;  // "" sorts before every provider name.
  };

  // A user has at most one row per provider, so a capped run's page needs
  // no more rows than its remaining users times the providers (it may take
  // more pages when some rows are pending).
  int PageLimit() const {
    if (!params_.max_users) return ProcessAllUsers::kPageSize;
    const int64_t remaining = *params_.max_users - users_;
    return static_cast<int>(std::min<int64_t>(ProcessAllUsers::kPageSize,
                                              std::max<int64_t>(remaining, 1) * provider_count_));
  }

  Result<std::vector<DueRow>> FetchPage(db::Connection& conn, int limit) {
    std::vector<DueRow> rows;
    auto ran = conn.Run([&](pqxx::connection_base& c) {
      pqxx::nontransaction tx(c);
      auto r = tx.exec_params(page_sql_, cursor_.user_id, cursor_.provider, provider_names_,
                              provider_minutes_, limit);
      rows.reserve(r.size());
      for (const auto& row : r) {
        rows.push_back({row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<bool>()});
      }
    });
    if (!ran) return std::unexpected(ran.error());
    return rows;
  }

  // Counts the page's rows and returns the children to enqueue, up to the
  // maxUsers cap (clearing *more when it is reached). Only users who get a
  // sync count against the cap: users whose syncs are all still pending
  // would otherwise fill it run after run and keep the rest waiting.
  std::vector<db::EnqueueParams> TakeRows(const std::vector<DueRow>& rows, bool* more) {
    std::vector<db::EnqueueParams> children;
    children.reserve(rows.size());
    for (const auto& row : rows) {
      if (row.pending) {
        ++skipped_;
        continue;
      }
      if (row.user_id != last_user_) {
        if (params_.max_users && users_ == *params_.max_users) {
          *more = false;
          break;
        }
        ++users_;
        last_user_ = row.user_id;
      }
      children.push_back(Child(row));
    }
    return children;
  }

  db::EnqueueParams Child(const DueRow& row) const {
    db::EnqueueParams p;
    p.kind = std::string(kSyncIntegrationKind);
    p.payload = "{\"userId\":" + std::to_string(row.user_id) + ",\"provider\":" + provider_json_.at(row.provider) +
                payload_tail_;
    p.max_attempts = ProcessAllUsers::kChildMaxAttempts;
    p.unique_key = SyncUniqueKey(row.user_id, row.provider);
    return p;
  }

  Result<void> Enqueue(std::vector<db::EnqueueParams> children) {
    if (children.empty()) return {};
    const auto count = static_cast<int64_t>(children.size());
    if (!ctx_.dry_run()) {
      auto ids = ctx_.EnqueueChildren(std::move(children));
      if (!ids) return Fail(ids.error().code, "enqueueing syncs: " + ids.error().ToString());
    }
    queued_ += count;
    return {};
  }

  nlohmann::json Counts() const {
    return {{"usersProcessed", users_}, {"jobsQueued", queued_}, {"jobsSkipped", skipped_}};
  }

  nlohmann::json Summary() const {
    nlohmann::json s = Counts();
    s["jobType"] = params_.job_type;
    s["timeframeDays"] = params_.timeframe_days;
    s["maxUsers"] = params_.max_users ? nlohmann::json(*params_.max_users) : nlohmann::json(nullptr);
    s["invocation"] = std::string(db::InvocationName(ctx_.invocation()));
    s["dryRun"] = ctx_.dry_run();
    return s;
  }

  // The live, uncapped fan-out: server-side pages on parallel sessions.
  HandlerResult RunLanes(db::Connection& conn) {
    if (provider_count_ == 0) return HandlerResult::Success(Summary());
    if (ctx_.stop_requested()) return Retryable("stopped before the end; a retry skips what is queued");
    LanesSpec spec{.tables = config_.integrations,
                   .parallelism = params_.parallelism,
                   .page_size = ProcessAllUsers::kPageSize,
                   .provider_names = provider_names_,
                   .provider_minutes = provider_minutes_,
                   .payload_tail = payload_tail_,
                   .child_max_attempts = ProcessAllUsers::kChildMaxAttempts};
    const auto report = [&](const LaneCounts& c) -> Result<void> {
      users_ = c.users;
      queued_ = c.queued;
      skipped_ = c.skipped;
      return ctx_.ReportProgress(Counts());
    };
    LanesOutcome outcome = kinds::RunLanes(ctx_, conn, insert_page_sql_, spec, report);
    users_ = outcome.counts.users;
    queued_ = outcome.counts.queued;
    skipped_ = outcome.counts.skipped;
    if (outcome.error) return Retryable(outcome.error->ToString());
    if (auto ok = ctx_.ReportProgress(Counts()); !ok) return Retryable("progress: " + ok.error().ToString());
    ctx_.logger().info("queued {} syncs for {} users over {} sessions ({} still pending)", queued_, users_,
                       outcome.lanes, skipped_);
    return HandlerResult::Success(Summary());
  }

  // Database trouble and stops are retried: the unique keys make a rerun
  // skip what this attempt queued.
  HandlerResult Retryable(std::string message) const {
    return HandlerResult::Fail(Summary(), {"process_all_users: " + std::move(message)}, /*retryable=*/true);
  }

  JobContext& ctx_;
  const AppConfig& config_;
  const std::string& page_sql_;
  const PageSql& insert_page_sql_;
  const FanOutParams params_;
  std::string provider_names_;
  std::string provider_minutes_;
  std::unordered_map<std::string, std::string> provider_json_;  // Name -> its JSON string.
  std::string payload_tail_;
  int64_t provider_count_ = 0;
  Cursor cursor_;
  std::optional<int64_t> last_user_;  // The last user counted in users_.
  int64_t users_ = 0;
  int64_t queued_ = 0;
  int64_t skipped_ = 0;
};

}  // namespace

bool IsSyncJobType(std::string_view job_type) {
  return std::find(std::begin(kJobTypes), std::end(kJobTypes), job_type) != std::end(kJobTypes);
}

std::string SyncUniqueKey(int64_t user_id, std::string_view provider) {
  return "user:" + std::to_string(user_id) + ":provider:" + std::string(provider);
}

Result<FanOutParams> ParseFanOutParams(const nlohmann::json& payload) {
  FanOutParams params;
  if (payload.is_null()) return params;
  if (!payload.is_object()) return Invalid("payload: must be a JSON object, got " + payload.dump());
  for (const auto& [key, value] : payload.items()) {
    Result<void> ok;
    if (key == "maxUsers") {
      ok = ReadMaxUsers(value, &params);
    } else if (key == "jobType") {
      ok = ReadJobType(value, &params);
    } else if (key == "timeframeDays") {
      ok = ReadTimeframeDays(value, &params);
    } else if (key == "parallelism") {
      ok = ReadParallelism(value, &params);
    } else if (key == "operation") {
      if (value != "process_all_users") ok = Fail(ErrorCode::kInvalidArgument, "operation: must be \"process_all_users\" if given");
    } else {
      ok = Fail(ErrorCode::kInvalidArgument,
                key + ": unknown key (expected maxUsers, jobType, timeframeDays, parallelism)");
    }
    if (!ok) return std::unexpected(ok.error());
  }
  return params;
}

ProcessAllUsers::ProcessAllUsers(const AppConfig& config)
    : config_(config),
      page_sql_(BuildPageSql(config.integrations)),
      insert_page_sql_(BuildInsertPageSql(config.integrations)) {}

HandlerResult ProcessAllUsers::Run(JobContext& ctx) {
  auto params = ParseFanOutParams(ctx.payload());
  if (!params) return Permanent(params.error().message);
  return FanOut(ctx, config_, page_sql_, insert_page_sql_, *params).Run();
}

}  // namespace chime::worker::kinds
