#include "common/admin/context.h"

#include <utility>

namespace chime::admin {

Stores::Stores(db::Connection& connection, db::JobStoreConfig job_config)
    : conn(connection),
      jobs(connection, std::move(job_config)),
      schedules(connection),
      stats(connection),
      alerts(connection),
      observe(connection),
      directory(connection),
      auth(connection),
      limits(connection),
      queues(connection) {}

}  // namespace chime::admin
