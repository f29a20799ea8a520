#include "jobctl/limit_commands.h"

#include <nlohmann/json.hpp>

#include <ostream>

#include "common/base/text_format.h"
#include "common/view/json_view.h"
#include "jobctl/text_view.h"

namespace chime::jobctl {
namespace {

using json = nlohmann::ordered_json;
using view::DumpJson;

std::string AppliesTo(const db::LimitRow& row) {
  std::string out = "queue " + row.spec.queue.value_or("*") + ", kind " + row.spec.kind.value_or("*");
  if (row.spec.partition_by) out += ", per " + *row.spec.partition_by;
  return out;
}

std::string Busiest(const db::LimitRow& row) {
  if (row.partitions.empty()) return "-";
  std::string out;
  for (size_t i = 0; i < row.partitions.size() && i < 3; ++i) {
    const auto& p = row.partitions[i];
    if (!out.empty()) out += "; ";
    out += (row.spec.partition_by ? *row.spec.partition_by + "=" : std::string()) +
           (p.partition.empty() ? std::string("\"\"") : OneLine(p.partition, 32)) + ": " +
           std::to_string(p.running) + " running";
    if (row.spec.rate) out += ", " + std::to_string(p.started_in_window) + " started";
  }
  if (row.partitions_total > 3) out += "; +" + std::to_string(row.partitions_total - 3) + " more";
  return out;
}

}  // namespace

Result<void> RunLimitSet(CommandContext& ctx, const LimitSetOptions& o) {
  schedule::LimitSpec spec{.name = o.name,
                           .queue = o.queue,
                           .kind = o.kind,
                           .partition_by = o.partition_by,
                           .concurrency = o.concurrency};
  if (o.rate) {
    auto rate = schedule::ParseLimitRate(*o.rate);
    if (!rate) return Fail(ErrorCode::kInvalidArgument, "--" + rate.error().message);
    spec.rate = *rate;
  }
  if (auto ok = schedule::Validate(spec); !ok) {
    return Fail(ErrorCode::kInvalidArgument,
                ok.error().message.rfind("limit:", 0) == 0 ? "give --concurrency N, --rate COUNT/WINDOW or both"
                                                           : ok.error().message);
  }
  auto row = ctx.backend.Run<admin::LimitSet>(spec);
  if (!row) return std::unexpected(row.error());
  if (o.json) {
    ctx.out << DumpJson(view::LimitJson(*row));
  } else {
    ctx.out << "limit '" << row->spec.name << "' set: " << LimitBudget(row->spec) << " (" << AppliesTo(*row) << "); "
            << row->running << " running, " << row->ready << " ready\n";
  }
  return {};
}

Result<void> RunLimitList(CommandContext& ctx, const LimitListOptions& o) {
  auto rows = ctx.backend.Run<admin::LimitList>({});
  if (!rows) return std::unexpected(rows.error());
  if (o.json) {
    ctx.out << DumpJson(view::LimitsJson(*rows));
    return {};
  }
  if (rows->empty()) {
    ctx.out << "no limits (jobctl limit set NAME --kind K --concurrency N --rate COUNT/WINDOW)\n";
    return {};
  }
  Table table({"NAME", "APPLIES TO", "LIMIT", "RUNNING", "READY", "HELD BACK", "BUSIEST PARTITIONS"});
  for (const auto& row : *rows) {
    table.AddRow({row.spec.name, AppliesTo(row), LimitBudget(row.spec), std::to_string(row.running), std::to_string(row.ready),
                  std::to_string(row.held_back), Busiest(row)});
  }
  ctx.out << table.Render();
  return {};
}

Result<void> RunLimitDelete(CommandContext& ctx, const LimitDeleteOptions& o) {
  if (auto ok = schedule::CheckLimitName(o.name); !ok) {
    return Fail(ErrorCode::kInvalidArgument, "NAME: " + ok.error().message);
  }
  if (auto ok = ctx.backend.Run<admin::LimitDelete>(o.name); !ok) return std::unexpected(ok.error());
  if (o.json) {
    ctx.out << DumpJson(json{{"name", o.name}, {"deleted", true}});
  } else {
    ctx.out << "limit '" << o.name << "' deleted; the jobs it held are claimable now\n";
  }
  return {};
}

}  // namespace chime::jobctl
