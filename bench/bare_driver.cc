#include "bench/bare_driver.h"

#include <optional>
#include <vector>

#include "bench/pq.h"
#include "common/db/job_store.h"
#include "common/db/job_store_sql.h"
#include "common/db/pg_array.h"

namespace chime::bench {
namespace {

// Result columns of kClaimOneQueue that completion needs.
constexpr int kIdColumn = 0;
constexpr int kTokenColumn = 10;
// JobStore's default lease (ClaimParams::lease), in milliseconds.
constexpr const char* kLeaseMs = "30000";

class BareClaimer final : public Claimer {
 public:
  BareClaimer(std::string conninfo, int batch, std::string worker_id)
      : conninfo_(std::move(conninfo)), batch_(std::to_string(batch)),
        worker_id_(std::move(worker_id)) {}

  Result<void> Prepare() override {
    auto conn = PqConnection::Open(conninfo_);
    if (!conn) return std::unexpected(conn.error());
    conn_ = std::move(*conn);
    if (auto ok = conn_->Prepare("claim", db::sql::kClaim); !ok) return ok;
    if (auto ok = conn_->Prepare("complete", db::sql::kComplete); !ok) return ok;
    // Same warm-up as the Chime claimer: both statements once, touching nothing.
    if (auto r = conn_->ExecPrepared("claim", {"{bench-warmup}", batch_, kLeaseMs, worker_id_, db::NewClaimId()});
        !r) {
      return std::unexpected(r.error());
    }
    db::PgArrayBuilder ids, tokens, hows, delays, summaries, errors, workers;
    ids.AddInt(0);
    tokens.AddText("00000000-0000-0000-0000-000000000000");
    hows.AddText("succeeded");
    delays.AddInt(0);
    summaries.AddText("{}");
    errors.AddText("[]");
    workers.AddText(worker_id_);
    if (auto r = conn_->ExecPrepared("complete", {ids.Finish(), tokens.Finish(), hows.Finish(),
                                                  delays.Finish(), summaries.Finish(),
                                                  errors.Finish(), workers.Finish()});
        !r) {
      return std::unexpected(r.error());
    }
    return {};
  }

  Result<int64_t> ClaimAndComplete() override {
    // A fresh claim id per claim, as the worker's producer sends.
    auto claimed = conn_->ExecPrepared("claim", {"{default}", batch_, kLeaseMs, worker_id_, db::NewClaimId()});
    if (!claimed) return std::unexpected(claimed.error());
    if (claimed->rows() == 0) return 0;
    // The arrays JobStore::JobsCompleteIfLeased builds for a plain success.
    db::PgArrayBuilder ids, tokens, hows, delays, summaries, errors, workers;
    for (int i = 0; i < claimed->rows(); ++i) {
      ids.AddInt(claimed->int64(i, kIdColumn));
      tokens.AddText(claimed->text(i, kTokenColumn));
      hows.AddText("succeeded");
      delays.AddInt(0);
      summaries.AddText("{}");
      errors.AddText("[]");
      workers.AddText(worker_id_);
    }
    auto done = conn_->ExecPrepared("complete", {ids.Finish(), tokens.Finish(), hows.Finish(),
                                                 delays.Finish(), summaries.Finish(),
                                                 errors.Finish(), workers.Finish()});
    if (!done) return std::unexpected(done.error());
    return done->rows();
  }

 private:
  std::string conninfo_;
  std::string batch_;
  std::string worker_id_;
  std::optional<PqConnection> conn_;
};

}  // namespace

std::unique_ptr<Claimer> MakeBareClaimer(const std::string& conninfo, int batch,
                                         std::string worker_id) {
  return std::make_unique<BareClaimer>(conninfo, batch, std::move(worker_id));
}

}  // namespace chime::bench
