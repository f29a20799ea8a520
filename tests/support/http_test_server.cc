#include "tests/support/http_test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace chime::testing {
namespace {

constexpr size_t kMaxHead = 1 << 20;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "HttpTestServer: %s: %s\n", what.c_str(), std::strerror(errno));
  std::abort();
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

// A listening socket on `address`, port chosen by the kernel.
int Listen(const std::string& address, uint16_t& port) {
  sockaddr_storage storage{};
  socklen_t size = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    size = sizeof *v4;
  } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    size = sizeof *v6;
  } else {
    Die("not an address: " + address);
  }
  const int fd = socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) Die("socket");
  if (bind(fd, reinterpret_cast<sockaddr*>(&storage), size) != 0) Die("bind " + address);
  if (listen(fd, 64) != 0) Die("listen");
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &size) != 0) Die("getsockname");
  port = ntohs(storage.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
  return fd;
}

// Reads until `buffer` holds at least `size` bytes; false on EOF or error.
bool ReadAtLeast(int fd, std::string& buffer, size_t size) {
  char chunk[16384];
  while (buffer.size() < size) {
    const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  return true;
}

// Parses the request head (through the blank line) into `request`; returns
// the body length its Content-Length announces.
size_t ParseHead(std::string_view head, RecordedRequest& request) {
  size_t line_end = head.find("\r\n");
  const std::string_view first = head.substr(0, line_end);
  const size_t sp1 = first.find(' ');
  const size_t sp2 = first.rfind(' ');
  request.method = std::string(first.substr(0, sp1));
  const std::string_view target = first.substr(sp1 + 1, sp2 - sp1 - 1);
  const size_t q = target.find('?');
  request.path = std::string(target.substr(0, q));
  if (q != target.npos) request.query = std::string(target.substr(q + 1));
  size_t content_length = 0;
  while (line_end + 2 < head.size()) {
    const size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string_view line = head.substr(start, line_end - start);
    const size_t colon = line.find(':');
    if (colon == line.npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    request.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    if (EqualsIgnoreCase(line.substr(0, colon), "Content-Length")) {
      std::from_chars(value.data(), value.data() + value.size(), content_length);
    }
  }
  return content_length;
}

std::string Render(const ScriptedResponse& response, bool keep_alive) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " Scripted\r\n";
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
  return out + "\r\n" + response.body;
}

void SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    // MSG_NOSIGNAL: a client that gave up must not kill the test with SIGPIPE.
    const ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

std::optional<std::string> RecordedRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

Result<void> VerifyWebhook(const http::WebhookKey& key, const RecordedRequest& request,
                           std::chrono::system_clock::time_point now) {
  const http::WebhookHeaders headers{request.Header("webhook-id").value_or(""),
                                     request.Header("webhook-timestamp").value_or(""),
                                     request.Header("webhook-signature").value_or("")};
  return http::WebhookVerify(key, headers, request.body, now);
}

HttpTestServer::HttpTestServer(std::string address, HttpTestServerOptions options)
    : address_(std::move(address)), options_(options) {
  listen_fd_ = Listen(address_, port_);
  wake_fd_ = eventfd(0, EFD_CLOEXEC);
  if (wake_fd_ < 0) Die("eventfd");
  acceptor_ = std::jthread([this] { AcceptLoop(); });
}

HttpTestServer::~HttpTestServer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
  }
  changed_.notify_all();
  const uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof one) != sizeof one) Die("eventfd write");
  acceptor_.join();
  std::vector<std::jthread> handlers;
  {
    std::lock_guard lock(mu_);
    handlers.swap(handlers_);
  }
  handlers.clear();  // Joins them.
  close(listen_fd_);
  close(wake_fd_);
}

std::string HttpTestServer::Url(std::string_view path_and_query) const {
  const bool v6 = address_.find(':') != std::string::npos;
  const std::string host = v6 ? "[" + address_ + "]" : address_;
  return "http://" + host + ":" + std::to_string(port_) + std::string(path_and_query);
}

void HttpTestServer::Enqueue(ScriptedResponse response) {
  std::lock_guard lock(mu_);
  script_.push_back(std::move(response));
}

void HttpTestServer::SetResponder(Responder responder) {
  std::lock_guard lock(mu_);
  responder_ = std::move(responder);
}

int64_t HttpTestServer::Answered() const {
  std::lock_guard lock(mu_);
  return answered_;
}

void HttpTestServer::Release() {
  {
    std::lock_guard lock(mu_);
    released_ = true;
  }
  changed_.notify_all();
}

std::vector<RecordedRequest> HttpTestServer::Requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

int HttpTestServer::Connections() const {
  std::lock_guard lock(mu_);
  return connections_;
}

bool HttpTestServer::WaitForRequests(size_t count) const {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, std::chrono::seconds(30),
                           [&] { return requests_.size() >= count; });
}

void HttpTestServer::AcceptLoop() {
  pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  while (true) {
    if (poll(fds, 2, -1) < 0 && errno != EINTR) Die("poll");
    if (fds[1].revents != 0) return;
    if (fds[0].revents == 0) continue;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::lock_guard lock(mu_);
    ++connections_;
    open_fds_.push_back(fd);
    handlers_.emplace_back([this, fd] { Serve(fd); });
  }
}

std::optional<ScriptedResponse> HttpTestServer::ScriptedNext() {
  if (script_.empty()) return std::nullopt;
  ScriptedResponse next = std::move(script_.front());
  script_.pop_front();
  return next;
}

bool HttpTestServer::ReadRequest(int fd, std::string& buffer, RecordedRequest& request) {
  size_t head_end = buffer.find("\r\n\r\n");
  while (head_end == std::string::npos && buffer.size() < kMaxHead && ReadAtLeast(fd, buffer, buffer.size() + 1)) {
    head_end = buffer.find("\r\n\r\n");
  }
  if (head_end == std::string::npos) return false;
  const size_t body_size = ParseHead(std::string_view(buffer).substr(0, head_end + 2), request);
  if (!ReadAtLeast(fd, buffer, head_end + 4 + body_size)) return false;
  request.body = buffer.substr(head_end + 4, body_size);
  buffer.erase(0, head_end + 4 + body_size);
  return true;
}

void HttpTestServer::Serve(int fd) {
  std::string buffer;
  while (true) {
    RecordedRequest request;
    if (!ReadRequest(fd, buffer, request)) break;
    std::optional<ScriptedResponse> response;
    Responder responder;
    {
      std::unique_lock lock(mu_);
      if (options_.record) requests_.push_back(request);
      response = ScriptedNext();
      if (!response) responder = responder_;
      changed_.notify_all();
    }
    if (!response) response = responder ? responder(request) : ScriptedResponse{.body = "ok"};
    bool answer = false;
    {
      std::unique_lock lock(mu_);
      if (response->hold) changed_.wait(lock, [&] { return released_ || stopping_; });
      if (response->delay.count() > 0) changed_.wait_for(lock, response->delay, [&] { return stopping_; });
      answer = !stopping_;
    }
    if (!answer) break;
    SendAll(fd, Render(*response, options_.keep_alive));
    {
      std::lock_guard lock(mu_);
      ++answered_;
    }
    changed_.notify_all();
    const auto connection = request.Header("connection");
    if (!options_.keep_alive || (connection && EqualsIgnoreCase(*connection, "close"))) break;
  }
  std::lock_guard lock(mu_);
  std::erase(open_fds_, fd);
  close(fd);
}

}  // namespace chime::testing
