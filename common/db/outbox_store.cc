#include "common/db/outbox_store.h"

#include <pqxx/pqxx>

#include "common/db/pg_array.h"

namespace chime::db {
namespace {

using std::chrono::duration_cast;

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

// The deliverer's claim: a due, undelivered row moves past its request's
// timeout plus a margin. $1 id, $2 margin ms.
constexpr char kClaimSql[] = R"sql(
UPDATE chime.webhook_outbox SET attempts = attempts + 1,
  not_before = now() + (timeout_ms + $2::bigint) * interval '1 millisecond'
WHERE id = $1 AND delivered_at IS NULL AND not_before <= now()
RETURNING webhook_id, target, body, attempts)sql";

// $1 id: why kClaimSql took nothing (no row: missing).
constexpr char kDeliveredOneSql[] = "SELECT delivered_at IS NOT NULL FROM chime.webhook_outbox WHERE id = $1";

// $1 id, $2 status.
constexpr char kDeliveredSql[] = R"sql(
UPDATE chime.webhook_outbox SET delivered_at = now(), last_status = $2, last_error = NULL,
  not_before = now()
WHERE id = $1 AND delivered_at IS NULL)sql";

// $1 id, $2 status or NULL, $3 error.
constexpr char kFailedSql[] = R"sql(
UPDATE chime.webhook_outbox SET last_status = $2, last_error = left($3, 2000), not_before = now()
WHERE id = $1 AND delivered_at IS NULL)sql";

// $1 ids: which of them are delivered already.
constexpr char kDeliveredAmongSql[] =
    "SELECT id FROM chime.webhook_outbox WHERE id = ANY($1::bigint[]) AND delivered_at IS NOT NULL";

// $1 limit. Through webhook_outbox_pending_idx (undelivered rows only, by
// created_at). A row under a claim has not_before in the future and is left
// to its deliverer.
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
  PgArrayBuilder array;
  for (int64_t id : ids) array.AddInt(id);
  return array.Finish();
}

}  // namespace

std::vector<int64_t> OutboxStore::OutboxInsertTx(pqxx::transaction_base& tx, const OutboxTarget& target,
                                                 int64_t source_job, std::span<const OutboxMessage> messages) {
  std::vector<int64_t> ids;
  if (messages.empty()) return ids;
  PgArrayBuilder webhook_ids, types, subjects, bodies;
  for (const auto& m : messages) {
    webhook_ids.AddText(m.webhook_id);
    types.AddText(m.event_type);
    subjects.AddText(m.subject);
    bodies.AddText(m.body);
  }
  const auto rows = tx.exec_params(kInsertSql, webhook_ids.Finish(), types.Finish(), subjects.Finish(),
                                   bodies.Finish(), target.name, static_cast<int64_t>(target.timeout.count()),
                                   source_job);
  ids.reserve(rows.size());
  for (const auto& row : rows) ids.push_back(row[0].as<int64_t>());
  return ids;
}

Result<std::vector<int64_t>> OutboxStore::OutboxDeliveredAmong(std::span<const int64_t> ids) {
  std::vector<int64_t> done;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    done.clear();
    pqxx::nontransaction tx(c);
    for (const auto& row : tx.exec_params(kDeliveredAmongSql, Ids(ids))) done.push_back(row[0].as<int64_t>());
  });
  if (!ran) return std::unexpected(ran.error());
  return done;
}

Result<OutboxClaimed> OutboxStore::OutboxClaim(int64_t id, std::chrono::milliseconds margin) {
  OutboxClaimed out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    out = {};
    pqxx::work tx(c);
    const auto r = tx.exec_params(kClaimSql, id, static_cast<int64_t>(margin.count()));
    if (r.empty()) {
      const auto state = tx.exec_params(kDeliveredOneSql, id);
      tx.commit();
      if (state.empty()) {
        out.status = OutboxClaimed::Status::kMissing;
      } else {
        out.status = state[0][0].as<bool>() ? OutboxClaimed::Status::kDelivered : OutboxClaimed::Status::kBusy;
      }
      return;
    }
    tx.commit();
    OutboxRow row;
    row.id = id;
    row.webhook_id = r[0][0].as<std::string>();
    row.target = r[0][1].as<std::string>();
    row.body = r[0][2].as<std::string>();
    row.attempts = r[0][3].as<int>();
    out.status = OutboxClaimed::Status::kClaimed;
    out.row = std::move(row);
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

Result<void> OutboxStore::OutboxMarkDelivered(int64_t id, int status) {
  return conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    tx.exec_params(kDeliveredSql, id, status);
  });
}

Result<void> OutboxStore::OutboxMarkFailed(int64_t id, std::optional<int> status, const std::string& error) {
  return conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    tx.exec_params(kFailedSql, id, status, error);
  });
}

Result<std::vector<int64_t>> OutboxStore::OutboxListDue(int64_t limit) {
  if (limit < 1 || limit > kMaxRowsPerCall) {
    return Fail(ErrorCode::kInvalidArgument, "limit: must be 1-" + std::to_string(kMaxRowsPerCall));
  }
  std::vector<int64_t> ids;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    ids.clear();
    pqxx::nontransaction tx(c);
    for (const auto& row : tx.exec_params(kDueSql, limit)) ids.push_back(row[0].as<int64_t>());
  });
  if (!ran) return std::unexpected(ran.error());
  return ids;
}

Result<OutboxPruneResult> OutboxStore::OutboxPrune(const OutboxPruneParams& params) {
  if (params.batch_size < 1 || params.batch_size > kMaxRowsPerCall || params.max_batches < 1) {
    return Fail(ErrorCode::kInvalidArgument,
                "batch_size: must be 1-" + std::to_string(kMaxRowsPerCall) + " and max_batches >= 1");
  }
  OutboxPruneResult out;
  for (int batch = 0; batch < params.max_batches; ++batch) {
    int64_t deleted = 0;
    auto ran = conn_.Run([&](pqxx::connection_base& c) {
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

Result<int64_t> OutboxStore::OutboxPrunePreview(std::chrono::hours retention) {
  int64_t count = 0;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    count = tx.exec_params(kPrunePreviewSql, Seconds(retention))[0][0].as<int64_t>();
  });
  if (!ran) return std::unexpected(ran.error());
  return count;
}

}  // namespace chime::db
