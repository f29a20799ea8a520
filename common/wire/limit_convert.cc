#include "common/wire/limit_convert.h"

#include <chrono>

#include "common/wire/millis.h"

namespace chime::wire {

using internal::Ms;
using internal::Time;

namespace {

// The spec as sent, unchecked.
schedule::LimitSpec SpecOf(const v1::LimitSpec& p) {
  schedule::LimitSpec s;
  s.name = p.name();
  if (p.has_queue()) s.queue = p.queue();
  if (p.has_kind()) s.kind = p.kind();
  if (p.has_partition_by()) s.partition_by = p.partition_by();
  if (p.has_concurrency()) s.concurrency = p.concurrency();
  if (p.has_rate()) {
    s.rate = schedule::LimitRate{.count = p.rate().count(), .window = std::chrono::milliseconds(p.rate().window_ms())};
  }
  return s;
}

}  // namespace

v1::LimitSpec ToProto(const schedule::LimitSpec& s) {
  v1::LimitSpec p;
  p.set_name(s.name);
  if (s.queue) p.set_queue(*s.queue);
  if (s.kind) p.set_kind(*s.kind);
  if (s.partition_by) p.set_partition_by(*s.partition_by);
  if (s.concurrency) p.set_concurrency(*s.concurrency);
  if (s.rate) {
    p.mutable_rate()->set_count(s.rate->count);
    p.mutable_rate()->set_window_ms(s.rate->window.count());
  }
  return p;
}

Result<schedule::LimitSpec> FromProto(const v1::LimitSpec& p) {
  schedule::LimitSpec s = SpecOf(p);
  if (auto ok = schedule::Validate(s); !ok) return std::unexpected(ok.error());
  return s;
}

v1::Limit ToProto(const db::LimitRow& row) {
  v1::Limit l;
  *l.mutable_spec() = ToProto(row.spec);
  l.set_source(row.source == db::LimitSource::kFile ? "file" : "api");
  l.set_created_at_ms(Ms(row.created_at));
  l.set_updated_at_ms(Ms(row.updated_at));
  l.set_running(row.running);
  l.set_ready(row.ready);
  for (const auto& use : row.partitions) {
    auto* p = l.add_partitions();
    p->set_partition(use.partition);
    p->set_running(use.running);
    p->set_started_in_window(use.started_in_window);
  }
  l.set_partitions_total(row.partitions_total);
  l.set_held_back(row.held_back);
  return l;
}

Result<db::LimitRow> FromProto(const v1::Limit& l) {
  db::LimitRow row;
  row.spec = SpecOf(l.spec());  // As stored: the database checked it.
  if (l.source() == "file") {
    row.source = db::LimitSource::kFile;
  } else if (l.source() == "api") {
    row.source = db::LimitSource::kApi;
  } else {
    return Fail(ErrorCode::kInvalidArgument, "limit: unknown source");
  }
  row.created_at = Time(l.created_at_ms());
  row.updated_at = Time(l.updated_at_ms());
  row.running = l.running();
  row.ready = l.ready();
  for (const auto& p : l.partitions()) {
    row.partitions.push_back(
        db::LimitPartitionUse{.partition = p.partition(), .running = p.running(), .started_in_window = p.started_in_window()});
  }
  row.partitions_total = l.partitions_total();
  row.held_back = l.held_back();
  return row;
}

}  // namespace chime::wire
