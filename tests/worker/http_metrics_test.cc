// The worker's /metrics labels: kinds without a handler here are one
// "_other" label value, so made-up kinds cannot add series for the
// process's life (issue 22: ~43 series each before).
#include "worker/http_metrics.h"

#include <gtest/gtest.h>

#include <string>

namespace chime::worker {
namespace {

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

void RunOne(WorkerMetrics& metrics, const std::string& kind, v1::Outcome outcome) {
  db::ClaimedJob job;
  job.kind = kind;
  job.queue = "default";
  metrics.JobStarted(job);
  v1::JobResult result;
  result.set_kind(kind);
  result.set_queue("default");
  result.set_outcome(outcome);
  result.set_duration_ms(5);
  metrics.JobFinished(result);
}

TEST(WorkerMetricsTest, KindsWithoutAHandlerShareOneOtherLabel) {
  WorkerMetrics metrics({"noop", "sleep"});
  RunOne(metrics, "noop", v1::SUCCEEDED);
  RunOne(metrics, "made_up_0", v1::DISCARDED);
  const size_t lines_after_one = Count(metrics.registry().Render(), "\n");
  for (int i = 1; i < 100; ++i) RunOne(metrics, "made_up_" + std::to_string(i), v1::DISCARDED);
  const std::string text = metrics.registry().Render();
  EXPECT_EQ(Count(text, "made_up"), 0u) << text;
  EXPECT_NE(text.find("chime_worker_jobs_finished_total{kind=\"_other\",outcome=\"discarded\",queue=\"default\"} 100\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("chime_worker_jobs_started_total{kind=\"noop\",queue=\"default\"} 1\n"), std::string::npos);
  // 99 more kinds, not one series more (the process_* figures keep their lines).
  EXPECT_EQ(Count(text, "\n"), lines_after_one);
}

}  // namespace
}  // namespace chime::worker
