// One HTTP/1.1 connection of web::Server (internal to common/web): reads a
// request's head under a total deadline with Beast's parser, asks its host
// to admit the request (route and token) before reading any body, reads a
// bounded body, hands the request to its host to run, writes the response
// and waits for the next request (keep-alive) or closes. Every member runs
// on the server's event-loop thread; the host keeps each connection alive
// (shared_ptr) until the connection reports itself Closed.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "common/web/request_parser.h"
#include "common/web/server.h"

namespace chime::web {

class HttpConnection;

// What a request's head earned it: a route to run once its body has been
// read, or a response that refuses it (its body is never read).
struct Admission {
  const void* route = nullptr;  // The host's route; null when refused.
  std::optional<Response> refusal;
};

// The server as its connections see it. Called on the event loop only.
class ConnectionHost {
 public:
  virtual ~ConnectionHost() = default;
  virtual const ServerConfig& config() const = 0;
  // Routes and authenticates `head` (its body not read yet). Fills
  // head.path_params for the route it admits.
  virtual Admission Admit(Request& head) = 0;
  // Runs `route` for `request` and later calls connection->Respond() on the
  // event loop (at once for inline routes).
  virtual void Dispatch(std::shared_ptr<HttpConnection> connection, const void* route, Request request) = 0;
  // The connection closed its socket; the host forgets it.
  virtual void Closed(HttpConnection* connection) = 0;
};

class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  using Clock = std::chrono::steady_clock;

  HttpConnection(boost::asio::ip::tcp::socket socket, ConnectionHost& host, std::string peer);

  // Starts reading the first request.
  void Start();
  // The response to the request handed to Dispatch().
  void Respond(Response response);
  // Closes the socket now (eviction, shutdown); idempotent.
  void Close();

  // Whether the connection waits for a request's head (or lingers after a
  // refusal): the connections a server may drop to make room.
  bool evictable() const { return !closed_ && (state_ == State::kHead || state_ == State::kLinger); }
  // Since when it has been waiting (for eviction order).
  Clock::time_point waiting_since() const { return waiting_since_; }
  const std::string& peer() const { return peer_; }

 private:
  enum class State { kHead, kBody, kHandler, kWrite, kLinger, kClosed };

  void AwaitNext();
  void ReadHead();
  void OnHead(boost::system::error_code ec);
  void ReadBody();
  void OnBody(boost::system::error_code ec);
  // Hands the complete request to the host to run.
  void Dispatch();
  // Answers without reading any more of the request, then closes.
  void Refuse(Response response);
  void Write(const Response& response, bool keep_alive);
  void OnWritten(boost::system::error_code ec);
  void Linger();
  void Drain();
  // Closes the connection unless re-armed within `after`.
  void Arm(Clock::duration after);

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer deadline_;
  ConnectionHost& host_;
  const ServerConfig& config_;
  const std::string peer_;
  boost::beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  std::string method_, path_;  // Of the request being served, for the log.
  const void* route_ = nullptr;
  bool head_only_ = false;    // A HEAD request: the response carries no body.
  bool keep_alive_ = false;   // The request allows another on this connection.
  std::string out_;           // The response being written.
  bool close_after_write_ = false;
  bool linger_after_write_ = false;  // The request was not read to its end.
  size_t drained_ = 0;
  char drain_[4096];
  State state_ = State::kHead;
  bool closed_ = false;
  Clock::time_point waiting_since_;
};

}  // namespace chime::web
