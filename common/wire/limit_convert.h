// Conversions between cluster-wide limits as written and stored
// (schedule::LimitSpec, db::LimitRow) and their chime.v1 messages, for the
// scheduler's limit commands and jobctl. Times travel as Unix milliseconds.
// Thread-safe (pure).
#pragma once

#include "chime/v1/chime.pb.h"
#include "common/base/error.h"
#include "common/db/limit_store.h"
#include "common/schedule/limit_spec.h"

namespace chime::wire {

v1::LimitSpec ToProto(const schedule::LimitSpec& spec);
// InvalidArgument naming the field, as schedule::Validate says it: the
// scheduler refuses what `jobctl limit set` would.
Result<schedule::LimitSpec> FromProto(const v1::LimitSpec& spec);

v1::Limit ToProto(const db::LimitRow& row);
// The spec as the scheduler stored it (not checked again); InvalidArgument
// when the source is neither "file" nor "api".
Result<db::LimitRow> FromProto(const v1::Limit& limit);

}  // namespace chime::wire
