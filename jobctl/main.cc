// jobctl: the Chime admin client. All logic lives in chime::jobctl_lib (cli.h).
#include <cstdlib>
#include <iostream>

#include <unistd.h>

#include "common/base/env_setting.h"
#include "common/history/history.h"
#include "jobctl/cli.h"

int main(int argc, char** argv) {
  // libpq waits indefinitely for an unreachable host; an admin command should
  // fail fast with exit code 5 instead. An explicit setting wins.
  setenv("PGCONNECT_TIMEOUT", "10", /*overwrite=*/0);
  chime::history::InitProcess("jobctl");
  chime::jobctl::CliEnvironment env{.out = std::cout, .err = std::cerr, .in = std::cin};
  env.out_is_terminal = isatty(STDOUT_FILENO) == 1;
  // The URL, or a file holding it (CHIME_DATABASE_URL_FILE, a mounted secret).
  auto url = chime::EnvSetting("CHIME_DATABASE_URL");
  if (!url) {
    std::cerr << "jobctl: " << url.error().message << "\n";
    return 2;
  }
  if (*url) env.database_url = **url;
  if (const char* endpoints = std::getenv("CHIME_SCHEDULER"); endpoints != nullptr && *endpoints) {
    env.scheduler = endpoints;
  }
  return chime::jobctl::RunCli(argc, argv, env);
}
