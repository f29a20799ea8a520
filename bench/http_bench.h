// `chime-bench http`: what hostile HTTP clients do to a real chime-scheduler
// (this build's binary, on the bench database, --http-listen on loopback):
//   1. its RSS before, at the peak of and after a chunked POST /healthz of
//      --body-mib MiB (default 1,024) without a token, stopping early once
//      the RSS has grown past --rss-bound-mib (default 256) or the server
//      stops reading, and the status it answered;
//   2. its peak RSS while --header-clients connections (default 1,000) each
//      send a never-ending header at 64 KiB a second, and how many of them it
//      had dropped by the end;
//   3. /healthz and /readyz latency p50/p99/max (new connection per probe)
//      while --slow-clients slowloris connections (default 100) send one
//      header line every 3 s, and how many it dropped;
//   4. keep-alive throughput of GET /healthz and of an authenticated GET
//      /api/jobs?limit=1 (4 client threads).
// Latencies are printed, never asserted. Thread-compatible.
#pragma once

#include <string>

#include "bench/bench.h"

namespace chime::bench {

struct HttpBenchConfig {
  int body_mib = 0;        // 0: 1,024 (--quick 64).
  int rss_bound_mib = 256;
  int header_clients = 0;  // 0: 1,000 (--quick 100).
  int header_seconds = 0;  // 0: 10 (--quick 3).
  int slow_clients = 100;
  int probe_seconds = 0;   // 0: 15 (--quick 3).
  int requests = 0;        // 0: 20,000 per route (--quick 2,000).

  [[nodiscard]] Result<void> Validate() const;
};

class HttpBench final : public Bench {
 public:
  std::string name() const override { return "http"; }
  std::string description() const override;
  void AddOptions(CLI::App& command) override;
  [[nodiscard]] Result<void> Validate() const override { return config_.Validate(); }
  [[nodiscard]] Result<void> Run(const BenchEnv& env) override;

 private:
  HttpBenchConfig config_;
};

}  // namespace chime::bench
