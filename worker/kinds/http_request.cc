#include "worker/kinds/http_request.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "common/base/text_format.h"
#include "common/base/version.h"
#include "common/http/webhook.h"
#include "common/payload/http_request_payload.h"
#include "worker/kinds/http_response.h"
#include "worker/kinds/outbound.h"
#include "worker/kinds/response_text.h"

namespace chime::worker::kinds {
namespace {

using nlohmann::json;
using payload::HttpAuthType;
using payload::HttpRequestPayload;

// Bodies up to this size are read whole (and parsed when JSON); reading
// stops beyond it, and the run records the response as truncated.
constexpr size_t kMaxReadBytes = size_t{1} << 20;

// The values a request's credential headers carry and, for "Bearer x", the
// x alone: an endpoint that echoes its request must not get them into the run.
std::vector<std::string> Credentials(const http::HttpRequest& request) {
  std::vector<std::string> out;
  for (const auto& h : request.headers) {
    if (!h.sensitive || h.value.empty()) continue;
    out.push_back(h.value);
    const size_t space = h.value.find(' ');
    if (space != std::string::npos && space + 1 < h.value.size()) out.push_back(h.value.substr(space + 1));
  }
  return out;
}

std::string WithoutCredentials(std::string text, const std::vector<std::string>& credentials) {
  for (const auto& secret : credentials) {
    if (secret.size() < 4) continue;  // Too short to tell from ordinary text.
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3)) {
      text.replace(at, secret.size(), "***");
    }
  }
  return text;
}

HandlerResult Permanent(json summary, const std::string& error) {
  return HandlerResult::Fail(std::move(summary), {ErrorLine("http_request: " + error, kMaxErrorBytes)},
                             /*retryable=*/false);
}

// Chime's own headers: what lets the endpoint tell a retry of this job
// (same Idempotency-Key) from a new tick (a new job).
void AddChimeHeaders(http::HttpRequest& request, const JobContext& ctx, const std::string& key) {
  request.headers.push_back({"Idempotency-Key", key});
  request.headers.push_back({"Chime-Job-Id", std::to_string(ctx.job_id())});
  request.headers.push_back({"Chime-Attempt", std::to_string(ctx.attempt())});
  if (!ctx.schedule_name().empty()) request.headers.push_back({"Chime-Schedule", ctx.schedule_name()});
  if (ctx.scheduled_for()) request.headers.push_back({"Chime-Scheduled-For", FormatRfc3339(*ctx.scheduled_for())});
}

Result<void> Authorize(http::HttpRequest& request, const payload::HttpAuth& auth, const http::SecretResolver& secrets,
                       std::chrono::system_clock::time_point now, const std::string& message_id) {
  if (auth.type == HttpAuthType::kNone) return {};
  auto secret = secrets.Resolve(auth.secret_ref);
  if (!secret) return std::unexpected(secret.error());
  switch (auth.type) {
    case HttpAuthType::kStandardWebhooks: {
      auto key = http::WebhookKey::FromSecret(*secret);
      if (!key) return Fail(key.error().code, auth.secret_ref + ": " + key.error().message);
      http::AddWebhookSignature(request, *key, now, message_id);
      return {};
    }
    case HttpAuthType::kBearer:
      http::AddBearerAuth(request, *secret);
      return {};
    case HttpAuthType::kCronSecret:
      http::AddCronSecretHeader(request, *secret);
      return {};
    case HttpAuthType::kHeader:
      request.headers.push_back({auth.header, secret->Reveal(), /*sensitive=*/true});
      return {};
    case HttpAuthType::kNone:
      break;
  }
  return {};
}

Result<http::SecretRefPolicy> PayloadSecretPolicy(const std::vector<SecretGrant>& grants) {
  http::SecretRefPolicy policy;
  for (const auto& grant : grants) {
    if (auto ok = PermitSecretRef(policy, grant.ref); !ok) {
      return Fail(ErrorCode::kInvalidArgument, "http_request.secrets: " + ok.error().message);
    }
  }
  return policy;
}

bool TransportRetryable(const Error& error, const payload::RetryOn& retry) {
  if (error.code == ErrorCode::kRetryable) return retry.timeout;
  if (error.code == ErrorCode::kUnavailable) return retry.network;
  return false;
}

}  // namespace

Result<std::unique_ptr<HttpRequestKind>> HttpRequestKind::Create(const AppConfig& config, Clock& clock) {
  auto policy = http::AddressPolicy::FromLists(config.http_allow, config.http_deny);
  if (!policy) return Fail(ErrorCode::kInvalidArgument, "http: " + policy.error().message);
  auto secrets = PayloadSecretPolicy(config.http_request_secrets);
  if (!secrets) return std::unexpected(secrets.error());
  for (const SecretGrant& grant : config.http_request_secrets) {
    if (grant.origins.empty()) {
      spdlog::warn("http_request.secrets: {} is not bound to origins: any URL a payload names may receive it "
                   "(bind it: {{ref: {}, origins: [https://app.example.com]}})",
                   grant.ref, grant.ref);
    }
  }
  return std::unique_ptr<HttpRequestKind>(new HttpRequestKind(http::HttpClient(std::move(*policy)),
                                                              http::SecretResolver(std::move(*secrets)),
                                                              config.http_request_secrets, clock));
}

std::string HttpRequestKind::Describe(const json& payload) const {
  if (!payload.is_object()) return {};
  const auto url = payload.find("url");
  if (url == payload.end() || !url->is_string()) return {};
  std::string method = "GET";
  if (const auto m = payload.find("method"); m != payload.end() && m->is_string()) method = m->get<std::string>();
  std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return std::toupper(c); });
  return OneLine(method, 16) + " " + OneLine(http::RedactUrl(url->get<std::string>()), 300);
}

std::optional<std::chrono::milliseconds> HttpRequestKind::Timeout(const json& payload) const {
  std::chrono::milliseconds timeout = payload::kHttpDefaultTimeout;
  if (payload.is_object()) {
    if (const auto t = payload.find("timeoutMs"); t != payload.end() && t->is_number_integer()) {
      timeout = std::chrono::milliseconds(std::clamp<int64_t>(t->get<int64_t>(), 1, payload::kHttpMaxTimeout.count()));
    }
  }
  return timeout + kTimeoutMargin;
}

Result<void> HttpRequestKind::CheckGrant(const std::string& ref, const std::string& url) const {
  const auto grant = std::find_if(grants_.begin(), grants_.end(), [&](const SecretGrant& g) { return g.ref == ref; });
  if (grant == grants_.end() || grant->origins.empty()) return {};  // The resolver refuses unlisted ones.
  const std::optional<std::string> origin = http::UrlOrigin(url);
  if (origin && std::find(grant->origins.begin(), grant->origins.end(), *origin) != grant->origins.end()) return {};
  std::string allowed;
  for (const auto& o : grant->origins) allowed += (allowed.empty() ? "" : ", ") + o;
  return Fail(ErrorCode::kFailedPrecondition, ref + " may only be sent to " + allowed +
                                                  " (the worker's kinds file, http_request.secrets); this request "
                                                  "goes to " + origin.value_or("an unparsable URL"));
}

HandlerResult HttpRequestKind::Run(JobContext& ctx) {
  auto call = payload::ParseHttpRequestPayload(ctx.payload());
  if (!call) return Permanent({}, call.error().message);
  const std::string key = kIdempotencyKeyPrefix + std::to_string(ctx.job_id());
  const bool dry_run = ctx.dry_run() || call->dry_run;
  json summary = {{"method", call->method},
                  {"url", http::RedactUrl(call->url)},
                  {"idempotencyKey", key},
                  {"dryRun", dry_run},
                  {"invocation", db::InvocationName(ctx.invocation())}};

  http::HttpRequest request{.method = call->method, .url = call->url};
  for (const auto& [name, value] : call->headers) request.headers.push_back({name, value});
  if (call->body) request.body = *call->body;
  request.timeout = call->timeout;
  request.follow_redirects = call->follow_redirects;
  request.max_body_excerpt = kMaxReadBytes;
  request.max_read_bytes = kMaxReadBytes;
  AddChimeHeaders(request, ctx, key);
  if (call->auth.type != HttpAuthType::kNone) {
    if (auto ok = CheckGrant(call->auth.secret_ref, call->url); !ok) {
      return Permanent(summary, "auth.secret: " + ok.error().message);
    }
  }
  // Resolving the secret in a dry run too proves the reference works.
  if (auto ok = Authorize(request, call->auth, secrets_, clock_.WallNow(), key); !ok) {
    return Permanent(summary, "auth.secret: " + ok.error().message);
  }
  const std::string where = call->method + " " + http::RedactUrl(call->url);
  if (dry_run) {
    json headers = json::array();
    for (const auto& h : request.headers) headers.push_back(h.name);
    summary["wouldSendHeaders"] = headers;
    summary["bodyBytes"] = request.body.size();
    return HandlerResult::Success(summary);
  }
  auto response = client_.Send(request, ctx.stop_token());
  if (!response) {
    const bool retry = TransportRetryable(response.error(), call->retry_on);
    return HandlerResult::Fail(summary, {ErrorLine("http_request: " + response.error().message, kMaxErrorBytes)},
                               retry);
  }
  const std::vector<std::string> credentials = Credentials(request);
  const std::string body = WithoutCredentials(response->body_excerpt, credentials);
  const ResponseInput input{.status = response->status,
                            .content_type = http::FindHeader(response->headers, "content-type").value_or(""),
                            .body = body,
                            .body_bytes = response->body_bytes,
                            .body_complete = response->body_complete};
  ResponseVerdict verdict = JudgeResponse(input, *call, where);
  summary["durationMs"] = std::chrono::duration_cast<std::chrono::milliseconds>(response->duration).count();
  summary["remoteAddress"] = response->remote_address;
  summary["redirects"] = response->redirects;
  summary.update(verdict.fields);
  for (auto& error : verdict.errors) error = WithoutCredentials(std::move(error), credentials);
  switch (verdict.kind) {
    case ResponseVerdict::Kind::kSucceeded:
      return HandlerResult::Success(std::move(summary));
    case ResponseVerdict::Kind::kPartial:
      return HandlerResult::Partial(std::move(summary), std::move(verdict.errors));
    case ResponseVerdict::Kind::kSkipped:
      return HandlerResult::Skipped(std::move(summary), std::move(verdict.skip_reason));
    case ResponseVerdict::Kind::kFailed:
      break;
  }
  // The first line is Chime's ("POST ... answered HTTP 503: ..."); the rest
  // are the endpoint's own errors.
  verdict.errors.front() = ErrorLine("http_request: " + verdict.errors.front(), kMaxErrorBytes);
  return HandlerResult::Fail(std::move(summary), std::move(verdict.errors), verdict.retryable);
}

}  // namespace chime::worker::kinds
