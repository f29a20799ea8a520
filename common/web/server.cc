#include "common/web/server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>

namespace chime::web {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::seconds;

// ThreadPool with a bounded queue: enqueue() waits while `max_queued`
// connections already wait, so the accept loop stops accepting and the
// listen backlog fills instead of memory. Jobs left at shutdown still run
// (each one closes its socket), so no descriptor leaks.
class BoundedPool final : public httplib::TaskQueue {
 public:
  BoundedPool(int threads, int max_queued) : max_queued_(static_cast<size_t>(max_queued)) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
  }
  ~BoundedPool() override = default;

  void enqueue(std::function<void()> fn) override {
    std::unique_lock lock(mu_);
    space_.wait(lock, [&] { return jobs_.size() < max_queued_ || shutdown_; });
    jobs_.push_back(std::move(fn));
    lock.unlock();
    ready_.notify_one();
  }

  void shutdown() override {
    {
      std::lock_guard lock(mu_);
      shutdown_ = true;
    }
    ready_.notify_all();
    space_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  void Work() {
    while (true) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mu_);
        ready_.wait(lock, [&] { return !jobs_.empty() || shutdown_; });
        if (jobs_.empty()) return;  // Shut down and drained.
        fn = std::move(jobs_.front());
        jobs_.pop_front();
      }
      space_.notify_one();
      fn();
    }
  }

  const size_t max_queued_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::condition_variable space_;
  std::deque<std::function<void()>> jobs_;  // Guarded by mu_.
  bool shutdown_ = false;                   // Guarded by mu_.
  std::vector<std::thread> threads_;
};

// httplib::Server::stop() does nothing until the listen loop has marked
// itself running, so a Stop() right after Start() could miss it and hang the
// join. Closing the listening socket ourselves works at any point: the loop
// checks it before each accept() and accept() returns when it is shut down.
class StoppableServer final : public httplib::Server {
 public:
  void ForceStop() {
    const socket_t sock = svr_sock_.exchange(INVALID_SOCKET);
    if (sock == INVALID_SOCKET) return;
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
  }
};

std::string FormatAddress(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Request Convert(const httplib::Request& in) {
  Request out;
  out.method = in.method;
  out.path = in.path;
  for (size_t i = 1; i < in.matches.size(); ++i) out.path_params.push_back(in.matches[i].str());
  for (const auto& [k, v] : in.params) out.query.emplace(k, v);
  for (const auto& [k, v] : in.headers) out.headers.emplace(k, v);
  out.body = in.body;
  return out;
}

void Apply(const Response& from, httplib::Response& to) {
  to.status = from.status;
  for (const auto& [k, v] : from.headers) to.set_header(k, v);
  to.set_content(from.body, from.content_type);
}

// The one place a route's access is checked: nullopt lets the request
// through; otherwise the 401 (no valid token; with WWW-Authenticate), 403
// (a valid token whose scope is too small) or 503 (the token store is
// unreachable) to answer with.
std::optional<Response> AccessDenied(const BearerAuth* auth, Access access,
                                     const std::optional<std::string>& authorization) {
  if (access == Access::kOpen) return std::nullopt;
  const auth::Scope need = access == Access::kRead      ? auth::Scope::kRead
                           : access == Access::kOperate ? auth::Scope::kOperate
                                                        : auth::Scope::kAdmin;
  auto ok = auth ? auth->Check(authorization, need)
                 : Result<auth::Principal>(Fail(ErrorCode::kUnauthenticated, "this server takes no tokens"));
  if (ok) return std::nullopt;
  if (ok.error().code == ErrorCode::kPermissionDenied) {
    return ErrorResponse(403, "permission_denied", ok.error().message);
  }
  Response denied = ErrorResponse(ok.error());
  if (denied.status == 401) denied.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"chime\"");
  return denied;
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view text, std::string_view flag) {
  const std::string prefix = std::string(flag) + ": ";
  auto bad = [&](const std::string& why) {
    return Fail(ErrorCode::kInvalidArgument,
                prefix + "'" + std::string(text.substr(0, 100)) + "' " + why);
  };
  ListenAddress out;
  std::string_view port_text;
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad("is not [ipv6-host]:port");
    }
    out.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("is not host:port (e.g. 127.0.0.1:8080)");
    out.host = std::string(text.substr(0, colon));
    if (out.host.find(':') != std::string::npos) return bad("needs brackets around an IPv6 host");
    port_text = text.substr(colon + 1);
  }
  if (out.host.empty()) return bad("has no host (use 0.0.0.0 for every interface)");
  for (unsigned char c : out.host) {
    if (c <= ' ' || c >= 0x7f || c == '/' || c == '[' || c == ']') return bad("has a bad host");
  }
  if (port_text.empty() || port_text.size() > 5) return bad("has no port 0-65535");
  int port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return bad("has no port 0-65535");
    port = port * 10 + (c - '0');
  }
  if (port > 65535) return bad("has no port 0-65535");
  out.port = port;
  return out;
}

Result<void> ServerConfig::Validate() const {
  if (auto parsed = ParseListenAddress(listen, flag); !parsed) return std::unexpected(parsed.error());
  auto bad = [&](const std::string& why) { return Fail(ErrorCode::kInvalidArgument, "http: " + why); };
  if (threads < 1 || threads > 256) return bad("threads must be 1-256");
  if (max_queued < 1 || max_queued > 100000) return bad("max_queued must be 1-100000");
  if (max_body_bytes < 1) return bad("max_body_bytes must be positive");
  if (read_timeout.count() < 1 || write_timeout.count() < 1) return bad("timeouts must be positive");
  if (keep_alive.count() < 0) return bad("keep_alive must not be negative");
  return {};
}

std::optional<std::string> Request::Query(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Request::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < k.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(k[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    }
    if (same) return v;
  }
  return std::nullopt;
}

struct Server::Impl {
  ServerConfig config;
  std::shared_ptr<const BearerAuth> auth;
  StoppableServer http;
  std::thread thread;
  bool started = false;

  httplib::Server::Handler Wrap(Access access, Handler handler) {
    return [this, access, handler = std::move(handler)](const httplib::Request& req,
                                                        httplib::Response& res) {
      auto header = req.has_header("Authorization")
                        ? std::optional<std::string>(req.get_header_value("Authorization"))
                        : std::nullopt;
      if (auto denied = AccessDenied(auth.get(), access, header)) {
        Apply(*denied, res);
        return;
      }
      Apply(handler(Convert(req)), res);
    };
  }
};

Server::Server(ServerConfig config, std::shared_ptr<const BearerAuth> auth) : impl_(new Impl) {
  impl_->config = std::move(config);
  impl_->auth = std::move(auth);
  auto& http = impl_->http;
  const ServerConfig& c = impl_->config;
  http.new_task_queue = [threads = c.threads, queued = c.max_queued] {
    return new BoundedPool(threads, queued);
  };
  http.set_payload_max_length(c.max_body_bytes);
  http.set_read_timeout(duration_cast<microseconds>(c.read_timeout));
  http.set_write_timeout(duration_cast<microseconds>(c.write_timeout));
  http.set_keep_alive_timeout(static_cast<time_t>(c.keep_alive.count()));
  http.set_keep_alive_max_count(100);
  // SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, which would
  // let a second process bind the same port and share its traffic silently.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  // Error statuses without a body (no route, 413, 414, 400) get a JSON one.
  http.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    const int status = res.status;
    std::string code = status == 404   ? "not_found"
                       : status == 413 ? "payload_too_large"
                       : status == 414 ? "uri_too_long"
                       : status == 405 ? "method_not_allowed"
                       : status < 500  ? "bad_request"
                                       : "internal";
    std::string message = status == 404   ? "no such path"
                          : status == 413 ? "request body too large"
                          : status == 414 ? "request target too long"
                          : status < 500  ? "malformed request"
                                          : "internal error";
    Apply(ErrorResponse(status, code, message), res);
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("http {} {}: handler threw: {}", req.method, req.path, what);
    Apply(ErrorResponse(500, "internal", "internal error"), res);
  });
  // Path only: the query and headers (Authorization) never reach the log.
  http.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    spdlog::debug("http {} {} {}", req.method, req.path, res.status);
  });
}

Server::~Server() { Stop(); }

void Server::Get(const std::string& pattern, Access access, Handler handler) {
  impl_->http.Get(pattern, impl_->Wrap(access, std::move(handler)));
}

void Server::Post(const std::string& pattern, Access access, Handler handler) {
  impl_->http.Post(pattern, impl_->Wrap(access, std::move(handler)));
}

Result<std::string> Server::Start() {
  if (impl_->started) return Fail(ErrorCode::kFailedPrecondition, "http server already started");
  const ServerConfig& c = impl_->config;
  if (auto ok = c.Validate(); !ok) return std::unexpected(ok.error());
  auto address = ParseListenAddress(c.listen, c.flag);
  if (!address) return std::unexpected(address.error());
  errno = 0;
  int port = address->port;
  bool bound = false;
  if (port == 0) {
    port = impl_->http.bind_to_any_port(address->host);
    bound = port > 0;
  } else {
    bound = impl_->http.bind_to_port(address->host, port);
  }
  if (!bound) {
    const int err = errno;
    return Fail(ErrorCode::kUnavailable,
                c.flag + ": cannot listen on " + c.listen +
                    (err != 0 ? std::string(": ") + std::strerror(err)
                              : std::string(": the host does not resolve to a local address")));
  }
  impl_->started = true;
  impl_->thread = std::thread([this] {
    if (!impl_->http.listen_after_bind()) spdlog::debug("http: listen loop ended");
  });
  std::string bound_address = FormatAddress(address->host, port);
  spdlog::info("http listening on {}", bound_address);
  return bound_address;
}

void Server::Stop() {
  if (!impl_->started) return;
  impl_->started = false;
  impl_->http.ForceStop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

Response ErrorResponse(int status, std::string_view code, std::string_view message) {
  nlohmann::ordered_json body{{"error", {{"code", code}, {"message", message}}}};
  Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  return r;
}

int HttpStatusOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return 400;
    case ErrorCode::kUnauthenticated: return 401;
    case ErrorCode::kPermissionDenied: return 403;
    case ErrorCode::kNotFound: return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition: return 409;
    case ErrorCode::kUnavailable:
    case ErrorCode::kRetryable: return 503;
    default: return 500;
  }
}

Response ErrorResponse(const Error& error) {
  return ErrorResponse(HttpStatusOf(error.code), ErrorCodeName(error.code), error.message);
}

Response JsonResponse(std::string json_text, int status) {
  Response r;
  r.status = status;
  r.body = std::move(json_text);
  return r;
}

}  // namespace chime::web
