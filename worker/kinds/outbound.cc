#include "worker/kinds/outbound.h"

#include <filesystem>

#include "common/http/webhook.h"

namespace chime::worker::kinds {

Result<void> PermitSecretRef(http::SecretRefPolicy& policy, std::string_view reference) {
  auto ref = http::SecretRef::Parse(reference);
  if (!ref) return std::unexpected(ref.error());
  if (ref->source == http::SecretRef::Source::kEnv) {
    policy.env_names.push_back(ref->name);
  } else {
    policy.files.push_back(std::filesystem::path(ref->name));
  }
  return {};
}

http::SecretRefPolicy SecretPolicyFor(const AppConfig& config) {
  http::SecretRefPolicy policy;
  auto permit = [&](const Endpoint& endpoint) {
    // No secret (auth: none) or a bad reference, which Resolve will report.
    (void)PermitSecretRef(policy, endpoint.secret_ref);
  };
  for (const auto& provider : config.providers) permit(provider.endpoint);
  if (config.capacity_webhook) permit(*config.capacity_webhook);
  for (const auto& target : config.webhook_targets) permit(target.endpoint);
  return policy;
}

Result<void> AuthorizeRequest(http::HttpRequest& request, const Endpoint& endpoint,
                              const http::SecretResolver& secrets, std::chrono::system_clock::time_point now) {
  if (endpoint.auth == AuthStyle::kNone) return {};
  auto secret = secrets.Resolve(endpoint.secret_ref);
  if (!secret) return std::unexpected(secret.error());
  switch (endpoint.auth) {
    case AuthStyle::kStandardWebhooks: {
      auto key = http::WebhookKey::FromSecret(*secret);
      if (!key) return Fail(key.error().code, endpoint.secret_ref + ": " + key.error().message);
      http::AddWebhookSignature(request, *key, now);
      return {};
    }
    case AuthStyle::kBearer:
      http::AddBearerAuth(request, *secret);
      return {};
    case AuthStyle::kCronSecretHeader:
      http::AddCronSecretHeader(request, *secret);
      return {};
    case AuthStyle::kNone:
      break;
  }
  return {};
}

}  // namespace chime::worker::kinds
