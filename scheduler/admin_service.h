// Executes verified admin requests (jobctl) against the job, schedule, limit
// and credential stores. Owns one database connection, used only on the router
// thread.
#pragma once

#include "common/db/alert_store.h"
#include "common/db/auth_store.h"
#include "common/db/connection.h"
#include "common/db/job_store.h"
#include "common/db/limit_store.h"
#include "common/db/observe_store.h"
#include "common/db/schedule_store.h"
#include "common/db/stats_store.h"
#include "common/db/worker_directory.h"
#include "scheduler/credential_directory.h"
#include "scheduler/live_counters.h"
#include "scheduler/router_server.h"

namespace chime::scheduler {

class AdminService final : public AdminHandler {
 public:
  // `credentials` (may be null) forgets a token this service created,
  // replaced or revoked, so this replica sees the change at once.
  AdminService(db::ConnectionConfig db, db::JobStoreConfig store, const LiveCounters& counters,
               CredentialDirectory* credentials = nullptr);

  v1::AdminReply Handle(const v1::AdminRequest& request, const auth::Principal& who,
                        const WorkerRegistry& workers, const ReadyHint& ready) override;

 private:
  // The schedule commands.
  v1::AdminReply HandleSchedule(const v1::AdminRequest& request);
  // Limit set, list and delete.
  v1::AdminReply HandleLimits(const v1::AdminRequest& request, const auth::Principal& who);
  // Run statistics, runs and alerts.
  v1::AdminReply HandleObserve(const v1::AdminRequest& request);
  // Token create, list and revoke, and whoami.
  v1::AdminReply HandleCredentials(const v1::AdminRequest& request, const auth::Principal& who);
  // Every replica's workers (the directory) with this one's own fresher view.
  v1::AdminReply HandleWorkers(const WorkerRegistry& workers);

  db::Connection conn_;
  db::JobStore store_;
  db::ScheduleStore schedules_;
  db::StatsStore stats_;
  db::AlertStore alerts_;
  db::ObserveStore observe_;
  db::WorkerDirectory directory_;
  db::AuthStore auth_;
  db::LimitStore limits_;
  const LiveCounters& counters_;
  CredentialDirectory* const credentials_;
};

}  // namespace chime::scheduler
