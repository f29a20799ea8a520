// AdminBackend over the scheduler's ZeroMQ endpoint: every request is signed
// with jobctl's credential (a named token from CHIME_TOKEN / CHIME_TOKEN_FILE
// / --token-file, or the bootstrap admin secret) and sent to the first
// scheduler replica that answers within the timeout.
// Thread-compatible.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "chime/v1/chime.pb.h"
#include "common/net/curve.h"
#include "common/wire/signing.h"
#include "jobctl/admin_backend.h"

namespace chime::jobctl {

struct ZmqBackendConfig {
  std::vector<std::string> endpoints;  // CHIME_SCHEDULER, comma-separated.
  std::optional<net::CurveClientConfig> curve;  // CHIME_CURVE_*; unset: plain TCP.
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};  // Per replica.

  // Splits "tcp://a:7700,tcp://b:7700"; InvalidArgument when empty.
  [[nodiscard]] static Result<ZmqBackendConfig> FromList(const std::string& endpoints);
};

class ZmqBackend final : public AdminBackend {
 public:
  ZmqBackend(ZmqBackendConfig config, wire::AdminCredential credential);
  ZmqBackend(ZmqBackendConfig config, wire::AdminSecret secret)
      : ZmqBackend(std::move(config), wire::AdminCredential(std::move(secret))) {}
  ~ZmqBackend() override;

  // FailedPrecondition: schedulers apply migrations at start; applying them
  // by hand needs the database (CHIME_DATABASE_URL).
  Result<db::MigrationStatus> Migrate() override;
  Result<db::MigrationStatus> MigrationState() override;
  Result<db::EnqueueResult> Enqueue(const db::EnqueueParams& params) override;
  Result<db::JobPage> List(const db::ListParams& params) override;
  Result<db::JobWithRuns> Show(int64_t id) override;
  Result<db::CancelOutcome> Cancel(int64_t id) override;
  Result<db::Job> Retry(int64_t id) override;
  Result<db::Stats> Stats() override;
  Result<db::StatsReport> RunStats(const db::StatsParams& params) override;
  Result<db::RunPage> Runs(const db::RunListParams& params) override;
  Result<std::vector<db::AlertRow>> Alerts(const db::AlertListParams& params) override;
  Result<std::vector<WorkerView>> Workers() override;
  Result<db::ScheduleRow> ScheduleCreate(const schedule::ScheduleSpec& spec) override;
  Result<db::ScheduleRow> ScheduleUpdate(const schedule::ScheduleSpec& spec) override;
  Result<void> ScheduleDelete(const std::string& name) override;
  Result<db::ScheduleRow> ScheduleShow(const std::string& name) override;
  Result<std::vector<db::ScheduleStatus>> ScheduleList() override;
  Result<db::ScheduleRow> SchedulePause(const std::string& name, bool paused) override;
  Result<db::FireResult> ScheduleTrigger(const std::string& name) override;
  Result<std::vector<db::FireResult>> ScheduleBackfill(const std::string& name, db::TimePoint from,
                                                       db::TimePoint to) override;
  Result<db::FirePage> ScheduleFires(const db::FireListParams& params) override;
  Result<std::optional<db::LeaderState>> Leader() override;
  Result<db::LimitRow> LimitSet(const schedule::LimitSpec& spec) override;
  Result<std::vector<db::LimitRow>> LimitsList() override;
  Result<void> LimitDelete(const std::string& name) override;
  Result<db::ApiTokenRow> TokenCreate(const auth::ApiToken& token, auth::Scope scope,
                                      std::optional<std::chrono::milliseconds> expires_in) override;
  Result<std::vector<db::ApiTokenRow>> TokensList() override;
  Result<db::ApiTokenRow> TokenRevoke(const std::string& name) override;
  Result<auth::Principal> Whoami() override;

 private:
  // Sends one signed request; returns the reply or its error as a value.
  Result<v1::AdminReply> Call(const v1::AdminRequest& request);
  Result<v1::AdminReply> CallOne(const std::string& endpoint, const std::string& frame,
                                 uint64_t correlation_id);
  Result<v1::AdminReply> CallOnSocket(const std::string& endpoint, const std::string& frame,
                                      uint64_t correlation_id);
  // The connected DEALER for `endpoint`, made on first use.
  zmq::socket_t& SocketFor(const std::string& endpoint);

  ZmqBackendConfig config_;
  wire::AdminCredential credential_;
  zmq::context_t context_;
  // One socket per replica, kept across calls: connecting costs a TCP and a
  // ZMTP handshake, a good part of a request's latency. A socket is closed
  // after any call that failed on it, so a request left unanswered is never
  // delivered late, once the peer is back, by a socket that kept it queued.
  std::map<std::string, zmq::socket_t> sockets_;
};

}  // namespace chime::jobctl
