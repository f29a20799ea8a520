#include "common/web/connection.h"

#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/web/target.h"

namespace chime::web {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

// After a refusal the rest of the request is read and thrown away for a
// moment before closing, so the client sees the answer rather than a reset;
// never more than this much, never longer than this.
constexpr size_t kLingerBytes = 1024 * 1024;
constexpr auto kLingerTime = std::chrono::seconds(2);

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
  while (!out.empty() && (out.front() == ' ' || out.front() == '\t')) out.erase(0, 1);
  return out;
}

// A header value or name a handler set that could split the response.
bool Unsafe(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

bool Framing(std::string_view name) {
  const std::string lower = Lower(name);
  return lower == "content-length" || lower == "transfer-encoding" || lower == "connection";
}

std::string Serialize(const Response& r, bool keep_alive, bool head_only, int version) {
  std::string reason(http::obsolete_reason(static_cast<http::status>(r.status)));
  if (reason == "<unknown-status>") reason = "Status";
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason + "\r\n";
  if (!r.content_type.empty() && !Unsafe(r.content_type)) out += "Content-Type: " + r.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  if (!keep_alive) {
    out += "Connection: close\r\n";
  } else if (version < 11) {
    out += "Connection: keep-alive\r\n";
  }
  for (const auto& [name, value] : r.headers) {
    if (Framing(name) || Unsafe(name) || Unsafe(value) || name.empty()) continue;
    out += name + ": " + value + "\r\n";
  }
  out += "\r\n";
  if (!head_only) out += r.body;
  return out;
}

}  // namespace

HttpConnection::HttpConnection(asio::ip::tcp::socket socket, ConnectionHost& host, std::string peer)
    : socket_(std::move(socket)),
      deadline_(socket_.get_executor()),
      host_(host),
      config_(host.config()),
      peer_(std::move(peer)),
      buffer_(config_.max_header_bytes + 1024) {}

void HttpConnection::Start() {
  error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  ReadHead();
}

void HttpConnection::Arm(Clock::duration after) {
  deadline_.expires_after(after);
  deadline_.async_wait([self = weak_from_this()](error_code ec) {
    auto c = self.lock();
    // A re-armed timer's old wait may already be queued: check the time too.
    if (!c || ec || c->deadline_.expiry() > Clock::now()) return;
    c->Close();
  });
}

void HttpConnection::AwaitNext() {
  if (buffer_.size() > 0) {  // The client sent its next request already.
    ReadHead();
    return;
  }
  buffer_.shrink_to_fit();  // An idle connection holds no buffer.
  state_ = State::kHead;
  waiting_since_ = Clock::now();
  Arm(config_.keep_alive);
  socket_.async_wait(asio::socket_base::wait_read, [self = shared_from_this()](error_code ec) {
    if (self->closed_) return;
    if (ec) {
      self->Close();
      return;
    }
    self->ReadHead();
  });
}

void HttpConnection::ReadHead() {
  state_ = State::kHead;
  waiting_since_ = Clock::now();
  parser_.emplace(config_);
  route_ = nullptr;
  head_only_ = false;
  Arm(config_.read_timeout);
  http::async_read_header(socket_, buffer_, *parser_, [self = shared_from_this()](error_code ec, size_t) {
    self->OnHead(ec);
  });
}

void HttpConnection::OnHead(error_code ec) {
  if (closed_) return;
  if (ec) {
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      const bool line = parser_->target_too_long() || !parser_->saw_request_line();
      Refuse(line ? ErrorResponse(414, "uri_too_long", "request target too long")
                  : ErrorResponse(431, "header_fields_too_large", "request header fields too large"));
    } else if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset ||
               ec == asio::error::operation_aborted || ec == http::error::partial_message) {
      Close();
    } else {
      Refuse(ErrorResponse(400, "bad_request", "malformed request"));
    }
    return;
  }
  Request& head = parser_->request();
  head_only_ = head.method == "HEAD";
  keep_alive_ = parser_->keep_alive();
  // Framing Chime does not decode is refused whether or not a body follows.
  if (auto te = head.Header("Transfer-Encoding"); te && Lower(*te) != "chunked") {
    Refuse(ErrorResponse(501, "not_implemented", "only the chunked transfer coding is accepted"));
    return;
  }
  Admission admission = host_.Admit(head);
  if (admission.refusal) {
    Refuse(std::move(*admission.refusal));
    return;
  }
  route_ = admission.route;
  if (parser_->is_done()) {  // No body.
    Dispatch();
    return;
  }
  // A body follows: checked before a byte of it is read.
  if (auto ce = head.Header("Content-Encoding"); ce && Lower(*ce) != "identity") {
    Refuse(ErrorResponse(415, "unsupported_media_type", "compressed request bodies are not accepted"));
    return;
  }
  if (auto length = parser_->content_length(); length && *length > config_.max_body_bytes) {
    Refuse(ErrorResponse(413, "payload_too_large", "request body too large"));
    return;
  }
  parser_->AllowBody();
  if (auto expect = head.Header("Expect"); expect && Lower(*expect) == "100-continue" && parser_->version() >= 11) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    state_ = State::kWrite;
    Arm(config_.write_timeout);
    asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = shared_from_this()](error_code write_ec, size_t) {
                        if (self->closed_) return;
                        if (write_ec) {
                          self->Close();
                          return;
                        }
                        self->ReadBody();
                      });
    return;
  }
  ReadBody();
}

void HttpConnection::ReadBody() {
  state_ = State::kBody;
  Arm(config_.read_timeout);
  http::async_read(socket_, buffer_, *parser_, [self = shared_from_this()](error_code ec, size_t) {
    self->OnBody(ec);
  });
}

void HttpConnection::OnBody(error_code ec) {
  if (closed_) return;
  if (ec) {
    if (ec == http::error::body_limit || parser_->body_too_large()) {
      Refuse(ErrorResponse(413, "payload_too_large", "request body too large"));
    } else if (ec == http::error::buffer_overflow) {
      Refuse(ErrorResponse(431, "header_fields_too_large", "chunk header or trailer too large"));
    } else if (ec == http::error::end_of_stream || ec == http::error::partial_message || ec == asio::error::eof ||
               ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
      Close();
    } else {
      Refuse(ErrorResponse(400, "bad_request", "malformed request body"));
    }
    return;
  }
  Dispatch();
}

void HttpConnection::Dispatch() {
  state_ = State::kHandler;
  deadline_.cancel();
  method_ = parser_->request().method;
  path_ = LoggablePath(parser_->request().path);
  host_.Dispatch(shared_from_this(), route_, std::move(parser_->request()));
}

void HttpConnection::Respond(Response response) {
  if (closed_) return;
  spdlog::debug("http {} {} {}", method_, path_, response.status);
  Write(response, keep_alive_);
}

void HttpConnection::Refuse(Response response) {
  spdlog::debug("http {} refused: {}", peer_, response.status);
  linger_after_write_ = true;
  Write(response, false);
}

void HttpConnection::Write(const Response& response, bool keep_alive) {
  close_after_write_ = !keep_alive;
  out_ = Serialize(response, keep_alive, head_only_, parser_ ? parser_->version() : 11);
  parser_.reset();
  state_ = State::kWrite;
  Arm(config_.write_timeout);
  asio::async_write(socket_, asio::buffer(out_), [self = shared_from_this()](error_code ec, size_t) {
    self->OnWritten(ec);
  });
}

void HttpConnection::OnWritten(error_code ec) {
  if (closed_) return;
  out_.clear();
  out_.shrink_to_fit();
  if (ec) {
    Close();
  } else if (linger_after_write_) {
    Linger();
  } else if (close_after_write_) {
    error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    Close();
  } else {
    AwaitNext();
  }
}

void HttpConnection::Linger() {
  state_ = State::kLinger;
  waiting_since_ = Clock::now();
  buffer_.clear();
  buffer_.shrink_to_fit();
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  Arm(kLingerTime);
  Drain();
}

void HttpConnection::Drain() {
  socket_.async_read_some(asio::buffer(drain_), [self = shared_from_this()](error_code ec, size_t n) {
    if (self->closed_) return;
    self->drained_ += n;
    if (ec || self->drained_ >= kLingerBytes) {
      self->Close();
      return;
    }
    self->Drain();
  });
}

void HttpConnection::Close() {
  if (closed_) return;
  closed_ = true;
  state_ = State::kClosed;
  auto self = shared_from_this();  // The host may drop its reference below.
  error_code ignored;
  deadline_.cancel();
  socket_.close(ignored);
  parser_.reset();
  buffer_.clear();
  buffer_.shrink_to_fit();
  host_.Closed(this);
}

}  // namespace chime::web
