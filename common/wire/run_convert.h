// Conversions for following runs and fires (jobctl runs, jobctl schedule
// fires) between the stores' types and their chime.v1 messages. Pure;
// thread-safe.
#pragma once

#include "chime/v1/chime.pb.h"
#include "common/base/error.h"
#include "common/db/observe_store.h"
#include "common/db/schedule_store.h"

namespace chime::wire {

v1::RunsRequest ToProto(const db::RunListParams& params);
Result<db::RunListParams> FromProto(const v1::RunsRequest& request);
v1::RunPage ToProto(const db::RunPage& page);
db::RunPage FromProto(const v1::RunPage& page);

v1::ScheduleFiresRequest ToProto(const db::FireListParams& params);
db::FireListParams FromProto(const v1::ScheduleFiresRequest& request);
v1::FirePage ToProto(const db::FirePage& page);
db::FirePage FromProto(const v1::FirePage& page);

}  // namespace chime::wire
