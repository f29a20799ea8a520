// The dashboard's API on a running scheduler: the actions (retry, cancel,
// trigger, pause, resume; queue pause and resume) need a token of scope operate, change the
// database and refuse bad input with a clear status; the series, fires,
// schedule page and job browser answer their documented shapes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/integration/cluster.h"

namespace chime::testing {
namespace {

using json = nlohmann::json;

class DashboardApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.StartScheduler({"--queue-sample-interval", "1s"});
    cluster_.StartWorker("api-w1");
    ops_ = cluster_.ApiToken("ops", "operate");
    viewer_ = cluster_.ApiToken("viewer", "read");
    ASSERT_FALSE(ops_.empty());
    ASSERT_FALSE(viewer_.empty());
    JobctlOutcome made = cluster_.Jobctl({"schedule", "create", "tick", "--cron", "0 3 * * *", "--tz",
                                          "America/New_York", "--kind", "noop"});
    ASSERT_EQ(made.exit_code, 0) << made.output;
  }

  // {status, parsed body} of a request with `token`.
  std::pair<int, json> Call(const std::string& method, const std::string& path, const std::string& token,
                            const std::string& body = "") {
    HttpHeaders headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    HttpReply r = HttpCall(cluster_.http(), method, path, headers,
                           method == "GET" ? std::nullopt : std::optional<std::string>(body));
    return {r.status, json::parse(r.body, nullptr, false)};
  }

  std::string Message(const json& body) {
    return body.is_object() && body.contains("error") ? body["error"].value("message", "") : body.dump();
  }

  Cluster cluster_;
  std::string ops_, viewer_;
};

TEST_F(DashboardApiTest, ActionsNeedOperateAndChangeTheDatabase) {
  const int64_t failed = cluster_.EnqueueJob({"fail", "--max-attempts", "1"});
  ASSERT_TRUE(WaitUntil([&] {
    return cluster_.Text("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(failed)) == "discarded";
  }, kClusterWaitBound));
  const std::string retry = "/api/jobs/" + std::to_string(failed) + "/retry";

  // No token, a read token: refused, nothing changes.
  EXPECT_EQ(Call("POST", retry, "").first, 401);
  auto [read_status, read_body] = Call("POST", retry, viewer_);
  EXPECT_EQ(read_status, 403);
  EXPECT_NE(Message(read_body).find("operate"), std::string::npos) << Message(read_body);
  EXPECT_EQ(cluster_.Text("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(failed)), "discarded");

  // Bad input is named.
  EXPECT_EQ(Call("POST", retry + "?now=1", ops_).first, 400);
  auto [body_status, body_error] = Call("POST", retry, ops_, "{\"attempts\": 9}");
  EXPECT_EQ(body_status, 400);
  EXPECT_NE(Message(body_error).find("no body"), std::string::npos) << Message(body_error);
  EXPECT_EQ(Call("POST", "/api/jobs/abc/retry", ops_).first, 400);
  EXPECT_EQ(Call("POST", "/api/jobs/999999999/retry", ops_).first, 404);
  EXPECT_EQ(Call("GET", retry, ops_).first, 405) << "an action is a POST";

  // An operate token retries (an empty object is an empty body).
  auto [ok_status, job] = Call("POST", retry, ops_, "{}");
  ASSERT_EQ(ok_status, 200) << job.dump();
  EXPECT_EQ(job["id"], failed);
  EXPECT_EQ(job["state"], "available");
  ASSERT_TRUE(WaitUntil([&] {
    return cluster_.Int("SELECT count(*) FROM chime.runs WHERE job_id = " + std::to_string(failed)) == 2;
  }, kClusterWaitBound));
  EXPECT_NE(cluster_.scheduler().log().find("token 'ops' (operate) retried job " + std::to_string(failed)),
            std::string::npos)
      << "the action is logged with the token's name";

  // A job that succeeded cannot be retried.
  const int64_t done = cluster_.EnqueueJob({"noop"});
  ASSERT_TRUE(WaitUntil([&] {
    return cluster_.Text("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(done)) == "succeeded";
  }, kClusterWaitBound));
  EXPECT_EQ(Call("POST", "/api/jobs/" + std::to_string(done) + "/retry", ops_).first, 409);

  // Cancel: a job not yet due ends cancelled at once.
  const int64_t later = cluster_.EnqueueJob({"noop", "--delay", "1h"});
  auto [cancel_status, cancelled] = Call("POST", "/api/jobs/" + std::to_string(later) + "/cancel", ops_);
  ASSERT_EQ(cancel_status, 200) << cancelled.dump();
  EXPECT_EQ(cancelled["cancelled_now"], true);
  EXPECT_EQ(cancelled["job"]["state"], "cancelled");
  EXPECT_EQ(cluster_.Text("SELECT state || ':' || outcome FROM chime.jobs_all WHERE id = " + std::to_string(later)),
            "cancelled:cancelled");
  EXPECT_EQ(Call("POST", "/api/jobs/" + std::to_string(later) + "/cancel", ops_).first, 409);

  // Trigger: a manual fire and its job; the per-minute limit answers 409.
  auto [trigger_status, trigger] = Call("POST", "/api/schedules/tick/trigger", ops_);
  ASSERT_EQ(trigger_status, 200) << trigger.dump();
  ASSERT_TRUE(trigger["fire"]["job_id"].is_number());
  EXPECT_EQ(cluster_.Int("SELECT count(*) FROM chime.fires WHERE origin = 'manual' AND job_id = " +
                         trigger["fire"]["job_id"].dump()),
            1);
  int status = 200;
  for (int i = 0; i < 5 && status == 200; ++i) status = Call("POST", "/api/schedules/tick/trigger", ops_).first;
  EXPECT_EQ(status, 409) << "at most 5 triggers a minute";
  EXPECT_EQ(Call("POST", "/api/schedules/nope/trigger", ops_).first, 404);
  EXPECT_EQ(Call("POST", "/api/schedules/tick/trigger", viewer_).first, 403);

  // Pause and resume.
  auto [pause_status, paused] = Call("POST", "/api/schedules/tick/pause", ops_);
  ASSERT_EQ(pause_status, 200) << paused.dump();
  EXPECT_EQ(paused["paused"], true);
  EXPECT_EQ(cluster_.Text("SELECT paused::text FROM chime.schedules WHERE name = 'tick'"), "true");
  EXPECT_EQ(Call("POST", "/api/schedules/tick/resume", ops_).first, 200);
  EXPECT_EQ(cluster_.Text("SELECT paused::text FROM chime.schedules WHERE name = 'tick'"), "false");
}

// A paused queue keeps its jobs: a worker serving it and another queue
// claims the other queue's later job and leaves the paused queue's, until
// it is resumed.
TEST_F(DashboardApiTest, QueuesPauseAndResume) {
  cluster_.StartWorker("api-w2", {"--queues", "default,other"});
  EXPECT_EQ(Call("POST", "/api/queues/default/pause", viewer_).first, 403);
  EXPECT_EQ(Call("POST", "/api/queues/no%20spaces/pause", ops_).first, 400);
  auto [pause_status, paused] = Call("POST", "/api/queues/default/pause", ops_);
  ASSERT_EQ(pause_status, 200) << paused.dump();
  EXPECT_EQ(paused["paused"], true);
  EXPECT_EQ(paused["changed_by"], "token 'ops'");

  const int64_t held = cluster_.EnqueueJob({"noop"});
  const int64_t other = cluster_.EnqueueJob({"noop", "--queue", "other"});
  ASSERT_TRUE(WaitUntil([&] {
    return cluster_.Text("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(other)) == "succeeded";
  }, kClusterWaitBound));
  EXPECT_EQ(cluster_.Text("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(held)), "available");

  auto [list_status, list] = Call("GET", "/api/queues", viewer_);
  ASSERT_EQ(list_status, 200) << list.dump();
  json queue;
  for (const auto& q : list["queues"]) if (q["queue"] == "default") queue = q;
  ASSERT_TRUE(queue.is_object()) << list.dump();
  EXPECT_EQ(queue["paused"], true);
  EXPECT_EQ(queue["ready"], 1);
  // The metrics say it is paused, and its jobs are no reason to add workers.
  std::string metrics;
  EXPECT_TRUE(WaitUntil([&] {
    metrics = HttpCall(cluster_.http(), "GET", "/metrics", {}, std::nullopt).body;
    return metrics.find("chime_queue_paused{queue=\"default\"} 1") != std::string::npos;
  }, kClusterWaitBound)) << metrics;
  EXPECT_NE(metrics.find("chime_queue_ready_jobs{queue=\"default\"} 0"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("chime_queue_paused{queue=\"other\"} 0"), std::string::npos) << metrics;

  auto [resume_status, resumed] = Call("POST", "/api/queues/default/resume", ops_);
  ASSERT_EQ(resume_status, 200) << resumed.dump();
  EXPECT_EQ(resumed["paused"], false);
  ASSERT_TRUE(WaitUntil([&] {
    return cluster_.Text("SELECT state FROM chime.jobs_all WHERE id = " + std::to_string(held)) == "succeeded";
  }, kClusterWaitBound));
  EXPECT_NE(cluster_.scheduler().log().find("queue 'default' paused by 'ops'"), std::string::npos);
}

TEST_F(DashboardApiTest, SeriesFiresScheduleAndJobBrowserAnswerTheirShapes) {
  auto [trigger_status, trigger] = Call("POST", "/api/schedules/tick/trigger", ops_);
  ASSERT_EQ(trigger_status, 200) << trigger.dump();
  const int64_t parent = cluster_.EnqueueJob({"noop"});
  cluster_.db().Exec("INSERT INTO chime.jobs (kind, parent_id, max_attempts, payload) VALUES "
                     "('noop', " + std::to_string(parent) + ", 1, '{}'), ('fail', " + std::to_string(parent) +
                     ", 1, '{}')");
  ASSERT_TRUE(WaitUntil([&] {
    return cluster_.Int("SELECT count(*) FROM chime.jobs_all WHERE state NOT IN ('succeeded', 'discarded')") == 0;
  }, kClusterWaitBound));
  ASSERT_TRUE(WaitUntil([&] { return cluster_.Int("SELECT count(*) FROM chime.queue_samples") > 0; }, kClusterWaitBound));

  for (auto [range, n] : {std::pair{"", 24}, std::pair{"?range=1h", 60}, std::pair{"?range=7d", 168}}) {
    auto [s, series] = Call("GET", std::string("/api/series/runs") + range, viewer_);
    ASSERT_EQ(s, 200) << series.dump();
    EXPECT_EQ(series["buckets"].size(), static_cast<size_t>(n)) << range;
    EXPECT_EQ(series["counts"], "runs");
  }
  auto [hour_status, hour] = Call("GET", "/api/series/runs?range=1h&schedule=tick", viewer_);
  ASSERT_EQ(hour_status, 200) << hour.dump();
  int64_t succeeded = 0;
  bool timed = false;
  for (const auto& b : hour["buckets"]) {
    succeeded += b["succeeded"].get<int64_t>();
    timed = timed || b["p50_ms"].is_number();
  }
  EXPECT_EQ(succeeded, 1);
  EXPECT_TRUE(timed);
  EXPECT_EQ(Call("GET", "/api/series/runs?range=2d", viewer_).first, 400);
  EXPECT_EQ(Call("GET", "/api/series/runs?schedule=nope", viewer_).first, 404);
  EXPECT_EQ(Call("GET", "/api/series/runs?colour=red", viewer_).first, 400);

  auto [q_status, queues] = Call("GET", "/api/series/queues?range=1h", viewer_);
  ASSERT_EQ(q_status, 200) << queues.dump();
  ASSERT_FALSE(queues["queues"].empty());
  EXPECT_EQ(queues["queues"][0]["queue"], "default");
  EXPECT_FALSE(queues["queues"][0]["points"].empty());
  EXPECT_EQ(queues["step_seconds"], 15);

  auto [f_status, fires] = Call("GET", "/api/fires?schedule=tick", viewer_);
  ASSERT_EQ(f_status, 200) << fires.dump();
  ASSERT_EQ(fires["fires"].size(), 1u);
  EXPECT_EQ(fires["fires"][0]["origin"], "manual");
  EXPECT_EQ(fires["fires"][0]["job_outcome"], "succeeded");
  EXPECT_EQ(Call("GET", "/api/fires", viewer_).first, 400);

  auto [d_status, detail] = Call("GET", "/api/schedules/tick", viewer_);
  ASSERT_EQ(d_status, 200) << detail.dump();
  ASSERT_EQ(detail["next_fires"].size(), 10u);
  ASSERT_EQ(detail["next_fires_local"].size(), 10u);
  EXPECT_EQ(detail["next_fires_local"][0]["local"].get<std::string>().substr(10, 9), "T03:00:00");
  const std::string abbrev = detail["zone_now"]["abbrev"];
  EXPECT_TRUE(abbrev == "EST" || abbrev == "EDT") << abbrev;
  ASSERT_EQ(detail["health"]["rules"].size(), 6u);
  for (const auto& rule : detail["health"]["rules"]) EXPECT_EQ(rule["state"], "ok") << rule.dump();
  EXPECT_EQ(detail["recent_runs"].size(), 1u);

  auto [j_status, jobs] = Call("GET", "/api/jobs?outcome=failed", viewer_);
  ASSERT_EQ(j_status, 200) << jobs.dump();
  ASSERT_EQ(jobs["jobs"].size(), 1u);
  EXPECT_EQ(jobs["jobs"][0]["kind"], "fail");
  auto [p_status, children] = Call("GET", "/api/jobs?parent=" + std::to_string(parent), viewer_);
  ASSERT_EQ(p_status, 200);
  EXPECT_EQ(children["jobs"].size(), 2u);
  auto [s_status, fired] = Call("GET", "/api/jobs?schedule=tick", viewer_);
  ASSERT_EQ(s_status, 200);
  ASSERT_EQ(fired["jobs"].size(), 1u);
  EXPECT_EQ(fired["jobs"][0]["schedule"], "tick");
  EXPECT_TRUE(fired["jobs"][0]["scheduled_for"].is_string());
  EXPECT_EQ(Call("GET", "/api/jobs?outcome=bogus", viewer_).first, 400);
  EXPECT_EQ(Call("GET", "/api/jobs?schedule=nope", viewer_).first, 404);

  auto [o_status, one] = Call("GET", "/api/jobs/" + std::to_string(parent), viewer_);
  ASSERT_EQ(o_status, 200);
  EXPECT_EQ(one["children_outcomes"], (json{{"failed", 1}, {"succeeded", 1}}));

  // The chart library is served from the binary, under the same policy.
  HttpReply chart = HttpGet(cluster_.http(), "/chart.js");
  EXPECT_EQ(chart.status, 200);
  EXPECT_NE(chart.body.find("Chart.js v3"), std::string::npos);
}

}  // namespace
}  // namespace chime::testing
