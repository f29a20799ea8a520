#include "jobctl/queue_commands.h"

#include <nlohmann/json.hpp>

#include <ostream>

#include "common/base/text_format.h"
#include "common/view/json_view.h"
#include "jobctl/text_view.h"

namespace chime::jobctl {
namespace {

using view::DumpJson;

std::string State(const db::QueueRow& q) {
  if (!q.paused_at) return "open";
  return "paused " + FormatRfc3339(*q.paused_at) + (q.changed_by.empty() ? "" : " by " + OneLine(q.changed_by, 64));
}

}  // namespace

Result<void> RunQueuePause(CommandContext& ctx, const QueuePauseOptions& o) {
  auto row = ctx.backend.Run<admin::QueuePause>({o.name, o.paused});
  if (!row) return std::unexpected(row.error());
  if (o.json) {
    ctx.out << DumpJson(view::QueueJson(*row));
    return {};
  }
  if (row->paused()) {
    ctx.out << "queue '" << row->name << "' " << State(*row) << ": " << row->ready << " ready and " << row->scheduled
            << " scheduled wait; " << row->running << " running finish\n";
  } else {
    ctx.out << "queue '" << row->name << "' open: " << row->ready << " ready are claimable now\n";
  }
  return {};
}

Result<void> RunQueueList(CommandContext& ctx, const QueueListOptions& o) {
  auto rows = ctx.backend.Run<admin::QueueList>({});
  if (!rows) return std::unexpected(rows.error());
  if (o.json) {
    ctx.out << DumpJson(view::QueuesJson(*rows));
    return {};
  }
  if (rows->empty()) {
    ctx.out << "no queues: none has live jobs or a pause on record\n";
    return {};
  }
  Table table({"QUEUE", "STATE", "READY", "SCHEDULED", "RUNNING", "OLDEST READY"},
              {false, false, true, true, true, true});
  for (const auto& q : *rows) {
    table.AddRow({q.name, State(q), std::to_string(q.ready), std::to_string(q.scheduled), std::to_string(q.running),
                  q.ready > 0 ? FormatDuration(q.oldest_ready_age) : "-"});
  }
  ctx.out << table.Render();
  return {};
}

}  // namespace chime::jobctl
