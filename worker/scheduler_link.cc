#include "worker/scheduler_link.h"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/wire/envelope.h"

namespace chime::worker {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr size_t kMaxOutbox = 10'000;  // Results beyond this are dropped (they are reports only).

// Never blocks: a scheduler that is away gets nothing, work goes on.
void SendNow(zmq::socket_t& socket, const std::string& frame) {
  try {
    (void)socket.send(zmq::buffer(frame), zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
  }
}

// A run of result envelopes as frames: JobResults of at most
// kMaxBatchedResults results and about kResultBatchBytes each, or one
// JobResult frame each (for a scheduler that does not take batches).
std::vector<std::string> EncodeResults(std::span<const v1::Envelope> run, bool batched) {
  std::vector<std::string> frames;
  if (!batched) {
    for (const v1::Envelope& r : run) frames.push_back(wire::EncodeEnvelope(r));
    return frames;
  }
  v1::Envelope e;
  size_t bytes = 0;
  for (const v1::Envelope& r : run) {
    const size_t size = r.result().ByteSizeLong();
    const int n = e.results().results_size();
    if (n > 0 && (n >= wire::kMaxBatchedResults || bytes + size > wire::kResultBatchBytes)) {
      frames.push_back(wire::EncodeEnvelope(std::move(e)));
      e.Clear();
      bytes = 0;
    }
    *e.mutable_results()->add_results() = r.result();
    bytes += size;
  }
  if (e.results().results_size() > 0) frames.push_back(wire::EncodeEnvelope(std::move(e)));
  return frames;
}

}  // namespace

SchedulerLink::SchedulerLink(LinkConfig config, FreeSlots free_slots, RunningJobs running,
                             std::function<void()> on_dispatch)
    : config_(std::move(config)),
      free_slots_(std::move(free_slots)),
      running_(std::move(running)),
      on_dispatch_(std::move(on_dispatch)),
      wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

SchedulerLink::~SchedulerLink() {
  Stop();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void SchedulerLink::Start() {
  if (thread_.joinable() || config_.endpoints.empty()) return;
  thread_ = std::jthread([this](std::stop_token stop) { Loop(stop); });
}

void SchedulerLink::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  const uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof(one));
  thread_.join();
}

void SchedulerLink::Enqueue(v1::Envelope envelope) {
  if (config_.endpoints.empty()) return;
  {
    std::lock_guard lock(mu_);
    if (outbox_.size() >= kMaxOutbox) return;
    outbox_.push_back(std::move(envelope));
  }
  const uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof(one));
}

void SchedulerLink::SendResults(std::span<v1::JobResult> results) {
  if (config_.endpoints.empty() || results.empty()) return;
  {
    std::lock_guard lock(mu_);
    for (v1::JobResult& r : results) {
      if (outbox_.size() >= kMaxOutbox) break;
      *outbox_.emplace_back().mutable_result() = std::move(r);
    }
  }
  const uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof(one));
}

void SchedulerLink::SendCapacity() {
  {
    std::lock_guard lock(mu_);
    if (capacity_pending_) return;
    capacity_pending_ = true;
  }
  const uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof(one));
}

void SchedulerLink::SendGoodbye(const std::string& reason) {
  v1::Envelope e;
  e.mutable_goodbye()->set_worker_id(config_.hello.worker_id());
  e.mutable_goodbye()->set_reason(reason);
  Enqueue(std::move(e));
}

v1::Envelope SchedulerLink::Hello() const {
  v1::Envelope e;
  *e.mutable_hello() = config_.hello;
  e.mutable_hello()->set_free_slots(std::clamp(free_slots_(), 0, config_.hello.slots()));
  return e;
}

void SchedulerLink::Loop(std::stop_token stop) {
  zmq::context_t context;
  std::vector<std::unique_ptr<zmq::socket_t>> sockets;
  for (const auto& endpoint : config_.endpoints) {
    auto s = std::make_unique<zmq::socket_t>(context, zmq::socket_type::dealer);
    s->set(zmq::sockopt::linger, 0);
    s->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(wire::kMaxFrameBytes));
    s->set(zmq::sockopt::reconnect_ivl, 100);
    s->set(zmq::sockopt::reconnect_ivl_max, 5000);
    s->set(zmq::sockopt::sndhwm, 10'000);
    if (config_.curve) net::CurveApplyClient(*s, *config_.curve);
    try {
      s->connect(endpoint);
    } catch (const zmq::error_t& e) {
      spdlog::error("scheduler endpoint {}: {}; polling only", endpoint, e.what());
      continue;
    }
    sockets.push_back(std::move(s));
  }
  auto send_all = [&](const v1::Envelope& e) {
    const std::string frame = wire::EncodeEnvelope(e);
    for (auto& s : sockets) SendNow(*s, frame);
  };
  // Per socket: its scheduler takes JobResults (its HelloAck said so).
  std::vector<char> result_batches(sockets.size(), 0);
  // A run of results to every scheduler, each encoding made once and only
  // if some scheduler needs it.
  auto send_results = [&](std::span<const v1::Envelope> run) {
    if (run.empty()) return;
    std::optional<std::vector<std::string>> encoded[2];  // [batched]
    for (size_t i = 0; i < sockets.size(); ++i) {
      auto& frames = encoded[result_batches[i] ? 1 : 0];
      if (!frames) frames = EncodeResults(run, result_batches[i] != 0);
      for (const std::string& frame : *frames) SendNow(*sockets[i], frame);
    }
  };
  // What the outbox holds, in order; consecutive results go together.
  auto send_out = [&](std::deque<v1::Envelope>& out) {
    std::vector<v1::Envelope> run;
    for (v1::Envelope& e : out) {
      if (e.body_case() == v1::Envelope::kResult) {
        run.push_back(std::move(e));
        continue;
      }
      send_results(run);
      run.clear();
      send_all(e);
    }
    send_results(run);
  };
  milliseconds heartbeat_interval(1000);
  std::string scheduler_id;
  bool reported_bad = false;
  send_all(Hello());
  auto next_heartbeat = Clock::now() + heartbeat_interval;
  while (!stop.stop_requested()) {
    std::vector<zmq::pollitem_t> items;
    for (auto& s : sockets) items.push_back({s->handle(), 0, ZMQ_POLLIN, 0});
    items.push_back({nullptr, wake_fd_, ZMQ_POLLIN, 0});
    const auto wait = std::chrono::duration_cast<milliseconds>(next_heartbeat - Clock::now());
    zmq::poll(items.data(), items.size(), std::max(milliseconds(0), wait));
    if (items.back().revents & ZMQ_POLLIN) {
      uint64_t n = 0;
      (void)!::read(wake_fd_, &n, sizeof(n));
    }
    for (size_t i = 0; i < sockets.size(); ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      zmq::message_t m;
      while (sockets[i]->recv(m, zmq::recv_flags::dontwait)) {
        auto e = wire::DecodeEnvelope(m.to_string_view());
        if (!e) {
          if (!reported_bad) spdlog::warn("dropping a bad message from the scheduler: {}", e.error().message);
          reported_bad = true;
          continue;
        }
        switch (e->body_case()) {
          case v1::Envelope::kHelloAck:
            acked_ = true;
            result_batches[i] = e->hello_ack().result_batches() ? 1 : 0;
            heartbeat_interval = milliseconds(e->hello_ack().heartbeat_interval_ms());
            if (scheduler_id != e->hello_ack().scheduler_id()) {
              scheduler_id = e->hello_ack().scheduler_id();
              spdlog::info("connected to scheduler {}", scheduler_id);
            }
            break;
          case v1::Envelope::kDispatch:
            spdlog::debug("dispatch: up to {} jobs", e->dispatch().max_jobs());
            ++dispatches_;
            on_dispatch_();
            break;
          case v1::Envelope::kReconnect:
            (void)sockets[i]->send(zmq::buffer(wire::EncodeEnvelope(Hello())), zmq::send_flags::dontwait);
            break;
          case v1::Envelope::kError:
            if (!reported_bad) spdlog::warn("scheduler reported: {}", e->error().message());
            reported_bad = true;
            break;
          default:
            break;
        }
      }
    }
    std::deque<v1::Envelope> out;
    bool capacity = false;
    {
      std::lock_guard lock(mu_);
      out.swap(outbox_);
      capacity = capacity_pending_;
      capacity_pending_ = false;
    }
    send_out(out);
    if (capacity) {
      v1::Envelope e;
      e.mutable_capacity()->set_worker_id(config_.hello.worker_id());
      e.mutable_capacity()->set_free_slots(std::clamp(free_slots_(), 0, config_.hello.slots()));
      send_all(e);
    }
    if (Clock::now() >= next_heartbeat) {
      // Until acknowledged, the heartbeat is a hello: ZeroMQ reconnects
      // silently, and a restarted scheduler knows no one.
      if (!acked_) {
        send_all(Hello());
      } else {
        v1::Envelope e;
        auto* hb = e.mutable_heartbeat();
        hb->set_worker_id(config_.hello.worker_id());
        hb->set_free_slots(std::clamp(free_slots_(), 0, config_.hello.slots()));
        auto running = running_();
        for (size_t j = 0; j < running.size() && j < 1000; ++j) hb->add_running_jobs(running[j]);
        hb->set_sent_at_ms(std::chrono::duration_cast<milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
        send_all(e);
      }
      next_heartbeat = Clock::now() + heartbeat_interval;
    }
  }
  // Flush a goodbye queued just before Stop().
  std::deque<v1::Envelope> out;
  {
    std::lock_guard lock(mu_);
    out.swap(outbox_);
  }
  send_out(out);
}

}  // namespace chime::worker
