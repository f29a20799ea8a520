// Fuzzes the scheduler router's message handling without sockets:
// RouterServer::OnPeerMessage and OnReady are private and driven by a ZeroMQ
// ROUTER socket, so this target replays what they do with the same parts:
// DecodeEnvelope, WorkerRegistry, Dispatcher, db::ParseReadyPayload and EncodeEnvelope
// for the replies. A fake clock makes runs deterministic.
//
// Input: a sequence of operations, each one opcode byte then its operands:
//   0: a frame from peer P: [P] [len] [len bytes]        (any bytes)
//   1: a hello from peer P, built from fields:           (valid or nearly)
//      [P] [worker id byte] [slots / 4] [free slots / 4] [queue mask]
//   2: a ready notice: [len lo] [len hi] [len bytes]     (as the ready feed pushes)
//   3: "*" (the ready feed reconnected)
//   4: time passes: [seconds]; then ForgetSilent
//
// Properties after every operation:
// - every message the router would send (acks, dispatch, reconnect, errors)
//   is one its peer's DecodeEnvelope accepts: a reply the peer drops is a
//   silent failure;
// - a plan has at most one dispatch per worker, each for at least one job;
//   together they ask for no more jobs than the workers had free slots and
//   (for a notice naming queues) than the notice announced;
// - free slots stay within 0..slots, List() has one entry per worker,
//   worker ids are unique, and no more workers are registered than the
//   limit (a refused hello changes nothing).
#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/clock.h"
#include "common/db/ready_listener.h"
#include <google/protobuf/stubs/logging.h>

#include "common/wire/envelope.h"
#include "scheduler/dispatcher.h"
#include "scheduler/worker_registry.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace v1 = chime::v1;
using chime::scheduler::DispatchOrder;
using chime::scheduler::Dispatcher;
using chime::scheduler::WorkerRegistry;

class FakeClock final : public chime::Clock {
 public:
  std::chrono::steady_clock::time_point SteadyNow() const override { return steady_; }
  std::chrono::system_clock::time_point WallNow() const override { return wall_; }
  void Advance(std::chrono::seconds d) {
    steady_ += d;
    wall_ += d;
  }

 private:
  std::chrono::steady_clock::time_point steady_{std::chrono::hours(1)};
  std::chrono::system_clock::time_point wall_{std::chrono::seconds(1'700'000'000)};
};

constexpr std::array<const char*, 4> kQueues = {"default", "email", "reports:daily", "q.x"};

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::string_view Bytes(size_t n) {
    n = std::min(n, size_ - pos_);
    std::string_view out(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// The router sends `e`: its peer must accept it.
void Sent(const v1::Envelope& e, const char* what) {
  const std::string frame = chime::wire::EncodeEnvelope(e);
  auto back = chime::wire::DecodeEnvelope(frame);
  FUZZ_CHECK(back.has_value(), "the router sends a %s its peer rejects: %s", what,
             back ? "" : back.error().message.c_str());
}

struct Router {
  FakeClock clock;
  // Small limits, so that inputs reach them: peers 0-3 share one address.
  static constexpr chime::scheduler::WorkerLimits kLimits{.max_workers = 5, .max_workers_per_address = 3};
  WorkerRegistry registry{clock, std::chrono::milliseconds(10'000), kLimits};
  Dispatcher dispatcher{registry};

  static std::string Address(const std::string& routing_id) {
    const int peer = routing_id.empty() ? 0 : static_cast<uint8_t>(routing_id[0]);
    return peer % 8 < 4 ? "10.0.0.1" : "10.0.0." + std::to_string(peer);
  }

  // As RouterServer::OnPeerMessage, minus the sockets and logs.
  void OnPeerMessage(const std::string& routing_id, std::string_view frame) {
    auto decoded = chime::wire::DecodeEnvelope(frame);
    if (!decoded) {
      v1::Envelope reply;
      reply.mutable_error()->set_code(v1::INVALID_ARGUMENT);
      reply.mutable_error()->set_message(decoded.error().message);
      Sent(reply, "error reply");
      return;
    }
    const v1::Envelope& e = *decoded;
    v1::Envelope reconnect;
    reconnect.mutable_reconnect();
    switch (e.body_case()) {
      case v1::Envelope::kHello: {
        const size_t before = registry.size();
        auto registered = registry.Hello(routing_id, e.hello(), Address(routing_id));
        if (!registered) {
          FUZZ_CHECK(registry.size() == before, "a refused hello changed the registry");
          v1::Envelope reply;
          reply.mutable_error()->set_code(v1::UNAVAILABLE);
          reply.mutable_error()->set_message(registered.error().message);
          Sent(reply, "hello refusal");
          return;
        }
        v1::Envelope ack;
        auto* a = ack.mutable_hello_ack();
        a->set_heartbeat_interval_ms(1000);
        a->set_forget_after_ms(10'000);
        a->set_scheduler_id("fuzz");
        Sent(ack, "hello_ack");
        if (auto order = Dispatcher::ForNewWorker(routing_id, e.hello())) {
          v1::Envelope d;
          *d.mutable_dispatch() = order->dispatch;
          Sent(d, "dispatch after hello");
        }
        return;
      }
      case v1::Envelope::kCapacity:
        if (!registry.Capacity(routing_id, e.capacity().free_slots())) Sent(reconnect, "reconnect");
        return;
      case v1::Envelope::kHeartbeat:
        if (!registry.Heartbeat(routing_id, e.heartbeat())) Sent(reconnect, "reconnect");
        return;
      case v1::Envelope::kResult:
      case v1::Envelope::kResults:
        if (!registry.Touch(routing_id)) Sent(reconnect, "reconnect");
        return;
      case v1::Envelope::kGoodbye:
        registry.Goodbye(routing_id);
        return;
      default:
        return;  // Admin requests need the verifier and a database; others are dropped.
    }
  }

  // As RouterServer::OnReady, checking the plan.
  void OnReady(std::string_view notice) {
    const bool all = notice == "*";
    std::vector<chime::db::ReadyQueue> ready;
    if (!all) ready = chime::db::ParseReadyPayload(notice);
    for (const auto& q : ready) {
      FUZZ_CHECK(q.count > 0 && !q.queue.empty(), "ParseReadyPayload gave \"%s\":%lld from \"%s\"",
                 chime::fuzz::Escaped(q.queue).c_str(), static_cast<long long>(q.count),
                 chime::fuzz::Escaped(notice).c_str());
    }
    const int64_t free_before = registry.free_slots();
    const std::vector<DispatchOrder> orders =
        all ? dispatcher.PlanAll() : dispatcher.Plan(ready);
    int64_t announced = 0;
    for (const auto& q : ready) announced = std::min<int64_t>(announced + q.count, INT64_MAX / 2);
    int64_t asked = 0;
    std::set<std::string> seen;
    for (const auto& order : orders) {
      FUZZ_CHECK(seen.insert(order.routing_id).second, "two dispatches to one worker in one plan");
      v1::Envelope e;
      *e.mutable_dispatch() = order.dispatch;
      Sent(e, "dispatch");
      FUZZ_CHECK(order.dispatch.max_jobs() >= 1, "a dispatch for %d jobs", order.dispatch.max_jobs());
      asked += order.dispatch.max_jobs();
    }
    FUZZ_CHECK(asked <= free_before, "dispatch asks for %lld jobs with %lld free slots",
               static_cast<long long>(asked), static_cast<long long>(free_before));
    if (!all) {
      FUZZ_CHECK(asked <= announced, "dispatch asks for %lld jobs, %lld announced",
                 static_cast<long long>(asked), static_cast<long long>(announced));
    }
  }

  void CheckRegistry() const {
    const auto list = registry.List();
    FUZZ_CHECK(list.size() == registry.size(), "List() has %zu entries for %zu workers",
               list.size(), registry.size());
    std::set<std::string> ids;
    int64_t free = 0;
    for (const auto& w : list) {
      FUZZ_CHECK(ids.insert(w.worker_id()).second, "worker %s registered twice",
                 chime::fuzz::Escaped(w.worker_id()).c_str());
      FUZZ_CHECK(w.free_slots() >= 0 && w.free_slots() <= w.slots(), "worker with %d of %d free",
                 w.free_slots(), w.slots());
      free += w.free_slots();
    }
    FUZZ_CHECK(free == registry.free_slots(), "free_slots() disagrees with List()");
    FUZZ_CHECK(registry.size() <= static_cast<size_t>(kLimits.max_workers), "%zu workers registered, limit %d",
               registry.size(), kLimits.max_workers);
  }
};

v1::Envelope BuildHello(Input& in) {
  v1::Envelope e;
  auto* h = e.mutable_hello();
  h->set_worker_id("w" + std::to_string(in.Byte() % 6));
  h->set_host("host");
  h->set_pid(100);
  // 0..1020: 0 and over 1000 are invalid on purpose.
  h->set_slots(in.Byte() * 4);
  h->set_free_slots(in.Byte() * 4);
  const uint8_t mask = in.Byte();
  for (size_t i = 0; i < kQueues.size(); ++i) {
    if (mask & (1u << i)) h->add_queues(kQueues[i]);
  }
  return e;
}

}  // namespace

// Protobuf logs every invalid UTF-8 string it rejects; the fuzzer makes many.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  Router router;
  for (int step = 0; step < 256 && !in.empty(); ++step) {
    const uint8_t op = in.Byte() % 5;
    switch (op) {
      case 0: {
        const std::string peer(1, static_cast<char>('A' + in.Byte() % 4));
        const size_t len = in.Byte();
        router.OnPeerMessage(peer, in.Bytes(len));
        break;
      }
      case 1: {
        const std::string peer(1, static_cast<char>('A' + in.Byte() % 4));
        v1::Envelope hello = BuildHello(in);
        router.OnPeerMessage(peer, chime::wire::EncodeEnvelope(hello));
        break;
      }
      case 2: {
        const size_t len = in.Byte() | (size_t{in.Byte()} << 8);
        router.OnReady(in.Bytes(len));
        break;
      }
      case 3:
        router.OnReady("*");
        break;
      case 4:
        router.clock.Advance(std::chrono::seconds(in.Byte()));
        router.registry.ForgetSilent();
        break;
    }
    router.CheckRegistry();
  }
  return 0;
}
