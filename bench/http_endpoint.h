// A keep-alive HTTP/1.1 endpoint on loopback for `chime-bench kinds`: what
// http_request calls are timed against. Answers every request with seed
// 001's sync answer (200, JSON, Content-Length, keep-alive), one thread per
// connection, and counts connections and requests so the bench can tell
// whether the workers reuse their connections. Not a general server: bodies
// need a Content-Length. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/base/error.h"

namespace chime::bench {

class HttpEndpoint {
 public:
  // Binds 127.0.0.1 on a free port and starts accepting.
  [[nodiscard]] static Result<std::unique_ptr<HttpEndpoint>> Start();
  ~HttpEndpoint();

  // "http://127.0.0.1:PORT".
  std::string Origin() const;
  int64_t connections() const { return connections_.load(); }
  int64_t requests() const { return requests_.load(); }

 private:
  HttpEndpoint(int listen_fd, int wake_fd, uint16_t port);
  void AcceptLoop();
  void Serve(int fd);

  const int listen_fd_;
  const int wake_fd_;
  const uint16_t port_;
  std::atomic<int64_t> connections_{0};
  std::atomic<int64_t> requests_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::vector<int> fds_;             // Guarded by mu_: shut down when stopping.
  std::vector<std::thread> threads_;  // Guarded by mu_.
  std::thread acceptor_;
};

}  // namespace chime::bench
