#include "scheduler/admin_service.h"

#include "common/admin/dispatch.h"
#include "scheduler/worker_publisher.h"

namespace chime::scheduler {

AdminService::AdminService(db::ConnectionConfig db, db::JobStoreConfig store,
                           const LiveCounters& counters, CredentialDirectory* credentials)
    : conn_(std::move(db)), stores_(conn_, std::move(store)), counters_(counters), credentials_(credentials) {}

v1::AdminReply AdminService::Handle(const v1::AdminRequest& request, const auth::Principal& who,
                                    const WorkerRegistry& workers, const ReadyHint& ready) {
  admin::Context ctx{
      .stores = stores_,
      .who = who,
      .ready = ready,
      // Every replica's workers (the directory) with this one's own fresher view.
      .workers = [&workers](const Result<std::vector<db::WorkerRow>>& published) {
        return AllWorkers(published, workers.List());
      },
      .live_counters = [this] { return counters_.Snapshot(); },
      .token_changed = [this](const std::string& name) {
        if (credentials_ != nullptr) credentials_->Invalidate(name);
      },
  };
  return admin::Dispatch(request, ctx);
}

}  // namespace chime::scheduler
