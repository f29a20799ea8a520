#include "worker/kinds/register.h"

#include <memory>

#include "common/http/address_policy.h"
#include "worker/kinds/deliver_webhooks.h"
#include "worker/kinds/http_request.h"
#include "worker/kinds/maintenance_kinds.h"
#include "worker/kinds/outbound.h"
#include "worker/kinds/process_all_users.h"
#include "worker/kinds/reconcile_exam_capacity.h"
#include "worker/kinds/sync_integration.h"

namespace chime::worker::kinds {

Result<void> RegisterAppKinds(HandlerRegistry& registry, const AppConfig& config) {
  // A config built in code skips ParseAppConfig's checks; the one thing a
  // handler's constructor cannot report is a bad address range.
  auto policy = http::AddressPolicy::FromLists(config.http_allow, config.http_deny);
  if (!policy) return Fail(ErrorCode::kInvalidArgument, "http: " + policy.error().message);
  auto client = std::make_shared<const http::HttpClient>(std::move(*policy));
  auto secrets = std::make_shared<const http::SecretResolver>(SecretPolicyFor(config));
  auto reconcile = ReconcileExamCapacity::Create(
      ReconcileExamCapacityConfig{.tables = config.exams, .webhook = config.capacity_webhook}, client,
      secrets);
  if (!reconcile) return std::unexpected(reconcile.error());
  auto http_request = HttpRequestKind::Create(config);
  if (!http_request) return std::unexpected(http_request.error());
  registry.Register(std::move(*http_request));
  registry.Register(std::make_unique<CleanupOldJobs>());
  registry.Register(std::make_unique<ResetStaleJobs>());
  registry.Register(std::make_unique<ProcessAllUsers>(config));
  registry.Register(std::make_unique<SyncIntegration>(config));
  registry.Register(std::move(*reconcile));
  // Resolves only the references the kinds file names, like the writers.
  registry.Register(std::make_unique<DeliverWebhooks>(client, secrets, WebhookTargetsOf(config)));
  return {};
}

}  // namespace chime::worker::kinds
