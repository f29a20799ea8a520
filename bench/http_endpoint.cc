#include "bench/http_endpoint.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace chime::bench {
namespace {

// Seed 001's answer to POST /api/cron/sync-integrations.
constexpr std::string_view kBody =
    R"({"message": "Sync completed", "usersProcessed": 10, "providersSync": 25, "successCount": 23, )"
    R"("failureCount": 2, "durationMs": 15000})";

// The Content-Length of a request head, 0 when it has none.
size_t ContentLength(std::string_view head) {
  size_t at = 0;
  while ((at = head.find("\r\n", at)) != std::string_view::npos) {
    at += 2;
    const std::string_view line = head.substr(at, head.find("\r\n", at) - at);
    if (line.size() > 15 && std::equal(line.begin(), line.begin() + 15, "content-length:", [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == b;
        })) {
      std::string_view value = line.substr(15);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      size_t n = 0;
      std::from_chars(value.data(), value.data() + value.size(), n);
      return n;
    }
  }
  return 0;
}

}  // namespace

Result<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(ErrorCode::kInternal, std::string("socket: ") + std::strerror(errno));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), size) != 0 || listen(fd, 256) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    close(fd);
    return Fail(ErrorCode::kInternal, std::string("bind/listen: ") + std::strerror(errno));
  }
  const int wake = eventfd(0, EFD_CLOEXEC);
  if (wake < 0) {
    close(fd);
    return Fail(ErrorCode::kInternal, "eventfd failed");
  }
  return std::unique_ptr<HttpEndpoint>(new HttpEndpoint(fd, wake, ntohs(address.sin_port)));
}

HttpEndpoint::HttpEndpoint(int listen_fd, int wake_fd, uint16_t port)
    : listen_fd_(listen_fd), wake_fd_(wake_fd), port_(port) {
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

HttpEndpoint::~HttpEndpoint() {
  stopping_ = true;
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
  acceptor_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    for (int fd : fds_) shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  close(listen_fd_);
  close(wake_fd_);
}

std::string HttpEndpoint::Origin() const { return "http://127.0.0.1:" + std::to_string(port_); }

void HttpEndpoint::AcceptLoop() {
  pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  while (!stopping_) {
    if (poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents != 0) return;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ++connections_;
    std::lock_guard lock(mu_);
    fds_.push_back(fd);
    threads_.emplace_back([this, fd] { Serve(fd); });
  }
}

void HttpEndpoint::Serve(int fd) {
  const std::string response = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n"
                               "Content-Length: " + std::to_string(kBody.size()) + "\r\n\r\n" + std::string(kBody);
  std::string buffer;
  char chunk[16384];
  while (!stopping_) {
    const size_t head_end = buffer.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      const size_t total = head_end + 4 + ContentLength(std::string_view(buffer).substr(0, head_end + 2));
      if (buffer.size() >= total) {
        buffer.erase(0, total);
        ++requests_;
        bool sent = true;
        for (std::string_view out = response; sent && !out.empty();) {
          const ssize_t n = send(fd, out.data(), out.size(), MSG_NOSIGNAL);
          sent = n > 0;
          if (sent) out.remove_prefix(static_cast<size_t>(n));
        }
        if (!sent) break;
        continue;
      }
    }
    const ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  std::lock_guard lock(mu_);
  std::erase(fds_, fd);
  close(fd);
}

}  // namespace chime::bench
