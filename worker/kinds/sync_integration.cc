#include "worker/kinds/sync_integration.h"

#include <pqxx/pqxx>

#include <algorithm>
#include <filesystem>

#include "common/base/text_format.h"
#include "common/db/connection.h"
#include "common/http/webhook.h"
#include "worker/kinds/process_all_users.h"

namespace chime::worker::kinds {
namespace {

// Response bodies are read this far for the item count; a sync endpoint's
// answer is a small JSON object.
constexpr size_t kMaxResponseBody = 64 * 1024;

struct Request {
  int64_t user_id = 0;
  std::string provider;
  std::string job_type = "scheduled-sync";
  int timeframe_days = kDefaultTimeframeDays;
  const Endpoint* endpoint = nullptr;  // Set once the provider is known.
};

Result<void> Invalid(std::string message) { return Fail(ErrorCode::kInvalidArgument, std::move(message)); }

Result<void> ReadField(const std::string& key, const nlohmann::json& value, Request* out) {
  if (key == "userId") {
    if (!value.is_number_integer()) return Invalid("userId: must be an integer, got " + value.dump());
    out->user_id = value.get<int64_t>();
  } else if (key == "provider") {
    if (!value.is_string() || value.get<std::string>().empty()) {
      return Invalid("provider: must be a non-empty string, got " + value.dump());
    }
    out->provider = value.get<std::string>();
  } else if (key == "jobType") {
    if (!value.is_string() || !IsSyncJobType(value.get<std::string>())) {
      return Invalid("jobType: " + value.dump() + " is not one of scheduled-sync, manual-sync, initial-backfill");
    }
    out->job_type = value.get<std::string>();
  } else if (key == "timeframeDays") {
    if (!value.is_number_integer() || value.get<int64_t>() < 1 || value.get<int64_t>() > kMaxTimeframeDays) {
      return Invalid("timeframeDays: must be an integer 1-" + std::to_string(kMaxTimeframeDays) + ", got " +
                     value.dump());
    }
    out->timeframe_days = static_cast<int>(value.get<int64_t>());
  } else {
    return Invalid(key + ": unknown key (expected userId, provider, jobType, timeframeDays)");
  }
  return {};
}

Result<Request> ParsePayload(const nlohmann::json& payload) {
  if (!payload.is_object()) {
    return Fail(ErrorCode::kInvalidArgument, "payload: must be a JSON object with userId and provider");
  }
  Request request;
  for (const auto& [key, value] : payload.items()) {
    if (auto ok = ReadField(key, value, &request); !ok) return std::unexpected(ok.error());
  }
  if (!payload.contains("userId")) return Fail(ErrorCode::kInvalidArgument, "userId: is required");
  if (!payload.contains("provider")) return Fail(ErrorCode::kInvalidArgument, "provider: is required");
  return request;
}

nlohmann::json BaseSummary(const Request& request) {
  return {{"userId", request.user_id}, {"provider", request.provider}, {"items", nullptr}, {"durationMs", 0}};
}

HandlerResult Finish(nlohmann::json summary, std::string status) {
  summary["status"] = std::move(status);
  return HandlerResult::Success(std::move(summary));
}

HandlerResult Failed(nlohmann::json summary, std::string message, bool retryable) {
  summary["status"] = "failed";
  return HandlerResult::Fail(std::move(summary), {"sync_integration: " + std::move(message)}, retryable);
}

// Statuses an endpoint gives when it is briefly unable (timeout, rate limit,
// server trouble): the same request may well succeed later.
bool IsTransientStatus(int status) { return status == 408 || status == 429 || status >= 500; }

// Which client errors a retry may cure (client.h lists the codes): a timeout
// or a connection failure may; a refused address or a malformed URL will not.
bool IsTransientError(const Error& error) {
  return error.code == ErrorCode::kRetryable || error.code == ErrorCode::kUnavailable;
}

std::string Where(const IntegrationTables& t) {
  return " WHERE " + QuoteColumn(t.integration_user_id) + " = $1::bigint AND " + QuoteColumn(t.provider) +
         " = $2::text";
}

std::string LookupSql(const IntegrationTables& t) {
  return "SELECT i." + QuoteColumn(t.integration_active) + " AND u." + QuoteColumn(t.user_active) + " FROM " +
         QuoteTable(t.integrations) + " i JOIN " + QuoteTable(t.users) + " u ON u." + QuoteColumn(t.user_id) +
         " = i." + QuoteColumn(t.integration_user_id) + " WHERE i." + QuoteColumn(t.integration_user_id) +
         " = $1::bigint AND i." + QuoteColumn(t.provider) + " = $2::text";
}

std::string SyncedSql(const IntegrationTables& t) {
  const std::string items = QuoteColumn(t.items_synced);
  return "UPDATE " + QuoteTable(t.integrations) + " SET " + QuoteColumn(t.last_synced_at) + " = now(), " + items +
         " = coalesce($3::bigint, " + items + "), " + QuoteColumn(t.needs_reauth) + " = false" + Where(t);
}

std::string ReauthSql(const IntegrationTables& t) {
  return "UPDATE " + QuoteTable(t.integrations) + " SET " + QuoteColumn(t.needs_reauth) + " = true" + Where(t);
}

// Whether the integration and its user are still active; nullopt when the
// integration (or its user) no longer exists.
Result<std::optional<bool>> LookupActive(db::Connection& conn, const std::string& sql, const Request& request) {
  std::optional<bool> active;
  auto ran = conn.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params(sql, request.user_id, request.provider);
    if (!r.empty()) active = !r[0][0].is_null() && r[0][0].as<bool>();
  });
  if (!ran) return std::unexpected(ran.error());
  return active;
}

Result<http::HttpClient> MakeClient(const AppConfig& config) {
  auto policy = http::AddressPolicy::FromLists(config.http_allow, config.http_deny);
  if (!policy) return std::unexpected(policy.error());
  return http::HttpClient(std::move(*policy));
}

std::string RequestBody(const Request& request, std::chrono::system_clock::time_point now) {
  const auto since = now - std::chrono::days(request.timeframe_days);
  return nlohmann::json{{"userId", request.user_id},
                        {"provider", request.provider},
                        {"jobType", request.job_type},
                        {"timeframeDays", request.timeframe_days},
                        {"since", FormatRfc3339(since)}}
      .dump();
}

// One call of the endpoint and what it leads to. Lives for one Run().
class SyncCall {
 public:
  struct Services {
    const http::HttpClient& client;
    const http::SecretResolver& secrets;
    Clock& clock;
    const std::string& synced_sql;
    const std::string& reauth_sql;
  };

  SyncCall(JobContext& ctx, db::Connection& conn, const Request& request, Services services)
      : ctx_(ctx), conn_(conn), request_(request), s_(services), summary_(BaseSummary(request)) {}

  HandlerResult Run() {
    http::HttpRequest http_request;
    http_request.method = "POST";
    http_request.url = request_.endpoint->url;
    http_request.timeout = request_.endpoint->timeout;
    http_request.max_body_excerpt = kMaxResponseBody;
    http_request.headers.push_back({"Content-Type", "application/json"});
    const auto now = s_.clock.WallNow();
    http_request.body = RequestBody(request_, now);
    if (auto ok = AuthorizeRequest(http_request, *request_.endpoint, s_.secrets, now); !ok) {
      return Failed(summary_, "auth: " + ok.error().message, false);
    }
    const auto started = s_.clock.SteadyNow();
    auto response = s_.client.Send(http_request, ctx_.stop_token());
    summary_["durationMs"] =
        std::chrono::duration_cast<std::chrono::milliseconds>(s_.clock.SteadyNow() - started).count();
    if (!response) {
      return Failed(summary_, http::RedactUrl(http_request.url) + ": " + response.error().message,
                    IsTransientError(response.error()));
    }
    summary_["httpStatus"] = response->status;
    if (response->status >= 200 && response->status < 300) return Synced(*response);
    if (response->status == 401 || response->status == 403) return NeedsReauth(response->status);
    return Failed(summary_, StatusMessage(response->status), IsTransientStatus(response->status));
  }

 private:
  HandlerResult Synced(const http::HttpResponse& response) {
    const std::optional<int64_t> items =
        response.body_truncated ? std::nullopt : SyncedItems(response.body_excerpt);
    auto ran = RecordSynced(items);
    // The endpoint synced, but without the record the next fan-out would
    // not know; a retry syncs again and records it.
    if (!ran) return Failed(summary_, "recording the sync: " + ran.error().ToString(), true);
    summary_["items"] = items ? nlohmann::json(*items) : nlohmann::json(nullptr);
    ctx_.logger().debug("synced {} for user {}: HTTP {}", request_.provider, request_.user_id, response.status);
    return Finish(summary_, "synced");
  }

  HandlerResult NeedsReauth(int status) {
    auto ran = RecordNeedsReauth();
    // Unrecorded, the fan-out would keep enqueueing doomed syncs: retry
    // until the flag is set.
    if (!ran) return Failed(summary_, StatusMessage(status) + "; marking needs_reauth: " + ran.error().ToString(), true);
    return Failed(summary_,
                  StatusMessage(status) + ": " + request_.provider + " for user " +
                      std::to_string(request_.user_id) + " needs re-authentication",
                  false);
  }

  Result<void> RecordSynced(std::optional<int64_t> items) {
    return conn_.Run([&](pqxx::connection_base& c) {
      pqxx::nontransaction tx(c);
      tx.exec_params(s_.synced_sql, request_.user_id, request_.provider, items);
    });
  }

  Result<void> RecordNeedsReauth() {
    return conn_.Run([&](pqxx::connection_base& c) {
      pqxx::nontransaction tx(c);
      tx.exec_params(s_.reauth_sql, request_.user_id, request_.provider);
    });
  }

  std::string StatusMessage(int status) const {
    return "HTTP " + std::to_string(status) + " from " + http::RedactUrl(request_.endpoint->url);
  }

  JobContext& ctx_;
  db::Connection& conn_;
  const Request& request_;
  Services s_;
  nlohmann::json summary_;
};

}  // namespace

std::optional<int64_t> SyncedItems(std::string_view body) {
  const auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return std::nullopt;
  for (const char* key : {"items", "itemsSynced"}) {
    auto it = json.find(key);
    if (it == json.end()) continue;
    if (it->is_number_integer() && it->get<int64_t>() >= 0) return it->get<int64_t>();
    return std::nullopt;  // Present but not a count: do not guess from the other name.
  }
  return std::nullopt;
}

SyncIntegration::SyncIntegration(const AppConfig& config, Clock& clock)
    : config_(config),
      clock_(clock),
      client_(MakeClient(config)),
      secrets_(SecretPolicyFor(config)),
      lookup_sql_(LookupSql(config.integrations)),
      synced_sql_(SyncedSql(config.integrations)),
      reauth_sql_(ReauthSql(config.integrations)) {}

HandlerResult SyncIntegration::Run(JobContext& ctx) {
  auto request = ParsePayload(ctx.payload());
  if (!request) return Failed({}, request.error().message, /*retryable=*/false);
  nlohmann::json summary = BaseSummary(*request);
  const auto provider = std::find_if(config_.providers.begin(), config_.providers.end(),
                                     [&](const Provider& p) { return p.name == request->provider; });
  if (provider == config_.providers.end()) {
    return Failed(summary, "provider \"" + request->provider + "\" is not in the kinds file", false);
  }
  if (provider->endpoint.url.empty()) {
    return Failed(summary, "provider \"" + request->provider + "\" has no endpoint in the kinds file", false);
  }
  request->endpoint = &provider->endpoint;
  if (!client_) return Failed(summary, "http: " + client_.error().message, false);
  auto conn = ctx.Database();
  if (!conn) return Failed(summary, "database: " + conn.error().ToString(), true);
  auto active = LookupActive(**conn, lookup_sql_, *request);
  if (!active) return Failed(summary, "reading the integration: " + active.error().ToString(), true);
  if (!*active || !**active) {
    summary["reason"] = active->has_value() ? "integration or user inactive" : "no such integration";
    return Finish(std::move(summary), "skipped");
  }
  if (ctx.dry_run()) {
    summary["wouldCall"] = http::RedactUrl(request->endpoint->url);
    return Finish(std::move(summary), "dry_run");
  }
  return SyncCall(ctx, **conn, *request, {*client_, secrets_, clock_, synced_sql_, reauth_sql_}).Run();
}

}  // namespace chime::worker::kinds
