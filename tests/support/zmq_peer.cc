#include "tests/support/zmq_peer.h"

#include <gtest/gtest.h>

#include "common/wire/envelope.h"

namespace chime::testing {

Peer::Peer(zmq::context_t& context, const std::string& endpoint) : Peer(context) {
  socket_.connect(endpoint);
}

Peer::Peer(zmq::context_t& context) : socket_(context, zmq::socket_type::dealer) {
  socket_.set(zmq::sockopt::linger, 0);
}

void Peer::Send(v1::Envelope e) { SendRaw(wire::EncodeEnvelope(std::move(e))); }

void Peer::SendRaw(const std::string& frame) { socket_.send(zmq::buffer(frame)); }

std::optional<v1::Envelope> Peer::Receive(std::chrono::milliseconds wait) {
  zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, wait) == 0) return std::nullopt;
  zmq::message_t m;
  if (!socket_.recv(m)) return std::nullopt;
  auto e = wire::DecodeEnvelope(m.to_string_view());
  EXPECT_TRUE(e.has_value()) << e.error().ToString();
  if (!e) return std::nullopt;
  return *e;
}

std::optional<v1::Envelope> Peer::ReceiveBody(v1::Envelope::BodyCase body) {
  for (int i = 0; i < 100; ++i) {
    auto e = Receive();
    if (!e) return std::nullopt;
    if (e->body_case() == body) return e;
  }
  return std::nullopt;
}

std::optional<v1::Envelope> Peer::ReceiveQueueDispatch() {
  for (int i = 0; i < 100; ++i) {
    auto e = ReceiveBody(v1::Envelope::kDispatch);
    if (!e || e->dispatch().queues_size() > 0) return e;
  }
  return std::nullopt;
}

v1::Envelope HelloEnvelope(const std::string& worker_id, int free_slots) {
  v1::Envelope e;
  auto* h = e.mutable_hello();
  h->set_worker_id(worker_id);
  h->set_host("test");
  h->set_pid(1);
  h->add_queues("default");
  h->set_slots(4);
  h->set_free_slots(free_slots);
  return e;
}

v1::Envelope AdminEnvelope(const v1::AdminRequest& request, const wire::AdminSecret& secret,
                           uint64_t correlation_id) {
  v1::Envelope e;
  e.set_correlation_id(correlation_id);
  *e.mutable_admin_request() = wire::SignRequest(request, secret, std::chrono::system_clock::now());
  return e;
}

}  // namespace chime::testing
