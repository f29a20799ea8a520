// `jobctl queue pause|resume|list`: a paused queue accepts jobs but no worker
// claims them until it is resumed (common/db/queue_store.h; the claim keeps
// it, migration 0024). Thread-compatible.
#pragma once

#include <string>

#include "common/base/error.h"
#include "jobctl/commands.h"

namespace chime::jobctl {

struct QueuePauseOptions {
  std::string name;
  bool paused = true;  // false: resume.
  bool json = false;
};

struct QueueListOptions {
  bool json = false;
};

// Pauses or resumes; prints the queue after it.
[[nodiscard]] Result<void> RunQueuePause(CommandContext& ctx, const QueuePauseOptions& o);
// One row per queue with live jobs or a pause on record: paused since when
// and by whom, ready, scheduled and running jobs, the oldest ready job's age.
[[nodiscard]] Result<void> RunQueueList(CommandContext& ctx, const QueueListOptions& o);

}  // namespace chime::jobctl
