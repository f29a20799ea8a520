#include "worker/kinds/http_request.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "common/http/webhook.h"
#include "worker/kinds/outbound.h"

namespace chime::worker::kinds {
namespace {

using nlohmann::json;

constexpr int64_t kMaxTimeoutMs = 300'000;

struct Call {
  http::HttpRequest request;
  Endpoint auth;                 // Only auth and secret_ref are used.
  std::vector<int> expect;       // Empty: any 2xx.
};

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Headers that carry credentials come from auth's secret reference only.
bool IsCredentialHeader(const std::string& name) {
  const std::string n = Lower(name);
  return n == "authorization" || n == "x-cron-secret" || n == "x-cron-key" ||
         n.rfind("webhook-", 0) == 0;
}

Result<void> ReadHeaders(const json& headers, Call& call) {
  if (!headers.is_object()) return Fail(ErrorCode::kInvalidArgument, "headers: must be an object of strings");
  for (const auto& [name, value] : headers.items()) {
    if (!value.is_string()) {
      return Fail(ErrorCode::kInvalidArgument, "headers." + name + ": must be a string");
    }
    if (IsCredentialHeader(name)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "headers." + name + ": credentials are not accepted in a payload; use "
                  "\"auth\": {\"type\": ..., \"secret\": \"env:NAME\"}");
    }
    call.request.headers.push_back({name, value.get<std::string>()});
  }
  return {};
}

Result<void> ReadAuth(const json& auth, Call& call) {
  if (!auth.is_object() || !auth.contains("type") || !auth["type"].is_string()) {
    return Fail(ErrorCode::kInvalidArgument, "auth: must be {\"type\": ..., \"secret\": \"env:NAME\"}");
  }
  static const std::vector<std::pair<std::string, AuthStyle>> kTypes = {
      {"standard-webhooks", AuthStyle::kStandardWebhooks}, {"bearer", AuthStyle::kBearer},
      {"x-cron-secret", AuthStyle::kCronSecretHeader}, {"none", AuthStyle::kNone}};
  const auto type = auth["type"].get<std::string>();
  auto it = std::find_if(kTypes.begin(), kTypes.end(), [&](auto& t) { return t.first == type; });
  if (it == kTypes.end()) {
    return Fail(ErrorCode::kInvalidArgument,
                "auth.type: \"" + type + "\" is not one of standard-webhooks, bearer, x-cron-secret, none");
  }
  call.auth.auth = it->second;
  if (call.auth.auth == AuthStyle::kNone) return {};
  if (!auth.contains("secret") || !auth["secret"].is_string()) {
    return Fail(ErrorCode::kInvalidArgument, "auth.secret: a reference such as \"env:CRON_SECRET\" is required");
  }
  call.auth.secret_ref = auth["secret"].get<std::string>();
  if (auto ref = http::SecretRef::Parse(call.auth.secret_ref); !ref) {
    return Fail(ErrorCode::kInvalidArgument, "auth.secret: " + ref.error().message);
  }
  return {};
}

Result<void> ReadExpect(const json& expect, Call& call) {
  if (!expect.is_array() || expect.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "expectStatus: must be a non-empty array of status codes");
  }
  for (const auto& s : expect) {
    if (!s.is_number_integer() || s.get<int>() < 100 || s.get<int>() > 599) {
      return Fail(ErrorCode::kInvalidArgument, "expectStatus: " + s.dump() + " is not a status code (100-599)");
    }
    call.expect.push_back(s.get<int>());
  }
  return {};
}

Result<void> ReadBody(const json& body, Call& call) {
  if (body.is_string()) {
    call.request.body = body.get<std::string>();
    return {};
  }
  call.request.body = body.dump();
  const bool typed = std::any_of(call.request.headers.begin(), call.request.headers.end(),
                                 [](auto& h) { return Lower(h.name) == "content-type"; });
  if (!typed) call.request.headers.push_back({"Content-Type", "application/json"});
  return {};
}

Result<Call> ParseCall(const json& p) {
  if (!p.is_object()) return Fail(ErrorCode::kInvalidArgument, "payload must be a JSON object");
  static const std::vector<std::string> kKnown = {"url", "method", "headers", "body", "timeoutMs",
                                                  "expectStatus", "followRedirects", "auth"};
  for (const auto& [key, _] : p.items()) {
    if (std::find(kKnown.begin(), kKnown.end(), key) == kKnown.end()) {
      return Fail(ErrorCode::kInvalidArgument, "unknown parameter \"" + key + "\"");
    }
  }
  Call call;
  if (!p.contains("url") || !p["url"].is_string()) {
    return Fail(ErrorCode::kInvalidArgument, "url: required, an http:// or https:// URL");
  }
  call.request.url = p["url"].get<std::string>();
  if (p.contains("method")) {
    if (!p["method"].is_string()) return Fail(ErrorCode::kInvalidArgument, "method: must be a string");
    call.request.method = p["method"].get<std::string>();
    std::transform(call.request.method.begin(), call.request.method.end(), call.request.method.begin(),
                   [](unsigned char c) { return std::toupper(c); });
  }
  if (p.contains("timeoutMs")) {
    const json& t = p["timeoutMs"];
    if (!t.is_number_integer() || t.get<int64_t>() < 1 || t.get<int64_t>() > kMaxTimeoutMs) {
      return Fail(ErrorCode::kInvalidArgument, "timeoutMs: must be an integer from 1 to 300000");
    }
    call.request.timeout = std::chrono::milliseconds(t.get<int64_t>());
  }
  if (p.contains("followRedirects")) {
    if (!p["followRedirects"].is_boolean()) {
      return Fail(ErrorCode::kInvalidArgument, "followRedirects: must be true or false");
    }
    call.request.follow_redirects = p["followRedirects"].get<bool>();
  }
  for (auto [key, read] : {std::pair{"headers", &ReadHeaders}, std::pair{"auth", &ReadAuth},
                           std::pair{"expectStatus", &ReadExpect}, std::pair{"body", &ReadBody}}) {
    if (!p.contains(key)) continue;
    if (auto ok = read(p[key], call); !ok) return std::unexpected(ok.error());
  }
  call.auth.auth = p.contains("auth") ? call.auth.auth : AuthStyle::kNone;
  return call;
}

bool Expected(const Call& call, int status) {
  if (call.expect.empty()) return status >= 200 && status < 300;
  return std::find(call.expect.begin(), call.expect.end(), status) != call.expect.end();
}

bool TransientStatus(int status) { return status == 408 || status == 429 || status >= 500; }

// The credentials a request carries: each credential header's value (the
// webhook id and timestamp are not secret) and,
// for "Bearer x" or "Basic x", the x alone.
std::vector<std::string> Credentials(const http::HttpRequest& request) {
  std::vector<std::string> out;
  for (const auto& h : request.headers) {
    const std::string name = Lower(h.name);
    if (!IsCredentialHeader(name) || name == "webhook-id" || name == "webhook-timestamp" || h.value.empty()) {
      continue;
    }
    out.push_back(h.value);
    const size_t space = h.value.find(' ');
    if (space != std::string::npos && space + 1 < h.value.size()) out.push_back(h.value.substr(space + 1));
  }
  return out;
}

// `text` with every occurrence of a credential replaced by "***": an
// endpoint that echoes its request must not get the secret into the run.
std::string WithoutCredentials(std::string text, const std::vector<std::string>& credentials) {
  for (const auto& secret : credentials) {
    if (secret.size() < 4) continue;  // Too short to tell from ordinary text.
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3)) {
      text.replace(at, secret.size(), "***");
    }
  }
  return text;
}

json Recorded(const http::HttpResponse& r, const std::vector<std::string>& credentials) {
  return {{"status", r.status},
          {"durationMs", std::chrono::duration_cast<std::chrono::milliseconds>(r.duration).count()},
          {"bodyExcerpt", WithoutCredentials(r.body_excerpt, credentials)},
          {"bodyBytes", r.body_bytes},
          {"bodyTruncated", r.body_truncated},
          {"remoteAddress", r.remote_address},
          {"redirects", r.redirects}};
}

HandlerResult Permanent(json summary, std::string error) {
  return HandlerResult::Fail(std::move(summary), {"http_request: " + std::move(error)},
                             /*retryable=*/false);
}

Result<http::SecretRefPolicy> PayloadSecretPolicy(const AppConfig& config) {
  http::SecretRefPolicy policy;
  for (const auto& text : config.http_request_secrets) {
    if (auto ok = PermitSecretRef(policy, text); !ok) {
      return Fail(ErrorCode::kInvalidArgument, "http_request.secrets: " + ok.error().message);
    }
  }
  return policy;
}

}  // namespace

Result<std::unique_ptr<HttpRequestKind>> HttpRequestKind::Create(const AppConfig& config, Clock& clock) {
  auto policy = http::AddressPolicy::FromLists(config.http_allow, config.http_deny);
  if (!policy) return Fail(ErrorCode::kInvalidArgument, "http: " + policy.error().message);
  auto secrets = PayloadSecretPolicy(config);
  if (!secrets) return std::unexpected(secrets.error());
  return std::unique_ptr<HttpRequestKind>(new HttpRequestKind(
      http::HttpClient(std::move(*policy)), http::SecretResolver(std::move(*secrets)), clock));
}

HandlerResult HttpRequestKind::Run(JobContext& ctx) {
  auto call = ParseCall(ctx.payload());
  if (!call) return Permanent({}, call.error().message);
  json summary = {{"method", call->request.method},
                  {"url", http::RedactUrl(call->request.url)},
                  {"dryRun", ctx.dry_run()},
                  {"invocation", db::InvocationName(ctx.invocation())}};
  // Resolving the secret in a dry run too proves the reference works.
  if (auto ok = AuthorizeRequest(call->request, call->auth, secrets_, clock_.WallNow()); !ok) {
    return Permanent(summary, "auth.secret: " + ok.error().message);
  }
  if (ctx.dry_run()) {
    json headers = json::array();
    for (const auto& h : call->request.headers) headers.push_back(h.name);
    summary["wouldSendHeaders"] = headers;
    summary["bodyBytes"] = call->request.body.size();
    return HandlerResult::Success(summary);
  }
  auto response = client_.Send(call->request, ctx.stop_token());
  if (!response) {
    const bool transient = response.error().code == ErrorCode::kRetryable ||
                           response.error().code == ErrorCode::kUnavailable;
    return HandlerResult::Fail(summary, {"http_request: " + response.error().message}, transient);
  }
  summary.update(Recorded(*response, Credentials(call->request)));
  if (Expected(*call, response->status)) return HandlerResult::Success(summary);
  const std::string error = "unexpected status " + std::to_string(response->status);
  return HandlerResult::Fail(summary, {"http_request: " + error}, TransientStatus(response->status));
}

}  // namespace chime::worker::kinds
