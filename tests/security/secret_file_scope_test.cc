// Issue 18, finding 3: a kinds file that permits
// file:<dir>/integrations_cron for http_request payloads permitted every
// file of <dir>, so a payload sent the database URL and the admin secret
// mounted beside the cron secret as a Bearer header to a URL of its choice.
// Written against the kinds file, the handler and the job harness only, so
// it runs against the code before the fix (where it failed) and after.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "tests/support/http_test_server.h"
#include "tests/support/test_database.h"
#include "tests/worker/kinds/job_harness.h"
#include "worker/kinds/app_config.h"
#include "worker/kinds/http_request.h"

namespace chime::worker::kinds {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class SecretFileScopeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "chime-secret-scope-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    Write("integrations_cron", "cron-secret-value");
    Write("database_url", "postgresql://chime:db-password-sentinel@db/chime");
    Write("admin_secret", "admin-secret-sentinel");
    auto config = ParseAppConfig("http:\n  allow: [127.0.0.1/32]\nhttp_request:\n  secrets:\n    - file:" +
                                 (dir_ / "integrations_cron").string() + "\n");
    ASSERT_TRUE(config.has_value()) << config.error().message;
    auto kind = HttpRequestKind::Create(*config);
    ASSERT_TRUE(kind.has_value()) << kind.error().ToString();
    kind_ = std::move(*kind);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& name, const std::string& value) { std::ofstream(dir_ / name) << value << "\n"; }

  HandlerResult Call(const std::string& file) {
    return harness_.Run(*kind_, {{"url", server_.Url("/api/cron")},
                                 {"method", "POST"},
                                 {"auth", {{"type", "bearer"}, {"secret", "file:" + (dir_ / file).string()}}}});
  }

  fs::path dir_;
  chime::testing::TestDatabase db_;
  testing::JobHarness harness_{db_};
  chime::testing::HttpTestServer server_;
  std::unique_ptr<HttpRequestKind> kind_;
};

TEST_F(SecretFileScopeTest, OnlyThePermittedFileIsSentNeverItsSiblings) {
  for (const char* sibling : {"database_url", "admin_secret"}) {
    HandlerResult r = Call(sibling);
    EXPECT_EQ(r.kind, HandlerResult::Kind::kFailure) << sibling;
    EXPECT_FALSE(r.retryable) << sibling;
  }
  EXPECT_EQ(server_.Connections(), 0) << "a sibling of the permitted file was sent";
  for (const auto& request : server_.Requests()) {
    EXPECT_EQ(request.Header("authorization").value_or("").find("sentinel"), std::string::npos);
  }

  HandlerResult ok = Call("integrations_cron");
  EXPECT_EQ(ok.kind, HandlerResult::Kind::kSuccess) << (ok.errors.empty() ? "" : ok.errors[0]);
  ASSERT_EQ(server_.Requests().size(), 1u);
  EXPECT_EQ(server_.Requests()[0].Header("authorization"), "Bearer cron-secret-value");
}

}  // namespace
}  // namespace chime::worker::kinds
