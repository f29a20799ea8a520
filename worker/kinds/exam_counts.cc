#include "worker/kinds/exam_counts.h"

#include <pqxx/pqxx>

#include <string_view>
#include <utility>

#include "common/db/job_store.h"
#include "common/db/outbox_store.h"
#include "common/db/pg_array.h"
#include "common/http/webhook.h"

namespace chime::worker::kinds {
namespace {

using nlohmann::json;

json NullableText(const std::optional<std::string>& text) {
  return text ? json(*text) : json(nullptr);
}

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

}  // namespace

json ExamEntry(const ExamCount& exam, bool updated) {
  return {{"examId", std::to_string(exam.id)},
          {"examDate", NullableText(exam.exam_date)},
          {"mockType", NullableText(exam.mock_type)},
          {"previousCount", exam.previous ? json(*exam.previous) : json(nullptr)},
          {"actualCount", exam.actual},
          {"difference", exam.Difference()},
          {"needsUpdate", exam.NeedsUpdate()},
          {"updated", updated}};
}

std::string CorrectionWebhookBody(const ExamCount& exam, int64_t job_id) {
  json body = ExamEntry(exam, /*updated=*/true);
  body.erase("needsUpdate");
  body.erase("updated");
  body["type"] = kCapacityCorrectedEvent;
  body["jobId"] = job_id;
  return body.dump();
}

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

Result<AppliedCorrections> ApplyCorrections(db::JobStore& store, const ExamTables& tables,
                                            const std::vector<const ExamCount*>& exams,
                                            const std::optional<CorrectionWebhooks>& webhooks) {
  const std::string sql = ExamSql(kApplySql, tables);
  db::PgArrayBuilder ids, previous, actual;
  for (const ExamCount* e : exams) {
    ids.AddInt(e->id);
    previous.AddOptionalInt(e->previous);
    actual.AddInt(e->actual);
  }
  const std::string id_array = ids.Finish(), previous_array = previous.Finish(), actual_array = actual.Finish();
  AppliedCorrections applied;
  db::OutboxStore outbox(store.connection());
  std::optional<Error> refused;  // An enqueue the job store refused: nothing commits.
  auto ok = store.connection().Run([&](pqxx::connection_base& c) {
    applied = {};  // A failed attempt leaves nothing behind.
    pqxx::work tx(c);
    for (const auto& row : tx.exec_params(sql, id_array, previous_array, actual_array)) {
      applied.corrected.insert(row[0].as<int64_t>());
    }
    if (webhooks && !applied.corrected.empty()) {
      std::vector<db::OutboxMessage> messages;
      std::vector<int64_t> exam_ids;
      for (const ExamCount* e : exams) {
        if (!applied.corrected.contains(e->id)) continue;
        messages.push_back({.webhook_id = http::NewWebhookId(),
                            .event_type = std::string(kCapacityCorrectedEvent),
                            .subject = "exam " + std::to_string(e->id),
                            .body = CorrectionWebhookBody(*e, webhooks->job_id)});
        exam_ids.push_back(e->id);
      }
      const std::vector<int64_t> rows = outbox.OutboxInsertTx(
          tx, OutboxTargetOf(webhooks->target, webhooks->endpoint), webhooks->job_id, messages);
      for (size_t i = 0; i < rows.size(); ++i) applied.outbox_by_exam.emplace(exam_ids[i], rows[i]);
      auto delivery = store.JobInsertTx(tx, DeliveryJob(webhooks->delivery, rows));
      if (!delivery) {
        refused = delivery.error();
        return;  // Without commit: the counters and rows roll back too.
      }
      applied.delivery_job = delivery->id;
    }
    tx.commit();
  });
  if (!ok) return std::unexpected(ok.error());
  if (refused) return std::unexpected(*refused);
  return applied;
}

}  // namespace chime::worker::kinds
