#include "common/db/alert_store.h"

#include <pqxx/pqxx>

#include "common/db/job_store_sql.h"  // CHIME_US.
#include "common/db/pg_array.h"
#include "common/db/row_reader.h"

namespace chime::db {
namespace {

constexpr const char* kAlertColumns =
    "a.id, a.schedule_id, a.schedule_name, a.rule, a.state, a.message, a.vals::text, " CHIME_US(
        "a.fired_at") ", " CHIME_US("a.resolved_at") ", a.delivery, a.delivered_state, "
    "a.delivery_attempts, " CHIME_US("a.next_delivery_at") ", a.delivery_error, a.resolution, "
    "a.resolved_by_job";

AlertRow ReadAlert(const pqxx::row& r) {
  AlertRow a;
  a.id = r[0].as<int64_t>();
  a.schedule_id = r[1].as<int64_t>();
  a.schedule_name = r[2].c_str();
  a.rule = r[3].c_str();
  a.state = r[4].c_str();
  a.message = r[5].c_str();
  a.values_json = r[6].c_str();
  a.fired_at = MicrosToTime(r[7].as<int64_t>());
  if (!r[8].is_null()) a.resolved_at = MicrosToTime(r[8].as<int64_t>());
  a.delivery = r[9].c_str();
  if (!r[10].is_null()) a.delivered_state = r[10].c_str();
  a.delivery_attempts = r[11].as<int>();
  a.next_delivery_at = MicrosToTime(r[12].as<int64_t>());
  if (!r[13].is_null()) a.delivery_error = r[13].c_str();
  if (!r[14].is_null()) a.resolution = r[14].c_str();
  if (!r[15].is_null()) a.resolved_by_job = r[15].as<int64_t>();
  return a;
}

// The holding rules as parallel arrays: $1 ids, $2 names, $3 rules,
// $4 messages, $5 values.
#define CHIME_HOLDING                                                                        \
  "unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) "                    \
  "AS h(schedule_id, schedule_name, rule, message, vals)"

// $6 evaluated schedule ids, $7 deliver, $8 resolution schedule ids,
// $9 resolution messages, $10 recovering jobs.
#define CHIME_RESOLUTIONS \
  "unnest($8::bigint[], $9::text[], $10::bigint[]) AS r(schedule_id, message, job_id)"
const std::string kResolve = std::string(
    "UPDATE chime.alerts a SET state = 'resolved', resolved_at = now(), "
    "delivery = CASE WHEN $7 THEN 'pending' ELSE 'skipped' END, delivery_attempts = 0, "
    "next_delivery_at = now(), delivery_error = NULL, "
    "resolution = (SELECT r.message FROM " CHIME_RESOLUTIONS " WHERE r.schedule_id = a.schedule_id LIMIT 1), "
    "resolved_by_job = (SELECT r.job_id FROM " CHIME_RESOLUTIONS " WHERE r.schedule_id = a.schedule_id LIMIT 1) "
    "WHERE a.state = 'firing' AND a.schedule_id = ANY($6::bigint[]) "
    "AND NOT EXISTS (SELECT 1 FROM " CHIME_HOLDING
    " WHERE h.schedule_id = a.schedule_id AND h.rule = a.rule) "
    "RETURNING ") + kAlertColumns;

// Values differ in text only when they differ as jsonb is not guaranteed,
// so they are compared as jsonb.
const std::string kRefresh =
    "UPDATE chime.alerts a SET message = h.message, vals = h.vals::jsonb FROM " CHIME_HOLDING
    " WHERE a.state = 'firing' AND a.schedule_id = h.schedule_id AND a.rule = h.rule "
    "AND (a.message, a.vals) IS DISTINCT FROM (h.message, h.vals::jsonb)";

// $6 deliver.
const std::string kFire = std::string(
    "INSERT INTO chime.alerts AS a (schedule_id, schedule_name, rule, state, message, vals, delivery) "
    "SELECT h.schedule_id, h.schedule_name, h.rule, 'firing', h.message, h.vals::jsonb, "
    "CASE WHEN $6 THEN 'pending' ELSE 'skipped' END FROM " CHIME_HOLDING
    " WHERE EXISTS (SELECT 1 FROM chime.schedules s WHERE s.id = h.schedule_id) "
    "ORDER BY h.schedule_id, h.rule "
    "ON CONFLICT (schedule_id, rule) WHERE state = 'firing' DO NOTHING "
    "RETURNING ") + kAlertColumns;

}  // namespace

Result<void> AlertListParams::Validate() const {
  if (limit < 1 || limit > 1000) {
    return Fail(ErrorCode::kInvalidArgument, "limit: " + std::to_string(limit) + " is out of range 1-1000");
  }
  return {};
}

AlertStore::AlertStore(Connection& conn) : conn_(conn) {}

Result<AlertTransitions> AlertStore::AlertsApply(const AlertsApplyParams& params) {
  PgArrayBuilder ids, names, rules, messages, values, evaluated;
  for (const auto& h : params.holding) {
    ids.AddInt(h.schedule_id);
    names.AddText(h.schedule_name);
    rules.AddText(h.rule);
    messages.AddText(h.message);
    values.AddText(h.values_json);
  }
  for (int64_t id : params.evaluated) evaluated.AddInt(id);
  PgArrayBuilder res_ids, res_messages, res_jobs;
  for (const auto& r : params.resolutions) {
    res_ids.AddInt(r.schedule_id);
    res_messages.AddText(r.message);
    res_jobs.AddOptionalInt(r.job_id);
  }
  const std::string a1 = ids.Finish(), a2 = names.Finish(), a3 = rules.Finish(), a4 = messages.Finish(),
                    a5 = values.Finish(), a6 = evaluated.Finish(), a8 = res_ids.Finish(),
                    a9 = res_messages.Finish(), a10 = res_jobs.Finish();
  AlertTransitions out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    out = {};
    pqxx::work tx(c);
    for (const auto& r : tx.exec_params(kResolve, a1, a2, a3, a4, a5, a6, params.deliver, a8, a9, a10)) {
      out.resolved.push_back(ReadAlert(r));
    }
    out.refreshed = static_cast<int64_t>(tx.exec_params(kRefresh, a1, a2, a3, a4, a5).affected_rows());
    for (const auto& r : tx.exec_params(kFire, a1, a2, a3, a4, a5, params.deliver)) {
      out.fired.push_back(ReadAlert(r));
    }
    tx.commit();
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

Result<std::vector<AlertRow>> AlertStore::AlertsList(const AlertListParams& params) {
  if (auto ok = params.Validate(); !ok) return std::unexpected(ok.error());
  std::vector<AlertRow> out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    out.clear();
    pqxx::read_transaction tx(c);
    const std::string where = params.all ? "" : " WHERE a.state = 'firing'";
    for (const auto& r :
         tx.exec_params(std::string("SELECT ") + kAlertColumns + " FROM chime.alerts a" + where +
                            " ORDER BY a.fired_at DESC, a.id DESC LIMIT $1",
                        params.limit)) {
      out.push_back(ReadAlert(r));
    }
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

Result<std::vector<AlertRow>> AlertStore::AlertsDueForDelivery(int limit) {
  std::vector<AlertRow> out;
  auto ran = conn_.Run([&](pqxx::connection_base& c) {
    out.clear();
    pqxx::read_transaction tx(c);
    for (const auto& r : tx.exec_params(std::string("SELECT ") + kAlertColumns +
                                            " FROM chime.alerts a WHERE a.delivery = 'pending' "
                                            "AND a.next_delivery_at <= now() "
                                            "ORDER BY a.next_delivery_at, a.id LIMIT $1",
                                        std::max(1, limit))) {
      out.push_back(ReadAlert(r));
    }
  });
  if (!ran) return std::unexpected(ran.error());
  return out;
}

Result<void> AlertStore::AlertDeliveryRecord(const DeliveryResult& d) {
  return conn_.Run([&](pqxx::connection_base& c) {
    pqxx::work tx(c);
    if (d.ok) {
      tx.exec_params(
          "UPDATE chime.alerts SET delivered_state = $2, delivery_error = NULL, "
          "delivery = CASE WHEN state = $2 THEN 'sent' ELSE 'pending' END, "
          "next_delivery_at = now() WHERE id = $1 AND delivery = 'pending'",
          d.alert_id, d.state);
    } else {
      tx.exec_params(
          "UPDATE chime.alerts SET delivery_attempts = delivery_attempts + 1, delivery_error = $3, "
          "next_delivery_at = now() + $4::bigint * interval '1 millisecond', "
          "delivery = CASE WHEN $5 THEN 'failed' ELSE 'pending' END "
          "WHERE id = $1 AND state = $2 AND delivery = 'pending'",
          d.alert_id, d.state, d.error, d.retry_in.count(), d.give_up);
    }
    tx.commit();
  });
}

}  // namespace chime::db
