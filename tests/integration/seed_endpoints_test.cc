// Issue 17's "done when", as a new user would try it: the seeds' scheduler
// setups (tests/seeds: 000, 001, 003, 004's vercel.json and 002's Cloud
// Scheduler export) imported with jobctl as they are, fired through a real
// chime-scheduler and two chime-workers against stand-ins of the seeds'
// endpoints that check the seeds' secrets and answer the seeds' documented
// formats - success, partial, skipped, failure bodies, a slow call that
// outlasts its timeout once and is retried, a call longer than the lease,
// invalid UTF-8 and a 10 MB body - and every run's outcome, counts, errors
// and the headers the endpoints received checked.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/base/text_format.h"
#include "common/base/version.h"
#include "tests/integration/cluster.h"
#include "tests/support/http_test_server.h"

namespace chime::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

std::string SeedFile(const std::string& name) {
  std::ifstream in(std::string(CHIME_SOURCE_DIR) + "/tests/seeds/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

ScriptedResponse Json(int status, const std::string& body) {
  return ScriptedResponse{.status = status, .headers = {{"Content-Type", "application/json"}}, .body = body};
}

// 000_edb3c7a58f658e25.txt, "Successful Execution".
constexpr char kSeed000Answer[] = R"({"success": true, "data": {"summary": {"processed": 45, "successful": 45,
  "failed": 0, "updated": 3, "unchanged": 42, "totalCorrections": 5}, "mode": "live", "invocation_type": "cron",
  "results": {"updated": [{"examId": "40577087837", "previousCount": 8, "actualCount": 7, "difference": -1}],
  "unchanged": [], "failed": []}}, "message": "Scheduled sync complete: 3 exams updated"})";

// The seeds' endpoints, each checking its own secret as the seed's code does.
class StandIns {
 public:
  StandIns(std::string cron_secret, std::string integrations_secret)
      : cron_(std::move(cron_secret)), integrations_(std::move(integrations_secret)) {
    server_.SetResponder([this](const RecordedRequest& r) { return Answer(r); });
  }

  HttpTestServer& server() { return server_; }

 private:
  ScriptedResponse Answer(const RecordedRequest& r) {
    const std::string route = r.path + (r.query.empty() ? "" : "?" + r.query);
    if (r.path.starts_with("/api/integrations/")) {  // 002: x-cron-key.
      if (r.Header("x-cron-key") != integrations_) return Json(401, R"({"error": "Unauthorized"})");
      const json body = json::parse(r.body, nullptr, false);
      if (r.path == "/api/integrations/worker") {
        return Json(200, R"({"processed": 10, "queued": 0, "failed": 0, "maxJobs": )" +
                             body.value("maxJobs", json(0)).dump() + "}");
      }
      return Json(200, R"({"operation": )" + body.value("operation", json("?")).dump() +
                           R"(, "processed": 3, "queued": 12, "failed": 0})");
    }
    if (r.path.starts_with("/api/jobs/")) {  // 004: x-cron-secret.
      if (r.Header("x-cron-secret") != cron_) return Json(401, R"({"error": "Unauthorized"})");
      if (r.path == "/api/jobs/resolve-outcomes") {
        return Json(200, R"({"total": 7, "resolved": 4, "skipped": 2, "backfilled": 0,
                             "errors": ["Failed to process appt_102: timeout"]})");
      }
      if (r.path == "/api/jobs/expire-offers") return Json(200, R"({"skipped": true, "reason": "locked"})");
      // recompute-scores: the first call outlasts its 2 s timeout.
      ScriptedResponse answer = Json(200, R"({"processed": 120, "errors": []})");
      if (recompute_calls_++ == 0) answer.delay = seconds(8);
      return answer;
    }
    if (r.path == "/hostile/bytes") {  // No auth: anyone's endpoint.
      return Json(200, std::string("{\"errors\": [\"bad \xff\xfe byte\", \"nul \\u0000 here\"], \"k\": \"\xC3\"}"));
    }
    if (r.path == "/hostile/huge") return Json(200, "{\"rows\": [" + std::string(10 << 20, '7') + "]}");
    if (r.Header("authorization") != "Bearer " + cron_) return Json(401, R"({"error": "Unauthorized"})");
    if (r.path == "/api/mock-exams/sync-capacity") return Json(200, kSeed000Answer);
    if (r.path == "/api/cron/sync-integrations") {  // 001.
      return Json(200, R"({"message": "Sync completed", "usersProcessed": 10, "providersSync": 25,
                          "successCount": 23, "failureCount": 2, "durationMs": 15000})");
    }
    if (route == "/api/ticketing/cron/sync-qcontact") {  // 003: partial, slower than the 1 s lease.
      ScriptedResponse answer = Json(200, R"({"success": true, "data": {"job_id": "q1", "status": "partial",
        "duration_seconds": 300, "summary": {"total_processed": 70, "total_success": 65, "total_failed": 5,
        "success_rate": 0.93}}})");
      answer.delay = seconds(3);
      return answer;
    }
    if (route == "/api/ticketing/cron/sync-qcontact?mode=failed") {
      return Json(200, R"({"success": true, "data": {"status": "failed", "error_message": "QContact API 503"}})");
    }
    return Json(404, R"({"error": "no such route"})");
  }

  const std::string cron_, integrations_;
  std::atomic<int> recompute_calls_{0};
  HttpTestServer server_;
};

class SeedEndpointsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "chime-seed-endpoints-" + RandomHex(8);
    std::filesystem::create_directories(dir_);
    const std::string origin = standins_.server().Url("");
    kinds_ = Write("kinds.yaml", "http:\n  allow: [127.0.0.0/8]\nhttp_request:\n  secrets:\n"
                                 "    - {ref: env:CRON_SECRET, origins: [\"" + origin + "\"]}\n"
                                 "    - {ref: env:INTEGRATIONS_CRON_SECRET, origins: [\"" + origin + "\"]}\n");
    Ok({"migrate"});
  }

  void StartCluster() {
    cluster_.StartScheduler();
    const std::map<std::string, std::string> env{{"CRON_SECRET", cron_secret_},
                                                 {"INTEGRATIONS_CRON_SECRET", integrations_secret_}};
    workers_.push_back(&cluster_.StartWorker("w1", {"--kinds-config", kinds_}, env));
    workers_.push_back(&cluster_.StartWorker("w2", {"--kinds-config", kinds_}, env));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  // jobctl through the scheduler once it runs, before that to the database.
  void Ok(std::vector<std::string> args) {
    if (cluster_.endpoint().empty()) args.insert(args.end(), {"--database-url", cluster_.db().url()});
    auto out = cluster_.Jobctl(std::move(args));
    ASSERT_EQ(out.exit_code, 0) << out.output;
  }

  // The newest job of a schedule, and the text of one of its columns.
  std::string JobOf(const std::string& schedule, const std::string& column) {
    return cluster_.Text("SELECT " + column + " FROM chime.jobs_all j JOIN chime.schedules s ON s.id = j.schedule_id "
                         "WHERE s.name = '" + schedule + "' ORDER BY j.id DESC LIMIT 1");
  }
  // A field of the newest run's summary, as text (->> path).
  std::string Summary(const std::string& schedule, const std::string& path) {
    return cluster_.Text("SELECT r.summary #>> '{" + path + "}' FROM chime.runs r JOIN chime.jobs_all j ON j.id = r.job_id "
                         "JOIN chime.schedules s ON s.id = j.schedule_id WHERE s.name = '" + schedule +
                         "' ORDER BY r.attempt DESC LIMIT 1");
  }
  std::string Errors(const std::string& schedule) {
    return cluster_.Text("SELECT array_to_string(r.errors, ' | ') FROM chime.runs r JOIN chime.jobs_all j ON "
                         "j.id = r.job_id JOIN chime.schedules s ON s.id = j.schedule_id WHERE s.name = '" +
                         schedule + "' ORDER BY r.attempt DESC LIMIT 1");
  }

  const std::string cron_secret_ = "cron-" + RandomHex(24);
  const std::string integrations_secret_ = "integrations-" + RandomHex(24);
  StandIns standins_{cron_secret_, integrations_secret_};
  Cluster cluster_;
  std::vector<ChildProcess*> workers_;
  std::string dir_, kinds_;
};

TEST_F(SeedEndpointsTest, TheSeedsSetupsRunAsImportedAndTheirAnswersAreTheResults) {
  const std::string base = standins_.server().Url("");
  // The seeds' files, imported as they are; the options say how each team's
  // endpoints are called (POST routes; 004's x-cron-secret).
  Ok({"schedule", "import-vercel", Write("000.json", SeedFile("000-vercel.json")), "--base-url", base, "--method",
      "POST", "--timeout", "60s"});
  Ok({"schedule", "import-vercel", Write("001.json", SeedFile("001-vercel.json")), "--base-url", base, "--method",
      "POST"});
  Ok({"schedule", "import-vercel", Write("003.json", SeedFile("003-vercel.json")), "--base-url", base, "--method",
      "POST", "--timeout", "20s"});
  Ok({"schedule", "import-vercel", Write("004.json", SeedFile("004-vercel.json")), "--base-url", base, "--method",
      "POST", "--auth", "x-cron-secret", "--timeout", "2s", "--max-attempts", "3"});
  // gcloud's export of seed 002's four jobs, created against the stand-in.
  std::string gcloud = SeedFile("002-gcloud-jobs.json");
  for (size_t at = gcloud.find("https://yourdomain.com"); at != std::string::npos;
       at = gcloud.find("https://yourdomain.com", at)) {
    gcloud.replace(at, std::string("https://yourdomain.com").size(), base);
  }
  Ok({"schedule", "import-cloud-scheduler", Write("002.json", gcloud), "--secret-ref", "env:INTEGRATIONS_CRON_SECRET"});
  // Beside the seeds: a failure body (003's failed), hostile bytes, 10 MB.
  for (const auto& [name, path] : std::vector<std::pair<std::string, std::string>>{
           {"qcontact-failed", "/api/ticketing/cron/sync-qcontact?mode=failed"},
           {"hostile-bytes", "/hostile/bytes"},
           {"huge-body", "/hostile/huge"}}) {
    json payload = {{"url", base + path}, {"method", "POST"}};
    if (name == "qcontact-failed") payload["auth"] = {{"type", "bearer"}, {"secret", "env:CRON_SECRET"}};
    Ok({"schedule", "create", name, "--cron", "0 0 1 1 *", "--kind", "http_request", "--payload", payload.dump(),
        "--max-attempts", "3"});
  }

  const std::vector<std::string> names = {
      "vercel-api-mock-exams-sync-capacity", "vercel-api-cron-sync-integrations-interval-15min",
      "vercel-api-cron-sync-integrations-interval-30min", "vercel-api-ticketing-cron-sync-qcontact",
      "vercel-api-jobs-resolve-outcomes", "vercel-api-jobs-expire-offers", "vercel-api-jobs-recompute-scores",
      "nightly-sync", "sync-worker", "cleanup-jobs", "reset-stale", "qcontact-failed", "hostile-bytes", "huge-body"};
  ASSERT_EQ(cluster_.Int("SELECT count(*) FROM chime.schedules"), static_cast<int64_t>(names.size()));
  // Paused before any scheduler runs, so that no cron tick adds a job to the
  // one trigger fires for each (a trigger fires a paused schedule).
  for (const auto& name : names) Ok({"schedule", "pause", name});
  StartCluster();
  for (const auto& name : names) Ok({"schedule", "trigger", name});
  ASSERT_TRUE(WaitUntil(
      [&] {
        return cluster_.Int("SELECT count(*) FROM chime.jobs_all WHERE state IN ('succeeded', 'discarded')") ==
               static_cast<int64_t>(names.size());
      },
      seconds(120)))
      << cluster_.Text("SELECT string_agg(kind || ' ' || state, ', ') FROM chime.jobs_all");

  // 000: succeeded; the counts are fields.
  EXPECT_EQ(JobOf(names[0], "outcome"), "succeeded");
  EXPECT_EQ(Summary(names[0], "counts,processed"), "45");
  EXPECT_EQ(Summary(names[0], "response,data,summary,totalCorrections"), "5");
  EXPECT_EQ(Summary(names[0], "response,data,invocation_type"), "cron");
  // 001: both intervals, their query kept.
  for (int i : {1, 2}) {
    EXPECT_EQ(JobOf(names[i], "outcome"), "succeeded") << names[i];
    EXPECT_EQ(Summary(names[i], "counts,successCount"), "23") << names[i];
  }
  // 003: partial, after a call longer than the workers' 1 s lease: one run.
  EXPECT_EQ(JobOf(names[3], "outcome"), "partial");
  EXPECT_EQ(JobOf(names[3], "attempt"), "1");
  EXPECT_EQ(Summary(names[3], "counts,total_failed"), "5");
  EXPECT_NE(Errors(names[3]).find("partial"), std::string::npos) << Errors(names[3]);
  // 004: errors[] is partial; skipped: true is skipped; the slow one retried.
  EXPECT_EQ(JobOf(names[4], "outcome"), "partial");
  EXPECT_EQ(Errors(names[4]), "Failed to process appt_102: timeout");
  EXPECT_EQ(Summary(names[4], "counts,resolved"), "4");
  EXPECT_EQ(JobOf(names[5], "outcome"), "skipped");
  EXPECT_EQ(JobOf(names[5], "state"), "succeeded");
  EXPECT_EQ(Summary(names[5], "skipReason"), "locked");
  EXPECT_EQ(JobOf(names[6], "outcome"), "succeeded");
  EXPECT_EQ(JobOf(names[6], "attempt"), "2");
  EXPECT_EQ(cluster_.Text("SELECT string_agg(r.outcome, ',' ORDER BY r.attempt) FROM chime.runs r JOIN chime.jobs_all j "
                          "ON j.id = r.job_id JOIN chime.schedules s ON s.id = j.schedule_id WHERE s.name = '" +
                          names[6] + "'"),
            "failed,succeeded");
  // 002: the four gcloud jobs with their bodies and the x-cron-key.
  for (int i : {7, 8, 9, 10}) EXPECT_EQ(JobOf(names[i], "outcome"), "succeeded") << names[i];
  EXPECT_EQ(Summary(names[7], "response,operation"), "process_all_users");
  EXPECT_EQ(Summary(names[8], "response,maxJobs"), "10");
  EXPECT_EQ(Summary(names[9], "response,operation"), "cleanup_old_jobs");
  // A failure body fails the run and is not retried by default.
  EXPECT_EQ(JobOf(names[11], "outcome"), "failed");
  EXPECT_EQ(JobOf(names[11], "attempt"), "1");
  EXPECT_NE(Errors(names[11]).find("the endpoint reported failure"), std::string::npos) << Errors(names[11]);
  // Hostile bytes and 10 MB: recorded, stored, no worker lost.
  EXPECT_EQ(JobOf(names[12], "outcome"), "partial");
  EXPECT_EQ(Errors(names[12]), "bad \xEF\xBF\xBD\xEF\xBF\xBD byte | nul \xEF\xBF\xBD here");
  EXPECT_EQ(JobOf(names[13], "outcome"), "succeeded");
  EXPECT_EQ(Summary(names[13], "responseComplete"), "false");
  EXPECT_EQ(Summary(names[13], "response,truncated"), "true");
  for (ChildProcess* worker : workers_) EXPECT_TRUE(worker->running()) << worker->log();
  EXPECT_EQ(cluster_.Int("SELECT count(*) FROM chime.runs WHERE outcome = 'lease_expired'"), 0);

  // The headers every endpoint got: the job's key on every attempt, the
  // attempt, the schedule and its tick, Chime's User-Agent.
  std::map<std::string, std::vector<std::string>> attempts_by_key;
  for (const RecordedRequest& r : standins_.server().Requests()) {
    const std::string key = r.Header("idempotency-key").value_or("");
    ASSERT_TRUE(key.starts_with("chime-job-")) << r.path;
    const std::string id = key.substr(10);
    EXPECT_EQ(r.Header("chime-job-id"), id);
    EXPECT_EQ(r.Header("user-agent"), chime::UserAgent());
    EXPECT_EQ(r.Header("chime-schedule"),
              cluster_.Text("SELECT s.name FROM chime.jobs_all j JOIN chime.schedules s ON s.id = j.schedule_id "
                            "WHERE j.id = " + id));
    const auto tick = ParseRfc3339(r.Header("chime-scheduled-for").value_or(""));
    ASSERT_TRUE(tick.has_value()) << r.Header("chime-scheduled-for").value_or("");
    EXPECT_EQ(cluster_.Int("SELECT (extract(epoch FROM date_trunc('second', scheduled_for)))::bigint FROM chime.jobs_all "
                           "WHERE id = " + id),
              std::chrono::duration_cast<seconds>(tick->time_since_epoch()).count());
    attempts_by_key[key].push_back(r.Header("chime-attempt").value_or(""));
  }
  EXPECT_EQ(attempts_by_key.size(), names.size());
  const std::string retried = "chime-job-" + JobOf(names[6], "j.id");
  EXPECT_EQ(attempts_by_key[retried], (std::vector<std::string>{"1", "2"}));

  // No secret reached a table.
  for (const std::string& secret : {cron_secret_, integrations_secret_}) {
    for (const char* table : {"chime.jobs", "chime.runs", "chime.schedules"}) {
      EXPECT_EQ(cluster_.Int(std::string("SELECT count(*) FROM ") + table + " t WHERE t::text LIKE '%" + secret + "%'"),
                0)
          << table;
    }
  }
}

}  // namespace
}  // namespace chime::testing
