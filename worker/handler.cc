#include "worker/handler.h"

#include <cstdio>
#include <cstdlib>

#include "common/db/job_store.h"

namespace chime::worker {

HandlerResult HandlerResult::Success(nlohmann::json summary) {
  return HandlerResult{Kind::kSuccess, std::move(summary), {}, true};
}

HandlerResult HandlerResult::Partial(nlohmann::json summary, std::vector<std::string> errors) {
  return HandlerResult{Kind::kSuccess, std::move(summary), std::move(errors), true};
}

HandlerResult HandlerResult::Skipped(nlohmann::json summary, std::string reason) {
  HandlerResult r{Kind::kSkipped, std::move(summary), {}, false};
  r.skip_reason = std::move(reason);
  return r;
}

HandlerResult HandlerResult::Fail(nlohmann::json summary, std::vector<std::string> errors,
                                  bool retryable) {
  return HandlerResult{Kind::kFailure, std::move(summary), std::move(errors), retryable};
}

JobContext::JobContext(const db::ClaimedJob& job, nlohmann::json payload, std::stop_token stop,
                       std::shared_ptr<spdlog::logger> logger, Services services)
    : job_(job),
      payload_(std::move(payload)),
      stop_(std::move(stop)),
      logger_(std::move(logger)),
      services_(std::move(services)) {}

Result<void> JobContext::ReportProgress(const nlohmann::json& progress) {
  auto store = services_.store();
  if (!store) return std::unexpected(store.error());
  auto applied = (*store)->JobProgressSetIfLeased(job_.lease, progress.dump());
  if (!applied) return std::unexpected(applied.error());
  if (!*applied) return Fail(ErrorCode::kLeaseLost, "progress: the lease was lost");
  return {};
}

Result<std::vector<int64_t>> JobContext::EnqueueChildren(std::vector<db::EnqueueParams> children) {
  for (auto& c : children) {
    c.parent_id = job_.id;
    c.invocation = job_.invocation;
    c.dry_run = c.dry_run || job_.dry_run;
  }
  auto store = services_.store();
  if (!store) return std::unexpected(store.error());
  auto inserted = (*store)->JobsInsertMany(children);
  if (!inserted) return std::unexpected(inserted.error());
  std::vector<int64_t> ids;
  for (const auto& r : *inserted) ids.push_back(r.id);
  return ids;
}

HandlerRegistry& HandlerRegistry::Global() {
  static HandlerRegistry registry;
  return registry;
}

void HandlerRegistry::Register(std::unique_ptr<Handler> handler) {
  std::lock_guard lock(mu_);
  std::string kind(handler->Kind());
  if (handlers_.contains(kind)) {
    std::fprintf(stderr, "chime-worker: two handlers registered for kind '%s'\n", kind.c_str());
    std::abort();
  }
  handlers_.emplace(std::move(kind), std::move(handler));
}

Handler* HandlerRegistry::Find(std::string_view kind) const {
  std::lock_guard lock(mu_);
  auto it = handlers_.find(kind);
  return it == handlers_.end() ? nullptr : it->second.get();
}

std::vector<std::string> HandlerRegistry::Kinds() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> kinds;
  for (const auto& [k, h] : handlers_) kinds.push_back(k);
  return kinds;
}

}  // namespace chime::worker
