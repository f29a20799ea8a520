// AdminBackend over the scheduler's ZeroMQ endpoint: every command of
// common/admin becomes one AdminRequest (admin::RequestFor), signed
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

 protected:
  // Sends one signed request; returns the reply or its error as a value.
  // Tries the next replica only when one was unreachable, and not when
  // `once` and the request may have arrived.
  Result<v1::AdminReply> Send(const v1::AdminRequest& request, bool once) override;

 private:
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
