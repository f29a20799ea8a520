// The store bench's ceiling: the very statements JobStore runs
// (common/db/job_store_sql.h), with the same parameters encoded the same way
// (PgArrayBuilder literals), over bare libpq and with no Chime code around
// them. Thread-compatible.
#pragma once

#include <memory>
#include <string>

#include "bench/claim_harness.h"

namespace chime::bench {

// A claimer running kClaim then kComplete ('succeeded') as prepared
// statements.
std::unique_ptr<Claimer> MakeBareClaimer(const std::string& conninfo, int batch,
                                         std::string worker_id);

}  // namespace chime::bench
