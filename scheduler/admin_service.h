// Executes verified admin requests (jobctl) with the one implementation of
// every command (common/admin: admin::Dispatch), adding what only a
// scheduler has: the caller's principal, this replica's workers and live
// counters, the router's ready hint and the credential cache. Owns one
// database connection, used only on the router thread.
#pragma once

#include "common/admin/context.h"
#include "common/db/connection.h"
#include "common/db/job_store.h"
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
  db::Connection conn_;
  admin::Stores stores_;
  const LiveCounters& counters_;
  CredentialDirectory* const credentials_;
};

}  // namespace chime::scheduler
