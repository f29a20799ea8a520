#include "common/db/job_rescuer.h"

#include <algorithm>

namespace chime::db {

Result<RescueResult> JobRescuer::Run(const RescueParams& params, const RescueRunOptions& options) {
  RescueResult total;
  for (int page = 0; page < std::max(1, options.max_pages); ++page) {
    auto step = options.dry_run ? store_.JobsRescuePreview(params) : store_.JobsRescue(params);
    if (!step) return std::unexpected(step.error());
    total.rescued.insert(total.rescued.end(), step->rescued.begin(), step->rescued.end());
    total.discarded.insert(total.discarded.end(), step->discarded.begin(), step->discarded.end());
    // A preview sees the same rows again; only a full page of real rescues
    // may have left more behind.
    const bool full = step->rescued.size() + step->discarded.size() >= static_cast<size_t>(params.limit);
    if (options.dry_run || !full || (options.stop && options.stop())) break;
  }
  std::ranges::sort(total.rescued);
  std::ranges::sort(total.discarded);
  return total;
}

}  // namespace chime::db
