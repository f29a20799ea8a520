// Loopback HTTP/1.1 client pieces for `chime-bench http`: blocking
// connections with deadlines, one request/response exchange on a keep-alive
// connection, and a swarm of slow clients that trickle header bytes and
// notice when the server drops them. Plain sockets, no HTTP library: the
// bench must send what no well-behaved client would. Thread-compatible
// (each object is driven by one thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chime::bench {

// A connected TCP socket to "host:port" (closed by the destructor), or
// !ok() when the connection could not be made within `timeout`.
class LoadConnection {
 public:
  LoadConnection(const std::string& address, std::chrono::milliseconds timeout);
  ~LoadConnection();
  LoadConnection(const LoadConnection&) = delete;
  LoadConnection& operator=(const LoadConnection&) = delete;

  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // False when the peer closed or `timeout` passed before all was sent.
  bool Send(std::string_view data, std::chrono::milliseconds timeout);

  struct Reply {
    int status = 0;  // 0: no complete response (closed, reset, timed out).
    std::string body;
    bool keep_alive = true;
  };
  // One response (with a Content-Length, or delimited by close) within `timeout`.
  Reply Read(std::chrono::milliseconds timeout);
  // Whether the server closed the connection (EOF or reset) within `timeout`.
  bool WaitClosed(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  std::string buffer_;  // Bytes read past the previous response.
};

// `count` connections that each send `head` and then `bytes_per_tick` more
// bytes of never-ending header lines every `tick`, all from one thread by
// poll. Run() returns after `duration`; open() counts connections the server
// has not closed.
class SlowSwarm {
 public:
  SlowSwarm(std::string address, int count, size_t bytes_per_tick, std::chrono::milliseconds tick);
  ~SlowSwarm();

  // Connects every client (those the server refuses count as closed).
  void Connect();
  // Trickles for `duration`, or until every client is closed.
  void Run(std::chrono::milliseconds duration);
  int open() const;
  int connected() const { return connected_; }

 private:
  std::string address_;
  int count_;
  size_t bytes_per_tick_;
  std::chrono::milliseconds tick_;
  std::vector<int> fds_;  // -1 once closed by the server.
  int connected_ = 0;
  int64_t line_ = 0;      // Numbers the header lines sent.
};

// Resident set size of `pid` in MiB, or -1.
double RssMib(int pid);

}  // namespace chime::bench
