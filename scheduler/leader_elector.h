// The scheduler's leadership: one *leader term* at a time, held by one
// replica under an epoch (the fencing token) in the database's chime.leader
// row (ScheduleStore::LeaderAcquire; older text calls it the leader lease,
// and a fire refused under a lost term still returns ErrorCode::kLeaseLost).
// The elector takes a free or expired term, renews its own, notices when it
// lost one, and says who leads, all in database time: the database's now()
// read at each renewal, carried forward on the injected steady clock, so a
// replica's skewed or stepped wall clock changes nothing.
//
// Leading() is the local, conservative view - the term counted from before
// the renewal request was sent, so it ends no later than the database's
// expiry. Work done as leader (fires) must still carry guard() to the
// database, which re-checks the term in the same transaction: a leader that
// froze past its term and wakes up writes nothing.
//
// Driven by its owner's thread (CronRunner's loop: RenewIfDue, Lost,
// Resign); status() is thread-safe and is what other threads read.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "common/base/clock.h"
#include "common/base/error.h"
#include "common/db/schedule_store.h"

namespace chime::scheduler {

struct LeaderElectorConfig {
  std::string holder;  // This replica's id in the term row.
  std::chrono::milliseconds term_ttl{std::chrono::seconds(15)};        // --leader-ttl
  std::chrono::milliseconds renew_interval{std::chrono::seconds(5)};   // --leader-renew
  // After a failed renewal (database unreachable), the next try comes at most this soon.
  std::chrono::milliseconds retry_interval{std::chrono::seconds(1)};

  [[nodiscard]] Result<void> Validate() const;
};

// Where terms are kept. The real one is the database (ScheduleStoreTerms);
// tests use a fake.
class LeaderTermStore {
 public:
  virtual ~LeaderTermStore() = default;
  // Takes the term when it is free or expired (a new epoch), or extends it
  // when `holder` holds it (same epoch). Reports who holds it either way.
  [[nodiscard]] virtual Result<db::LeaderState> Acquire(const std::string& holder,
                                                        std::chrono::milliseconds ttl) = 0;
  // Gives the term up at once if the guard's holder still holds its epoch.
  [[nodiscard]] virtual Result<void> Resign(const db::LeaderGuard& guard) = 0;
};

// The terms in chime.leader, through a schedule store (its connection is
// used on the caller's thread).
class ScheduleStoreTerms final : public LeaderTermStore {
 public:
  explicit ScheduleStoreTerms(db::ScheduleStore& store) : store_(store) {}
  Result<db::LeaderState> Acquire(const std::string& holder, std::chrono::milliseconds ttl) override {
    return store_.LeaderAcquire(holder, ttl);
  }
  Result<void> Resign(const db::LeaderGuard& guard) override { return store_.LeaderResign(guard); }

 private:
  db::ScheduleStore& store_;
};

// Who leads, as this replica last read it.
struct LeaderStatus {
  bool leader = false;  // This replica holds the term.
  int64_t epoch = 0;    // The term's epoch as last read (whoever holds it).
  std::string holder;   // Who holds it, as last read; empty before the first read.
};

// What a renewal changed, for the owner to act on.
enum class TermChange {
  kNone,      // Same role as before (leading the same epoch, or standing by).
  kElected,   // Leading now, in a term this replica did not hold before.
  kDeposed,   // Was leading; the database says another replica holds the term.
  kExpired,   // Was leading; no renewal reached the database before the term ran out.
};

class LeaderElector {
 public:
  LeaderElector(LeaderTermStore& store, LeaderElectorConfig config, const Clock& clock);

  // Renews (or tries to take) the term if a renewal is due.
  TermChange RenewIfDue();
  // Renews (or tries to take) the term now.
  TermChange Renew();
  // The database refused work under this term (LeaseLost): stop leading at
  // once and renew on the next RenewIfDue to learn who leads.
  void Lost();
  // Gives the term up, if held, so a standby takes over without waiting for
  // it to expire (on Stop). Best effort: logs a failure.
  void Resign();

  // Holds a term that has not run out by the local steady clock.
  bool Leading() const;
  // The term work must be done under (meaningful while Leading()).
  db::LeaderGuard guard() const { return {config_.holder, epoch_}; }
  int64_t epoch() const { return epoch_; }
  // When the next renewal is due, on the steady clock.
  std::chrono::steady_clock::time_point next_renewal() const { return next_renew_; }
  // The database's time now, estimated from the last renewal's read.
  std::chrono::system_clock::time_point DbNow() const;
  const std::string& holder() const { return config_.holder; }
  const LeaderElectorConfig& config() const { return config_; }

  // Thread-safe.
  LeaderStatus status() const;

 private:
  void Publish(const std::string& holder, int64_t epoch);

  LeaderTermStore& store_;
  const LeaderElectorConfig config_;
  const Clock& clock_;

  // Owner's thread only.
  bool leader_ = false;
  int64_t epoch_ = 0;
  std::chrono::steady_clock::time_point term_valid_until_{};
  std::chrono::steady_clock::time_point next_renew_{};
  std::string last_holder_;  // For the "standing by" line: logged when the holder changes.
  // Database time is the database's now() read at the last renewal, carried
  // forward on the steady clock: the local wall clock is never read for it,
  // so a skewed replica or a wall-clock step (NTP, a resumed VM) neither
  // fires ticks early nor loses them.
  std::chrono::system_clock::time_point db_anchor_{};
  std::chrono::steady_clock::time_point steady_anchor_{};

  mutable std::mutex mu_;
  LeaderStatus status_;  // Guarded by mu_.
};

}  // namespace chime::scheduler
