#include "bench/private_server.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "bench/interrupt.h"

extern char** environ;

namespace chime::bench {

Result<std::string> RunCommand(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return Fail(ErrorCode::kInternal, std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Interrupt::Install() blocked SIGINT/SIGTERM in this process; the child
  // must not inherit that.
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return Fail(ErrorCode::kInternal, "cannot run " + argv[0] + ": " + std::strerror(rc));
  }
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    return Fail(ErrorCode::kInternal,
                cmd + " failed (" +
                    (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                       : "signal " + std::to_string(WTERMSIG(status))) +
                    ")");
  }
  return out;
}

Result<std::unique_ptr<PrivateServer>> PrivateServer::Start(const std::string& script, bool keep) {
  if (access(script.c_str(), X_OK) != 0) {
    return Fail(ErrorCode::kInvalidArgument,
                "--pg-script: " + script + " is not executable (or set CHIME_DATABASE_URL)");
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/chime-bench-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) {
    return Fail(ErrorCode::kInternal, "mkdtemp " + templ + ": " + std::strerror(errno));
  }
  std::unique_ptr<PrivateServer> server(new PrivateServer(script, templ, keep));
  // At a second Ctrl-C, do not leave a postgres running behind us.
  Interrupt::SetHardStopHook([script, dir = templ, keep] {
    (void)RunCommand({script, keep ? "stop" : "destroy", dir});
    std::error_code ignored;
    if (!keep) std::filesystem::remove_all(dir, ignored);
  });
  // The bench measures with normal durability, whatever the test harness
  // exported (--synchronous-commit off is the explicit way around it).
  unsetenv("CHIME_PG_FAST");
  spdlog::info("starting a private PostgreSQL in {}", templ);
  auto out = RunCommand({script, "start", templ});
  if (!out) return std::unexpected(out.error());  // ~PrivateServer cleans up.
  // The URL is the last non-empty line.
  std::string text = *out;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  server->url_ = text.substr(text.find_last_of('\n') == std::string::npos ? 0
                                                                           : text.find_last_of('\n') + 1);
  if (!server->url_.starts_with("postgres")) {
    return Fail(ErrorCode::kInternal, script + " start printed no URL: '" + text + "'");
  }
  return server;
}

PrivateServer::~PrivateServer() { Stop(); }

void PrivateServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  Interrupt::SetHardStopHook(nullptr);
  auto done = RunCommand({script_, keep_ ? "stop" : "destroy", dir_});
  if (!done) {
    spdlog::error("stopping the private PostgreSQL in {}: {}", dir_, done.error().ToString());
    return;
  }
  if (keep_) {
    spdlog::info("kept the private PostgreSQL cluster in {} (stopped)", dir_);
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  if (ec) spdlog::warn("removing {}: {}", dir_, ec.message());
}

}  // namespace chime::bench
