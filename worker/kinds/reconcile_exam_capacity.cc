#include "worker/kinds/reconcile_exam_capacity.h"

#include <algorithm>
#include <cstdlib>
#include <unordered_map>

#include "common/db/connection.h"
#include "worker/kinds/exam_counts.h"
#include "worker/kinds/webhook_outbox.h"

namespace chime::worker::kinds {
namespace {

using nlohmann::json;

// Children per EnqueueChildren call: one round trip each, and a statement of
// a bounded size however many exams there are.
constexpr size_t kChildrenPerEnqueue = 2000;

std::string Prefixed(std::string message) {
  return std::string(kReconcileExamCapacityKind) + ": " + std::move(message);
}

// The seed's result for one batch, filled exam by exam.
class BatchReport {
 public:
  void Unchanged(const ExamCount& exam) { unchanged_.push_back(ExamEntry(exam, false)); }
  // Corrected, or in a dry run to be corrected.
  void Updated(const ExamCount& exam, bool applied) {
    updated_.push_back(ExamEntry(exam, applied));
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
    Failed(ExamEntry(exam, true), std::move(error));
  }

  // The batch's webhooks: delivered by this run, and left to the
  // deliver_webhooks job `delivery_job`.
  void Webhooks(int64_t delivered, int64_t pending, std::optional<int64_t> delivery_job) {
    webhooks_delivered_ = delivered;
    webhooks_pending_ = pending;
    delivery_job_ = delivery_job;
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
            {"webhooks",
             {{"delivered", webhooks_delivered_},
              {"pending", webhooks_pending_},
              {"deliveryJobId", delivery_job_ ? json(*delivery_job_) : json(nullptr)}}},
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
  int64_t webhooks_delivered_ = 0;
  int64_t webhooks_pending_ = 0;
  std::optional<int64_t> delivery_job_;
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

// Reports one drifted exam after the corrections were applied. `delivery`
// is set when its webhook was written to the outbox and delivered (or not)
// by this run: the error of its attempt, empty if delivered.
void RecordCorrection(JobContext& ctx, const ExamCount& exam, bool corrected,
                      const std::optional<std::string>& delivery_error,
                      std::optional<int64_t> delivery_job, BatchReport& report) {
  const std::string before = exam.previous ? std::to_string(*exam.previous) : "NULL";
  if (!corrected) {
    ctx.logger().warn("exam {}: counter moved from {} during the sync; left for the next run",
                      exam.id, before);
    report.Failed(ExamEntry(exam, false),
                  ExamError(exam.id, "its counter changed from " + before +
                                         " while being reconciled; left as is for the next run"));
    return;
  }
  ctx.logger().info("updated counter for exam {}: {} -> {}", exam.id, before, exam.actual);
  if (!delivery_error || delivery_error->empty()) {
    report.Updated(exam, /*applied=*/true);
    return;
  }
  report.CorrectedButFailed(
      exam, ExamError(exam.id, "counter corrected " + before + " -> " + std::to_string(exam.actual) +
                                   ", but the receiver was not told: " + *delivery_error +
                                   "; the webhook stays queued and job " +
                                   std::to_string(delivery_job.value_or(0)) + " retries it"));
}

}  // namespace

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
    : config_(std::move(config)),
      http_(std::move(http)),
      secrets_(std::move(secrets)),
      targets_(config_.webhook ? WebhookTargets{{std::string(kCapacityWebhookTarget), *config_.webhook}}
                               : WebhookTargets{}),
      clock_(clock) {}

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
  std::optional<WebhookSender> sender;
  std::optional<CorrectionWebhooks> webhooks;
  if (config_.webhook) {
    sender.emplace(*http_, secrets_.get(), targets_, clock_);
    if (auto prepared = sender->Prepare(*config_.webhook); !prepared) {
      const ErrorCode code = prepared.error().code;
      const bool retryable = code != ErrorCode::kInvalidArgument && code != ErrorCode::kFailedPrecondition;
      return HandlerResult::Fail({}, {Prefixed("capacity_webhook secret: " + prepared.error().message)},
                                 retryable);
    }
    webhooks = CorrectionWebhooks{
        .endpoint = *config_.webhook,
        .job_id = ctx.job_id(),
        .delivery = {.queue = ctx.queue(),
                     .parent_id = ctx.job_id(),
                     .invocation = ctx.invocation(),
                     .delay = config_.redelivery_delay,
                     .max_attempts = config_.redelivery_max_attempts}};
  }
  auto store = ctx.Store();  // On `db`'s connection.
  if (!store) return DatabaseFailure("job store", store.error());
  auto applied = ApplyCorrections(**store, config_.tables, drifted, webhooks);
  if (!applied) return DatabaseFailure("correcting counters", applied.error());
  // Committed: from here on every webhook is either delivered or queued.
  std::unordered_map<int64_t, std::string> errors;  // Exam id -> why not delivered ("" if it was).
  int64_t delivered = 0;
  if (sender && !applied->outbox_by_exam.empty()) {
    std::vector<int64_t> rows;
    std::unordered_map<int64_t, int64_t> exam_of;  // Outbox row -> exam.
    for (const auto& [exam, row] : applied->outbox_by_exam) {
      rows.push_back(row);
      exam_of.emplace(row, exam);
      errors.emplace(exam, "not tried by this run (an earlier request timed out, or the job is stopping)");
    }
    auto delivery = OutboxDeliver(db, *sender, rows, ctx.stop_token(), ctx.logger());
    if (!delivery) {
      for (auto& [exam, error] : errors) error = "the outbox is unreachable: " + delivery.error().ToString();
    } else {
      for (int64_t row : delivery->delivered) errors[exam_of[row]].clear();
      for (const auto& [row, error] : delivery->failed) errors[exam_of[row]] = error;
      delivered = static_cast<int64_t>(delivery->delivered.size()) + delivery->already_delivered;
    }
  }
  for (const ExamCount* exam : drifted) {
    std::optional<std::string> error;
    if (auto it = errors.find(exam->id); it != errors.end()) error = it->second;
    RecordCorrection(ctx, *exam, applied->corrected.contains(exam->id), error, applied->delivery_job, report);
  }
  report.Webhooks(delivered, static_cast<int64_t>(applied->outbox_by_exam.size()) - delivered,
                  applied->delivery_job);
  return Finish(report, request.dry_run, ctx.invocation());
}

}  // namespace chime::worker::kinds
