// The interface every chime-bench subcommand implements, and what a bench
// gets to run with. Benches are listed in registry.cc; adding one is a new
// bench/<name>_bench.{h,cc} and one line there. Thread-compatible.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "bench/report.h"
#include "common/base/error.h"

namespace chime::bench {

struct BenchEnv {
  // libpq key=value string of a fresh database with Chime's schema applied;
  // the bench may truncate and load it at will.
  std::string conninfo;
  Report* report = nullptr;
  bool quick = false;  // Smoke mode: small sizes, a few seconds in all.
};

class Bench {
 public:
  virtual ~Bench() = default;

  virtual std::string name() const = 0;         // The subcommand, e.g. "store".
  virtual std::string description() const = 0;  // One line for --help.
  // Adds the bench's own flags to its subcommand; values land in the bench.
  virtual void AddOptions(CLI::App& command) = 0;
  // Checks the flags after parsing, before any database work; the message
  // names the flag.
  [[nodiscard]] virtual Result<void> Validate() const = 0;
  // Measures and reports. Returns early with Unavailable("interrupted") once
  // Interrupt::StopRequested().
  [[nodiscard]] virtual Result<void> Run(const BenchEnv& env) = 0;
};

// Every bench, in --help order.
std::vector<std::unique_ptr<Bench>> MakeBenches();

}  // namespace chime::bench
