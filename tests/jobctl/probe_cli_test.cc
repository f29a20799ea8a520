// jobctl probe against a real HTTP server on loopback: the body is printed,
// 2xx exits 0, anything else or no answer exits 5, and a URL that is not on
// loopback is refused before any request (exit 2).
#include <gtest/gtest.h>

#include "common/web/server.h"
#include "jobctl/exit_code.h"
#include "tests/jobctl/cli_harness.h"

namespace chime::jobctl {
namespace {

class ProbeCliTest : public test_support::CliTest {
 protected:
  void SetUp() override {
    server_ = std::make_unique<web::Server>(web::ServerConfig{.listen = "127.0.0.1:0"});
    server_->Get("/readyz", web::Access::kOpen, [this](const web::Request&) {
      return web::Response{.status = ready_ ? 200 : 503,
                           .body = ready_ ? R"({"status":"healthy"})" : R"({"status":"unhealthy"})"};
    });
    auto address = server_->Start();
    ASSERT_TRUE(address.has_value()) << address.error().message;
    base_ = "http://" + *address;
  }

  bool ready_ = true;
  std::unique_ptr<web::Server> server_;
  std::string base_;
};

TEST_F(ProbeCliTest, AHealthyEndpointExitsZeroAndPrintsItsBody) {
  EXPECT_EQ(Run({"probe", base_ + "/readyz"}), kExitOk) << err.str();
  EXPECT_EQ(out.str(), "{\"status\":\"healthy\"}\n");
  EXPECT_EQ(backends_made, 0);  // No database or scheduler is needed.
}

TEST_F(ProbeCliTest, AnUnhealthyEndpointExitsFiveNamingTheStatus) {
  ready_ = false;
  EXPECT_EQ(Run({"probe", base_ + "/readyz"}), kExitUnavailable);
  EXPECT_EQ(out.str(), "{\"status\":\"unhealthy\"}\n");
  EXPECT_NE(err.str().find("HTTP 503"), std::string::npos) << err.str();
}

TEST_F(ProbeCliTest, NoAnswerExitsFive) {
  server_->Stop();
  EXPECT_EQ(Run({"probe", base_ + "/readyz", "--timeout", "2s"}), kExitUnavailable);
  EXPECT_NE(err.str().find("probe http://127.0.0.1:"), std::string::npos) << err.str();
}

TEST_F(ProbeCliTest, OnlyLoopbackAddressesAreProbed) {
  EXPECT_EQ(Run({"probe", "http://192.0.2.1:8080/readyz", "--timeout", "2s"}), kExitUsage);
  EXPECT_NE(err.str().find("192.0.2.1"), std::string::npos) << err.str();
  EXPECT_EQ(Run({"probe", base_ + "/readyz", "--timeout", "soon"}), kExitUsage);
  EXPECT_NE(err.str().find("--timeout"), std::string::npos) << err.str();
}

}  // namespace
}  // namespace chime::jobctl
