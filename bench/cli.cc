#include "bench/cli.h"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <iostream>

#include "bench/bench.h"
#include "bench/bench_database.h"
#include "bench/interrupt.h"
#include "bench/report.h"
#include "common/base/text_format.h"
#include "common/base/version.h"
#include "common/log/log.h"

#ifndef CHIME_SOURCE_DIR
#error "CHIME_SOURCE_DIR must name the source tree (set in bench/CMakeLists.txt)"
#endif

namespace chime::bench {
namespace {

struct GlobalOptions {
  std::string database_url;
  std::string pg_script = CHIME_SOURCE_DIR "/scripts/pg.sh";
  bool keep = false;
  bool json = false;
  bool quick = false;
  std::string log_level = "info";
  std::string synchronous_commit;
};

void AddGlobalOptions(CLI::App& app, GlobalOptions& o) {
  app.add_option("--database-url", o.database_url,
                 "PostgreSQL server to run on; a fresh database is created there "
                 "(default: start a private server with --pg-script)")
      ->envname("CHIME_DATABASE_URL");
  app.add_option("--pg-script", o.pg_script, "scripts/pg.sh used to start a private server")
      ->capture_default_str();
  app.add_flag("--keep", o.keep, "Keep the bench database (and private cluster) afterwards");
  app.add_flag("--json", o.json, "Print one JSON object per line and figure");
  app.add_flag("--quick", o.quick, "Smoke mode: small sizes, a few seconds per bench");
  app.add_option("--synchronous-commit", o.synchronous_commit,
                 "synchronous_commit for the bench database's sessions (default: the server's)");
  app.add_option("--log-level", o.log_level, "Progress log level on stderr (trace..off)")
      ->capture_default_str();
}

}  // namespace

int RunBenchCli(int argc, char** argv) {
  Interrupt::Install();  // Before any thread starts.
  // Fail fast on an unreachable server instead of waiting indefinitely.
  setenv("PGCONNECT_TIMEOUT", "10", /*overwrite=*/0);

  CLI::App app{"chime-bench: measures Chime on a real PostgreSQL and prints the figures", "chime-bench"};
  app.set_version_flag("--version", VersionLine("chime-bench"));
  app.require_subcommand(1);
  app.fallthrough();  // Global flags may also follow the subcommand.
  GlobalOptions options;
  AddGlobalOptions(app, options);
  auto benches = MakeBenches();
  for (auto& bench : benches) {
    bench->AddOptions(*app.add_subcommand(bench->name(), bench->description()));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version: on stdout.
    // Exit 2 naming the program, like every Chime binary (not CLI11's 105-127).
    std::string message = e.what();
    if (message.starts_with("chime-bench: ")) message.erase(0, 13);
    // An option CLI11 could not place hides behind "A subcommand is required".
    if (e.get_name() == "RequiredError" && !app.remaining().empty()) {
      message = "unknown option or argument \"" + app.remaining().front() + "\"";
    }
    std::cerr << "chime-bench: " << OneLine(message, 1000) << " (see --help)\n";
    return 2;
  }

  if (!InitLogging("chime-bench", options.log_level)) {
    std::cerr << "chime-bench: --log-level: unknown level '" << options.log_level << "'\n";
    return 2;
  }
  Bench* chosen = nullptr;
  for (auto& bench : benches) {
    if (app.got_subcommand(bench->name())) chosen = bench.get();
  }
  if (auto ok = chosen->Validate(); !ok) {
    std::cerr << "chime-bench: " << chosen->name() << ": " << ok.error().message << '\n';
    return 2;
  }

  auto db = BenchDatabase::Create({.server_url = options.database_url,
                                   .pg_script = options.pg_script,
                                   .keep = options.keep,
                                   .synchronous_commit = options.synchronous_commit});
  if (!db) {
    std::cerr << "chime-bench: database: " << db.error().ToString() << '\n';
    return Interrupt::StopRequested() ? 130 : 1;
  }
  Result<void> ran;
  {
    Report report(std::cout, options.json ? Report::Format::kJson : Report::Format::kTable);
    std::string server = (*db)->private_server() ? "private server" : "given server";
    server += options.synchronous_commit.empty()
                  ? ((*db)->private_server() ? ", normal durability" : "")
                  : ", synchronous_commit=" + options.synchronous_commit;
    report.Note("chime-bench " + chosen->name() + ": PostgreSQL " + (*db)->server_version() +
                " (" + server + ")" + (options.quick ? ", --quick" : ""));
    BenchEnv env{.conninfo = (*db)->conninfo(), .report = &report, .quick = options.quick};
    ran = chosen->Run(env);
  }
  db->reset();  // Drop the database, stop a private server.
  if (Interrupt::StopRequested()) {
    std::cerr << "chime-bench: interrupted\n";
    return 130;
  }
  if (!ran) {
    std::cerr << "chime-bench: " << chosen->name() << ": " << ran.error().ToString() << '\n';
    return 1;
  }
  return 0;
}

}  // namespace chime::bench
