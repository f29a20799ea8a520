#include "jobctl/zmq_backend.h"

#include <random>

#include "common/wire/convert.h"
#include "common/wire/envelope.h"

namespace chime::jobctl {
namespace {

using std::chrono::milliseconds;

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

Result<v1::AdminReply> ZmqBackend::Send(const v1::AdminRequest& request, bool once) {
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
      // enqueue without a unique key would duplicate the job (kSendOnce).
      if (reply.error().code != ErrorCode::kUnavailable || once) {
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

}  // namespace chime::jobctl
