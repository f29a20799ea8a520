// Registers the seeds' application kinds, each built with the worker's kinds
// configuration. Called once at worker start, after LoadAppConfig.
#pragma once

#include "common/base/error.h"
#include "worker/handler.h"
#include "worker/kinds/app_config.h"

namespace chime::worker::kinds {

// Registers the seeds' kinds: process_all_users, sync_integration,
// reconcile_exam_capacity, http_request, cleanup_old_jobs, reset_stale_jobs.
// InvalidArgument naming the field when `config` cannot serve them (an
// http.allow/deny entry that is not a CIDR range, a capacity_webhook that
// cannot work); nothing is registered then. Aborts, like HandlerRegistry::Register, if one
// of the kinds is registered already.
[[nodiscard]] Result<void> RegisterAppKinds(HandlerRegistry& registry, const AppConfig& config);

}  // namespace chime::worker::kinds
