// A DEALER peer for tests: a worker or jobctl as the scheduler sees them,
// plus builders for the envelopes such a peer sends. Receives wait up to a
// deadline that only a broken build reaches; tests never assert on how
// long anything took. Thread-compatible.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "chime/v1/chime.pb.h"
#include "common/wire/signing.h"

namespace chime::testing {

class Peer {
 public:
  Peer(zmq::context_t& context, const std::string& endpoint);
  // Not yet connected: the caller sets options (CURVE) and connects.
  explicit Peer(zmq::context_t& context);

  void Send(v1::Envelope e);
  void SendRaw(const std::string& frame);
  zmq::socket_t& socket() { return socket_; }

  // The next envelope, or nullopt after `wait`.
  std::optional<v1::Envelope> Receive(std::chrono::milliseconds wait = std::chrono::seconds(10));
  // Skips messages until one with the given body arrives.
  std::optional<v1::Envelope> ReceiveBody(v1::Envelope::BodyCase body);
  // Skips to the next dispatch naming queues: a dispatch without queues is
  // the "look at everything" sent when the ready feed (re)connects.
  std::optional<v1::Envelope> ReceiveQueueDispatch();

 private:
  zmq::socket_t socket_;
};

// A worker hello on queue "default" with 4 slots.
v1::Envelope HelloEnvelope(const std::string& worker_id, int free_slots);
// An admin request signed now with `secret`.
v1::Envelope AdminEnvelope(const v1::AdminRequest& request, const wire::AdminSecret& secret,
                           uint64_t correlation_id);

}  // namespace chime::testing
