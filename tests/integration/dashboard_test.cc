// The dashboard in headless Chromium against a running cluster: the page
// loads its data from /api with the token from the address's fragment, and
// the rows it draws match the database. A screenshot is saved next to the
// test binary (dashboard.png) for people to look at.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "tests/integration/cluster.h"

namespace chime::testing {
namespace {

using std::chrono::seconds;

std::optional<std::string> FindChromium() {
  for (const char* path : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
    if (std::filesystem::exists(path)) return std::string(path);
  }
  return std::nullopt;
}

std::set<std::string> Matches(const std::string& text, const std::string& pattern) {
  std::set<std::string> out;
  const std::regex re(pattern);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it) {
    out.insert((*it)[1].str());
  }
  return out;
}

class DashboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // README command 2 installs chromium first, so a missing browser is a
    // broken setup, not a reason to check nothing.
    auto found = FindChromium();
    ASSERT_TRUE(found.has_value()) << "chromium is not installed (scripts/install-deps.sh installs it)";
    chromium_ = *found;
    profile_ = std::filesystem::temp_directory_path() / ("chime-chromium-" + std::to_string(getpid()));
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(profile_, ec);
  }

  // Runs headless Chromium on `url` with `mode` (--dump-dom or
  // --screenshot=...) after the page had 15 s of virtual time; its stdout.
  std::string Chromium(const std::string& mode, const std::string& url) {
    ChildProcess p({chromium_, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--user-data-dir=" + profile_.string(), "--window-size=1400,1100",
                    "--virtual-time-budget=15000", mode, url},
                   {});
    EXPECT_TRUE(p.Start());
    auto status = p.Wait(seconds(120));
    EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << p.log().substr(0, 4000);
    return p.log();
  }

  std::string chromium_;
  std::filesystem::path profile_;
  Cluster cluster_;
};

TEST_F(DashboardTest, ShowsTheClustersSchedulesRunsAndWorkersAsTheDatabaseHasThem) {
  cluster_.StartScheduler();
  cluster_.StartWorker("dash-w1");
  for (std::vector<std::string> args :
       {std::vector<std::string>{"schedule", "create", "nightly-sync", "--cron", "0 2 * * *", "--kind", "noop"},
        std::vector<std::string>{"schedule", "create", "broken-report", "--cron", "*/15 * * * *", "--kind",
                                 "fail", "--max-attempts", "1"},
        std::vector<std::string>{"schedule", "trigger", "nightly-sync"},
        std::vector<std::string>{"schedule", "trigger", "broken-report"},
        std::vector<std::string>{"enqueue", "noop"}, std::vector<std::string>{"enqueue", "noop"}}) {
    JobctlOutcome out = cluster_.Jobctl(args);
    ASSERT_EQ(out.exit_code, 0) << out.output;
  }
  JobctlOutcome partial = cluster_.Jobctl({"enqueue", "outcome", "--payload", R"({"errors": ["row 7 <b>bad</b>"]})",
                                           "--wait", "--wait-timeout", "60s"});
  ASSERT_EQ(partial.exit_code, 8) << partial.output;
  const std::string partial_id = std::to_string(cluster_.Int("SELECT max(id) FROM chime.jobs"));
  ASSERT_TRUE(Cluster::WaitFor([&] { return cluster_.Int("SELECT count(*) FROM chime.runs") == 5; }))
      << cluster_.Text("SELECT string_agg(state, ',') FROM chime.jobs");

  const std::string url = "http://" + cluster_.http() + "/#token=" + kClusterSecret;
  const std::string dom = Chromium("--dump-dom", url);
  ASSERT_NE(dom.find("data-loaded=\"true\""), std::string::npos) << dom.substr(0, 4000);
  EXPECT_EQ(dom.find(kClusterSecret), std::string::npos) << "the token left the address";

  EXPECT_EQ(Matches(dom, "<tr data-schedule=\"([^\"]+)\" data-health="),
            (std::set<std::string>{"broken-report", "nightly-sync"}));
  std::set<std::string> runs;
  for (const auto& id : Matches(cluster_.Text("SELECT string_agg(id::text, ' ') FROM chime.runs"), "(\\d+)")) {
    runs.insert(id);
  }
  EXPECT_EQ(Matches(dom, "data-run-id=\"(\\d+)\""), runs);
  // Each row is a run: its final outcome, and its last attempt's.
  EXPECT_EQ(Matches(dom, "data-run-id=\"\\d+\" data-job-id=\"\\d+\" data-outcome=\"(\\w+)\""),
            (std::set<std::string>{"failed", "partial", "succeeded"}));
  EXPECT_EQ(Matches(dom, "data-attempt-outcome=\"(\\w+)\""),
            (std::set<std::string>{"discarded", "partial", "succeeded"}));

  // A job's own view, as alert notices link to it: its outcome and attempts;
  // the error text shown as text, never as markup.
  const std::string job_dom =
      Chromium("--dump-dom", "http://" + cluster_.http() + "/#/jobs/" + partial_id + "&token=" + kClusterSecret);
  EXPECT_NE(job_dom.find("<dl id=\"job-fields\" data-outcome=\"partial\">"), std::string::npos)
      << job_dom.substr(0, 4000);
  EXPECT_NE(job_dom.find("row 7 &lt;b&gt;bad&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(job_dom.find(kClusterSecret), std::string::npos) << "the token left the address";
  EXPECT_EQ(Matches(dom, "data-worker-id=\"([^\"]+)\""), (std::set<std::string>{"dash-w1"}));

  // Without a token the page asks for one and shows no data.
  const std::string bare = Chromium("--dump-dom", "http://" + cluster_.http() + "/");
  EXPECT_EQ(bare.find("data-run-id"), std::string::npos);
  EXPECT_NE(bare.find("<form id=\"login\">"), std::string::npos) << bare.substr(0, 4000);

  const auto shot = std::filesystem::path(BinaryPath("tests/integration")) / "dashboard.png";
  std::filesystem::remove(shot);
  Chromium("--screenshot=" + shot.string(), url);
  ASSERT_TRUE(std::filesystem::exists(shot));
  EXPECT_GT(std::filesystem::file_size(shot), 10'000u) << "a blank page would be smaller";
  std::cout << "dashboard screenshot: " << shot << "\n";
}

}  // namespace
}  // namespace chime::testing
