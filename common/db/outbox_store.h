// The webhook outbox's rows (chime.webhook_outbox, migrations 0009, 0010,
// 0016): written inside the transaction of the change they announce, then
// claimed, marked and pruned by deliverers. What a row means, who sends it
// and how: worker/kinds/webhook_outbox.h. Each method is one statement (one
// round trip) unless it says otherwise. Thread-compatible: one OutboxStore
// per thread, like the Connection it uses.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"
#include "common/db/connection.h"

namespace pqxx {
class transaction_base;
}

namespace chime::db {

// One webhook to write.
struct OutboxMessage {
  std::string webhook_id;  // http::NewWebhookId(); fixed for every attempt.
  std::string event_type;  // "exam.capacity.corrected"
  std::string subject;     // For people reading the table: "exam 42".
  std::string body;        // JSON, sent byte for byte.
};

// Where the rows of one OutboxInsertTx go.
struct OutboxTarget {
  std::string name;  // A webhook target's name, never a URL (see the kinds file).
  // The target's request timeout: sizes a deliverer's claim on each row.
  std::chrono::milliseconds timeout{10'000};
};

// A written row, as a deliverer claims it.
struct OutboxRow {
  int64_t id = 0;
  std::string webhook_id;
  std::string target;  // A webhook target's name.
  std::string body;
  int attempts = 0;  // Including the claim that returned this row.
};

// What OutboxClaim found.
struct OutboxClaimed {
  enum class Status {
    kClaimed,    // `row` is set: this caller may send it until the claim ends.
    kBusy,       // Claimed by another deliverer, or not due yet.
    kDelivered,  // Delivered already.
    kMissing,    // No such row.
  };
  Status status = Status::kMissing;
  std::optional<OutboxRow> row;
};

// Deleting delivered rows: undelivered rows are never deleted, however old.
struct OutboxPruneParams {
  std::chrono::hours retention{24 * 7};  // Delivered longer ago than this.
  int batch_size = 1000;                 // Rows per statement (1-100,000), each its own transaction.
  int max_batches = 50;                  // Bound on one call's work.
};

struct OutboxPruneResult {
  int64_t deleted = 0;
  bool more = false;  // True when max_batches stopped it before the end.
};

class OutboxStore {
 public:
  // `conn` must outlive the store.
  explicit OutboxStore(Connection& conn) : conn_(conn) {}

  // Inserts one row per message for `target`, written by job `source_job`,
  // inside `tx`, a transaction the caller holds (with JobStore::JobInsertTx
  // for the job that delivers them): the rows exist exactly when the
  // caller's change commits. Returns their ids in message order. A database
  // error throws, like any statement in `tx`, for the Connection::Run around
  // it to map. Does not use this store's connection.
  [[nodiscard]] std::vector<int64_t> OutboxInsertTx(pqxx::transaction_base& tx, const OutboxTarget& target,
                                                    int64_t source_job, std::span<const OutboxMessage> messages);

  // Which of `ids` are delivered already.
  [[nodiscard]] Result<std::vector<int64_t>> OutboxDeliveredAmong(std::span<const int64_t> ids);

  // Claims row `id` if it is undelivered and due: attempts + 1, and no other
  // deliverer may claim it for its timeout plus `margin` (a deliverer that
  // dies leaves it to be claimed again then). One transaction, two
  // statements when the claim fails (to tell busy, delivered and missing
  // apart).
  [[nodiscard]] Result<OutboxClaimed> OutboxClaim(int64_t id, std::chrono::milliseconds margin);

  // Records a delivery (HTTP `status`) of an undelivered row; due at once.
  [[nodiscard]] Result<void> OutboxMarkDelivered(int64_t id, int status);
  // Records a failed attempt (`status` when the target answered; `error`,
  // kept to 2,000 characters) and makes the row due again at once: the
  // delivery job's own retry backoff paces the next attempt.
  [[nodiscard]] Result<void> OutboxMarkFailed(int64_t id, std::optional<int> status, const std::string& error);

  // Ids of at most `limit` (1-100,000) undelivered rows that are due now (no
  // claim holds them, not_before has passed), oldest first. Reads only,
  // through webhook_outbox_pending_idx, so the cost follows the backlog.
  [[nodiscard]] Result<std::vector<int64_t>> OutboxListDue(int64_t limit);

  // Deletes rows delivered longer ago than the retention, in batches, through
  // chime.delete_delivered_webhooks (migration 0010), which the chime_worker
  // role may call without being allowed to DELETE.
  [[nodiscard]] Result<OutboxPruneResult> OutboxPrune(const OutboxPruneParams& params);
  // How many rows OutboxPrune would delete now (all of them, past
  // max_batches too), deleting nothing.
  [[nodiscard]] Result<int64_t> OutboxPrunePreview(std::chrono::hours retention);

 private:
  Connection& conn_;
};

}  // namespace chime::db
