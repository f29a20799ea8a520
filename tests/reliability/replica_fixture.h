// A fixture for tests of scheduler replicas: a fresh database (Cluster), a
// schedule firing every second (--cron-seconds) whose jobs run 1.5 s under a
// 1 s lease (they live only by their heartbeats), every process writing the
// event history, and a final check of ticks, leases and the history.
// Schedulers are started here, any number at once; workers by the Cluster.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/cluster.h"

namespace chime::testing {

class ReplicaTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // CHIME_HISTORY_FILE and `extra`.
  std::map<std::string, std::string> Env(std::map<std::string, std::string> extra = {}) const;

  // A scheduler with a 2 s leader lease renewed every 500 ms; waits until it runs.
  ChildProcess& StartScheduler(const std::map<std::string, std::string>& env = {});
  ChildProcess& StartWorker(const std::string& id, const std::map<std::string, std::string>& env = {});

  // The scheduler among `candidates` that logged leading the current epoch.
  ChildProcess* Leader(const std::vector<ChildProcess*>& candidates);

  int64_t Int(const std::string& sql) { return cluster_.Int(sql); }
  int64_t Fires() { return Int("SELECT count(*) FROM chime.fires"); }
  // Waits until `more` ticks have fired since the call.
  ::testing::AssertionResult WaitForFires(int64_t more);

  // Stops `schedulers` (SIGTERM), waits for every job to finish, then
  // expects: every second of the run fired once, none before its time or
  // ahead of the database's clock, every job succeeded, the history checker
  // finds nothing, and - unless workers were faulted on purpose - no lease
  // expired under a heart-beaten job.
  void StopAndCheck(const std::vector<ChildProcess*>& schedulers, bool workers_faulted = false);

  // The listening endpoint of a started scheduler ("tcp://127.0.0.1:N").
  static std::string Endpoint(ChildProcess& scheduler);

  Cluster cluster_;  // Its database, workers and helpers.
  std::string history_;
  std::string schedules_;
  std::vector<std::unique_ptr<ChildProcess>> processes_;
};

}  // namespace chime::testing
