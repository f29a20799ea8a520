// Issue 18, finding 1, end to end: a real chime-worker runs http_request
// jobs against a loopback server answering with ill-formed UTF-8, a UTF-8
// page longer than the 4 KiB excerpt whose cut falls inside 'é', and a
// refusal with a binary body. One such response used to abort the worker
// (terminate called after nlohmann's type_error.316); four in a row ended
// as "discarded as a poison pill" with the cause never recorded. Now each
// run is recorded once, with the text repaired, and the worker lives on.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/integration/cluster.h"
#include "tests/support/http_test_server.h"

namespace chime::testing {
namespace {

const std::string kReplacement = "\xEF\xBF\xBD";

class HostileResponseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kinds_file_ = std::filesystem::temp_directory_path() / ("chime-kinds-" + RandomHex(8) + ".yaml");
    std::ofstream(kinds_file_) << "http:\n  allow:\n    - 127.0.0.1/32\n";
  }
  void TearDown() override { std::filesystem::remove(kinds_file_); }

  std::string Enqueue(const std::string& path) {
    const nlohmann::json payload = {{"url", endpoint_.Url(path)}, {"method", "GET"}};
    JobctlOutcome enq = cluster_.Jobctl({"enqueue", "http_request", "--payload", payload.dump()});
    EXPECT_EQ(enq.exit_code, 0) << enq.output;
    return std::to_string(cluster_.Int("SELECT max(id) FROM chime.jobs_all"));
  }

  std::filesystem::path kinds_file_;
  Cluster cluster_;
  HttpTestServer endpoint_;
};

TEST_F(HostileResponseTest, IllFormedAndCutUtf8BodiesAreRecordedAndTheWorkerSurvives) {
  ChildProcess& scheduler = cluster_.StartScheduler();
  ChildProcess& worker = cluster_.StartWorker("w1", {"--kinds-config", kinds_file_.string()});
  endpoint_.Enqueue({.status = 200, .body = "ok \xFF\xFE\xC0\xAF\xED\xA0\x80 done"});
  endpoint_.Enqueue({.status = 200, .body = std::string(4095, 'a') + "\xC3\xA9" + std::string(1000, 'b')});
  endpoint_.Enqueue({.status = 404, .body = std::string("\x00\x01\x02\x89PNG\r\n\x1a\n", 11)});
  const std::string binary = Enqueue("/binary");
  const std::string page = Enqueue("/page");
  const std::string refused = Enqueue("/refused");
  const std::string all = binary + ", " + page + ", " + refused;
  ASSERT_TRUE(WaitUntil([&] {
    return cluster_.Int("SELECT count(*) FROM chime.jobs_all WHERE id IN (" + all +
                        ") AND state IN ('succeeded', 'discarded')") == 3 ||
           !worker.running();
  }, kClusterWaitBound)) << worker.log();
  ASSERT_TRUE(worker.running()) << "the worker died:\n" << worker.log();
  EXPECT_EQ(worker.log().find("terminate called"), std::string::npos) << worker.log();

  // One attempt each, its outcome and the repaired text recorded.
  EXPECT_EQ(cluster_.Int("SELECT count(*) FROM chime.runs WHERE job_id IN (" + all + ")"), 3);
  EXPECT_EQ(cluster_.Text("SELECT state FROM chime.jobs_all WHERE id = " + binary), "succeeded");
  EXPECT_EQ(cluster_.Text("SELECT summary->>'bodyExcerpt' FROM chime.runs WHERE job_id = " + binary),
            "ok " + kReplacement + kReplacement + kReplacement + kReplacement + kReplacement + kReplacement +
                kReplacement + " done");
  EXPECT_EQ(cluster_.Text("SELECT state FROM chime.jobs_all WHERE id = " + page), "succeeded");
  EXPECT_EQ(cluster_.Text("SELECT summary->>'bodyExcerpt' FROM chime.runs WHERE job_id = " + page),
            std::string(4095, 'a'));
  EXPECT_EQ(cluster_.Text("SELECT state FROM chime.jobs_all WHERE id = " + refused), "discarded");
  EXPECT_EQ(cluster_.Text("SELECT outcome FROM chime.runs WHERE job_id = " + refused), "discarded");
  EXPECT_NE(cluster_.Text("SELECT last_error FROM chime.jobs_all WHERE id = " + refused).find("answered HTTP 404"),
            std::string::npos);

  // The results reached the scheduler too (proto3 refuses ill-formed
  // strings): it counted them, and refused no frame from the worker.
  EXPECT_EQ(scheduler.log().find("dropping a message from peer"), std::string::npos) << scheduler.log();
  EXPECT_TRUE(scheduler.running()) << scheduler.log();

  // And it keeps running jobs.
  JobctlOutcome noop = cluster_.Jobctl({"enqueue", "noop", "--wait"});
  EXPECT_EQ(noop.exit_code, 0) << noop.output << worker.log();
}

}  // namespace
}  // namespace chime::testing
