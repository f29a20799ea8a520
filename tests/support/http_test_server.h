// A loopback HTTP/1.1 server for tests of outbound HTTP: binds a free port on
// the address it is given ("127.0.0.1", "127.0.0.2", "::1"), counts the
// connections it accepts, records every request and answers each from a
// script, then from a responder function (stand-ins of the seeds'
// endpoints), then 200 "ok". One request per connection ("Connection:
// close") unless built with keep_alive, which serves requests on a
// connection until the client closes it (what connection reuse is measured
// against). Bodies must come with a Content-Length; chunked uploads are not
// read.
//
// Thread-safe. Tests wait on its condition variable (WaitForRequests), never
// on time. The destructor stops it, closing held requests unanswered.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/base/error.h"
#include "common/http/webhook.h"

namespace chime::testing {

using TestHeaders = std::vector<std::pair<std::string, std::string>>;

struct RecordedRequest {
  std::string method;
  std::string path;   // Without the query.
  std::string query;  // Without the '?'.
  TestHeaders headers;
  std::string body;

  // The first header named `name`, ASCII case-insensitive.
  std::optional<std::string> Header(std::string_view name) const;
};

// Checks `request`'s Standard Webhooks headers (webhook-id, -timestamp,
// -signature; a missing one counts as empty) and body with `key` at `now`.
[[nodiscard]] Result<void> VerifyWebhook(const http::WebhookKey& key, const RecordedRequest& request,
                                         std::chrono::system_clock::time_point now);

struct ScriptedResponse {
  int status = 200;
  TestHeaders headers;
  std::string body;
  // Answer only after Release() (or never, if the client gives up first):
  // how tests make a request outlast its timeout without sleeping.
  bool hold = false;
  // Answer this much later: a slow endpoint (a 45 s sync in miniature). The
  // client's own timeout decides what happens; nothing waits on it.
  std::chrono::milliseconds delay{0};
};

using Responder = std::function<ScriptedResponse(const RecordedRequest&)>;

struct HttpTestServerOptions {
  bool keep_alive = false;  // Serve many requests per connection.
  bool record = true;       // Keep every request (a bench turns it off).
};

class HttpTestServer {
 public:
  // Binds `address` on a free port and starts serving; aborts the test
  // binary with a message when it cannot.
  explicit HttpTestServer(std::string address = "127.0.0.1", HttpTestServerOptions options = {});
  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  uint16_t port() const { return port_; }
  // "http://127.0.0.1:41234/path" or "http://[::1]:41234/path".
  std::string Url(std::string_view path_and_query = "/") const;

  // Answers the next requests in order; once the script runs out, the
  // responder, or 200 "ok" without one.
  void Enqueue(ScriptedResponse response);
  // Answers every request the script does not; called on the serving
  // thread, outside the server's lock.
  void SetResponder(Responder responder);
  // Lets held responses, now and later, go out.
  void Release();

  std::vector<RecordedRequest> Requests() const;
  // Requests answered so far (recorded or not).
  int64_t Answered() const;
  // Connections accepted so far, including any that sent nothing.
  int Connections() const;
  // Waits until `count` requests are recorded. False after a generous guard
  // (30 s) so a broken test fails instead of hanging; never a timing check.
  bool WaitForRequests(size_t count) const;

 private:
  void AcceptLoop();
  void Serve(int fd);
  // Reads one request from `fd` into `request`, keeping what follows it in
  // `buffer`; false at EOF or on a malformed head.
  bool ReadRequest(int fd, std::string& buffer, RecordedRequest& request);
  std::optional<ScriptedResponse> ScriptedNext();  // Requires mu_.

  const std::string address_;
  const HttpTestServerOptions options_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;  // An eventfd that stops AcceptLoop's poll.
  uint16_t port_ = 0;

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  std::deque<ScriptedResponse> script_;    // Guarded by mu_.
  Responder responder_;                    // Guarded by mu_.
  int64_t answered_ = 0;                   // Guarded by mu_.
  std::vector<RecordedRequest> requests_;  // Guarded by mu_.
  std::vector<int> open_fds_;              // Guarded by mu_; shut down on stop.
  std::vector<std::jthread> handlers_;     // Guarded by mu_.
  int connections_ = 0;                    // Guarded by mu_.
  bool released_ = false;                  // Guarded by mu_.
  bool stopping_ = false;                  // Guarded by mu_.
  std::jthread acceptor_;
};

}  // namespace chime::testing
