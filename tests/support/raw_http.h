// A blocking loopback HTTP/1.1 client for tests of Chime's HTTP servers. It
// sends exactly the bytes it is given (so a test can send what no library
// would: endless headers, chunked floods, bodies without a length) and
// reads answers that carry a Content-Length or end with the connection.
// Every wait has a bound; a missing answer is status 0, never a hang.
// Thread-compatible.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chime::testing {

struct HttpReply {
  int status = 0;  // 0: no complete answer (refused, reset, timed out).
  std::map<std::string, std::string> headers;  // Lower-case names.
  std::string body;

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class RawHttp {
 public:
  // Connects to "host:port" (IPv4 or [IPv6]) within 10 s; see connected().
  explicit RawHttp(const std::string& address);
  ~RawHttp();
  RawHttp(const RawHttp&) = delete;
  RawHttp& operator=(const RawHttp&) = delete;

  bool connected() const { return fd_ >= 0; }
  // False once the server closed or reset the connection (or 10 s passed
  // with its receive window full).
  bool Send(std::string_view bytes);
  // The next answer on this connection; `to_head` for the answer to a HEAD
  // request (its Content-Length announces a body that is not sent).
  HttpReply Read(std::chrono::milliseconds timeout = std::chrono::seconds(30), bool to_head = false);
  // Whether the server closed the connection (EOF or reset) within
  // `timeout`; answers it sends meanwhile are read and dropped.
  bool WaitClosed(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  std::string buffer_;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// One request on a fresh connection ("Connection: close"); a body gets a
// Content-Length.
HttpReply HttpCall(const std::string& address, const std::string& method, const std::string& target,
                   const HttpHeaders& headers = {}, const std::optional<std::string>& body = std::nullopt);

inline HttpReply HttpGet(const std::string& address, const std::string& target, const HttpHeaders& headers = {}) {
  return HttpCall(address, "GET", target, headers);
}

// A GET with "Authorization: Bearer <token>", or none when `token` is empty.
inline HttpReply HttpGet(const std::string& address, const std::string& target, const std::string& token) {
  if (token.empty()) return HttpGet(address, target);
  return HttpGet(address, target, HttpHeaders{{"Authorization", "Bearer " + token}});
}

}  // namespace chime::testing
