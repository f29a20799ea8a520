// chime-bench's command line: global flags, one subcommand per registered
// bench (registry.cc), the database set-up around the run, and exit codes
// (0 ok, 1 failure, 2 usage, 130 interrupted). Call once from main().
#pragma once

namespace chime::bench {

int RunBenchCli(int argc, char** argv);

}  // namespace chime::bench
