#include "worker/kinds/reconcile_exam_capacity.h"

#include <pqxx/pqxx>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <span>
#include <unordered_map>
#include <unordered_set>

#include "common/db/connection.h"
#include "common/db/pg_array.h"
#include "common/http/webhook.h"

namespace chime::worker::kinds {
namespace {

using nlohmann::json;

// Children per EnqueueChildren call: one round trip each, and a statement of
// a bounded size however many exams there are.
constexpr size_t kChildrenPerEnqueue = 2000;

std::string Prefixed(std::string message) {
  return std::string(kReconcileExamCapacityKind) + ": " + std::move(message);
}

// One exam as the batch query read it.
struct ExamCount {
  int64_t id = 0;
  std::optional<std::string> exam_date;
  std::optional<std::string> mock_type;
  std::optional<int64_t> previous;  // NULL never equals a count: always corrected.
  int64_t actual = 0;

  bool NeedsUpdate() const { return previous != actual; }
  int64_t Difference() const { return actual - previous.value_or(0); }
};

json NullableText(const std::optional<std::string>& text) {
  return text ? json(*text) : json(nullptr);
}

// The seed's per-exam entry. examId is a string as in the seed, so ids past
// 2^53 survive JavaScript consumers.
json Entry(const ExamCount& exam, bool updated) {
  return {{"examId", std::to_string(exam.id)},
          {"examDate", NullableText(exam.exam_date)},
          {"mockType", NullableText(exam.mock_type)},
          {"previousCount", exam.previous ? json(*exam.previous) : json(nullptr)},
          {"actualCount", exam.actual},
          {"difference", exam.Difference()},
          {"needsUpdate", exam.NeedsUpdate()},
          {"updated", updated}};
}

// ---- Payload ----

Result<int64_t> ParseExamId(const json& value, const std::string& where) {
  const auto bad = [&] {
    return Fail(ErrorCode::kInvalidArgument,
                where + ": must be an exam id (an integer or a string of digits)");
  };
  if (value.is_number_unsigned()) {
    if (value.get<uint64_t>() > uint64_t{std::numeric_limits<int64_t>::max()}) return bad();
    return static_cast<int64_t>(value.get<uint64_t>());
  }
  if (value.is_number_integer()) return value.get<int64_t>();
  if (!value.is_string()) return bad();
  const auto& text = value.get_ref<const std::string&>();
  int64_t id = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || text.front() == '-' || ec != std::errc() || end != text.data() + text.size()) {
    return bad();
  }
  return id;
}

// The ids in the given order, each once.
Result<std::vector<int64_t>> ParseExamIds(const std::string& key, const json& value) {
  if (!value.is_array()) return Fail(ErrorCode::kInvalidArgument, key + ": must be an array of exam ids");
  if (value.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                key + ": is empty; leave it out to reconcile every active exam");
  }
  std::vector<int64_t> ids;
  std::unordered_set<int64_t> seen;
  for (size_t i = 0; i < value.size(); ++i) {
    auto id = ParseExamId(value[i], key + "[" + std::to_string(i) + "]");
    if (!id) return std::unexpected(id.error());
    if (seen.insert(*id).second) ids.push_back(*id);
  }
  return ids;
}

// ---- SQL on the configured tables ----

// Every {name} in `sql` replaced by the configured table or column, quoted
// (the names were validated when the kinds file was loaded).
std::string ExamSql(std::string sql, const ExamTables& t) {
  const std::pair<std::string_view, std::string> names[] = {
      {"{exams}", QuoteTable(t.exams)},          {"{id}", QuoteColumn(t.exam_id)},
      {"{date}", QuoteColumn(t.exam_date)},      {"{type}", QuoteColumn(t.mock_type)},
      {"{active}", QuoteColumn(t.exam_active)},  {"{count}", QuoteColumn(t.booking_count)},
      {"{bookings}", QuoteTable(t.bookings)},    {"{booking_exam}", QuoteColumn(t.booking_exam_id)},
      {"{booking_active}", QuoteColumn(t.booking_active)}};
  for (const auto& [placeholder, name] : names) {
    for (size_t at = sql.find(placeholder); at != std::string::npos;
         at = sql.find(placeholder, at + name.size())) {
      sql.replace(at, placeholder.size(), name);
    }
  }
  return sql;
}

// In id order, so that children's batches follow the exams_active_idx order.
constexpr char kListActiveSql[] = "SELECT {id} FROM {exams} WHERE {active} ORDER BY {id}";

// Every stored counter of the batch with its count of active bookings, in one
// statement and so one snapshot. The bookings are grouped for the batch's ids
// only (bookings_active_exam_idx), not for the whole table.
constexpr char kReadCountsSql[] = R"sql(
SELECT e.{id}, e.{date}::text, e.{type}::text, e.{count}::bigint, coalesce(b.n, 0)
FROM {exams} e
LEFT JOIN (SELECT {booking_exam} AS exam_id, count(*) AS n FROM {bookings}
           WHERE {booking_active} AND {booking_exam} = ANY($1::bigint[])
           GROUP BY {booking_exam}) b ON b.exam_id = e.{id}
WHERE e.{id} = ANY($1::bigint[]))sql";

// Sets each counter to its count where it still holds the value read. The
// CTE locks the rows in id order, so two runs over overlapping exams cannot
// deadlock; a row whose counter moved since the read fails the re-check that
// READ COMMITTED makes on the newest row version once the lock is granted,
// and is left alone. Returns the ids corrected.
constexpr char kApplySql[] = R"sql(
WITH v AS (SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS v(id, previous, actual)),
locked AS MATERIALIZED (
  SELECT e.{id} AS id, v.actual FROM {exams} e JOIN v ON v.id = e.{id}
  WHERE e.{count} IS NOT DISTINCT FROM v.previous
  ORDER BY e.{id} FOR UPDATE OF e)
UPDATE {exams} e SET {count} = l.actual FROM locked l WHERE e.{id} = l.id
RETURNING e.{id})sql";

Result<std::vector<int64_t>> ListActiveExams(db::Connection& conn, const ExamTables& tables) {
  const std::string sql = ExamSql(kListActiveSql, tables);
  std::vector<int64_t> ids;
  auto ok = conn.Run([&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    for (const auto& row : tx.exec(sql)) ids.push_back(row[0].as<int64_t>());
    tx.commit();
  });
  if (!ok) return std::unexpected(ok.error());
  return ids;
}

// The batch's exams by id; ids with no exam are absent.
Result<std::unordered_map<int64_t, ExamCount>> ReadCounts(db::Connection& conn,
                                                          const ExamTables& tables,
                                                          std::span<const int64_t> ids) {
  const std::string sql = ExamSql(kReadCountsSql, tables);
  db::PgArrayBuilder id_array;
  for (int64_t id : ids) id_array.AddInt(id);
  std::unordered_map<int64_t, ExamCount> counts;
  auto ok = conn.Run([&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    for (const auto& row : tx.exec_params(sql, id_array.Finish())) {
      ExamCount e;
      e.id = row[0].as<int64_t>();
      if (!row[1].is_null()) e.exam_date = row[1].as<std::string>();
      if (!row[2].is_null()) e.mock_type = row[2].as<std::string>();
      if (!row[3].is_null()) e.previous = row[3].as<int64_t>();
      e.actual = row[4].as<int64_t>();
      counts.emplace(e.id, std::move(e));
    }
    tx.commit();
  });
  if (!ok) return std::unexpected(ok.error());
  return counts;
}

Result<std::unordered_set<int64_t>> ApplyCorrections(db::Connection& conn,
                                                     const ExamTables& tables,
                                                     const std::vector<const ExamCount*>& exams) {
  const std::string sql = ExamSql(kApplySql, tables);
  db::PgArrayBuilder ids, previous, actual;
  for (const ExamCount* e : exams) {
    ids.AddInt(e->id);
    previous.AddOptionalInt(e->previous);
    actual.AddInt(e->actual);
  }
  std::unordered_set<int64_t> corrected;
  auto ok = conn.Run([&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    for (const auto& row : tx.exec_params(sql, ids.Finish(), previous.Finish(), actual.Finish())) {
      corrected.insert(row[0].as<int64_t>());
    }
    tx.commit();
  });
  if (!ok) return std::unexpected(ok.error());
  return corrected;
}

// ---- Webhook ----

// Sends one run's correction webhooks. Holds the endpoint's secret, resolved
// when the run prepares it, for that run only.
class CorrectionNotifier {
 public:
  static Result<CorrectionNotifier> Prepare(const Endpoint& endpoint,
                                            const http::HttpClient& client,
                                            const http::SecretResolver* secrets,
                                            const Clock& clock) {
    CorrectionNotifier notifier(endpoint, client, clock);
    if (endpoint.auth == AuthStyle::kNone) return notifier;
    auto secret = secrets->Resolve(endpoint.secret_ref);
    if (!secret) return std::unexpected(secret.error());
    if (endpoint.auth == AuthStyle::kStandardWebhooks) {
      auto key = http::WebhookKey::FromSecret(*secret);
      if (!key) return std::unexpected(key.error());
      notifier.key_ = std::move(*key);
    } else {
      notifier.secret_ = std::move(*secret);
    }
    return notifier;
  }

  // A status outside 2xx is an error too: the receiver did not take it.
  Result<http::HttpResponse> Send(const ExamCount& exam, int64_t job_id,
                                  std::stop_token stop) const {
    if (stop.stop_requested()) {
      return Fail(ErrorCode::kUnavailable, "the job was stopped before the webhook was sent");
    }
    http::HttpRequest request;
    request.method = "POST";
    request.url = endpoint_->url;
    request.timeout = endpoint_->timeout;
    request.headers.push_back({"Content-Type", "application/json"});
    // The seed's entry without the bookkeeping of the result, plus its type.
    json body = Entry(exam, /*updated=*/true);
    body.erase("needsUpdate");
    body.erase("updated");
    body["type"] = "exam.capacity.corrected";
    body["jobId"] = job_id;
    request.body = body.dump();
    Authenticate(request);
    auto response = client_->Send(request, stop);
    if (!response) return std::unexpected(response.error());
    if (response->status < 200 || response->status > 299) {
      return Fail(ErrorCode::kUnavailable,
                  "the webhook answered HTTP " + std::to_string(response->status));
    }
    return response;
  }

 private:
  CorrectionNotifier(const Endpoint& endpoint, const http::HttpClient& client, const Clock& clock)
      : endpoint_(&endpoint), client_(&client), clock_(&clock) {}

  void Authenticate(http::HttpRequest& request) const {
    switch (endpoint_->auth) {
      case AuthStyle::kStandardWebhooks:
        http::AddWebhookSignature(request, *key_, clock_->WallNow());
        break;
      case AuthStyle::kBearer:
        http::AddBearerAuth(request, *secret_);
        break;
      case AuthStyle::kCronSecretHeader:
        http::AddCronSecretHeader(request, *secret_);
        break;
      case AuthStyle::kNone:
        break;
    }
  }

  const Endpoint* endpoint_;
  const http::HttpClient* client_;
  const Clock* clock_;
  std::optional<http::WebhookKey> key_;  // kStandardWebhooks.
  std::optional<http::Secret> secret_;   // kBearer, kCronSecretHeader.
};

// ---- Result ----

// The seed's result for one batch, filled exam by exam.
class BatchReport {
 public:
  void Unchanged(const ExamCount& exam) { unchanged_.push_back(Entry(exam, false)); }
  // Corrected, or in a dry run to be corrected.
  void Updated(const ExamCount& exam, bool applied) {
    updated_.push_back(Entry(exam, applied));
    corrections_ += std::abs(exam.Difference());
  }
  // `entry` may be a full entry or just the examId.
  void Failed(json entry, std::string error) {
    entry["error"] = error;
    failed_.push_back(std::move(entry));
    errors_.push_back(std::move(error));
  }
  // A correction that was made but whose webhook failed.
  void CorrectedButFailed(const ExamCount& exam, std::string error) {
    corrections_ += std::abs(exam.Difference());
    Failed(Entry(exam, true), std::move(error));
  }

  json ToJson(bool dry_run, db::Invocation invocation) const {
    const size_t successful = updated_.size() + unchanged_.size();
    return {{"summary",
             {{"processed", successful + failed_.size()},
              {"successful", successful},
              {"failed", failed_.size()},
              {"updated", updated_.size()},
              {"unchanged", unchanged_.size()},
              {"totalCorrections", corrections_}}},
            {"mode", dry_run ? "dry_run" : "live"},
            {"invocation_type", db::InvocationName(invocation)},
            {"results", {{"updated", updated_}, {"unchanged", unchanged_}, {"failed", failed_}}},
            {"message", Message(dry_run, invocation)}};
  }

  const std::vector<std::string>& errors() const { return errors_; }

 private:
  std::string Message(bool dry_run, db::Invocation invocation) const {
    const std::string count = std::to_string(updated_.size());
    if (dry_run) return "Dry run complete: " + count + " exams would be updated";
    if (invocation == db::Invocation::kCron) return "⏰ Scheduled sync complete: " + count + " exams updated";
    return "Manual sync complete: " + count + " exams updated";
  }

  json::array_t updated_, unchanged_, failed_;
  std::vector<std::string> errors_;
  int64_t corrections_ = 0;
};

HandlerResult Finish(const BatchReport& report, bool dry_run, db::Invocation invocation) {
  json summary = report.ToJson(dry_run, invocation);
  if (report.errors().empty()) return HandlerResult::Success(std::move(summary));
  return HandlerResult::Partial(std::move(summary), report.errors());
}

HandlerResult DatabaseFailure(const std::string& what, const Error& error) {
  return HandlerResult::Fail({}, {Prefixed(what + ": " + error.ToString())}, /*retryable=*/true);
}

std::string ExamError(int64_t id, const std::string& message) {
  return "exam " + std::to_string(id) + ": " + message;
}

// Reports one drifted exam after the corrections were applied, sending its
// webhook when it was corrected and `notifier` is set.
void RecordCorrection(JobContext& ctx, const ExamCount& exam, bool corrected,
                      const CorrectionNotifier* notifier, BatchReport& report) {
  const std::string before = exam.previous ? std::to_string(*exam.previous) : "NULL";
  if (!corrected) {
    ctx.logger().warn("exam {}: counter moved from {} during the sync; left for the next run",
                      exam.id, before);
    report.Failed(Entry(exam, false),
                  ExamError(exam.id, "its counter changed from " + before +
                                         " while being reconciled; left as is for the next run"));
    return;
  }
  ctx.logger().info("updated counter for exam {}: {} -> {}", exam.id, before, exam.actual);
  if (notifier == nullptr) {
    report.Updated(exam, /*applied=*/true);
    return;
  }
  auto sent = notifier->Send(exam, ctx.job_id(), ctx.stop_token());
  if (!sent) {
    ctx.logger().warn("exam {}: webhook failed: {}", exam.id, sent.error().ToString());
    report.CorrectedButFailed(
        exam, ExamError(exam.id, "counter corrected " + before + " -> " + std::to_string(exam.actual) +
                                     ", but the receiver was not told: " + sent.error().ToString()));
    return;
  }
  ctx.logger().info("webhook sent for exam {}: HTTP {} ({} ms)", exam.id, sent->status,
                    sent->duration.count() / 1000);
  report.Updated(exam, /*applied=*/true);
}

}  // namespace

Result<void> ReconcileExamCapacityConfig::Validate() const {
  if (default_batch_size < 1 || default_batch_size > kReconcileMaxBatchSize) {
    return Fail(ErrorCode::kInvalidArgument,
                "reconcile_exam_capacity.default_batch_size: must be from 1 to " +
                    std::to_string(kReconcileMaxBatchSize));
  }
  if (!webhook) return {};
  if (webhook->url.empty()) return Fail(ErrorCode::kInvalidArgument, "capacity_webhook.url: is empty");
  if (webhook->timeout.count() <= 0) {
    return Fail(ErrorCode::kInvalidArgument, "capacity_webhook.timeout: must be positive");
  }
  if (webhook->auth == AuthStyle::kNone) return {};
  if (auto ref = http::SecretRef::Parse(webhook->secret_ref); !ref) {
    return Fail(ErrorCode::kInvalidArgument, "capacity_webhook.secret_ref: " + ref.error().message);
  }
  return {};
}

Result<ReconcileExamCapacityRequest> ParseReconcileExamCapacityPayload(const json& payload,
                                                                       bool job_dry_run,
                                                                       int default_batch_size) {
  if (!payload.is_object()) return Fail(ErrorCode::kInvalidArgument, "payload: must be a JSON object");
  ReconcileExamCapacityRequest request;
  request.dry_run = job_dry_run;
  request.batch_size = default_batch_size;
  for (const auto& [key, value] : payload.items()) {
    if (key == "examIds" || key == "mock_exam_ids") {
      if (request.exam_ids) {
        return Fail(ErrorCode::kInvalidArgument, key + ": give examIds or mock_exam_ids, not both");
      }
      auto ids = ParseExamIds(key, value);
      if (!ids) return std::unexpected(ids.error());
      request.exam_ids = std::move(*ids);
    } else if (key == "dryRun" || key == "dry_run") {
      if (!value.is_boolean()) return Fail(ErrorCode::kInvalidArgument, key + ": must be true or false");
      request.dry_run = request.dry_run || value.get<bool>();
    } else if (key == "batchSize") {
      if (!value.is_number_integer() || value.get<int64_t>() < 1 ||
          value.get<int64_t>() > kReconcileMaxBatchSize) {
        return Fail(ErrorCode::kInvalidArgument,
                    "batchSize: must be an integer from 1 to " + std::to_string(kReconcileMaxBatchSize));
      }
      request.batch_size = value.get<int>();
    } else {
      return Fail(ErrorCode::kInvalidArgument,
                  "unknown field \"" + key + "\" (expected examIds, dryRun, batchSize)");
    }
  }
  return request;
}

Result<std::unique_ptr<ReconcileExamCapacity>> ReconcileExamCapacity::Create(
    ReconcileExamCapacityConfig config, std::shared_ptr<const http::HttpClient> http,
    std::shared_ptr<const http::SecretResolver> secrets, const Clock& clock) {
  if (auto ok = config.Validate(); !ok) return std::unexpected(ok.error());
  if (config.webhook && !http) {
    return Fail(ErrorCode::kInvalidArgument, "capacity_webhook: set, but no HTTP client given");
  }
  if (config.webhook && config.webhook->auth != AuthStyle::kNone && !secrets) {
    return Fail(ErrorCode::kInvalidArgument, "capacity_webhook: set, but no secret resolver given");
  }
  return std::unique_ptr<ReconcileExamCapacity>(
      new ReconcileExamCapacity(std::move(config), std::move(http), std::move(secrets), clock));
}

ReconcileExamCapacity::ReconcileExamCapacity(ReconcileExamCapacityConfig config,
                                             std::shared_ptr<const http::HttpClient> http,
                                             std::shared_ptr<const http::SecretResolver> secrets,
                                             const Clock& clock)
    : config_(std::move(config)), http_(std::move(http)), secrets_(std::move(secrets)), clock_(clock) {}

HandlerResult ReconcileExamCapacity::Run(JobContext& ctx) {
  auto request =
      ParseReconcileExamCapacityPayload(ctx.payload(), ctx.dry_run(), config_.default_batch_size);
  if (!request) return HandlerResult::Fail({}, {Prefixed(request.error().message)}, /*retryable=*/false);
  auto db = ctx.Database();
  if (!db) return DatabaseFailure("database", db.error());
  std::vector<int64_t> ids;
  if (request->exam_ids) {
    ids = *request->exam_ids;
  } else {
    auto active = ListActiveExams(**db, config_.tables);
    if (!active) return DatabaseFailure("listing active exams", active.error());
    ids = std::move(*active);
  }
  if (ids.size() > static_cast<size_t>(request->batch_size)) return FanOut(ctx, *request, ids);
  return Reconcile(ctx, **db, *request, ids);
}

HandlerResult ReconcileExamCapacity::FanOut(JobContext& ctx,
                                            const ReconcileExamCapacityRequest& request,
                                            const std::vector<int64_t>& ids) const {
  const size_t batch = static_cast<size_t>(request.batch_size);
  const size_t child_count = (ids.size() + batch - 1) / batch;
  ctx.logger().info("fanning {} exams out into {} child jobs of {}", ids.size(), child_count, batch);
  size_t queued = 0;
  while (queued < child_count) {
    std::vector<db::EnqueueParams> children;
    for (size_t n = queued; n < child_count && children.size() < kChildrenPerEnqueue; ++n) {
      const auto first = ids.begin() + static_cast<ptrdiff_t>(n * batch);
      const auto last = ids.begin() + static_cast<ptrdiff_t>(std::min(ids.size(), (n + 1) * batch));
      db::EnqueueParams child;
      child.kind = std::string(kReconcileExamCapacityKind);
      child.queue = ctx.queue();
      child.max_attempts = ctx.max_attempts();
      child.dry_run = request.dry_run;
      child.payload = json{{"examIds", std::vector<int64_t>(first, last)},
                           {"dryRun", request.dry_run},
                           {"batchSize", request.batch_size}}
                          .dump();
      // Stable per parent and position: a retried parent finds its live
      // children instead of doubling them.
      child.unique_key = std::string(kReconcileExamCapacityKind) + ":" +
                         std::to_string(ctx.job_id()) + ":" + std::to_string(n);
      children.push_back(std::move(child));
    }
    auto inserted = ctx.EnqueueChildren(std::move(children));
    if (!inserted) return DatabaseFailure("enqueueing child jobs", inserted.error());
    queued += inserted->size();
    auto reported = ctx.ReportProgress(
        {{"exams", ids.size()}, {"children", child_count}, {"childrenQueued", queued}});
    if (!reported) return DatabaseFailure("reporting progress", reported.error());
  }
  const json result = {
      {"mode", request.dry_run ? "dry_run" : "live"},
      {"invocation_type", db::InvocationName(ctx.invocation())},
      {"fanOut", {{"exams", ids.size()}, {"children", child_count}, {"batchSize", batch}}},
      {"message", "Capacity sync fanned out: " + std::to_string(ids.size()) + " exams in " +
                      std::to_string(child_count) + " child jobs"}};
  return HandlerResult::Success(result);
}

HandlerResult ReconcileExamCapacity::Reconcile(JobContext& ctx, db::Connection& db,
                                               const ReconcileExamCapacityRequest& request,
                                               const std::vector<int64_t>& ids) const {
  ctx.logger().info("processing {} exams for capacity sync ({}, {})", ids.size(),
                    request.dry_run ? "dry run" : "live", db::InvocationName(ctx.invocation()));
  auto counts = ReadCounts(db, config_.tables, ids);
  if (!counts) return DatabaseFailure("counting bookings", counts.error());
  BatchReport report;
  std::vector<const ExamCount*> drifted;
  for (int64_t id : ids) {
    auto it = counts->find(id);
    if (it == counts->end()) {
      report.Failed({{"examId", std::to_string(id)}}, ExamError(id, "no such exam"));
    } else if (!it->second.NeedsUpdate()) {
      report.Unchanged(it->second);
    } else {
      drifted.push_back(&it->second);
    }
  }
  if (request.dry_run || drifted.empty()) {
    for (const ExamCount* exam : drifted) report.Updated(*exam, /*applied=*/false);
    return Finish(report, request.dry_run, ctx.invocation());
  }
  // Prepared before any counter changes: a secret that cannot be resolved
  // fails the run with nothing changed rather than correcting silently.
  std::optional<CorrectionNotifier> notifier;
  if (config_.webhook) {
    auto prepared = CorrectionNotifier::Prepare(*config_.webhook, *http_, secrets_.get(), clock_);
    if (!prepared) {
      const ErrorCode code = prepared.error().code;
      const bool retryable = code != ErrorCode::kInvalidArgument && code != ErrorCode::kFailedPrecondition;
      return HandlerResult::Fail({}, {Prefixed("capacity_webhook secret: " + prepared.error().message)},
                                 retryable);
    }
    notifier.emplace(std::move(*prepared));
  }
  auto corrected = ApplyCorrections(db, config_.tables, drifted);
  if (!corrected) return DatabaseFailure("correcting counters", corrected.error());
  for (const ExamCount* exam : drifted) {
    RecordCorrection(ctx, *exam, corrected->contains(exam->id), notifier ? &*notifier : nullptr,
                     report);
  }
  return Finish(report, request.dry_run, ctx.invocation());
}

}  // namespace chime::worker::kinds
