#include "common/wire/queue_convert.h"

#include "common/wire/millis.h"

namespace chime::wire {

using internal::Ms;
using internal::OptTime;

v1::Queue ToProto(const db::QueueRow& row) {
  v1::Queue q;
  q.set_name(row.name);
  q.set_paused_at_ms(Ms(row.paused_at));
  q.set_changed_by(row.changed_by);
  q.set_changed_at_ms(Ms(row.changed_at));
  q.set_ready(row.ready);
  q.set_scheduled(row.scheduled);
  q.set_running(row.running);
  q.set_oldest_ready_age_ms(row.oldest_ready_age.count());
  return q;
}

db::QueueRow FromProto(const v1::Queue& q) {
  return db::QueueRow{.name = q.name(),
                      .paused_at = OptTime(q.paused_at_ms()),
                      .changed_by = q.changed_by(),
                      .changed_at = OptTime(q.changed_at_ms()),
                      .ready = q.ready(),
                      .scheduled = q.scheduled(),
                      .running = q.running(),
                      .oldest_ready_age = std::chrono::milliseconds(q.oldest_ready_age_ms())};
}

}  // namespace chime::wire
