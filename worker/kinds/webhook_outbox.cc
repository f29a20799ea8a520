#include "worker/kinds/webhook_outbox.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "common/base/text_format.h"
#include "common/db/pg_array.h"
#include "common/http/webhook.h"

namespace chime::worker::kinds {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

// A claim outlives the request it covers by this much before another
// deliverer may take the row.
constexpr milliseconds kLeaseMargin{30'000};

// $1 webhook ids, $2 event types, $3 subjects, $4 bodies (text[], one each);
// $5 target, $6 timeout_ms, $7 source job. WITH ORDINALITY keeps the ids in
// message order.
constexpr char kInsertSql[] = R"sql(
INSERT INTO chime.webhook_outbox (webhook_id, event_type, subject, body, target, timeout_ms, source_job_id)
SELECT m.webhook_id, m.event_type, m.subject, m.body, $5, $6, $7
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY
     AS m(webhook_id, event_type, subject, body, ord)
ORDER BY m.ord
RETURNING id)sql";

// The deliverer's lease: a due, undelivered row moves past its request's
// timeout plus a margin. $1 id, $2 margin ms.
constexpr char kClaimSql[] = R"sql(
UPDATE chime.webhook_outbox SET attempts = attempts + 1,
  not_before = now() + (timeout_ms + $2::bigint) * interval '1 millisecond'
WHERE id = $1 AND delivered_at IS NULL AND not_before <= now()
RETURNING webhook_id, target, body, attempts)sql";

// $1 id, $2 status.
constexpr char kDeliveredSql[] = R"sql(
UPDATE chime.webhook_outbox SET delivered_at = now(), last_status = $2, last_error = NULL,
  not_before = now()
WHERE id = $1 AND delivered_at IS NULL)sql";

// Due again at once: the delivery job's own retry backoff paces the next
// attempt. $1 id, $2 status or NULL, $3 error.
constexpr char kFailedSql[] = R"sql(
UPDATE chime.webhook_outbox SET last_status = $2, last_error = left($3, 2000), not_before = now()
WHERE id = $1 AND delivered_at IS NULL)sql";

// $1 ids: which of them are delivered already.
constexpr char kDeliveredAmongSql[] =
    "SELECT id FROM chime.webhook_outbox WHERE id = ANY($1::bigint[]) AND delivered_at IS NOT NULL";

// $1 limit. Through webhook_outbox_pending_idx (undelivered rows only, by
// created_at), so the cost follows the backlog, not the table. A row under a
// lease has not_before in the future and is left to its deliverer.
constexpr char kDueSql[] = R"sql(
SELECT id FROM chime.webhook_outbox
WHERE delivered_at IS NULL AND not_before <= now()
ORDER BY created_at, id LIMIT $1)sql";

// $1 retention seconds, $2 batch size: rows deleted (migration 0010).
constexpr char kPruneSql[] = "SELECT chime.delete_delivered_webhooks($1, $2)";

// $1 retention seconds: what kPruneSql would delete in all.
constexpr char kPrunePreviewSql[] = R"sql(
SELECT count(*) FROM chime.webhook_outbox
WHERE delivered_at IS NOT NULL AND delivered_at < now() - $1::bigint * interval '1 second')sql";

constexpr int64_t kMaxRowsPerCall = 100'000;

int64_t Seconds(std::chrono::hours retention) {
  return static_cast<int64_t>(duration_cast<std::chrono::seconds>(retention).count());
}

std::string Ids(std::span<const int64_t> ids) {
  db::PgArrayBuilder array;
  for (int64_t id : ids) array.AddInt(id);
  return array.Finish();
}

}  // namespace

std::string_view AuthStyleName(AuthStyle auth) {
  switch (auth) {
    case AuthStyle::kStandardWebhooks: return "standard-webhooks";
    case AuthStyle::kBearer: return "bearer";
    case AuthStyle::kCronSecretHeader: return "x-cron-secret";
    case AuthStyle::kNone: return "none";
  }
  return "none";
}

std::optional<AuthStyle> ParseAuthStyle(std::string_view name) {
  for (AuthStyle a : {AuthStyle::kStandardWebhooks, AuthStyle::kBearer, AuthStyle::kCronSecretHeader,
                      AuthStyle::kNone}) {
    if (AuthStyleName(a) == name) return a;
  }
  return std::nullopt;
}

WebhookTargets WebhookTargetsOf(const AppConfig& config) {
  WebhookTargets targets;
  if (config.capacity_webhook) targets.emplace(kCapacityWebhookTarget, *config.capacity_webhook);
  for (const WebhookTarget& target : config.webhook_targets) targets.emplace(target.name, target.endpoint);
  return targets;
}

std::vector<int64_t> OutboxInsert(pqxx::work& tx, std::string_view target, const Endpoint& endpoint,
                                  int64_t source_job, std::span<const OutboxMessage> messages) {
  std::vector<int64_t> ids;
  if (messages.empty()) return ids;
  db::PgArrayBuilder webhook_ids, types, subjects, bodies;
  for (const auto& m : messages) {
    webhook_ids.AddText(m.webhook_id);
    types.AddText(m.event_type);
    subjects.AddText(m.subject);
    bodies.AddText(m.body);
  }
  const auto rows = tx.exec_params(kInsertSql, webhook_ids.Finish(), types.Finish(), subjects.Finish(),
                                   bodies.Finish(), std::string(target),
                                   static_cast<int64_t>(endpoint.timeout.count()), source_job);
  ids.reserve(rows.size());
  for (const auto& row : rows) ids.push_back(row[0].as<int64_t>());
  return ids;
}

int64_t OutboxEnqueueDelivery(pqxx::work& tx, const DeliveryJobSpec& spec,
                              std::span<const int64_t> outbox_ids) {
  const std::string payload = nlohmann::json{{"outboxIds", outbox_ids}}.dump();
  const auto row = tx.exec_params1(
      "INSERT INTO chime.jobs (kind, queue, state, payload, run_at, max_attempts, parent_id, invocation) "
      "VALUES ($1, $2, CASE WHEN $4::bigint > 0 THEN 'scheduled' ELSE 'available' END, $3::jsonb, "
      "now() + $4::bigint * interval '1 millisecond', $5, $6, $7) "
      "RETURNING id",
      std::string(kDeliverWebhooksKind), spec.queue, payload, static_cast<int64_t>(spec.delay.count()),
      spec.max_attempts, spec.parent_id, std::string(db::InvocationName(spec.invocation)));
  return row[0].as<int64_t>();
}

Result<const http::Secret*> WebhookSender::SecretFor(const Endpoint& endpoint) {
  if (auto it = resolved_.find(endpoint.secret_ref); it != resolved_.end()) return &it->second;
  if (secrets_ == nullptr) {
    return Fail(ErrorCode::kFailedPrecondition, endpoint.secret_ref + ": no secret resolver configured");
  }
  auto secret = secrets_->Resolve(endpoint.secret_ref);
  if (!secret) return std::unexpected(secret.error());
  if (endpoint.auth == AuthStyle::kStandardWebhooks) {
    // Checked here once, so that Send cannot fail on the key's shape.
    if (auto key = http::WebhookKey::FromSecret(*secret); !key) {
      return Fail(key.error().code, endpoint.secret_ref + ": " + key.error().message);
    }
  }
  return &resolved_.emplace(endpoint.secret_ref, std::move(*secret)).first->second;
}

Result<void> WebhookSender::Prepare(const Endpoint& endpoint) {
  if (endpoint.auth == AuthStyle::kNone) return {};
  auto secret = SecretFor(endpoint);
  if (!secret) return std::unexpected(secret.error());
  return {};
}

Result<http::HttpResponse> WebhookSender::Send(const OutboxRow& row, std::stop_token stop) {
  if (stop.stop_requested()) {
    return Fail(ErrorCode::kUnavailable, "the job was stopped before the webhook was sent");
  }
  const auto target = targets_->find(row.target);
  if (target == targets_->end()) {
    return Fail(ErrorCode::kFailedPrecondition,
                "unknown webhook target \"" + OneLine(row.target, 64) +
                    "\": this worker's kinds file has no target of that name (capacity_webhook, "
                    "webhook_targets); nothing was sent");
  }
  const Endpoint& endpoint = target->second;
  http::HttpRequest request;
  request.method = "POST";
  request.url = endpoint.url;
  request.timeout = endpoint.timeout;
  request.headers.push_back({"Content-Type", "application/json"});
  request.body = row.body;
  if (endpoint.auth != AuthStyle::kNone) {
    auto secret = SecretFor(endpoint);
    if (!secret) return std::unexpected(secret.error());
    switch (endpoint.auth) {
      case AuthStyle::kStandardWebhooks: {
        // AddWebhookSignature would mint a new id; a retry must keep the
        // row's, so the three headers are written here.
        auto key = http::WebhookKey::FromSecret(**secret);
        if (!key) return std::unexpected(key.error());
        const int64_t timestamp =
            duration_cast<std::chrono::seconds>(clock_->WallNow().time_since_epoch()).count();
        request.headers.push_back({"webhook-id", row.webhook_id});
        request.headers.push_back({"webhook-timestamp", std::to_string(timestamp)});
        request.headers.push_back(
            {"webhook-signature", key->Sign(row.webhook_id, timestamp, request.body), true});
        break;
      }
      case AuthStyle::kBearer:
        http::AddBearerAuth(request, **secret);
        break;
      case AuthStyle::kCronSecretHeader:
        http::AddCronSecretHeader(request, **secret);
        break;
      case AuthStyle::kNone:
        break;
    }
  } else {
    // Receivers still de-duplicate on the id.
    request.headers.push_back({"webhook-id", row.webhook_id});
  }
  return client_->Send(request, stop);
}

bool IsSuccess(const http::HttpResponse& response) {
  return response.status >= 200 && response.status <= 299;
}

std::string DeliveryError(const Result<http::HttpResponse>& sent) {
  if (!sent) return sent.error().ToString();
  return "the webhook answered HTTP " + std::to_string(sent->status);
}

Result<OutboxDelivery> OutboxDeliver(db::Connection& conn, WebhookSender& sender,
                                     std::span<const int64_t> ids, std::stop_token stop,
                                     spdlog::logger& log, OutboxDeliverOptions options) {
  OutboxDelivery out;
  std::vector<int64_t> todo(ids.begin(), ids.end());
  std::sort(todo.begin(), todo.end());
  todo.erase(std::unique(todo.begin(), todo.end()), todo.end());
  std::vector<int64_t> done;
  auto read = conn.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    for (const auto& row : tx.exec_params(kDeliveredAmongSql, Ids(todo))) done.push_back(row[0].as<int64_t>());
  });
  if (!read) return std::unexpected(read.error());
  out.already_delivered = static_cast<int64_t>(done.size());
  std::erase_if(todo, [&](int64_t id) { return std::find(done.begin(), done.end(), id) != done.end(); });

  for (size_t i = 0; i < todo.size(); ++i) {
    const int64_t id = todo[i];
    if (stop.stop_requested()) {
      out.skipped += static_cast<int64_t>(todo.size() - i);
      break;
    }
    std::optional<OutboxRow> row;
    bool delivered_meanwhile = false;
    bool exists = true;
    auto ran = conn.Run([&](pqxx::connection_base& c) {
      pqxx::work tx(c);
      const auto r = tx.exec_params(kClaimSql, id, static_cast<int64_t>(kLeaseMargin.count()));
      if (r.empty()) {
        const auto state =
            tx.exec_params("SELECT delivered_at IS NOT NULL FROM chime.webhook_outbox WHERE id = $1", id);
        exists = !state.empty();
        delivered_meanwhile = exists && state[0][0].as<bool>();
        tx.commit();
        return;
      }
      tx.commit();
      OutboxRow o;
      o.id = id;
      o.webhook_id = r[0][0].as<std::string>();
      o.target = r[0][1].as<std::string>();
      o.body = r[0][2].as<std::string>();
      o.attempts = r[0][3].as<int>();
      row = std::move(o);
    });
    if (!ran) return std::unexpected(ran.error());
    if (!exists) {
      out.missing.push_back(id);
      continue;
    }
    if (delivered_meanwhile) {
      ++out.already_delivered;
      continue;
    }
    if (!row) {
      ++out.busy;
      continue;
    }
    auto sent = sender.Send(*row, stop);
    const bool ok = sent && IsSuccess(*sent);
    std::optional<int> status;
    if (sent) status = sent->status;
    const std::string error = ok ? std::string() : DeliveryError(sent);
    auto marked = conn.Run([&](pqxx::connection_base& c) {
      pqxx::work tx(c);
      if (ok) {
        tx.exec_params(kDeliveredSql, id, sent->status);
      } else {
        tx.exec_params(kFailedSql, id, status, error);
      }
      tx.commit();
    });
    if (!marked) return std::unexpected(marked.error());
    if (ok) {
      log.info("webhook {} delivered (attempt {}): HTTP {} ({} ms)", row->webhook_id, row->attempts,
               sent->status, sent->duration.count() / 1000);
      out.delivered.push_back(id);
      continue;
    }
    log.warn("webhook {} not delivered (attempt {}): {}", row->webhook_id, row->attempts, error);
    out.failed.emplace(id, error);
    if (options.stop_after_timeout && !sent && sent.error().code == ErrorCode::kRetryable) {
      out.skipped += static_cast<int64_t>(todo.size() - i - 1);
      break;
    }
  }
  return out;
}

Result<std::vector<int64_t>> OutboxListDue(db::Connection& conn, int64_t limit) {
  if (limit < 1 || limit > kMaxRowsPerCall) {
    return Fail(ErrorCode::kInvalidArgument, "limit: must be 1-" + std::to_string(kMaxRowsPerCall));
  }
  std::vector<int64_t> ids;
  auto ran = conn.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    for (const auto& row : tx.exec_params(kDueSql, limit)) ids.push_back(row[0].as<int64_t>());
  });
  if (!ran) return std::unexpected(ran.error());
  return ids;
}

Result<OutboxPruneResult> OutboxPrune(db::Connection& conn, const OutboxPruneParams& params) {
  if (params.batch_size < 1 || params.batch_size > kMaxRowsPerCall || params.max_batches < 1) {
    return Fail(ErrorCode::kInvalidArgument,
                "batch_size: must be 1-" + std::to_string(kMaxRowsPerCall) + " and max_batches >= 1");
  }
  OutboxPruneResult out;
  for (int batch = 0; batch < params.max_batches; ++batch) {
    int64_t deleted = 0;
    auto ran = conn.Run([&](pqxx::connection_base& c) {
      pqxx::nontransaction tx(c);
      deleted = tx.exec_params(kPruneSql, Seconds(params.retention), params.batch_size)[0][0].as<int64_t>();
    });
    if (!ran) return std::unexpected(ran.error());
    out.deleted += deleted;
    if (deleted < params.batch_size) return out;
  }
  out.more = true;
  return out;
}

Result<int64_t> OutboxPrunePreview(db::Connection& conn, std::chrono::hours retention) {
  int64_t count = 0;
  auto ran = conn.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    count = tx.exec_params(kPrunePreviewSql, Seconds(retention))[0][0].as<int64_t>();
  });
  if (!ran) return std::unexpected(ran.error());
  return count;
}

}  // namespace chime::worker::kinds
