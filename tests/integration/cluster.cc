#include "tests/integration/cluster.h"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <random>
#include <thread>

namespace chime::testing {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string RandomHex(size_t n) {
  std::random_device rd;
  std::string out;
  for (size_t i = 0; i < n; ++i) out.push_back("0123456789abcdef"[rd() % 16]);
  return out;
}

Cluster::~Cluster() {
  // SIGKILL through ChildProcess's destructor: what a test left running is
  // not part of its result.
  workers_.clear();
  replicas_.clear();
  scheduler_.reset();
}

ChildProcess& Cluster::StartScheduler(std::vector<std::string> args,
                                      std::map<std::string, std::string> env) {
  if (scheduler_) stopped_schedulers_.push_back(std::move(scheduler_));
  std::vector<std::string> argv{BinaryPath("scheduler/chime-scheduler"), "--rescue-interval-ms", "200",
                                "--heartbeat-interval-ms", "200"};
  if (std::ranges::find(args, "--bind") == args.end()) {
    argv.insert(argv.end(), {"--bind", endpoint_.empty() ? "tcp://127.0.0.1:0" : endpoint_});
  }
  const bool own_http = std::ranges::find(args, "--http-listen") != args.end();
  if (!own_http) argv.insert(argv.end(), {"--http-listen", "127.0.0.1:0"});
  argv.insert(argv.end(), args.begin(), args.end());
  env.emplace("CHIME_DATABASE_URL", db_.url());
  env.emplace("CHIME_ADMIN_SECRET", kClusterSecret);
  scheduler_ = std::make_unique<ChildProcess>(argv, env);
  EXPECT_TRUE(scheduler_->Start()) << scheduler_->log();
  auto line = scheduler_->WaitForLog("listening on tcp://", seconds(30));
  EXPECT_TRUE(line.has_value()) << scheduler_->log();
  if (line && endpoint_.empty()) endpoint_ = line->substr(line->find("listening on ") + 13);
  http_.clear();
  if (!own_http) {
    auto http = scheduler_->WaitForLog("http listening on ", seconds(30));
    EXPECT_TRUE(http.has_value()) << scheduler_->log();
    if (http) http_ = http->substr(http->find("http listening on ") + 18);
  }
  return *scheduler_;
}

ChildProcess& Cluster::StartReplica(std::string& endpoint, std::vector<std::string> args,
                                    std::map<std::string, std::string> env, std::string* http) {
  std::vector<std::string> argv{BinaryPath("scheduler/chime-scheduler"), "--bind", "tcp://127.0.0.1:0",
                                "--rescue-interval-ms", "200", "--heartbeat-interval-ms", "200"};
  const bool own_http = std::ranges::find(args, "--http-listen") != args.end();
  if (!own_http) argv.insert(argv.end(), {"--http-listen", http != nullptr ? "127.0.0.1:0" : "off"});
  argv.insert(argv.end(), args.begin(), args.end());
  env.emplace("CHIME_DATABASE_URL", db_.url());
  env.emplace("CHIME_ADMIN_SECRET", kClusterSecret);
  auto& replica = *replicas_.emplace_back(std::make_unique<ChildProcess>(argv, env));
  EXPECT_TRUE(replica.Start()) << replica.log();
  auto line = replica.WaitForLog("listening on tcp://", seconds(30));
  EXPECT_TRUE(line.has_value()) << replica.log();
  if (line) endpoint = line->substr(line->find("listening on ") + 13);
  if (http != nullptr && !own_http) {
    auto bound = replica.WaitForLog("http listening on ", seconds(30));
    EXPECT_TRUE(bound.has_value()) << replica.log();
    if (bound) *http = bound->substr(bound->find("http listening on ") + 18);
  }
  return replica;
}

ChildProcess& Cluster::StartWorker(const std::string& id, std::vector<std::string> args,
                                   std::map<std::string, std::string> env) {
  std::vector<std::string> argv{BinaryPath("worker/chime-worker"), "--worker-id", id,
                                "--slots", "4", "--lease-ms", "1000", "--poll-interval-ms", "200",
                                "--log-level", "debug"};
  argv.insert(argv.end(), args.begin(), args.end());
  env.emplace("CHIME_DATABASE_URL", db_.url());
  env.emplace("CHIME_SCHEDULER", endpoint_);
  auto& worker = *workers_.emplace_back(std::make_unique<ChildProcess>(argv, env));
  EXPECT_TRUE(worker.Start()) << worker.log();
  if (scheduler_ && scheduler_->running()) {
    const std::string needle = "worker " + id + " (";
    EXPECT_TRUE(WaitUntil([&] { return scheduler_->log().find(needle) != std::string::npos || !worker.running(); }, kClusterWaitBound));
    EXPECT_TRUE(worker.running()) << worker.log();
    EXPECT_NE(scheduler_->log().find(needle), std::string::npos) << scheduler_->log() << worker.log();
  }
  return worker;
}

std::string Cluster::ApiToken(const std::string& name, const std::string& scope) {
  JobctlOutcome r = Jobctl({"token", "create", name, "--scope", scope, "--database-url", db_.url()},
                           {{"CHIME_ADMIN_SECRET", ""}, {"CHIME_SCHEDULER", ""}});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const size_t start = r.output.find("chime_" + name + "_");
  if (start == std::string::npos) return "";
  std::string token = r.output.substr(start, r.output.find('\n', start) - start);
  EXPECT_TRUE(WaitUntil([&] { return HttpGet(http_, "/api/whoami", token).status == 200; }, kClusterWaitBound))
      << "the scheduler never accepted token " << name;
  return token;
}

int64_t Cluster::EnqueueJob(std::vector<std::string> args) {
  args.insert(args.begin(), "enqueue");
  args.push_back("--json");
  JobctlOutcome out = Jobctl(args);
  EXPECT_EQ(out.exit_code, 0) << out.output;
  const size_t brace = out.output.find('{');
  if (brace == std::string::npos) return 0;
  const auto j = nlohmann::json::parse(out.output.substr(brace), nullptr, false);
  return j.is_object() ? j.value("id", int64_t{0}) : 0;
}

JobctlOutcome Cluster::Jobctl(std::vector<std::string> args, std::map<std::string, std::string> env) {
  args.insert(args.begin(), BinaryPath("jobctl/jobctl"));
  env.emplace("CHIME_SCHEDULER", endpoint_);
  env.emplace("CHIME_ADMIN_SECRET", kClusterSecret);
  env.emplace("CHIME_DATABASE_URL", "");
  ChildProcess p(args, env);
  JobctlOutcome out;
  if (!p.Start()) return out;
  auto status = p.Wait(seconds(120));
  out.output = p.log();
  if (status && WIFEXITED(*status)) out.exit_code = WEXITSTATUS(*status);
  return out;
}

::testing::AssertionResult Cluster::WaitForLogAfter(ChildProcess& process, size_t offset,
                                                    const std::string& needle, milliseconds deadline) {
  return WaitUntil("\"" + needle + "\" in the log of pid " + std::to_string(process.pid()) +
                   " past byte " + std::to_string(offset), [&] {
    const std::string log = process.log();
    return log.size() > offset && log.find(needle, offset) != std::string::npos;
  }, deadline);
}

int64_t Cluster::Int(const std::string& sql) const {
  const std::string v = db_.Scalar(sql);
  return v.empty() ? 0 : std::stoll(v);
}

}  // namespace chime::testing
