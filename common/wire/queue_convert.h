// Conversions between a queue as the store reads it (db::QueueRow) and its
// chime.v1 message, for `jobctl queue` through a scheduler. Times travel as
// Unix milliseconds (0: unset). Thread-safe (pure).
#pragma once

#include "chime/v1/chime.pb.h"
#include "common/db/queue_store.h"

namespace chime::wire {

v1::Queue ToProto(const db::QueueRow& row);
db::QueueRow FromProto(const v1::Queue& queue);

}  // namespace chime::wire
