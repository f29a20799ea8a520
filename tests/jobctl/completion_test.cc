// `jobctl completion bash|zsh`: the scripts are loaded by a real bash and a
// real zsh (scripts/install-deps.sh installs zsh), which must accept them,
// and completing words in a subprocess must offer jobctl's own commands,
// options, option values and files.
#include "jobctl/completion.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/jobctl/cli_harness.h"

extern char** environ;

namespace chime::jobctl {
namespace {

struct ShellRun {
  int status = -1;
  std::string out;  // stdout and stderr together.
};

// Runs argv to completion, stdout and stderr captured.
ShellRun Spawn(const std::vector<std::string>& argv) {
  ShellRun run;
  const std::string path = ::testing::TempDir() + "completion_test.out." + std::to_string(getpid());
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    run.out = "cannot run " + argv[0] + ": " + std::strerror(rc);
    return run;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  run.out = text.str();
  std::filesystem::remove(path);
  return run;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class CompletionTest : public test_support::CliTest {
 protected:
  // `jobctl completion <shell>` written to a file; its path.
  std::string Script(const std::string& shell) {
    EXPECT_EQ(Run({"completion", shell}), 0) << err.str();
    EXPECT_EQ(backends_made, 0) << "completion needs no database";
    const std::string path = dir_ + "/jobctl." + shell;
    std::ofstream(path) << out.str();
    return path;
  }

  // What bash offers for the words typed so far (the last one is being
  // completed), as `complete -F _jobctl` would call it.
  std::vector<std::string> BashComplete(const std::string& words) {
    const std::string script = bash_script_.empty() ? (bash_script_ = Script("bash")) : bash_script_;
    const ShellRun run = Spawn({"bash", "-c",
                           "cd '" + dir_ + "' && source '" + script + "' && COMP_WORDS=(" + words +
                               ") && COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) && _jobctl && "
                               "printf '%s\\n' \"${COMPREPLY[@]}\""});
    EXPECT_EQ(run.status, 0) << run.out;
    return Lines(run.out);
  }

  void SetUp() override {
    dir_ = ::testing::TempDir() + "jobctl-completion-" + std::to_string(getpid());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::string bash_script_;
};

using ::testing::Contains;

TEST_F(CompletionTest, BashAcceptsTheScriptAndRegistersIt) {
  const std::string script = Script("bash");
  const ShellRun syntax = Spawn({"bash", "-n", script});
  EXPECT_EQ(syntax.status, 0) << syntax.out;
  EXPECT_EQ(syntax.out, "");
  const ShellRun registered = Spawn({"bash", "-c", "source '" + script + "' && complete -p jobctl"});
  EXPECT_EQ(registered.status, 0) << registered.out;
  EXPECT_EQ(registered.out, "complete -o default -F _jobctl jobctl\n");
}

TEST_F(CompletionTest, BashOffersCommandsSubcommandsAndOptions) {
  EXPECT_EQ(BashComplete("jobctl sch"), std::vector<std::string>{"schedule"});
  EXPECT_EQ(BashComplete("jobctl schedule cr"), std::vector<std::string>{"create"});
  EXPECT_EQ(BashComplete("jobctl list --st"), std::vector<std::string>{"--state"});
  EXPECT_EQ(BashComplete("jobctl token l"), std::vector<std::string>{"list"});
  // Global options follow any command; an option's value is skipped.
  EXPECT_THAT(BashComplete("jobctl --scheduler tcp://x:1 schedule create n --kind noop --"),
              Contains("--cron"));
  EXPECT_THAT(BashComplete("jobctl schedule create n --kind noop --"), Contains("--database-url"));
  const auto top = BashComplete("jobctl ''");
  for (const char* command : {"list", "enqueue", "schedule", "token", "completion", "migrate"}) {
    EXPECT_THAT(top, Contains(command));
  }
}

TEST_F(CompletionTest, BashOffersValuesAndFiles) {
  EXPECT_EQ(BashComplete("jobctl --log-level w"), std::vector<std::string>{"warn"});
  EXPECT_EQ(BashComplete("jobctl completion ''"), (std::vector<std::string>{"bash", "zsh"}));
  std::ofstream(dir_ + "/payload.json") << "{}";
  EXPECT_EQ(BashComplete("jobctl enqueue noop --payload-file pay"), std::vector<std::string>{"payload.json"});
  EXPECT_EQ(BashComplete("jobctl schedule lint pay"), std::vector<std::string>{"payload.json"});
}

TEST_F(CompletionTest, ZshAcceptsTheScriptAndCompletesThroughIt) {
  const std::string script = Script("zsh");
  EXPECT_TRUE(out.str().starts_with("#compdef jobctl\n"));
  const ShellRun syntax = Spawn({"zsh", "-n", script});
  EXPECT_EQ(syntax.status, 0) << syntax.out;
  EXPECT_EQ(syntax.out, "");
  // compsys's functions stubbed to print what they were handed; words and
  // CURRENT as the completion system sets them.
  const std::string stubs =
      "_describe() { local name=$4; print -rl -- \"${(@P)name}\"; }; "
      "compadd() { shift; print -rl -- \"${(@P)1}\"; }; "
      "_files() { print FILES; }; ";
  auto complete = [&](const std::string& words) {
    const ShellRun run = Spawn({"zsh", "-f", "-c",
                           stubs + "source '" + script + "' && words=(" + words + ") && CURRENT=${#words} && _jobctl"});
    EXPECT_EQ(run.status, 0) << run.out;
    return Lines(run.out);
  };
  const auto schedule = complete("jobctl sch");
  ASSERT_FALSE(schedule.empty());
  EXPECT_THAT(schedule, Contains(::testing::StartsWith("schedule:Cron schedules")));
  EXPECT_THAT(complete("jobctl schedule ''"), Contains(::testing::StartsWith("create:")));
  EXPECT_THAT(complete("jobctl list --"), Contains(::testing::StartsWith("--state:")));
  EXPECT_EQ(complete("jobctl --log-level ''"),
            (std::vector<std::string>{"trace", "debug", "info", "warn", "error", "critical", "off"}));
  EXPECT_EQ(complete("jobctl enqueue noop --payload-file ''"), std::vector<std::string>{"FILES"});
}

TEST_F(CompletionTest, OtherShellsAreRefusedNamingTheShells) {
  EXPECT_EQ(Run({"completion", "fish"}), 2);
  EXPECT_NE(err.str().find("bash"), std::string::npos) << err.str();
  EXPECT_EQ(out.str(), "");
}

}  // namespace
}  // namespace chime::jobctl
