// A small HTTP/1.1 server for the probes, /metrics and the JSON API of the
// scheduler and the worker, over Boost.Beast's parser and Asio (both kept
// out of this header). One event-loop thread reads every connection; each
// request is routed and authenticated as soon as its head has arrived, before
// a byte of its body is read, so an unknown route (404/405), a missing token
// (401), a compressed body (415) or a declared length over the limit (413)
// is refused without reading the body. Memory per connection is bounded
// whatever the framing (chunked bodies are counted as they arrive, never
// inflated), a request's head has a total deadline (slowloris trickling buys
// nothing), and connections are capped in total and per client address: at a
// cap the oldest connection still waiting for its head is dropped for the
// newcomer, so a probe never queues behind idle attackers. Handlers run on
// two bounded pools (open routes, authenticated routes) or, for routes marked
// Lane::kInline (liveness), on the event loop itself, so database work in the
// API never delays the probes. Errors are JSON:
// {"error": {"code": "not_found", "message": "..."}}.
// Thread-safety: Get()/Post() before Start(); Start()/Stop() from one
// controlling thread; Stop() is idempotent, safe before Start(), and joins
// every thread. A stopped server does not start again.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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
  int threads = 4;            // Handlers of authenticated routes running at once.
  int probe_threads = 2;      // Handlers of open routes (probes, /metrics, dashboard) at once.
  int max_queued = 64;        // Requests waiting for each pool; more get 503 at once.
  size_t max_body_bytes = 64 * 1024;     // Larger bodies get 413, counted as received.
  size_t max_header_bytes = 16 * 1024;   // Request line + headers; more: 431 (414 for the line).
  size_t max_target_bytes = 8 * 1024;    // The request target (path and query); more: 414.
  int max_headers = 100;                 // Header fields; more: 431.
  int max_connections = 512;             // Open at once, in total ...
  int max_connections_per_address = 128;  // ... and from one client address.
  // A request's line and headers must arrive within read_timeout of the
  // connection's start (or of the first byte after a keep-alive pause): a
  // total deadline, not one per read. Its body gets read_timeout again; a
  // response gets write_timeout. An idle keep-alive connection is closed
  // after keep_alive.
  std::chrono::milliseconds read_timeout{5000};
  std::chrono::milliseconds write_timeout{5000};
  std::chrono::seconds keep_alive{2};

  // InvalidArgument naming the field ("http: max_headers must be 1-10000").
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

// Where a route's handler runs.
enum class Lane {
  kPool,    // On a pool thread: open routes and authenticated routes each have their own.
  kInline,  // On the event loop: only for handlers that never block (liveness).
};

class Server {
 public:
  // `auth` checks kAdmin routes; without it every kAdmin route answers 401.
  explicit Server(ServerConfig config, std::shared_ptr<const BearerAuth> auth = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // `pattern` is an ECMAScript regex matched against the whole path, e.g.
  // "/api/jobs/(\\d+)"; captures arrive in Request::path_params.
  // GET routes also answer HEAD (the same headers, no body).
  void Get(const std::string& pattern, Access access, Handler handler, Lane lane = Lane::kPool);
  void Post(const std::string& pattern, Access access, Handler handler, Lane lane = Lane::kPool);

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
