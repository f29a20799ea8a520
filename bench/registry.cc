// The list of chime-bench subcommands. A new bench adds one line here.
#include "bench/bench.h"
#include "bench/cron_bench.h"
#include "bench/e2e_bench.h"
#include "bench/http_bench.h"
#include "bench/kinds_bench.h"
#include "bench/limits_bench.h"
#include "bench/soak_bench.h"
#include "bench/stats_bench.h"
#include "bench/store_bench.h"

namespace chime::bench {

std::vector<std::unique_ptr<Bench>> MakeBenches() {
  std::vector<std::unique_ptr<Bench>> benches;
  benches.push_back(std::make_unique<StoreBench>());
  benches.push_back(std::make_unique<E2eBench>());
  benches.push_back(std::make_unique<CronBench>());
  benches.push_back(std::make_unique<KindsBench>());
  benches.push_back(std::make_unique<StatsBench>());
  benches.push_back(std::make_unique<HttpBench>());
  benches.push_back(std::make_unique<LimitsBench>());
  benches.push_back(std::make_unique<SoakBench>());
  return benches;
}

}  // namespace chime::bench
