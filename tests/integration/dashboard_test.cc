// The dashboard in headless Chromium against a running cluster, driven as a
// user drives it through the DevTools protocol (tests/support/cdp_browser.h):
// sign in with an operate token, open the overview (its charts have data
// points), filter the job browser to discarded jobs, open one from the list,
// retry it and see the retry in the database, open a schedule (next fires
// across a daylight-saving change, its fires and health rules), trigger it
// and pause it from the page, and look at the queues. A read token sees no
// action and the server refuses one from it. Each view is saved as a PNG
// next to the test binary (dashboard-*.png): look at them.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <set>

#include "tests/integration/cluster.h"
#include "tests/support/cdp_browser.h"

namespace chime::testing {
namespace {

using json = nlohmann::json;
using std::chrono::seconds;

std::optional<std::string> FindChromium() {
  for (const char* path : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
    if (std::filesystem::exists(path)) return std::string(path);
  }
  return std::nullopt;
}

std::set<std::string> Words(const std::string& text) {
  std::set<std::string> out;
  const std::regex re("[^ ,]+");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it) {
    out.insert(it->str());
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
    profile_ = std::filesystem::temp_directory_path() / ("chime-chromium-" + RandomHex(8));
    shots_ = std::filesystem::path(BinaryPath("tests/integration"));
  }
  void TearDown() override {
    browser_.reset();
    std::error_code ec;
    std::filesystem::remove_all(profile_, ec);
  }

  CdpBrowser& Browser() {
    if (!browser_) {
      auto b = CdpBrowser::Start({.binary = chromium_, .profile_dir = profile_, .width = 1440, .height = 1000});
      EXPECT_TRUE(b.has_value()) << (b ? "" : b.error().ToString());
      if (b) browser_ = std::move(*b);
    }
    return *browser_;
  }

  // Waits until the page shows `view`, drawn for the address it is at now
  // (a click changes the address first and draws after its data came), and
  // `extra` holds.
  void WaitForView(const std::string& view, const std::string& extra = "true") {
    ASSERT_TRUE(Browser().WaitFor("document.body.dataset.loaded === 'true' && (v => v && v.dataset.view === '" + view +
                                  "' && v.dataset.route === location.hash)(document.querySelector('#app > [data-view]'))"
                                  " && (" + extra + ")"))
        << "view " << view << " (" << extra << ") never showed; hash "
        << Browser().Evaluate("location.hash").value_or(json()).dump() << "; error "
        << Browser().Evaluate("document.getElementById('error').textContent").value_or(json()).dump();
  }

  json Eval(const std::string& expression) {
    auto v = Browser().Evaluate(expression);
    EXPECT_TRUE(v.has_value()) << expression << ": " << (v ? "" : v.error().ToString());
    return v ? *v : json();
  }

  void Shot(const std::string& name) {
    const auto path = shots_ / ("dashboard-" + name + ".png");
    std::filesystem::remove(path);
    auto ok = Browser().Screenshot(path);
    ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
    EXPECT_GT(std::filesystem::file_size(path), 20'000u) << "a blank page would be smaller";
    std::cout << "dashboard screenshot: " << path << "\n";
  }

  // Data points a chart drew (Chart.js's own data, non-null values).
  int64_t ChartPoints(const std::string& name, bool nonzero) {
    const json v = Eval("(() => { const c = Chart.getChart(document.querySelector('canvas[data-chart=\"" + name +
                        "\"]')); if (!c) return -1; let n = 0; for (const d of c.data.datasets) for (const p of d.data) {"
                        " const y = p && typeof p === 'object' ? p.y : p; if (y != null && (" +
                        (nonzero ? "y > 0" : "true") + ")) n++; } return n; })()");
    return v.is_number() ? v.get<int64_t>() : -1;
  }

  std::string chromium_;
  std::filesystem::path profile_;
  std::filesystem::path shots_;
  Cluster cluster_;
  std::unique_ptr<CdpBrowser> browser_;
};

TEST_F(DashboardTest, AnOperatorBrowsesRetriesTriggersAndPausesFromThePage) {
  // Queue depth every second, so the queue charts have samples by the time
  // the page is opened.
  cluster_.StartScheduler({"--queue-sample-interval", "1s"});
  cluster_.StartWorker("dash-w1");
  const std::string ops = cluster_.ApiToken("ops", "operate");
  const std::string viewer = cluster_.ApiToken("viewer", "read");
  ASSERT_FALSE(ops.empty());
  ASSERT_FALSE(viewer.empty());
  for (std::vector<std::string> args :
       {std::vector<std::string>{"schedule", "create", "nightly-sync", "--cron", "0 2 * * *", "--kind", "noop"},
        std::vector<std::string>{"schedule", "create", "broken-report", "--cron", "*/15 * * * *", "--kind", "fail",
                                 "--max-attempts", "1"},
        // Monthly in Berlin: its next ten fires cross a change of UTC offset.
        std::vector<std::string>{"schedule", "create", "monthly-invoices", "--cron", "0 9 1 * *", "--tz",
                                 "Europe/Berlin", "--kind", "sleep", "--payload", "{\"ms\": 20}"},
        std::vector<std::string>{"schedule", "trigger", "nightly-sync"},
        std::vector<std::string>{"schedule", "trigger", "broken-report"},
        std::vector<std::string>{"app-schema", "--demo-data", "--database-url", cluster_.db().url()}}) {
    JobctlOutcome out = cluster_.Jobctl(args);
    ASSERT_EQ(out.exit_code, 0) << out.output;
  }
  // A job with a structured result (the seed's reconcile format), one that
  // fails once and then succeeds, and a fan-out parent with children that
  // end both ways (an application's own INSERT, as README allows).
  const int64_t reconcile = cluster_.EnqueueJob({"reconcile_exam_capacity", "--payload", "{\"examIds\": [3, 4]}", "--dry-run"});
  const int64_t flaky = cluster_.EnqueueJob({"fail", "--payload", "{\"times\": 1}", "--max-attempts", "3"});
  const int64_t parent = cluster_.EnqueueJob({"noop"});
  ASSERT_GT(reconcile, 0);
  ASSERT_GT(flaky, 0);
  ASSERT_GT(parent, 0);
  cluster_.db().Exec("INSERT INTO chime.jobs (kind, payload, parent_id, max_attempts) "
                     "SELECT CASE WHEN g <= 9 THEN 'noop' ELSE 'fail' END, "
                     "CASE WHEN g <= 9 THEN '{}' ELSE '{\"times\": 5}' END::jsonb, " +
                     std::to_string(parent) + ", 1 FROM generate_series(1, 12) g");
  ASSERT_TRUE(WaitUntil([&] {
    return cluster_.Int("SELECT count(*) FROM chime.jobs_all WHERE state NOT IN ('succeeded', 'discarded')") == 0;
  }, kClusterWaitBound)) << cluster_.Text("SELECT string_agg(id || ':' || kind || ':' || state, ' ') FROM chime.jobs_all");
  ASSERT_TRUE(WaitUntil([&] { return cluster_.Int("SELECT count(*) FROM chime.queue_samples") > 0; }, kClusterWaitBound));
  const std::string discarded =
      cluster_.Text("SELECT string_agg(id::text, ' ' ORDER BY id) FROM chime.jobs_all WHERE state = 'discarded'");
  const int64_t broken =
      cluster_.Int("SELECT j.id FROM chime.jobs_all j JOIN chime.schedules s ON s.id = j.schedule_id "
                   "WHERE s.name = 'broken-report'");
  ASSERT_GT(broken, 0);

  CdpBrowser& b = Browser();
  const std::string base = "http://" + cluster_.http() + "/";
  // Every document records what its Content Security Policy refused: the
  // page and Chart.js must work under the strict policy, refusing nothing.
  ASSERT_TRUE(b.Call("Page.addScriptToEvaluateOnNewDocument",
                     {{"source", "window.cspRefused = []; document.addEventListener('securitypolicyviolation', "
                                 "e => window.cspRefused.push(e.violatedDirective + ' ' + e.blockedURI));"}})
                  .has_value());

  // Signed out, the page asks for a token and shows nothing else.
  ASSERT_TRUE(b.Navigate(base).has_value());
  ASSERT_TRUE(b.WaitFor("!document.getElementById('login-page').hidden")) << b.log().substr(0, 3000);
  EXPECT_EQ(Eval("document.getElementById('app').childElementCount"), 0);
  Shot("login");
  ASSERT_TRUE(b.Type("#token", ops).has_value());
  ASSERT_TRUE(b.Click("#login button[type=submit]").has_value());

  // The overview: its figures and charts come from the API.
  WaitForView("overview");
  EXPECT_EQ(Eval("document.getElementById('whoami').textContent"), "ops · operate");
  EXPECT_EQ(Eval("sessionStorage.getItem('chime.token') === " + json(ops).dump()), true);
  EXPECT_EQ(Eval("location.href.includes('chime_')"), false) << "the token is never in the address";
  EXPECT_GT(ChartPoints("runs", /*nonzero=*/true), 0) << "runs by outcome has no bar";
  EXPECT_GT(ChartPoints("throughput", true), 0);
  EXPECT_GT(ChartPoints("queue-depth", false), 0) << "no queue sample drawn";
  EXPECT_EQ(Words(Eval("[...document.querySelectorAll('#schedules tr[data-schedule]')].map(r => "
                       "r.dataset.schedule).join(' ')")
                      .get<std::string>()),
            (std::set<std::string>{"broken-report", "monthly-invoices", "nightly-sync"}));
  Shot("overview");

  // The job browser, filtered by a state chip: the address holds the filter.
  ASSERT_TRUE(b.Click("#nav a[data-nav=jobs]").has_value());
  WaitForView("jobs");
  ASSERT_TRUE(b.Click(".chip[data-state=discarded]").has_value());
  WaitForView("jobs", "location.hash === '#/jobs?state=discarded'");
  EXPECT_EQ(Words(Eval("[...document.querySelectorAll('#jobs tr[data-job-id]')].map(r => r.dataset.jobId).join(' ')")
                      .get<std::string>()),
            Words(discarded));
  Shot("jobs");

  // A job opened from the list: its attempt, then a retry from the page.
  ASSERT_TRUE(b.Click("#jobs tr[data-job-id=\"" + std::to_string(broken) + "\"] td:nth-child(2)").has_value());
  WaitForView("job", "location.hash === '#/jobs/" + std::to_string(broken) + "'");
  EXPECT_EQ(Eval("document.querySelectorAll('#attempts li[data-run-id]').length"), 1);
  EXPECT_EQ(Eval("!!document.querySelector('a[href=\"#/schedules/broken-report\"]')"), true);
  ASSERT_TRUE(b.Click("#retry").has_value());
  ASSERT_TRUE(b.WaitFor("document.getElementById('confirm').open"));
  ASSERT_TRUE(b.Click("#confirm-ok").has_value());
  ASSERT_TRUE(WaitUntil([&] {
    return cluster_.Int("SELECT count(*) FROM chime.runs WHERE job_id = " + std::to_string(broken)) == 2;
  }, kClusterWaitBound)) << "the retry never reached the database";
  EXPECT_EQ(cluster_.Int("SELECT attempt FROM chime.jobs_all WHERE id = " + std::to_string(broken)), 2);
  WaitForView("job", "document.querySelectorAll('#attempts li[data-run-id]').length === 2");
  Shot("job-retried");

  // A result is a tree, not an escaped string: the seed's reconcile format.
  ASSERT_TRUE(b.Navigate(base + "#/jobs/" + std::to_string(reconcile)).has_value());
  WaitForView("job", "document.querySelector('#result .json details')");
  EXPECT_EQ(Eval("[...document.querySelectorAll('#result .j-key')].some(k => k.textContent === '\"processed\"')"), true);
  EXPECT_EQ(Eval("document.querySelector('#result').textContent.includes('\\\\\"')"), false) << "escaped JSON";
  Shot("job-result");

  // A fan-out's children by outcome, and the flaky job's two attempts.
  ASSERT_TRUE(b.Navigate(base + "#/jobs/" + std::to_string(parent)).has_value());
  WaitForView("job", "document.querySelector('[data-child-outcome]')");
  EXPECT_EQ(Eval("document.querySelector('[data-child-outcome=succeeded]').textContent"), "succeeded 9");
  EXPECT_EQ(Eval("document.querySelector('[data-child-outcome=failed]').textContent"), "failed 3");
  Shot("job-fan-out");
  ASSERT_TRUE(b.Navigate(base + "#/jobs/" + std::to_string(flaky)).has_value());
  WaitForView("job", "document.querySelectorAll('#attempts li[data-run-id]').length === 2");
  EXPECT_EQ(Eval("[...document.querySelectorAll('#attempts li[data-run-id]')].map(l => l.dataset.outcome).join(' ')"),
            "failed succeeded");
  Shot("job-attempts");

  // A schedule: next fires in its zone across a DST change, then a trigger
  // from the page whose run shows in the schedule's chart.
  ASSERT_TRUE(b.Click("#nav a[data-nav=schedules]").has_value());
  WaitForView("schedules");
  ASSERT_TRUE(b.Click("tr[data-schedule=monthly-invoices] td:nth-child(3)").has_value());
  WaitForView("schedule", "location.hash === '#/schedules/monthly-invoices'");
  EXPECT_EQ(Eval("document.querySelectorAll('#next-fires tbody tr').length"), 10);
  EXPECT_GE(Eval("document.querySelectorAll('#next-fires tr[data-change=true]').length").get<int>(), 1)
      << "ten monthly fires in Berlin cross a change of offset";
  EXPECT_EQ(Eval("document.querySelectorAll('#health tr[data-rule]').length"), 6);
  ASSERT_TRUE(b.Click("#trigger").has_value());
  ASSERT_TRUE(b.WaitFor("document.getElementById('confirm').open"));
  ASSERT_TRUE(b.Click("#confirm-ok").has_value());
  ASSERT_TRUE(WaitUntil([&] {
    return cluster_.Int("SELECT count(*) FROM chime.runs r JOIN chime.schedules s ON s.id = r.schedule_id "
                        "WHERE s.name = 'monthly-invoices' AND r.outcome = 'succeeded'") == 1;
  }, kClusterWaitBound)) << "the trigger never ran";
  ASSERT_TRUE(b.Click("#nav a[data-nav=schedules]").has_value());
  WaitForView("schedules");
  ASSERT_TRUE(b.Navigate(base + "#/schedules/monthly-invoices").has_value());
  WaitForView("schedule", "document.querySelectorAll('#fires tr[data-fire-outcome]').length === 1");
  EXPECT_GT(ChartPoints("schedule-runs", true), 0) << "the schedule's chart has no bar for its run";
  EXPECT_GT(ChartPoints("durations", false), 0) << "no duration drawn";
  Shot("schedule");
  ASSERT_TRUE(b.Click("#pause").has_value());
  ASSERT_TRUE(b.WaitFor("document.getElementById('confirm').open"));
  ASSERT_TRUE(b.Click("#confirm-ok").has_value());
  ASSERT_TRUE(WaitUntil(
      [&] { return cluster_.Text("SELECT paused::text FROM chime.schedules WHERE name = 'monthly-invoices'") == "true"; }, kClusterWaitBound));
  WaitForView("schedule", "document.querySelector('[data-view=schedule]').dataset.paused === 'true' && "
                          "document.getElementById('resume')");

  // A cluster-wide limit shows on the queues page with its budget.
  JobctlOutcome limit = cluster_.Jobctl({"limit", "set", "dash-limit", "--kind", "sync_integration", "--partition-by",
                                         "provider", "--concurrency", "3", "--database-url", cluster_.db().url()});
  ASSERT_EQ(limit.exit_code, 0) << limit.output;
  ASSERT_TRUE(b.Click("#nav a[data-nav=queues]").has_value());
  WaitForView("queues", "document.querySelector('#workers tr[data-worker-id=dash-w1]') && "
                        "document.querySelector('#limits tr[data-limit=dash-limit]')");
  EXPECT_EQ(Eval("document.querySelector('#limits tr[data-limit=dash-limit]').textContent.includes('3 at once')"), true);
  EXPECT_GT(ChartPoints("queue-depth", false), 0);
  Shot("queues");
  EXPECT_EQ(Eval("window.cspRefused.join(', ')"), "") << "the page needs what its policy refuses";
  // ... and the policy is in force: an inline script does not run.
  EXPECT_EQ(Eval("(() => { const s = document.createElement('script'); s.textContent = 'window.inlineRan = true'; "
                 "document.body.appendChild(s); return window.inlineRan === true; })()"),
            false);
  EXPECT_TRUE(b.WaitFor("window.cspRefused.some(v => v.startsWith('script-src'))"));

  // A read token: the same pages, no actions; the server refuses one anyway.
  ASSERT_TRUE(b.Click("#logout").has_value());
  ASSERT_TRUE(b.WaitFor("!document.getElementById('login-page').hidden"));
  ASSERT_TRUE(b.Navigate(base + "#token=" + viewer).has_value());
  WaitForView("overview");
  EXPECT_EQ(Eval("location.hash"), "#/") << "the token left the address";
  EXPECT_EQ(Eval("document.body.dataset.scope"), "read");
  ASSERT_TRUE(b.Navigate(base + "#/jobs/" + std::to_string(broken)).has_value());
  WaitForView("job");
  EXPECT_EQ(Eval("document.querySelectorAll('#retry, #cancel').length"), 0);
  EXPECT_EQ(Eval("fetch('/api/jobs/" + std::to_string(broken) + "/retry', {method: 'POST', headers: "
                 "{Authorization: 'Bearer ' + sessionStorage.getItem('chime.token')}}).then(r => r.status)"),
            403);
  EXPECT_EQ(cluster_.Int("SELECT count(*) FROM chime.runs WHERE job_id = " + std::to_string(broken)), 2);
}

// A week of a team's schedules, as the README's picture shows it: six
// schedules' runs at their cadence (a few partial and failed, one schedule
// failing for its last runs, so the leader fires an alert), fires with some
// overlaps skipped, a day of queue samples and a backlog in a queue no
// worker serves. The history goes in by SQL (the rollup's triggers count
// it as they count any run); the checks are what the pages draw from it.
TEST_F(DashboardTest, ABusyWeekAsTheReadmeShowsIt) {
  cluster_.StartScheduler({"--health-interval", "1s"});
  cluster_.StartWorker("worker-a");
  const std::string ops = cluster_.ApiToken("ops", "operate");
  struct Sched {
    const char* name;
    const char* cron;
    const char* zone;
    const char* kind;
    int every_minutes;
    int base_ms;
  };
  const Sched schedules[] = {
      {"sync-github", "*/15 * * * *", "UTC", "sync_integration", 15, 900},
      {"sync-notion", "*/30 * * * *", "UTC", "sync_integration", 30, 1400},
      {"reconcile-exams", "0 */2 * * *", "UTC", "reconcile_exam_capacity", 120, 4200},
      {"nightly-users", "0 2 * * *", "Europe/Berlin", "process_all_users", 1440, 48000},
      {"cleanup-old-jobs", "0 3 * * *", "UTC", "cleanup_old_jobs", 1440, 2600},
      {"reset-stale-jobs", "0 * * * *", "UTC", "reset_stale_jobs", 60, 300},
  };
  for (const Sched& sc : schedules) {
    JobctlOutcome out = cluster_.Jobctl({"schedule", "create", sc.name, "--cron", sc.cron, "--tz", sc.zone, "--kind",
                                         sc.kind, "--payload", "{\"dryRun\": true}"});
    ASSERT_EQ(out.exit_code, 0) << out.output;
    // Paused while the history goes in, so the leader fires none of them now.
    ASSERT_EQ(cluster_.Jobctl({"schedule", "pause", sc.name}).exit_code, 0);
    cluster_.db().Exec(
        "WITH t AS (SELECT s.id, g AS n, date_trunc('minute', now()) - g * interval '" +
        std::to_string(sc.every_minutes) + " minutes' AS at FROM chime.schedules s, generate_series(1, " +
        std::to_string(7 * 1440 / sc.every_minutes) + ") g WHERE s.name = '" + sc.name + "'), "
        "r AS (SELECT t.*, abs(hashint4(t.n * 7919 + t.id::int)) % 1000 AS o, "
        "  " + std::to_string(sc.base_ms) + " * (0.55 + (abs(hashint4(t.n * 31 + t.id::int)) % 1000) / 1000.0 "
        "    * (1 + 0.6 * sin(extract(epoch FROM t.at) / 43200.0))) AS ms FROM t), "
        // Each job's one attempt is its final run: its outcome is the run's.
        "f AS (SELECT r.*, CASE WHEN '" + std::string(sc.name) + "' = 'sync-notion' AND r.n <= 4 THEN 'failed' "
        "       WHEN r.o < 18 THEN 'failed' WHEN r.o < 60 THEN 'partial' WHEN r.o < 66 THEN 'cancelled' "
        "       ELSE 'succeeded' END AS outcome FROM r) "
        "INSERT INTO chime.runs (job_id, kind, queue, attempt, schedule_id, scheduled_for, worker_id, started_at, "
        "  finished_at, outcome, final, job_outcome, errors) "
        "SELECT 1000000 + r.id * 100000 + r.n, '" + std::string(sc.kind) + "', 'default', 1, r.id, r.at, "
        "  CASE WHEN r.n % 2 = 0 THEN 'worker-a' ELSE 'worker-b' END, r.at + interval '2 seconds', "
        "  r.at + interval '2 seconds' + r.ms * interval '1 millisecond', r.outcome, true, r.outcome, "
        "  CASE WHEN '" + std::string(sc.name) + "' = 'sync-notion' AND r.n <= 4 "
        "       THEN ARRAY['notion: 401 Unauthorized (token revoked?)'] "
        "       WHEN r.o < 60 THEN ARRAY['upstream answered 503'] ELSE '{}' END "
        "FROM f r");
    cluster_.db().Exec(
        "INSERT INTO chime.fires (schedule_id, scheduled_for, job_id, leader_epoch, outcome, fired_at) "
        "SELECT r.schedule_id, r.scheduled_for, r.job_id, 1, 'enqueued', r.scheduled_for FROM chime.runs r "
        "JOIN chime.schedules s ON s.id = r.schedule_id WHERE s.name = '" + std::string(sc.name) + "' "
        "UNION ALL SELECT r.schedule_id, r.scheduled_for + interval '1 minute', NULL, 1, 'skipped_overlap', "
        "r.scheduled_for + interval '1 minute' FROM chime.runs r JOIN chime.schedules s ON s.id = r.schedule_id "
        "WHERE s.name = '" + std::string(sc.name) + "' AND r.job_id % 23 = 0");
    ASSERT_EQ(cluster_.Jobctl({"schedule", "resume", sc.name}).exit_code, 0);
  }
  // A day of queue samples with a morning backlog, and one now in "mail".
  cluster_.db().Exec(
      "INSERT INTO chime.queue_samples (span, at, queue, ready, running, oldest_ready_ms, ready_sum, samples) "
      "SELECT s.span, date_bin(s.step, now(), timestamptz 'epoch') - g * s.step, q.name, "
      "  greatest(0, (q.scale * (1 + sin(g * s.k / 9.0)) * (1 + (abs(hashint4(g + q.i)) % 40) / 100.0))::bigint), "
      "  (abs(hashint4(g * 3 + q.i)) % (4 * q.i))::bigint, "
      "  (q.scale * 40 * (1 + sin(g * s.k / 9.0)))::bigint, 0, 1 "
      "FROM (VALUES ('sample', interval '15 seconds', 0.01, 240), ('five_min', interval '5 minutes', 0.2, 300), "
      "             ('hour', interval '1 hour', 4, 190)) s(span, step, k, n) "
      "CROSS JOIN LATERAL generate_series(1, s.n) g "
      "CROSS JOIN (VALUES (1, 'default', 40), (2, 'mail', 120), (3, 'sync', 260)) q(i, name, scale)");
  for (int i = 0; i < 37; ++i) ASSERT_GT(cluster_.EnqueueJob({"deliver_webhooks", "--queue", "mail"}), 0);
  for (int i = 0; i < 3; ++i) ASSERT_GT(cluster_.EnqueueJob({"fail", "--max-attempts", "1"}), 0);
  ASSERT_TRUE(WaitUntil([&] {
    return cluster_.Int("SELECT count(*) FROM chime.alerts WHERE state = 'firing' AND schedule_name = 'sync-notion'") > 0;
  }, kClusterWaitBound)) << "the leader never saw sync-notion's failures";
  ASSERT_TRUE(WaitUntil([&] { return cluster_.Int("SELECT count(*) FROM chime.jobs_all WHERE kind = 'fail' AND state = 'discarded'") == 3; }, kClusterWaitBound));

  CdpBrowser& b = Browser();
  const std::string base = "http://" + cluster_.http() + "/";
  ASSERT_TRUE(b.Navigate(base + "#token=" + ops).has_value());
  WaitForView("overview", "document.querySelector('#alerts tr')");
  EXPECT_GT(ChartPoints("runs", true), 12) << "a day of hourly bars";
  EXPECT_GT(ChartPoints("queue-depth", false), 100);
  // The README's picture: the overview, scaled to 75 %.
  const auto readme = shots_ / "dashboard-readme.png";
  ASSERT_TRUE(b.Screenshot(readme, /*full_page=*/false, 0.75).has_value());
  std::cout << "dashboard screenshot: " << readme << "\n";
  Shot("week-overview");
  ASSERT_TRUE(b.Navigate(base + "#/schedules/sync-notion?range=7d").has_value());
  WaitForView("schedule", "document.querySelector('#health tr[data-state=firing]')");
  EXPECT_EQ(Eval("document.querySelector('#health tr[data-state=firing]').dataset.rule"), "consecutive_failures");
  EXPECT_GT(ChartPoints("schedule-runs", true), 100) << "a week of hourly bars";
  Shot("week-schedule");
  ASSERT_TRUE(b.Navigate(base + "#/schedules").has_value());
  WaitForView("schedules");
  Shot("week-schedules");
}

}  // namespace
}  // namespace chime::testing
