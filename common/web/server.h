// A small HTTP/1.1 server for the probes, /metrics and the JSON API of the
// scheduler and the worker, over cpp-httplib (kept out of this header).
// Routes are registered before Start(); each names whether it is open
// (probes, metrics) or needs the admin bearer token. Requests run on a
// bounded pool of threads; a full queue makes the accept loop wait, so the
// kernel's backlog, not memory, absorbs a flood. Errors are JSON:
// {"error": {"code": "not_found", "message": "..."}}.
// Thread-safety: Route() before Start(); Start()/Stop() from one controlling
// thread; Stop() is idempotent, safe before Start(), and joins every thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/base/error.h"
#include "common/web/auth.h"

namespace chime::web {

struct ListenAddress {
  std::string host;  // "127.0.0.1", "0.0.0.0", "::1" (no brackets), "localhost".
  int port = 0;      // 0: the kernel picks a free port.
};

// Parses "host:port" or "[v6-host]:port". InvalidArgument naming `flag`
// ("--http-listen: ...") for anything else.
[[nodiscard]] Result<ListenAddress> ParseListenAddress(std::string_view text,
                                                       std::string_view flag = "--http-listen");

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";  // "host:port"; port 0 picks a free one.
  std::string flag = "--http-listen";     // Named in every configuration error.
  int threads = 4;                        // Requests handled at once.
  int max_queued = 64;                    // Accepted connections waiting for a thread.
  size_t max_body_bytes = 64 * 1024;      // Larger bodies get 413 before a handler runs.
  // A request line, headers or body slower than this is dropped; so is a
  // response the client does not read. Keep-alive connections idle longer
  // than keep_alive are closed, so slow clients cannot pin the threads.
  std::chrono::milliseconds read_timeout{5000};
  std::chrono::milliseconds write_timeout{5000};
  std::chrono::seconds keep_alive{2};

  [[nodiscard]] Result<void> Validate() const;
};

struct Request {
  std::string method;
  std::string path;
  std::vector<std::string> path_params;  // The route pattern's capture groups.
  std::multimap<std::string, std::string> query;
  std::multimap<std::string, std::string> headers;  // Names as sent.
  std::string body;

  // The first value of a query parameter.
  std::optional<std::string> Query(const std::string& name) const;
  // A header, case-insensitively.
  std::optional<std::string> Header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// What a route needs: nothing, or "Authorization: Bearer <token>" with a
// named token (or the bootstrap admin secret) whose scope covers it; 401
// without a valid token, 403 when its scope is too small (common/web/auth.h).
enum class Access {
  kOpen,     // Probes, metrics, the dashboard's files.
  kRead,     // Scope read: the API's GETs.
  kOperate,  // Scope operate.
  kAdmin,    // Scope admin.
};

using Handler = std::function<Response(const Request&)>;

class Server {
 public:
  // `auth` checks kAdmin routes; without it every kAdmin route answers 401.
  explicit Server(ServerConfig config, std::shared_ptr<const BearerAuth> auth = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // `pattern` is an ECMAScript regex matched against the whole path, e.g.
  // "/api/jobs/(\\d+)"; captures arrive in Request::path_params.
  void Get(const std::string& pattern, Access access, Handler handler);
  void Post(const std::string& pattern, Access access, Handler handler);

  // Binds and starts serving; returns the bound "host:port" (the real port
  // when the configured one was 0) and logs "http listening on <addr>".
  // InvalidArgument naming the flag for a malformed address, Unavailable
  // naming it when the address cannot be bound (in use, not local).
  [[nodiscard]] Result<std::string> Start();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// {"error": {"code": code, "message": message}} with `status`.
Response ErrorResponse(int status, std::string_view code, std::string_view message);
// The HTTP status for an error code: InvalidArgument 400, Unauthenticated
// 401, PermissionDenied 403, NotFound 404, AlreadyExists/FailedPrecondition 409, Unavailable and
// Retryable 503, anything else 500.
int HttpStatusOf(ErrorCode code);
Response ErrorResponse(const Error& error);
// A 200 JSON response from already serialized JSON text.
Response JsonResponse(std::string json_text, int status = 200);

}  // namespace chime::web
