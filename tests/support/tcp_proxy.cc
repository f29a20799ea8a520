#include "tests/support/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

namespace chime::testing {
namespace {

bool WriteAll(int fd, const char* data, ssize_t n) {
  while (n > 0) {
    const ssize_t w = send(fd, data, static_cast<size_t>(n), MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= w;
  }
  return true;
}

sockaddr_in Loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  return addr;
}

}  // namespace

TcpProxy::TcpProxy(int upstream_port) : upstream_port_(upstream_port) {
  if (pipe(wake_) != 0) throw std::runtime_error("tcp proxy: pipe failed");
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = Loopback(0);
  socklen_t len = sizeof(addr);
  if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listen_fd_, 64) != 0 || getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("tcp proxy: cannot listen on loopback");
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::jthread([this] { Accept(); });
}

TcpProxy::~TcpProxy() {
  const char byte = 0;
  (void)!write(wake_[1], &byte, 1);  // Every poll below now returns.
  acceptor_.join();
  CutAll();
  std::vector<std::jthread> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(threads_);
  }
  threads.clear();  // Joins.
  close(listen_fd_);
  close(wake_[0]);
  close(wake_[1]);
}

void TcpProxy::CutAll() {
  std::lock_guard lock(mu_);
  // Shut down, not closed: each pump closes its own descriptors once it
  // sees the end, so none is reused while another thread still holds it.
  for (const auto& link : open_) {
    shutdown(link.client, SHUT_RDWR);
    shutdown(link.server, SHUT_RDWR);
  }
}

void TcpProxy::Accept() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    const int client = accept(listen_fd_, nullptr, nullptr);
    if (client < 0) continue;
    const int server = socket(AF_INET, SOCK_STREAM, 0);
    const sockaddr_in addr = Loopback(upstream_port_);
    if (server < 0 || connect(server, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(client);
      if (server >= 0) close(server);
      continue;
    }
    const int one = 1;
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    std::lock_guard lock(mu_);
    open_.push_back({client, server});
    threads_.emplace_back([this, link = Link{client, server}] { Pump(link); });
  }
}

void TcpProxy::Pump(Link link) {
  bool deaf = false;  // This connection's answers are dropped from now on.
  char buf[16384];
  while (true) {
    pollfd fds[3] = {{link.client, POLLIN, 0}, {link.server, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[2].revents != 0) break;
    if (fds[0].revents != 0) {
      const ssize_t n = read(link.client, buf, sizeof(buf));
      if (n <= 0) break;
      if (armed_.load() && !deaf) {
        deaf = true;
        ++swallowed_;
      }
      if (!WriteAll(link.server, buf, n)) break;
    }
    if (fds[1].revents != 0) {
      const ssize_t n = read(link.server, buf, sizeof(buf));
      if (n <= 0) break;
      if (!deaf && !WriteAll(link.client, buf, n)) break;
    }
  }
  std::lock_guard lock(mu_);
  std::erase_if(open_, [&](const Link& l) { return l.client == link.client; });
  close(link.client);
  close(link.server);
}

}  // namespace chime::testing
