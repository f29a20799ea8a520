// jobctl's JSON renderings live in common/view (shared with the scheduler's
// HTTP API, so one object has one JSON shape); this header brings them into
// chime::jobctl for the commands.
#pragma once

#include "common/view/json_view.h"

namespace chime::jobctl {

using view::DumpJson;
using view::EnqueueResultJson;
using view::FireResultJson;
using view::JobJson;
using view::JobPageJson;
using view::JobWithRunsJson;
using view::LeaderJson;
using view::MigrationJson;
using view::FirePageJson;
using view::RunJson;
using view::RunPageJson;
using view::ScheduleJson;
using view::ScheduleSpecJson;
using view::ScheduleStatusJson;
using view::StatsJson;
using view::WorkersJson;

}  // namespace chime::jobctl
