#include "scheduler/router_server.h"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "common/auth/request_scopes.h"
#include "common/wire/convert.h"
#include "common/wire/envelope.h"

namespace chime::scheduler {
namespace {

constexpr size_t kMaxReportedBadPeers = 10'000;

std::string Printable(const std::string& routing_id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : routing_id) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

// The peer's IP address as ZeroMQ saw the TCP connection ("" for other
// transports): what the per-address worker limit counts.
std::string PeerAddress(zmq::message_t& frame) {
  try {
    const char* address = frame.gets("Peer-Address");
    return address == nullptr ? "" : address;
  } catch (const zmq::error_t&) {
    return "";
  }
}

}  // namespace

Result<void> RouterConfig::Validate() const {
  if (bind.empty()) return Fail(ErrorCode::kInvalidArgument, "bind: empty (set CHIME_SCHEDULER_BIND)");
  if (heartbeat_interval.count() < 10 || heartbeat_interval > std::chrono::minutes(10)) {
    return Fail(ErrorCode::kInvalidArgument, "heartbeat_interval: must be 10 ms - 10 min");
  }
  if (forget_after < 2 * heartbeat_interval) {
    return Fail(ErrorCode::kInvalidArgument,
                "forget_after: must be at least twice the heartbeat interval");
  }
  return limits.Validate();
}

RouterServer::RouterServer(zmq::context_t& context, RouterConfig config, const Clock& clock,
                           LiveCounters& counters, AdminHandler& admin,
                           wire::RequestVerifier& verifier)
    : context_(context),
      config_(std::move(config)),
      clock_(clock),
      counters_(counters),
      admin_(admin),
      verifier_(verifier),
      registry_(clock, config_.forget_after, config_.limits) {}

RouterServer::~RouterServer() { Stop(); }

Result<std::string> RouterServer::Start() {
  if (thread_.joinable()) return Fail(ErrorCode::kFailedPrecondition, "router already started");
  std::string endpoint;
  try {
    router_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::router);
    router_->set(zmq::sockopt::linger, 0);
    router_->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(wire::kMaxFrameBytes));
    // Replies to a vanished peer are dropped instead of queued forever.
    router_->set(zmq::sockopt::router_mandatory, 0);
    router_->set(zmq::sockopt::sndhwm, 10'000);
    if (config_.curve) net::CurveApplyServer(*router_, *config_.curve);
    router_->bind(config_.bind);
    endpoint = router_->get(zmq::sockopt::last_endpoint);
    ready_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::pull);
    ready_->set(zmq::sockopt::linger, 0);
    ready_->bind(kReadyEndpoint);
  } catch (const zmq::error_t& e) {
    router_.reset();
    ready_.reset();
    return Fail(ErrorCode::kInvalidArgument, "bind " + config_.bind + ": " + e.what());
  }
  thread_ = std::jthread([this](std::stop_token stop) { Loop(stop); });
  spdlog::info("scheduler {} listening on {}", config_.scheduler_id, endpoint);
  return endpoint;
}

void RouterServer::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
  router_.reset();
  ready_.reset();
}

void RouterServer::Loop(std::stop_token stop) {
  // Short polls bound how long Stop() waits and how late a silent worker is
  // noticed; the sockets, not the timeout, drive the work.
  const auto tick = std::min(config_.heartbeat_interval, std::chrono::milliseconds(100));
  while (!stop.stop_requested()) {
    zmq::pollitem_t items[] = {{router_->handle(), 0, ZMQ_POLLIN, 0},
                               {ready_->handle(), 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 2, tick);
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;
      spdlog::critical("router poll failed: {}", e.what());
      std::abort();
    }
    if (items[0].revents & ZMQ_POLLIN) {
      // Drain what is queued, a bounded batch per pass so the ready feed is
      // never starved by a flood.
      for (int i = 0; i < 1000; ++i) {
        std::vector<zmq::message_t> parts;
        zmq::message_t part;
        while (true) {
          if (!router_->recv(part, zmq::recv_flags::dontwait)) break;
          const bool more = part.more();
          // Keep the identity and the first body frame; count the rest.
          if (parts.size() < 3) parts.push_back(std::move(part));
          if (!more) break;
        }
        if (parts.empty()) break;
        const std::string routing_id = parts[0].to_string();
        if (parts.size() != 2) {
          ReportBadPeer(routing_id, "frame count", "a message must be exactly one frame");
          continue;
        }
        OnPeerMessage(routing_id, parts[1].to_string_view(), PeerAddress(parts[1]));
      }
    }
    if (items[1].revents & ZMQ_POLLIN) {
      zmq::message_t notice;
      while (ready_->recv(notice, zmq::recv_flags::dontwait)) OnReady(notice.to_string_view());
    }
    for (const auto& id : registry_.ForgetSilent()) {
      PeerLog(peer_events_, spdlog::level::warn, "worker forgotten",
              fmt::format("worker {} forgotten after {} ms of silence", id, config_.forget_after.count()));
    }
    for (LogLimiter* limiter : {&peer_errors_, &peer_events_}) {
      for (const auto& [kind, n] : limiter->Flush(clock_.SteadyNow())) {
        spdlog::warn("{}: {} similar messages suppressed", kind, n);
      }
    }
    worker_count_.store(registry_.size());
    if (const auto now = std::chrono::steady_clock::now(); now - snapshot_at_ >= kSnapshotInterval) {
      snapshot_at_ = now;
      auto list = registry_.List();
      std::lock_guard lock(snapshot_mu_);
      snapshot_ = std::move(list);
    }
  }
}

bool RouterServer::KnowsKind(std::string_view kind) const {
  std::lock_guard lock(kinds_mu_);
  return known_kinds_.contains(kind);
}

std::vector<v1::WorkerInfo> RouterServer::WorkersSnapshot() const {
  std::lock_guard lock(snapshot_mu_);
  return snapshot_;
}

void RouterServer::PeerLog(LogLimiter& limiter, spdlog::level::level_enum level, std::string_view kind,
                           std::string line) {
  int64_t suppressed = 0;
  if (!limiter.Allow(kind, clock_.SteadyNow(), &suppressed)) return;
  spdlog::log(level, "{}", WithSuppressed(std::move(line), suppressed));
}

void RouterServer::ReportBadPeer(const std::string& routing_id, std::string_view kind, const std::string& why) {
  if (reported_bad_.size() >= kMaxReportedBadPeers) reported_bad_.clear();
  if (reported_bad_.insert(routing_id).second) {
    PeerLog(peer_errors_, spdlog::level::warn, kind,
            fmt::format("dropping a message from peer {}: {}", Printable(routing_id), why));
  }
}

void RouterServer::Send(const std::string& routing_id, v1::Envelope envelope) {
  const std::string body = wire::EncodeEnvelope(std::move(envelope));
  try {
    router_->send(zmq::buffer(routing_id), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    router_->send(zmq::buffer(body), zmq::send_flags::dontwait);
  } catch (const zmq::error_t& e) {
    // EHOSTUNREACH or a full queue: the peer is gone or not reading. Dispatch
    // is a hint and replies can be retried, so dropping is safe.
    spdlog::debug("send to {} dropped: {}", Printable(routing_id), e.what());
  }
}

void RouterServer::SendDispatch(const std::vector<DispatchOrder>& orders) {
  for (const auto& order : orders) {
    v1::Envelope e;
    *e.mutable_dispatch() = order.dispatch;
    Send(order.routing_id, std::move(e));
  }
}

void RouterServer::OnReady(std::string_view notice) { SendDispatch(dispatcher_.OnNotice(notice)); }

void RouterServer::OnHello(const std::string& routing_id, const v1::WorkerHello& hello, std::string_view address) {
  auto registered = registry_.Hello(routing_id, hello, address);
  if (!registered) {
    // The peer learns why; it keeps polling the database and asks again.
    PeerLog(peer_errors_, spdlog::level::warn, "hello refused",
            fmt::format("refusing worker {} from {}: {}", hello.worker_id(), address.empty() ? "?" : address,
                        registered.error().message));
    v1::Envelope reply;
    reply.mutable_error()->set_code(v1::UNAVAILABLE);
    reply.mutable_error()->set_message(registered.error().message);
    Send(routing_id, std::move(reply));
    return;
  }
  {
    // The kinds registered workers have handlers for: /metrics names these
    // and counts any other as "_other". Only grows, up to kMaxKnownKinds.
    std::lock_guard lock(kinds_mu_);
    for (const std::string& kind : hello.kinds()) {
      if (known_kinds_.size() >= kMaxKnownKinds) break;
      known_kinds_.insert(kind);
    }
  }
  if (*registered) {
    PeerLog(peer_events_, spdlog::level::info, "worker connected",
            fmt::format("worker {} ({} slots, queues {}) connected", hello.worker_id(), hello.slots(),
                        fmt::join(hello.queues().begin(), hello.queues().end(), ",")));
  }
  v1::Envelope ack;
  auto* a = ack.mutable_hello_ack();
  a->set_heartbeat_interval_ms(static_cast<int32_t>(config_.heartbeat_interval.count()));
  a->set_forget_after_ms(static_cast<int32_t>(config_.forget_after.count()));
  a->set_scheduler_id(config_.scheduler_id);
  a->set_result_batches(true);
  Send(routing_id, std::move(ack));
  if (auto order = Dispatcher::ForNewWorker(routing_id, hello)) SendDispatch({*order});
}

void RouterServer::OnPeerMessage(const std::string& routing_id, std::string_view frame, std::string_view address) {
  auto decoded = wire::DecodeEnvelope(frame);
  if (!decoded) {
    // The kind of error is its field ("hello.worker_id", "frame").
    const std::string& why = decoded.error().message;
    ReportBadPeer(routing_id, std::string_view(why).substr(0, why.find(':')), why);
    v1::Envelope reply;
    reply.mutable_error()->set_code(v1::INVALID_ARGUMENT);
    reply.mutable_error()->set_message(decoded.error().message);
    Send(routing_id, std::move(reply));
    return;
  }
  const v1::Envelope& e = *decoded;
  auto ask_hello_again = [&] {
    v1::Envelope reconnect;
    reconnect.mutable_reconnect();
    Send(routing_id, std::move(reconnect));
  };
  switch (e.body_case()) {
    case v1::Envelope::kHello:
      OnHello(routing_id, e.hello(), address);
      return;
    case v1::Envelope::kCapacity:
      if (!registry_.Capacity(routing_id, e.capacity().free_slots())) ask_hello_again();
      return;
    case v1::Envelope::kHeartbeat:
      if (!registry_.Heartbeat(routing_id, e.heartbeat())) ask_hello_again();
      return;
    case v1::Envelope::kResult:
      counters_.Add(e.result());
      if (!registry_.Touch(routing_id)) ask_hello_again();
      return;
    case v1::Envelope::kResults:
      for (const v1::JobResult& r : e.results().results()) counters_.Add(r);
      if (!registry_.Touch(routing_id)) ask_hello_again();
      return;
    case v1::Envelope::kGoodbye:
      PeerLog(peer_events_, spdlog::level::info, "worker goodbye",
              fmt::format("worker {} is draining ({})", e.goodbye().worker_id(), e.goodbye().reason()));
      registry_.Goodbye(routing_id);
      return;
    case v1::Envelope::kAdminRequest:
      OnAdmin(routing_id, e.correlation_id(), e.admin_request());
      return;
    default:
      ReportBadPeer(routing_id, "unexpected message", "unexpected message " + std::string(wire::BodyName(e)));
      return;
  }
}

void RouterServer::OnAdmin(const std::string& routing_id, uint64_t correlation_id,
                           const v1::SignedRequest& request) {
  v1::Envelope reply;
  reply.set_correlation_id(correlation_id);
  auto verified = verifier_.Verify(request);
  if (!verified) {
    ReportBadPeer(routing_id, "admin request", verified.error().message);
    *reply.mutable_admin_reply()->mutable_error() = wire::ToProto(verified.error());
    Send(routing_id, std::move(reply));
    return;
  }
  // The one place a request's scope is checked, against the one table.
  auto needed = auth::ScopeOf(verified->request);
  auto allowed = needed ? auth::Authorize(verified->principal, needed->scope, needed->what)
                        : Result<void>(std::unexpected(needed.error()));
  if (!allowed) {
    spdlog::warn("admin request refused: {}", allowed.error().message);
    *reply.mutable_admin_reply()->mutable_error() = wire::ToProto(allowed.error());
    Send(routing_id, std::move(reply));
    return;
  }
  // The feed's notice of the same job follows and plans one more dispatch:
  // a hint the worker answers with an empty claim, while dispatching here
  // spares the job the notice's trip through the database and the feed.
  const AdminHandler::ReadyHint ready = [this](const db::ReadyQueue& queue) {
    SendDispatch(dispatcher_.Plan({queue}));
  };
  *reply.mutable_admin_reply() = admin_.Handle(verified->request, verified->principal, registry_, ready);
  Send(routing_id, std::move(reply));
}

}  // namespace chime::scheduler
