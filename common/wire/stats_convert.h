// Conversions between run statistics and alerts (common/db/stats_store.h,
// alert_store.h) and their chime.v1 messages, for the scheduler's admin
// service and jobctl. Times travel as Unix milliseconds. Thread-safe (pure).
#pragma once

#include <vector>

#include "chime/v1/chime.pb.h"
#include "common/base/error.h"
#include "common/db/alert_store.h"
#include "common/db/stats_store.h"

namespace chime::wire {

v1::RunStatsRequest ToProto(const db::StatsParams& params);
// Empty and zero fields take the defaults; an unknown scope is
// InvalidArgument. The params are not validated here.
Result<db::StatsParams> FromProto(const v1::RunStatsRequest& request);

v1::RunStatsReply ToProto(const db::StatsReport& report);
db::StatsReport FromProto(const v1::RunStatsReply& reply);

v1::Alert ToProto(const db::AlertRow& alert);
db::AlertRow FromProto(const v1::Alert& alert);

}  // namespace chime::wire
