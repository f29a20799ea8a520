#include "common/web/server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <future>
#include <nlohmann/json.hpp>
#include <regex>
#include <unordered_map>

#include "common/web/connection.h"
#include "common/web/handler_pool.h"
#include "common/web/target.h"

namespace chime::web {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

std::string FormatAddress(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

struct Route {
  std::string method;  // "GET" (also serves HEAD) or "POST".
  std::regex pattern;
  Access access;
  Handler handler;
  Lane lane;
};

// The one place a route's Access is checked, on the request's head before
// any body is read: nullopt lets the request through; otherwise the 401 (no
// valid token; with WWW-Authenticate), 403 (a valid token whose scope is too
// small) or 503 (the token store is unreachable) to answer with. Runs on the
// event loop: `auth` must answer from memory (the scheduler's TokenCache).
// The token is never echoed or logged.
std::optional<Response> Authorize(Access access, const Request& head, const BearerAuth* auth) {
  if (access == Access::kOpen) return std::nullopt;
  const auth::Scope need = access == Access::kRead      ? auth::Scope::kRead
                           : access == Access::kOperate ? auth::Scope::kOperate
                                                        : auth::Scope::kAdmin;
  auto ok = auth ? auth->Check(head.Header("Authorization"), need)
                 : Result<auth::Principal>(Fail(ErrorCode::kUnauthenticated, "this server takes no tokens"));
  if (ok) return std::nullopt;
  Response denied = ErrorResponse(ok.error());
  if (denied.status == 401) denied.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"chime\"");
  return denied;
}

Response RunHandler(const Route& route, const Request& request) {
  try {
    return route.handler(request);
  } catch (const std::exception& e) {
    spdlog::error("http {} {}: handler threw: {}", request.method, LoggablePath(request.path), e.what());
  } catch (...) {
    spdlog::error("http {} {}: handler threw a non-exception", request.method, LoggablePath(request.path));
  }
  return ErrorResponse(500, "internal", "internal error");
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
  if (probe_threads < 1 || probe_threads > 64) return bad("probe_threads must be 1-64");
  if (max_queued < 1 || max_queued > 100000) return bad("max_queued must be 1-100000");
  if (max_body_bytes < 1 || max_body_bytes > (size_t{1} << 30)) return bad("max_body_bytes must be 1 B-1 GiB");
  if (max_header_bytes < 1024 || max_header_bytes > 1024 * 1024) return bad("max_header_bytes must be 1 KiB-1 MiB");
  if (max_target_bytes < 256 || max_target_bytes > max_header_bytes) {
    return bad("max_target_bytes must be 256 B up to max_header_bytes");
  }
  if (max_headers < 1 || max_headers > 10000) return bad("max_headers must be 1-10000");
  if (max_connections < 1 || max_connections > 100000) return bad("max_connections must be 1-100000");
  if (max_connections_per_address < 1 || max_connections_per_address > max_connections) {
    return bad("max_connections_per_address must be 1 up to max_connections");
  }
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

// The event loop, its acceptor and connections, the routes and the pools.
// Connections and counts are touched on the event loop only.
struct Server::Impl final : ConnectionHost {
  ServerConfig config_;
  std::shared_ptr<const BearerAuth> auth_;
  std::vector<Route> routes_;  // Fixed once started.
  asio::io_context io_{1};
  tcp::acceptor acceptor_{io_};
  asio::steady_timer accept_pause_{io_};
  std::unique_ptr<HandlerPool> open_pool_;
  std::unique_ptr<HandlerPool> api_pool_;
  std::unordered_map<HttpConnection*, std::shared_ptr<HttpConnection>> connections_;  // Event loop.
  std::unordered_map<std::string, int> per_address_;                                // Event loop.
  std::thread thread_;
  bool started_ = false;  // Controlling thread.
  bool stopped_ = false;  // Controlling thread.
  bool closing_ = false;  // Event loop: Stop() has begun, accept no more.

  const ServerConfig& config() const override { return config_; }

  Admission Admit(Request& head) override {
    auto target = ParseTarget(head.path);
    if (!target) return {nullptr, ErrorResponse(400, "bad_request", "malformed request target")};
    head.path = std::move(target->path);
    head.query = std::move(target->query);
    const std::string& method = head.method == "HEAD" ? std::string("GET") : head.method;
    bool path_known = false;
    std::string allow;
    for (const Route& route : routes_) {
      std::smatch match;
      if (!std::regex_match(head.path, match, route.pattern)) continue;
      path_known = true;
      // A protected path answers 401 to a request without its token, whatever
      // the method: nothing about it is told to an unauthenticated client.
      if (auto denied = Authorize(route.access, head, auth_.get())) return {nullptr, std::move(*denied)};
      if (route.method != method) {
        allow += (allow.empty() ? "" : ", ") + route.method + (route.method == "GET" ? ", HEAD" : "");
        continue;
      }
      head.path_params.clear();
      for (size_t i = 1; i < match.size(); ++i) head.path_params.push_back(match[i].str());
      return {&route, std::nullopt};
    }
    if (!path_known) return {nullptr, ErrorResponse(404, "not_found", "no such path")};
    Response r = ErrorResponse(405, "method_not_allowed", "method not allowed here");
    r.headers.emplace_back("Allow", allow);
    return {nullptr, std::move(r)};
  }

  void Dispatch(std::shared_ptr<HttpConnection> connection, const void* route_ptr, Request request) override {
    const Route& route = *static_cast<const Route*>(route_ptr);
    if (route.lane == Lane::kInline) {
      connection->Respond(RunHandler(route, request));
      return;
    }
    HandlerPool& pool = route.access == Access::kOpen ? *open_pool_ : *api_pool_;
    // The connection goes back to the event loop with the response, so its
    // last reference is dropped there, never on a pool thread.
    auto task = [this, connection, &route, request = std::move(request)]() mutable {
      Response response = RunHandler(route, request);
      asio::post(io_, [connection = std::move(connection), response = std::move(response)]() mutable {
        connection->Respond(std::move(response));
      });
    };
    if (!pool.TryPost(std::move(task))) {
      Response busy = ErrorResponse(503, "unavailable", "server busy, try again");
      busy.headers.emplace_back("Retry-After", "1");
      connection->Respond(std::move(busy));
    }
  }

  void Closed(HttpConnection* connection) override {
    auto it = connections_.find(connection);
    if (it == connections_.end()) return;
    if (auto count = per_address_.find(connection->peer()); count != per_address_.end() && --count->second <= 0) {
      per_address_.erase(count);
    }
    connections_.erase(it);
  }

  // Drops the connection (of `peer`, or any) that has waited longest for a
  // request's head; false when none waits.
  bool EvictOldest(const std::string* peer) {
    HttpConnection* oldest = nullptr;
    for (const auto& [raw, c] : connections_) {
      if (!c->evictable() || (peer != nullptr && c->peer() != *peer)) continue;
      if (oldest == nullptr || c->waiting_since() < oldest->waiting_since()) oldest = raw;
    }
    if (oldest == nullptr) return false;
    spdlog::debug("http: dropped a waiting connection from {} to make room", oldest->peer());
    oldest->Close();
    return true;
  }

  void Accept() {
    acceptor_.async_accept([this](error_code ec, tcp::socket socket) {
      if (closing_ || ec == asio::error::operation_aborted) return;
      if (ec) {
        // Out of descriptors: make room, and retry shortly rather than spin.
        if (ec == asio::error::no_descriptors || ec.value() == ENFILE) EvictOldest(nullptr);
        spdlog::debug("http: accept failed: {}", ec.message());
        accept_pause_.expires_after(std::chrono::milliseconds(10));
        accept_pause_.async_wait([this](error_code wait_ec) {
          if (!wait_ec && !closing_) Accept();
        });
        return;
      }
      Open(std::move(socket));
      Accept();
    });
  }

  void Open(tcp::socket socket) {
    error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    if (ec) return;  // Already gone.
    std::string peer = remote.address().to_string();
    if (per_address_[peer] >= config_.max_connections_per_address && !EvictOldest(&peer)) return;
    if (static_cast<int>(connections_.size()) >= config_.max_connections && !EvictOldest(nullptr)) return;
    auto connection = std::make_shared<HttpConnection>(std::move(socket), *this, peer);
    connections_.emplace(connection.get(), connection);
    ++per_address_[peer];
    connection->Start();
  }

  Result<std::string> Bind(const ListenAddress& address) {
    const ServerConfig& c = config_;
    error_code ec;
    tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(address.host, std::to_string(address.port),
                                      tcp::resolver::numeric_service | tcp::resolver::passive, ec);
    if (ec || endpoints.empty()) {
      return Fail(ErrorCode::kUnavailable,
                  c.flag + ": cannot listen on " + c.listen + ": the host does not resolve to a local address");
    }
    error_code last;
    for (const auto& entry : endpoints) {
      error_code step;
      acceptor_.open(entry.endpoint().protocol(), step);
      // SO_REUSEADDR only (no SO_REUSEPORT): a second process must not be
      // able to bind the same port and share its traffic silently.
      if (!step) acceptor_.set_option(tcp::acceptor::reuse_address(true), step);
      if (!step) acceptor_.bind(entry.endpoint(), step);
      if (!step) acceptor_.listen(asio::socket_base::max_listen_connections, step);
      if (!step) return FormatAddress(address.host, acceptor_.local_endpoint().port());
      last = step;
      error_code ignored;
      acceptor_.close(ignored);
    }
    return Fail(ErrorCode::kUnavailable, c.flag + ": cannot listen on " + c.listen + ": " + last.message());
  }
};

Server::Server(ServerConfig config, std::shared_ptr<const BearerAuth> auth) : impl_(new Impl) {
  impl_->config_ = std::move(config);
  impl_->auth_ = std::move(auth);
}

Server::~Server() { Stop(); }

void Server::Get(const std::string& pattern, Access access, Handler handler, Lane lane) {
  impl_->routes_.push_back(Route{"GET", std::regex(pattern), access, std::move(handler), lane});
}

void Server::Post(const std::string& pattern, Access access, Handler handler, Lane lane) {
  impl_->routes_.push_back(Route{"POST", std::regex(pattern), access, std::move(handler), lane});
}

Result<std::string> Server::Start() {
  Impl& s = *impl_;
  if (s.started_ || s.stopped_) return Fail(ErrorCode::kFailedPrecondition, "http server already started");
  if (auto ok = s.config_.Validate(); !ok) return std::unexpected(ok.error());
  auto address = ParseListenAddress(s.config_.listen, s.config_.flag);
  if (!address) return std::unexpected(address.error());
  auto bound = s.Bind(*address);
  if (!bound) return bound;
  const auto queued = static_cast<size_t>(s.config_.max_queued);
  s.open_pool_ = std::make_unique<HandlerPool>(s.config_.probe_threads, queued);
  s.api_pool_ = std::make_unique<HandlerPool>(s.config_.threads, queued);
  s.started_ = true;
  s.Accept();
  s.thread_ = std::thread([&s] {
    auto guard = asio::make_work_guard(s.io_);
    s.io_.run();
  });
  spdlog::info("http listening on {}", *bound);
  return bound;
}

void Server::Stop() {
  Impl& s = *impl_;
  if (!s.started_) return;
  s.started_ = false;
  s.stopped_ = true;
  std::promise<void> closed;
  asio::post(s.io_, [&s, &closed] {
    s.closing_ = true;
    error_code ignored;
    s.acceptor_.close(ignored);
    s.accept_pause_.cancel();
    auto connections = s.connections_;  // Close() erases from the map.
    for (auto& [raw, c] : connections) c->Close();
    closed.set_value();
  });
  closed.get_future().wait();
  s.io_.stop();
  if (s.thread_.joinable()) s.thread_.join();
  // Running handlers finish; their answers go to connections already closed.
  s.open_pool_->Stop();
  s.api_pool_->Stop();
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
