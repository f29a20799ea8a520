// reconcile_exam_capacity's SQL on the configured exam tables (ExamTables):
// listing active exams, reading each exam's stored counter with its count of
// active bookings, and applying corrections together with their webhooks'
// outbox rows in one transaction. Internal to chime::kinds; free functions,
// thread-compatible (one Connection per thread).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/base/error.h"
#include "common/db/connection.h"
#include "common/db/job_store.h"
#include "worker/kinds/app_config.h"
#include "worker/kinds/webhook_outbox.h"

namespace chime::worker::kinds {

// One exam as the batch query read it.
struct ExamCount {
  int64_t id = 0;
  std::optional<std::string> exam_date;
  std::optional<std::string> mock_type;
  std::optional<int64_t> previous;  // NULL never equals a count: always corrected.
  int64_t actual = 0;

  bool NeedsUpdate() const { return previous != actual; }
  int64_t Difference() const { return actual - previous.value_or(0); }
};

// The seed's per-exam entry. examId is a string as in the seed, so ids past
// 2^53 survive JavaScript consumers.
nlohmann::json ExamEntry(const ExamCount& exam, bool updated);

// The webhook body of a correction: the entry without the result's
// bookkeeping (needsUpdate, updated), plus "type" and the correcting job.
std::string CorrectionWebhookBody(const ExamCount& exam, int64_t job_id);

inline constexpr std::string_view kCapacityCorrectedEvent = "exam.capacity.corrected";

// Active exams' ids in id order.
[[nodiscard]] Result<std::vector<int64_t>> ListActiveExams(db::Connection& conn, const ExamTables& tables);

// The batch's exams by id; ids with no exam are absent.
[[nodiscard]] Result<std::unordered_map<int64_t, ExamCount>> ReadCounts(db::Connection& conn,
                                                                        const ExamTables& tables,
                                                                        std::span<const int64_t> ids);

// Where the corrections' webhooks go; unset: no webhooks.
struct CorrectionWebhooks {
  std::string target{kCapacityWebhookTarget};  // What the outbox rows name.
  Endpoint endpoint;                           // The target, as this worker knows it.
  int64_t job_id = 0;        // The correcting job, named in each body.
  DeliveryJobSpec delivery;  // The deliver_webhooks job that retries them.
};

struct AppliedCorrections {
  std::unordered_set<int64_t> corrected;               // Exam ids.
  std::unordered_map<int64_t, int64_t> outbox_by_exam;  // Exam id -> outbox row id.
  std::optional<int64_t> delivery_job;                 // Set when rows were written.
};

// Sets each drifted exam's counter to its count where it still holds the
// value read and, in the same transaction on the store's connection, writes
// one outbox row per corrected exam and the deliver_webhooks job for them
// (OutboxInsertTx, JobInsertTx): all or nothing.
[[nodiscard]] Result<AppliedCorrections> ApplyCorrections(db::JobStore& store, const ExamTables& tables,
                                                          const std::vector<const ExamCount*>& exams,
                                                          const std::optional<CorrectionWebhooks>& webhooks);

}  // namespace chime::worker::kinds
