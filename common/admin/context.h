// What an admin operation runs against: the stores over one database
// connection (Stores), and what only a scheduler knows (Context: the caller,
// its own workers, live counters, the router's ready hint, the credential
// cache). jobctl's database path leaves the scheduler-only parts unset; each
// operation says in commands.h what it does without them.
// Thread-compatible: a Context and its Stores belong to one thread at a time.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "chime/v1/chime.pb.h"
#include "common/auth/scope.h"
#include "common/base/error.h"
#include "common/db/alert_store.h"
#include "common/db/auth_store.h"
#include "common/db/connection.h"
#include "common/db/job_store.h"
#include "common/db/limit_store.h"
#include "common/db/observe_store.h"
#include "common/db/queue_store.h"
#include "common/db/ready_listener.h"
#include "common/db/schedule_store.h"
#include "common/db/stats_store.h"
#include "common/db/worker_directory.h"

namespace chime::admin {

// Every store an operation may use, over one connection that must outlive
// them. Cheap to make: the stores hold only the connection.
struct Stores {
  explicit Stores(db::Connection& connection, db::JobStoreConfig job_config = {});

  db::Connection& conn;
  db::JobStore jobs;
  db::ScheduleStore schedules;
  db::StatsStore stats;
  db::AlertStore alerts;
  db::ObserveStore observe;
  db::WorkerDirectory directory;
  db::AuthStore auth;
  db::LimitStore limits;
  db::QueueStore queues;
};

// The caller of one operation. Only `stores` is required; every other
// member is the scheduler's and may be left unset.
struct Context {
  Stores& stores;
  // The credential that sent the request (verified, its scope checked). Unset
  // on jobctl's database path, where the database login is the authority:
  // tokens made there are created_by "database", whoami is refused, and
  // nothing is logged (jobctl's output is its own).
  std::optional<auth::Principal> who;
  // Told as soon as an operation has committed jobs that are ready now, so
  // the router dispatches them before the reply.
  std::function<void(const db::ReadyQueue& ready)> ready;
  // Merges the published worker directory with this replica's own view
  // (scheduler::AllWorkers). Unset: the directory as published.
  std::function<std::vector<db::WorkerRow>(const Result<std::vector<db::WorkerRow>>& published)> workers;
  // This replica's live counters, for `stats`. Unset: none.
  std::function<std::vector<v1::LiveCounter>()> live_counters;
  // Told the name of a token that was created, replaced or revoked, so a
  // credential cache forgets it at once.
  std::function<void(const std::string& token_name)> token_changed;
};

}  // namespace chime::admin
