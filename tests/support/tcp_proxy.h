// A loopback TCP proxy in front of one server, for tests that lose a reply:
// once armed, each connection that sends anything gets no more bytes back
// (the server's answers are dropped), so a client can have a statement
// committed and never hear of it; CutAll() then closes every connection, as
// a crashed pooler or a network fault would. Thread-safe.
#pragma once

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace chime::testing {

class TcpProxy {
 public:
  explicit TcpProxy(int upstream_port);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  // Armed: a connection's requests sent from now on are never answered.
  // Disarming lets new connections talk normally.
  void Arm(bool armed) { armed_.store(armed); }
  // Closes every open connection at once.
  void CutAll();
  // Requests forwarded whose answers were dropped, over all connections.
  int swallowed() const { return swallowed_.load(); }

 private:
  struct Link {
    int client;
    int server;
  };
  void Accept();
  void Pump(Link link);

  const int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};  // Written once, by the destructor.
  std::atomic<bool> armed_{false};
  std::atomic<int> swallowed_{0};
  std::mutex mu_;
  std::vector<Link> open_;  // Guarded by mu_.
  std::vector<std::jthread> threads_;  // Guarded by mu_.
  std::jthread acceptor_;
};

}  // namespace chime::testing
