#include "tests/support/raw_http.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace chime::testing {
namespace {

using Clock = std::chrono::steady_clock;

int MsLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

bool WaitFor(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  while (true) {
    const int n = ::poll(&p, 1, MsLeft(deadline));
    if (n > 0) return true;
    if (n == 0 || errno != EINTR) return false;
  }
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

RawHttp::RawHttp(const std::string& address) {
  std::string host = address.substr(0, address.rfind(':'));
  const std::string port = address.substr(address.rfind(':') + 1);
  if (host.starts_with('[')) host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || found == nullptr) return;
  const int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const bool started = fd >= 0 && (::connect(fd, found->ai_addr, found->ai_addrlen) == 0 || errno == EINPROGRESS);
  ::freeaddrinfo(found);
  int err = 0;
  socklen_t len = sizeof(err);
  if (!started || !WaitFor(fd, POLLOUT, Clock::now() + std::chrono::seconds(10)) ||
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
    if (fd >= 0) ::close(fd);
    return;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  fd_ = fd;
}

RawHttp::~RawHttp() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawHttp::Send(std::string_view bytes) {
  if (fd_ < 0) return false;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN && WaitFor(fd_, POLLOUT, deadline)) {
      continue;
    } else {
      return false;
    }
  }
  return true;
}

HttpReply RawHttp::Read(std::chrono::milliseconds timeout, bool to_head) {
  HttpReply reply;
  if (fd_ < 0) return reply;
  const auto deadline = Clock::now() + timeout;
  bool eof = false;
  char chunk[16384];
  while (true) {
    const size_t end = buffer_.find("\r\n\r\n");
    if (end != std::string::npos) {
      HttpReply parsed;
      size_t line_end = buffer_.find("\r\n");
      if (buffer_.size() > 12) parsed.status = std::atoi(buffer_.substr(9, 3).c_str());
      for (size_t at = line_end + 2; at < end;) {
        const size_t next = buffer_.find("\r\n", at);
        const std::string line = buffer_.substr(at, next - at);
        const size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string value = line.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.erase(0, 1);
          parsed.headers[Lower(line.substr(0, colon))] = value;
        }
        at = next + 2;
      }
      const std::string length = to_head ? std::string("0") : parsed.Header("content-length");
      const size_t body_start = end + 4;
      if (!length.empty() && buffer_.size() >= body_start + std::stoull(length)) {
        parsed.body = buffer_.substr(body_start, std::stoull(length));
        buffer_.erase(0, body_start + parsed.body.size());
        return parsed;
      }
      if (length.empty() && eof) {
        parsed.body = buffer_.substr(body_start);
        buffer_.clear();
        return parsed;
      }
      if (parsed.status >= 100 && parsed.status < 200) {  // 100 Continue: the answer follows.
        buffer_.erase(0, body_start);
        continue;
      }
    }
    if (eof || !WaitFor(fd_, POLLIN, deadline)) return reply;
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
    } else if (n == 0) {
      eof = true;
    } else if (errno != EINTR && errno != EAGAIN) {
      return reply;
    }
  }
}

bool RawHttp::WaitClosed(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return true;
  const auto deadline = Clock::now() + timeout;
  char chunk[16384];
  while (WaitFor(fd_, POLLIN, deadline)) {
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return true;
  }
  return false;
}

HttpReply HttpCall(const std::string& address, const std::string& method, const std::string& target,
                   const HttpHeaders& headers, const std::optional<std::string>& body) {
  RawHttp connection(address);
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n";
  for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
  if (body) request += "Content-Length: " + std::to_string(body->size()) + "\r\n";
  request += "\r\n";
  if (body) request += *body;
  if (!connection.Send(request)) return {};
  return connection.Read();
}

}  // namespace chime::testing
