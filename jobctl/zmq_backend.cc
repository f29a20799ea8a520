#include "jobctl/zmq_backend.h"

#include <random>

#include "common/wire/convert.h"
#include "common/wire/schedule_convert.h"
#include "common/wire/envelope.h"
#include "common/wire/limit_convert.h"
#include "common/wire/run_convert.h"
#include "common/wire/stats_convert.h"
#include "common/wire/token_convert.h"

namespace chime::jobctl {
namespace {

using std::chrono::milliseconds;

Error Unexpected(const v1::AdminReply& reply) {
  return Error{ErrorCode::kInternal,
               "the scheduler answered with an unexpected reply (case " +
                   std::to_string(reply.reply_case()) + ")"};
}

}  // namespace

Result<ZmqBackendConfig> ZmqBackendConfig::FromList(const std::string& endpoints) {
  ZmqBackendConfig config;
  size_t start = 0;
  while (start <= endpoints.size()) {
    const size_t comma = std::min(endpoints.find(',', start), endpoints.size());
    std::string one = endpoints.substr(start, comma - start);
    std::erase(one, ' ');
    if (!one.empty()) config.endpoints.push_back(one);
    start = comma + 1;
  }
  if (config.endpoints.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "scheduler: no endpoint (set CHIME_SCHEDULER or --scheduler)");
  }
  return config;
}

ZmqBackend::ZmqBackend(ZmqBackendConfig config, wire::AdminCredential credential)
    : config_(std::move(config)), credential_(std::move(credential)) {}

ZmqBackend::~ZmqBackend() = default;

zmq::socket_t& ZmqBackend::SocketFor(const std::string& endpoint) {
  if (auto it = sockets_.find(endpoint); it != sockets_.end()) return it->second;
  zmq::socket_t socket(context_, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(wire::kMaxFrameBytes));
  if (config_.curve) net::CurveApplyClient(socket, *config_.curve);
  socket.connect(endpoint);
  return sockets_.emplace(endpoint, std::move(socket)).first->second;
}

Result<v1::AdminReply> ZmqBackend::CallOne(const std::string& endpoint, const std::string& frame,
                                           uint64_t correlation_id) {
  auto reply = CallOnSocket(endpoint, frame, correlation_id);
  if (!reply) sockets_.erase(endpoint);
  return reply;
}

Result<v1::AdminReply> ZmqBackend::CallOnSocket(const std::string& endpoint, const std::string& frame,
                                                uint64_t correlation_id) {
  try {
    zmq::socket_t& socket = SocketFor(endpoint);
    socket.send(zmq::buffer(frame), zmq::send_flags::none);
    const auto deadline = std::chrono::steady_clock::now() + config_.timeout;
    while (true) {
      const auto left =
          std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
      if (zmq::poll(&item, 1, left) == 0) break;
      zmq::message_t message;
      if (!socket.recv(message, zmq::recv_flags::dontwait)) continue;
      auto envelope = wire::DecodeEnvelope(message.to_string_view());
      if (!envelope) {
        return Fail(ErrorCode::kInternal, "bad reply from " + endpoint + ": " + envelope.error().message);
      }
      if (envelope->has_error()) return std::unexpected(wire::FromProto(envelope->error()));
      if (!envelope->has_admin_reply() || envelope->correlation_id() != correlation_id) continue;
      return envelope->admin_reply();
    }
  } catch (const zmq::error_t& e) {
    return Fail(ErrorCode::kInvalidArgument, "scheduler " + endpoint + ": " + e.what());
  }
  return Fail(ErrorCode::kUnavailable, "no answer from the scheduler at " + endpoint + " within " +
                                           std::to_string(config_.timeout.count() / 1000) + " s");
}

Result<v1::AdminReply> ZmqBackend::Call(const v1::AdminRequest& request) {
  std::random_device random;
  const uint64_t correlation_id = (static_cast<uint64_t>(random()) << 32) | random();
  Error last{ErrorCode::kUnavailable, "no scheduler endpoint"};
  for (const auto& endpoint : config_.endpoints) {
    // Signed per attempt: a replica that saw the first attempt must not
    // take the second for a replay.
    v1::Envelope envelope;
    envelope.set_correlation_id(correlation_id);
    *envelope.mutable_admin_request() =
        wire::SignRequest(request, credential_, std::chrono::system_clock::now());
    auto reply = CallOne(endpoint, wire::EncodeEnvelope(std::move(envelope)), correlation_id);
    if (!reply) {
      // Only an unreachable replica is worth trying the next one for; a
      // timeout after sending may mean the first one acted, which for an
      // enqueue without a unique key would duplicate the job.
      if (reply.error().code != ErrorCode::kUnavailable || request.has_enqueue()) {
        return std::unexpected(reply.error());
      }
      last = reply.error();
      continue;
    }
    if (reply->has_error()) return std::unexpected(wire::FromProto(reply->error()));
    return reply;
  }
  return std::unexpected(last);
}

Result<db::MigrationStatus> ZmqBackend::Migrate() {
  return Fail(ErrorCode::kFailedPrecondition,
              "migrate needs the database: set CHIME_DATABASE_URL (schedulers apply migrations at "
              "start; `jobctl migrate --status` works through the scheduler)");
}

Result<db::MigrationStatus> ZmqBackend::MigrationState() {
  v1::AdminRequest request;
  request.mutable_migrate();
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_migrate()) return std::unexpected(Unexpected(*reply));
  db::MigrationStatus status;
  status.current_version = reply->migrate().current_version();
  status.latest_version = reply->migrate().known_version();
  return status;
}

Result<db::EnqueueResult> ZmqBackend::Enqueue(const db::EnqueueParams& params) {
  v1::AdminRequest request;
  *request.mutable_enqueue() = wire::ToProto(params);
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_enqueue()) return std::unexpected(Unexpected(*reply));
  const auto job = wire::FromProto(reply->enqueue().job());
  return db::EnqueueResult{job.id, reply->enqueue().existing(), job.state};
}

Result<db::JobPage> ZmqBackend::List(const db::ListParams& params) {
  v1::AdminRequest request;
  *request.mutable_list() = wire::ToProto(params);
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_list()) return std::unexpected(Unexpected(*reply));
  return wire::FromProto(reply->list());
}

Result<db::JobWithRuns> ZmqBackend::Show(int64_t id) {
  v1::AdminRequest request;
  request.mutable_show()->set_job_id(id);
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_show()) return std::unexpected(Unexpected(*reply));
  return wire::FromProto(reply->show());
}

Result<db::CancelOutcome> ZmqBackend::Cancel(int64_t id) {
  v1::AdminRequest request;
  request.mutable_cancel()->set_job_id(id);
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_cancel()) return std::unexpected(Unexpected(*reply));
  return reply->cancel().cancelled_now() ? db::CancelOutcome::kCancelled
                                         : db::CancelOutcome::kCancelRequested;
}

Result<db::Job> ZmqBackend::Retry(int64_t id) {
  v1::AdminRequest request;
  request.mutable_retry()->set_job_id(id);
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_retry()) return std::unexpected(Unexpected(*reply));
  return wire::FromProto(reply->retry());
}

Result<db::Stats> ZmqBackend::Stats() {
  v1::AdminRequest request;
  request.mutable_stats();
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_stats()) return std::unexpected(Unexpected(*reply));
  return wire::FromProto(reply->stats());
}

Result<db::StatsReport> ZmqBackend::RunStats(const db::StatsParams& params) {
  // Checked here too, so a bad flag is named without a round trip.
  if (auto ok = params.Validate(); !ok) return std::unexpected(ok.error());
  v1::AdminRequest request;
  *request.mutable_run_stats() = wire::ToProto(params);
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_run_stats()) return std::unexpected(Unexpected(*reply));
  return wire::FromProto(reply->run_stats());
}

Result<db::RunPage> ZmqBackend::Runs(const db::RunListParams& params) {
  v1::AdminRequest request;
  *request.mutable_runs() = wire::ToProto(params);
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_runs()) return std::unexpected(Unexpected(*reply));
  return wire::FromProto(reply->runs());
}

Result<std::vector<db::AlertRow>> ZmqBackend::Alerts(const db::AlertListParams& params) {
  if (auto ok = params.Validate(); !ok) return std::unexpected(ok.error());
  v1::AdminRequest request;
  request.mutable_alerts()->set_all(params.all);
  request.mutable_alerts()->set_limit(params.limit);
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_alerts()) return std::unexpected(Unexpected(*reply));
  std::vector<db::AlertRow> out;
  for (const auto& a : reply->alerts().alerts()) out.push_back(wire::FromProto(a));
  return out;
}

Result<std::vector<WorkerView>> ZmqBackend::Workers() {
  v1::AdminRequest request;
  request.mutable_workers();
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_workers()) return std::unexpected(Unexpected(*reply));
  std::vector<WorkerView> out;
  for (const auto& w : reply->workers().workers()) out.push_back(wire::FromProto(w));
  return out;
}

namespace {

// The reply's schedule, or an error when the reply holds something else.
Result<db::ScheduleRow> ScheduleOf(const Result<v1::AdminReply>& reply) {
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_schedule()) return std::unexpected(Unexpected(*reply));
  return wire::FromProto(reply->schedule());
}

}  // namespace

Result<db::ScheduleRow> ZmqBackend::ScheduleCreate(const schedule::ScheduleSpec& spec) {
  v1::AdminRequest request;
  *request.mutable_schedule_create() = wire::ToProto(spec);
  return ScheduleOf(Call(request));
}

Result<db::ScheduleRow> ZmqBackend::ScheduleUpdate(const schedule::ScheduleSpec& spec) {
  v1::AdminRequest request;
  *request.mutable_schedule_update() = wire::ToProto(spec);
  return ScheduleOf(Call(request));
}

Result<void> ZmqBackend::ScheduleDelete(const std::string& name) {
  v1::AdminRequest request;
  request.mutable_schedule_delete()->set_name(name);
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_deleted()) return std::unexpected(Unexpected(*reply));
  return {};
}

Result<db::ScheduleRow> ZmqBackend::ScheduleShow(const std::string& name) {
  v1::AdminRequest request;
  request.mutable_schedule_show()->set_name(name);
  return ScheduleOf(Call(request));
}

Result<std::vector<db::ScheduleStatus>> ZmqBackend::ScheduleList() {
  v1::AdminRequest request;
  request.mutable_schedule_list();
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_schedules()) return std::unexpected(Unexpected(*reply));
  std::vector<db::ScheduleStatus> out;
  for (const auto& s : reply->schedules().schedules()) {
    auto status = wire::StatusFromProto(s);
    if (!status) return std::unexpected(status.error());
    out.push_back(std::move(*status));
  }
  return out;
}

Result<db::ScheduleRow> ZmqBackend::SchedulePause(const std::string& name, bool paused) {
  v1::AdminRequest request;
  request.mutable_schedule_pause()->set_name(name);
  request.mutable_schedule_pause()->set_paused(paused);
  return ScheduleOf(Call(request));
}

Result<db::FireResult> ZmqBackend::ScheduleTrigger(const std::string& name) {
  v1::AdminRequest request;
  request.mutable_schedule_trigger()->set_name(name);
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_fires() || reply->fires().fires_size() != 1) {
    return std::unexpected(Unexpected(*reply));
  }
  return wire::FromProto(reply->fires().fires(0));
}

Result<std::vector<db::FireResult>> ZmqBackend::ScheduleBackfill(const std::string& name,
                                                                 db::TimePoint from,
                                                                 db::TimePoint to) {
  v1::AdminRequest request;
  auto* b = request.mutable_schedule_backfill();
  b->set_name(name);
  b->set_from_ms(std::chrono::duration_cast<milliseconds>(from.time_since_epoch()).count());
  b->set_to_ms(std::chrono::duration_cast<milliseconds>(to.time_since_epoch()).count());
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_fires()) return std::unexpected(Unexpected(*reply));
  std::vector<db::FireResult> out;
  for (const auto& f : reply->fires().fires()) out.push_back(wire::FromProto(f));
  return out;
}

Result<db::FirePage> ZmqBackend::ScheduleFires(const db::FireListParams& params) {
  v1::AdminRequest request;
  *request.mutable_schedule_fires() = wire::ToProto(params);
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_fire_page()) return std::unexpected(Unexpected(*reply));
  return wire::FromProto(reply->fire_page());
}

Result<std::optional<db::LeaderState>> ZmqBackend::Leader() {
  v1::AdminRequest request;
  request.mutable_leader();
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_leader()) return std::unexpected(Unexpected(*reply));
  return wire::FromProto(reply->leader());
}

Result<db::LimitRow> ZmqBackend::LimitSet(const schedule::LimitSpec& spec) {
  v1::AdminRequest request;
  *request.mutable_limit_set() = wire::ToProto(spec);
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_limit()) return std::unexpected(Unexpected(*reply));
  return wire::FromProto(reply->limit());
}

Result<std::vector<db::LimitRow>> ZmqBackend::LimitsList() {
  v1::AdminRequest request;
  request.mutable_limit_list();
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_limits()) return std::unexpected(Unexpected(*reply));
  std::vector<db::LimitRow> out;
  for (const auto& l : reply->limits().limits()) {
    auto row = wire::FromProto(l);
    if (!row) return std::unexpected(row.error());
    out.push_back(std::move(*row));
  }
  return out;
}

Result<void> ZmqBackend::LimitDelete(const std::string& name) {
  v1::AdminRequest request;
  request.mutable_limit_delete()->set_name(name);
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_limit_deleted()) return std::unexpected(Unexpected(*reply));
  return {};
}

Result<db::ApiTokenRow> ZmqBackend::TokenCreate(const auth::ApiToken& token, auth::Scope scope,
                                                std::optional<std::chrono::milliseconds> expires_in) {
  v1::AdminRequest request;
  *request.mutable_token_create() = wire::TokenCreateRequestFor(token, scope, expires_in);
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_token()) return std::unexpected(Unexpected(*reply));
  return wire::FromProto(reply->token());
}

Result<std::vector<db::ApiTokenRow>> ZmqBackend::TokensList() {
  v1::AdminRequest request;
  request.mutable_token_list();
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_tokens()) return std::unexpected(Unexpected(*reply));
  std::vector<db::ApiTokenRow> out;
  for (const auto& t : reply->tokens().tokens()) out.push_back(wire::FromProto(t));
  return out;
}

Result<db::ApiTokenRow> ZmqBackend::TokenRevoke(const std::string& name) {
  v1::AdminRequest request;
  request.mutable_token_revoke()->set_name(name);
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_token()) return std::unexpected(Unexpected(*reply));
  return wire::FromProto(reply->token());
}

Result<auth::Principal> ZmqBackend::Whoami() {
  v1::AdminRequest request;
  request.mutable_whoami();
  auto reply = Call(request);
  if (!reply) return std::unexpected(reply.error());
  if (!reply->has_whoami()) return std::unexpected(Unexpected(*reply));
  return wire::FromProto(reply->whoami());
}

}  // namespace chime::jobctl
