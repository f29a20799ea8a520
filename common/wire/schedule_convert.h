// Conversions between the schedule store's types (common/db/schedule_store.h)
// and their chime.v1 messages, for the scheduler's admin service and jobctl.
// Times travel as Unix milliseconds; 0 means unset. Thread-safe (pure).
#pragma once

#include <optional>
#include <vector>

#include "chime/v1/chime.pb.h"
#include "common/base/error.h"
#include "common/db/schedule_store.h"

namespace chime::wire {

v1::ScheduleSpec ToProto(const schedule::ScheduleSpec& spec);
// Empty fields take the spec's defaults; an unknown policy name is
// InvalidArgument naming the field. The spec is not validated here.
Result<schedule::ScheduleSpec> FromProto(const v1::ScheduleSpec& spec);

v1::Schedule ToProto(const db::ScheduleRow& row);
v1::Schedule ToProto(const db::ScheduleStatus& status);
Result<db::ScheduleRow> FromProto(const v1::Schedule& schedule);
Result<db::ScheduleStatus> StatusFromProto(const v1::Schedule& schedule);

v1::Fire ToProto(const db::FireResult& fire);
db::FireResult FromProto(const v1::Fire& fire);

v1::LeaderReply ToProto(const std::optional<db::LeaderState>& leader);
std::optional<db::LeaderState> FromProto(const v1::LeaderReply& leader);

}  // namespace chime::wire
