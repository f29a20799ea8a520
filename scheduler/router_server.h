// The scheduler's one ZeroMQ endpoint (ROUTER) for workers and jobctl:
// registers workers, forgets silent ones, sends the dispatch its Dispatcher
// plans when the ready feed announces jobs (the transport; the decision is
// scheduler/dispatcher.h), counts results, and answers signed admin requests
// whose credential's scope covers them (auth::ScopeOf, auth::Authorize). Owns
// its sockets and one thread; Start()/Stop() from one controlling thread,
// Stop() idempotent and safe before Start().
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

#include <spdlog/common.h>
#include <zmq.hpp>

#include "chime/v1/chime.pb.h"
#include "common/auth/scope.h"
#include "common/base/clock.h"
#include "common/base/error.h"
#include "common/db/ready_listener.h"
#include "common/log/log_limiter.h"
#include "common/net/curve.h"
#include "common/wire/signing.h"
#include "scheduler/dispatcher.h"
#include "scheduler/live_counters.h"
#include "scheduler/worker_registry.h"

namespace chime::scheduler {

struct RouterConfig {
  std::string bind = "tcp://127.0.0.1:7700";  // CHIME_SCHEDULER_BIND.
  // The worker heartbeat (liveness and free slots, over ZeroMQ; not the job
  // heartbeat that extends job leases in the database), told to workers in HelloAck.
  std::chrono::milliseconds heartbeat_interval{1000};
  std::chrono::milliseconds forget_after{10'000};      // Silent workers are forgotten.
  std::string scheduler_id;                            // This replica, for logs.
  // CURVE server keys; unset: plain TCP. Clients are checked by the
  // context's net::ZapAuthenticator, which must be started first.
  std::optional<net::CurveKeyPair> curve;
  WorkerLimits limits;  // Workers registered at most, in all and per address.

  [[nodiscard]] Result<void> Validate() const;
};

// Executes one verified admin request. Called on the router thread.
class AdminHandler {
 public:
  // Called by Handle as soon as a request has made jobs ready (committed), so
  // that the router dispatches them before the request's reply is built and
  // without waiting for the ready feed's notification of the same jobs.
  using ReadyHint = std::function<void(const db::ReadyQueue& ready)>;

  virtual ~AdminHandler() = default;
  // `who` sent the request; its scope already covers it (auth::ScopeOf).
  virtual v1::AdminReply Handle(const v1::AdminRequest& request, const auth::Principal& who,
                                const WorkerRegistry& workers, const ReadyHint& ready) = 0;
};

class RouterServer {
 public:
  // Where the ready feed PUSHes "queue:count,..." (or "*": anything may be
  // ready) for the router thread to dispatch.
  static constexpr const char* kReadyEndpoint = "inproc://chime-ready";

  RouterServer(zmq::context_t& context, RouterConfig config, const Clock& clock,
               LiveCounters& counters, AdminHandler& admin, wire::RequestVerifier& verifier);
  ~RouterServer();

  // Binds (port 0 picks a free one) and starts the thread; returns the bound
  // endpoint. InvalidArgument / Unavailable when the bind fails.
  [[nodiscard]] Result<std::string> Start();
  void Stop();

  // Workers currently registered, read from the router thread's last pass.
  size_t worker_count() const { return worker_count_.load(); }
  // The registered workers as of the router thread's last snapshot, taken at
  // most kSnapshotInterval apart (for /metrics and /api/workers). Thread-safe.
  std::vector<v1::WorkerInfo> WorkersSnapshot() const;
  static constexpr std::chrono::milliseconds kSnapshotInterval{200};
  // Whether a worker that said hello here (since this process started) has
  // a handler for `kind`. Thread-safe.
  bool KnowsKind(std::string_view kind) const;
  // Kinds remembered at most: hellos are the peers' to write.
  static constexpr size_t kMaxKnownKinds = 1000;

 private:
  void Loop(std::stop_token stop);
  void OnPeerMessage(const std::string& routing_id, std::string_view frame, std::string_view address);
  void OnHello(const std::string& routing_id, const v1::WorkerHello& hello, std::string_view address);
  void OnReady(std::string_view notice);
  void OnAdmin(const std::string& routing_id, uint64_t correlation_id,
               const v1::SignedRequest& request);
  void Send(const std::string& routing_id, v1::Envelope envelope);
  void SendDispatch(const std::vector<DispatchOrder>& orders);
  // Logs a bad message once per peer, and at most at the peer-error rate
  // per `kind` of error.
  void ReportBadPeer(const std::string& routing_id, std::string_view kind, const std::string& why);
  // A line a peer caused, through the limiter for its `kind`.
  void PeerLog(LogLimiter& limiter, spdlog::level::level_enum level, std::string_view kind, std::string line);

  zmq::context_t& context_;
  const RouterConfig config_;
  const Clock& clock_;
  LiveCounters& counters_;
  AdminHandler& admin_;
  wire::RequestVerifier& verifier_;
  WorkerRegistry registry_;  // Owned by the router thread.
  Dispatcher dispatcher_{registry_};  // Owned by the router thread.
  std::unique_ptr<zmq::socket_t> router_;  // Owned by the router thread once started.
  std::unique_ptr<zmq::socket_t> ready_;   // PULL; owned by the router thread.
  std::unordered_set<std::string> reported_bad_;  // Owned by the router thread.
  // Peers choose how often these lines are written: errors (bad frames,
  // refused hellos, bad admin requests) burst 10 then 1 a second per kind;
  // worker comings and goings burst 200 then 20 a second.
  LogLimiter peer_errors_{{.burst = 10, .per_second = 1}};    // Owned by the router thread.
  LogLimiter peer_events_{{.burst = 200, .per_second = 20}};  // Owned by the router thread.
  std::atomic<size_t> worker_count_{0};
  std::chrono::steady_clock::time_point snapshot_at_{};  // Owned by the router thread.
  mutable std::mutex snapshot_mu_;
  std::vector<v1::WorkerInfo> snapshot_;  // Guarded by snapshot_mu_.
  mutable std::mutex kinds_mu_;
  std::set<std::string, std::less<>> known_kinds_;  // Guarded by kinds_mu_.
  std::jthread thread_;
};

}  // namespace chime::scheduler
