#include "bench/http_load.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <thread>

#include "common/base/child_process.h"

namespace chime::bench {
namespace {

using Clock = std::chrono::steady_clock;

int MsLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// A non-blocking socket connecting to "host:port" (IPv4), or -1.
int StartConnect(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return -1;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
  if (inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr) != 1) return -1;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool WaitFor(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  while (true) {
    const int n = ::poll(&p, 1, MsLeft(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

// The Content-Length of a response head, or -1.
int64_t ContentLength(std::string_view head) {
  std::string lower(head);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const size_t at = lower.find("\r\ncontent-length:");
  if (at == std::string::npos) return -1;
  return std::strtoll(lower.c_str() + at + 17, nullptr, 10);
}

}  // namespace

LoadConnection::LoadConnection(const std::string& address, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  fd_ = StartConnect(address);
  if (fd_ < 0) return;
  int err = 0;
  socklen_t len = sizeof(err);
  if (!WaitFor(fd_, POLLOUT, deadline) || ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

LoadConnection::~LoadConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool LoadConnection::Send(std::string_view data, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!data.empty()) {
    const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && WaitFor(fd_, POLLOUT, deadline)) continue;
    return false;
  }
  return true;
}

LoadConnection::Reply LoadConnection::Read(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  Reply reply;
  bool eof = false;
  char chunk[16384];
  while (true) {
    const size_t head_end = buffer_.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      const std::string_view head(buffer_.data(), head_end);
      const int64_t length = ContentLength(head);
      const size_t total = head_end + 4 + static_cast<size_t>(length < 0 ? 0 : length);
      if ((length >= 0 && buffer_.size() >= total) || (length < 0 && eof)) {
        if (head.size() > 12) reply.status = std::atoi(std::string(head.substr(9, 3)).c_str());
        const size_t end = length >= 0 ? total : buffer_.size();
        reply.body = buffer_.substr(head_end + 4, end - head_end - 4);
        std::string lower(head);
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        reply.keep_alive = lower.find("connection: close") == std::string::npos && !eof;
        buffer_.erase(0, end);
        return reply;
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

bool LoadConnection::WaitClosed(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  char chunk[16384];
  while (WaitFor(fd_, POLLIN, deadline)) {
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) return true;
  }
  return false;
}

SlowSwarm::SlowSwarm(std::string address, int count, size_t bytes_per_tick, std::chrono::milliseconds tick)
    : address_(std::move(address)), count_(count), bytes_per_tick_(bytes_per_tick), tick_(tick) {}

SlowSwarm::~SlowSwarm() {
  for (int fd : fds_) {
    if (fd >= 0) ::close(fd);
  }
}

void SlowSwarm::Connect() {
  static constexpr std::string_view kHead = "GET /healthz HTTP/1.1\r\nHost: bench\r\n";
  for (int i = 0; i < count_; ++i) fds_.push_back(StartConnect(address_));
  // All handshakes at once under one deadline: a server whose backlog is
  // full leaves SYNs unanswered, and those clients count as refused.
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  std::vector<bool> sent(fds_.size(), false);
  size_t pending = 0;
  for (int fd : fds_) pending += fd >= 0 ? 1 : 0;
  while (pending > 0 && Clock::now() < deadline) {
    std::vector<pollfd> polls;
    std::vector<size_t> index;
    for (size_t i = 0; i < fds_.size(); ++i) {
      if (fds_[i] < 0 || sent[i]) continue;
      polls.push_back({fds_[i], POLLOUT, 0});
      index.push_back(i);
    }
    if (::poll(polls.data(), polls.size(), MsLeft(deadline)) <= 0) break;
    for (size_t k = 0; k < polls.size(); ++k) {
      if (polls[k].revents == 0) continue;
      const size_t i = index[k];
      --pending;
      int err = 0;
      socklen_t len = sizeof(err);
      if ((polls[k].revents & (POLLERR | POLLHUP)) == 0 &&
          ::getsockopt(fds_[i], SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0 &&
          ::send(fds_[i], kHead.data(), kHead.size(), MSG_NOSIGNAL) > 0) {
        sent[i] = true;
        ++connected_;
      } else {
        ::close(fds_[i]);
        fds_[i] = -1;
      }
    }
  }
  for (size_t i = 0; i < fds_.size(); ++i) {
    if (fds_[i] >= 0 && !sent[i]) {
      ::close(fds_[i]);
      fds_[i] = -1;
    }
  }
}

void SlowSwarm::Run(std::chrono::milliseconds duration) {
  const auto end = Clock::now() + duration;
  std::string bytes;
  char sink[4096];
  while (Clock::now() < end && open() > 0) {
    const auto next = Clock::now() + tick_;
    for (int& fd : fds_) {
      if (fd < 0) continue;
      // A read of 0 (or an error) is the server dropping us.
      const ssize_t r = ::recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        ::close(fd);
        fd = -1;
        continue;
      }
      bytes.clear();
      while (bytes.size() < bytes_per_tick_) {
        bytes += "X-Slow-" + std::to_string(line_++) + ": ";
        const size_t pad = std::min<size_t>(1000, bytes_per_tick_ - std::min(bytes.size(), bytes_per_tick_));
        bytes.append(pad, 'a');
        bytes += "\r\n";
      }
      const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        ::close(fd);
        fd = -1;
      }
    }
    std::this_thread::sleep_until(next);
  }
}

int SlowSwarm::open() const {
  int n = 0;
  for (int fd : fds_) n += fd >= 0 ? 1 : 0;
  return n;
}

double RssMib(int pid) {
  auto bytes = ResidentBytes(pid);
  return bytes ? static_cast<double>(*bytes) / (1024.0 * 1024.0) : -1;
}

}  // namespace chime::bench
