// docker-compose.yml as docker-compose resolves it (`docker-compose config`,
// no engine needed) with the secrets deploy/compose-secrets.sh makes:
//   - issue 18, finding 8: each service gets only the secrets it uses; the
//     workers, which run payloads others write, never the admin secret
//     (the shared anchor used to give it to them);
//   - finding 6: ZeroMQ is CURVE-encrypted by default: the schedulers hold
//     the server key pair and an allowlist of exactly the workers' and
//     jobctl's public keys, and those clients hold key pairs that libzmq
//     accepts (the public key is the secret key's).
// Without docker-compose (scripts/install-deps.sh installs it) the test
// fails: the file would go unchecked.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/net/curve.h"

namespace chime {
namespace {

std::filesystem::path SourceDir() {
  const char* dir = std::getenv("CHIME_SOURCE_DIR");
  return dir == nullptr ? std::filesystem::path() : std::filesystem::path(dir);
}

struct ShellRun {
  int status = -1;
  std::string out;
};

// Runs a shell command (stderr to the test's own); its stdout and status.
ShellRun Shell(const std::string& command) {
  ShellRun r;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  r.status = pclose(p);
  return r;
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class ComposeConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(SourceDir().empty()) << "CHIME_SOURCE_DIR is not set (tests/deploy/CMakeLists.txt sets it)";
    // Debian's docker-compose (v1), or Docker's compose plugin.
    compose_ = Shell("command -v docker-compose >/dev/null").status == 0 ? "docker-compose" : "docker compose";
    ASSERT_EQ(Shell(compose_ + " version >/dev/null 2>&1").status, 0)
        << "neither docker-compose nor docker compose is installed, so docker-compose.yml cannot be checked "
           "(scripts/install-deps.sh installs Debian's docker-compose)";
    dir_ = std::filesystem::temp_directory_path() / ("chime-compose-secrets-" + std::to_string(getpid()));
    const std::string src = SourceDir().string();
    ASSERT_EQ(Shell(Quote(src + "/deploy/compose-secrets.sh") + " " + Quote(dir_.string()) + " >/dev/null").status,
              0);
    const ShellRun config = Shell("cd " + Quote(src) + " && CHIME_SECRETS_DIR=" + Quote(dir_.string()) +
                             " " + compose_ + " -f docker-compose.yml config");
    ASSERT_EQ(config.status, 0) << config.out;
    config_ = YAML::Load(config.out);
    ASSERT_TRUE(config_["services"].IsMap()) << config.out;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // The secrets a service mounts.
  std::set<std::string> Secrets(const std::string& service) const {
    std::set<std::string> out;
    for (const auto& s : config_["services"][service]["secrets"]) {
      out.insert(s.IsMap() ? s["source"].as<std::string>() : s.as<std::string>());
    }
    return out;
  }
  std::map<std::string, std::string> Env(const std::string& service) const {
    std::map<std::string, std::string> out;
    for (const auto& kv : config_["services"][service]["environment"]) {
      out[kv.first.as<std::string>()] = kv.second.IsNull() ? "" : kv.second.as<std::string>();
    }
    return out;
  }
  // The host file behind a secret.
  std::filesystem::path SecretFile(const std::string& name) const {
    return config_["secrets"][name]["file"].as<std::string>();
  }

  std::string compose_;
  std::filesystem::path dir_;
  YAML::Node config_;
};

// Issue 22: no service had limits, and Docker's default json-file log grows
// without end. Every service, as docker-compose resolves it, has both.
TEST_F(ComposeConfigTest, EveryServiceHasResourceLimitsAndRotatedLogs) {
  ASSERT_GE(config_["services"].size(), 6u);
  for (const auto& kv : config_["services"]) {
    const std::string name = kv.first.as<std::string>();
    const YAML::Node& s = kv.second;
    EXPECT_TRUE(s["cpus"].IsDefined() && s["cpus"].as<double>() > 0) << name << ": no cpus limit";
    EXPECT_TRUE(s["mem_limit"].IsDefined() && !s["mem_limit"].as<std::string>().empty()) << name << ": no mem_limit";
    EXPECT_TRUE(s["pids_limit"].IsDefined() && s["pids_limit"].as<int>() > 0) << name << ": no pids_limit";
    const YAML::Node logging = s["logging"];
    ASSERT_TRUE(logging.IsDefined()) << name << ": no logging";
    EXPECT_EQ(logging["driver"].as<std::string>(""), "json-file") << name;
    EXPECT_FALSE(logging["options"]["max-size"].as<std::string>("").empty()) << name << ": no max-size";
    EXPECT_GE(std::stoi(logging["options"]["max-file"].as<std::string>("0")), 1) << name << ": no max-file";
  }
}

TEST_F(ComposeConfigTest, EachServiceGetsOnlyTheSecretsItUses) {
  EXPECT_EQ(Secrets("worker"),
            (std::set<std::string>{"database-url", "curve-worker-keypair", "curve-scheduler-public"}));
  EXPECT_EQ(Env("worker").count("CHIME_ADMIN_SECRET_FILE"), 0u);
  for (const std::string scheduler : {"scheduler-a", "scheduler-b"}) {
    EXPECT_EQ(Secrets(scheduler), (std::set<std::string>{"database-url", "admin-secret", "curve-scheduler-keypair",
                                                         "curve-allowed-keys"}))
        << scheduler;
  }
  EXPECT_EQ(Secrets("jobctl"),
            (std::set<std::string>{"database-url", "admin-secret", "curve-jobctl-keypair", "curve-scheduler-public"}));
  EXPECT_EQ(Secrets("migrate"), std::set<std::string>{"database-url"});
  EXPECT_EQ(Secrets("postgres"), std::set<std::string>{"postgres-password"});
  // Every *_FILE variable points at a secret the service mounts.
  for (const auto& [name, service] : config_["services"].as<std::map<std::string, YAML::Node>>()) {
    for (const auto& [var, value] : Env(name)) {
      if (!var.ends_with("_FILE") || !value.starts_with("/run/secrets/")) continue;
      EXPECT_TRUE(Secrets(name).contains(value.substr(13))) << name << ": " << var << "=" << value;
    }
  }
}

TEST_F(ComposeConfigTest, ZeroMqIsCurveByDefaultAndTheGeneratedKeysFit) {
  for (const std::string scheduler : {"scheduler-a", "scheduler-b"}) {
    EXPECT_EQ(Env(scheduler)["CHIME_CURVE_SERVER_KEYPAIR_FILE"], "/run/secrets/curve-scheduler-keypair");
    EXPECT_EQ(Env(scheduler)["CHIME_CURVE_ALLOWED_KEYS_FILE"], "/run/secrets/curve-allowed-keys");
  }
  for (const auto& [client, pair] : std::map<std::string, std::string>{{"worker", "curve-worker-keypair"},
                                                                       {"jobctl", "curve-jobctl-keypair"}}) {
    EXPECT_EQ(Env(client)["CHIME_CURVE_CLIENT_KEYPAIR_FILE"], "/run/secrets/" + pair) << client;
    EXPECT_EQ(Env(client)["CHIME_CURVE_SERVER_PUBLIC_KEY_FILE"], "/run/secrets/curve-scheduler-public") << client;
  }

  // The files compose-secrets.sh made, as the processes read them.
  auto server = net::CurveReadKeyPair(SecretFile("curve-scheduler-keypair").string());
  auto worker = net::CurveReadKeyPair(SecretFile("curve-worker-keypair").string());
  auto jobctl = net::CurveReadKeyPair(SecretFile("curve-jobctl-keypair").string());
  ASSERT_TRUE(server.has_value()) << server.error().ToString();
  ASSERT_TRUE(worker.has_value()) << worker.error().ToString();
  ASSERT_TRUE(jobctl.has_value()) << jobctl.error().ToString();
  EXPECT_NE(worker->public_key, jobctl->public_key);
  std::string published = ReadFile(SecretFile("curve-scheduler-public"));
  while (!published.empty() && published.back() == '\n') published.pop_back();
  EXPECT_EQ(published, server->public_key);
  auto allowed = net::CurveReadAllowlist(SecretFile("curve-allowed-keys").string());
  ASSERT_TRUE(allowed.has_value()) << allowed.error().ToString();
  EXPECT_EQ(std::set<std::string>(allowed->begin(), allowed->end()),
            (std::set<std::string>{worker->public_key, jobctl->public_key}));

  // A second run keeps every key (peers would be locked out otherwise).
  const std::string before = ReadFile(SecretFile("curve-worker-keypair"));
  ASSERT_EQ(Shell(Quote((SourceDir() / "deploy/compose-secrets.sh").string()) + " " + Quote(dir_.string()) +
                  " >/dev/null")
                .status,
            0);
  EXPECT_EQ(ReadFile(SecretFile("curve-worker-keypair")), before);
}

}  // namespace
}  // namespace chime
