// `jobctl limit set|list|delete`: cluster-wide concurrency and rate limits
// per queue, kind and payload field (common/schedule/limit_spec.h), kept by
// the claim in the database. Thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/base/error.h"
#include "common/db/limit_store.h"
#include "jobctl/commands.h"

namespace chime::jobctl {

struct LimitSetOptions {
  std::string name;
  std::optional<std::string> queue;
  std::optional<std::string> kind;
  std::optional<std::string> partition_by;
  std::optional<int> concurrency;
  std::optional<std::string> rate;  // COUNT/WINDOW: 100/1m.
  bool json = false;
};

struct LimitListOptions {
  bool json = false;
};

struct LimitDeleteOptions {
  std::string name;
  bool json = false;
};

[[nodiscard]] Result<void> RunLimitSet(CommandContext& ctx, const LimitSetOptions& o);
// One row per limit: what it applies to, its budget, running and ready
// jobs, and its busiest partitions.
[[nodiscard]] Result<void> RunLimitList(CommandContext& ctx, const LimitListOptions& o);
[[nodiscard]] Result<void> RunLimitDelete(CommandContext& ctx, const LimitDeleteOptions& o);

}  // namespace chime::jobctl
