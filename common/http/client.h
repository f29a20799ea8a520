// Outbound HTTP for job kinds (http_request, provider syncs, webhooks), on
// libcurl. Every connection libcurl is about to open, for the first request
// and for each redirect, is checked against the AddressPolicy first, so a
// payload's URL (a decimal host, an IPv6 literal, a DNS name, a redirect)
// cannot reach an internal address. Only http and https; proxies from the
// environment are ignored, since through a proxy the policy would judge the
// proxy instead of the target.
//
// Error codes, chosen so a kind can decide between retrying and giving up:
//   FailedPrecondition  the address policy refused every address of the
//                       target; permanent. The message gives the reason.
//   InvalidArgument     a malformed request (URL, scheme, method, header) or
//                       too many redirects; permanent.
//   Retryable           the request timed out; the target may have acted on it.
//   Unavailable         DNS, connect, TLS or transfer failure, or the stop
//                       token fired (the worker is stopping); retry later.
// Messages never contain header values, and URLs in them lose their userinfo.
//
// Connections are kept alive and reused: each Send borrows a libcurl handle
// pair from the client's pool (the multi handle holds the idle connections),
// so a slot calling one endpoint again reuses its connection. A reused
// connection was checked against the policy when it was opened, to the same
// scheme, host and port.
//
// HttpClient is thread-safe; copies share one pool.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"
#include "common/http/address_policy.h"

namespace chime::http {

struct HttpHeader {
  std::string name;
  std::string value;
  // Dropped when a redirect leaves the original scheme, host and port, like
  // a browser drops Authorization; set for credentials and signatures.
  bool sensitive = false;
};
using HttpHeaders = std::vector<HttpHeader>;

// The value of the first header named `name` (ASCII case-insensitive).
std::optional<std::string_view> FindHeader(const HttpHeaders& headers, std::string_view name);

struct HttpRequest {
  std::string method = "GET";  // Upper-case token: GET, POST, PUT, PATCH, DELETE, HEAD, ...
  std::string url;             // http:// or https://
  HttpHeaders headers;
  std::string body;  // Sent with a Content-Length when non-empty, or for POST/PUT/PATCH.
  std::chrono::milliseconds timeout{30'000};  // For the whole exchange, redirects included.
  bool follow_redirects = false;
  int max_redirects = 5;
  size_t max_body_excerpt = 4096;  // Body bytes kept in HttpResponse::body_excerpt.
  // Reading stops after this many body bytes: the response comes back with
  // what was read, body_complete false, and the connection is closed. A
  // hostile endpoint's endless body costs no more than this.
  size_t max_read_bytes = size_t{1} << 20;
  std::string user_agent;  // Empty: UserAgent() ("chime/<version>").
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;       // Of the last response, at most kMaxResponseHeaders.
  // The body's first max_body_excerpt bytes as well-formed UTF-8: ill-formed
  // bytes become U+FFFD and the cut never splits a character (so it may be
  // up to 3 bytes shorter). Binary bodies come out as text with U+FFFDs.
  std::string body_excerpt;
  bool body_truncated = false;           // body_excerpt holds less than what was received.
  bool body_complete = true;             // False when max_read_bytes stopped the reading.
  uint64_t body_bytes = 0;               // Body bytes received (up to max_read_bytes).
  std::chrono::microseconds duration{0};  // All hops, as libcurl measured them.
  std::string remote_address;             // "203.0.113.7:443" or "[2001:db8::1]:443".
  std::string url;                        // The last hop's URL, userinfo redacted.
  int redirects = 0;                      // Redirects followed.
};

class HttpClient {
 public:
  static constexpr size_t kMaxResponseHeaders = 100;
  // Idle handle pairs kept for reuse; more are closed when returned.
  static constexpr size_t kMaxIdleHandles = 64;

  explicit HttpClient(AddressPolicy policy);

  // Any status is a response; deciding which are expected is the caller's.
  // A stop request aborts the transfer promptly.
  [[nodiscard]] Result<HttpResponse> Send(const HttpRequest& request,
                                          std::stop_token stop = {}) const;

 private:
  class HandlePool;

  AddressPolicy policy_;
  std::shared_ptr<HandlePool> pool_;
};

// `url` with any user:password@ replaced by ***@, for messages and logs. A
// URL that does not parse comes back as "<unparsable URL>".
std::string RedactUrl(std::string_view url);

// "scheme://host:port" of an http or https URL, as libcurl parses it (the
// parser that connects): scheme and host lower case, the port spelled out
// (80 and 443 by default). nullopt for any other URL. The unit a credential
// is bound to, and that redirects may not carry credentials across.
std::optional<std::string> UrlOrigin(std::string_view url);

}  // namespace chime::http
