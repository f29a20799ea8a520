#include "common/http/client.h"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "common/base/utf8.h"
#include "common/base/version.h"

namespace chime::http {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct MultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
using EasyPtr = std::unique_ptr<CURL, EasyDeleter>;
using MultiPtr = std::unique_ptr<CURLM, MultiDeleter>;
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;
using UrlPtr = std::unique_ptr<CURLU, UrlDeleter>;

void EnsureCurl() {
  // curl_global_init is not thread-safe, and it must run once per process.
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) std::abort();
  });
}

// One URL part, or "" when it is absent.
std::string UrlPart(CURLU* url, CURLUPart part, unsigned flags = 0) {
  char* text = nullptr;
  if (curl_url_get(url, part, &text, flags) != CURLUE_OK) return "";
  std::string out(text);
  curl_free(text);
  return out;
}

UrlPtr ParseUrl(std::string_view text) {
  UrlPtr url(curl_url());
  if (curl_url_set(url.get(), CURLUPART_URL, std::string(text).c_str(), 0) != CURLUE_OK) {
    return nullptr;
  }
  return url;
}

// scheme://host:port, the unit a redirect may not carry credentials across.
std::string Origin(CURLU* url) {
  return UrlPart(url, CURLUPART_SCHEME) + "://" + UrlPart(url, CURLUPART_HOST) + ":" +
         UrlPart(url, CURLUPART_PORT, CURLU_DEFAULT_PORT);
}

bool IsToken(std::string_view s) {
  static constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || kSymbols.find(c) != kSymbols.npos;
  });
}

Result<void> ValidateRequest(const HttpRequest& request) {
  const std::string where = request.method + " " + RedactUrl(request.url);
  auto invalid = [&](const std::string& why) {
    return Fail(ErrorCode::kInvalidArgument, where + ": " + why);
  };
  if (request.method.empty() || request.method.size() > 32 ||
      !std::all_of(request.method.begin(), request.method.end(),
                   [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return invalid("the method must be 1 to 32 upper-case letters");
  }
  UrlPtr url = ParseUrl(request.url);
  if (url == nullptr) return invalid("not a valid absolute URL");
  const std::string scheme = UrlPart(url.get(), CURLUPART_SCHEME);
  if (scheme != "http" && scheme != "https") return invalid("the scheme must be http or https");
  for (const HttpHeader& header : request.headers) {
    // The value is never quoted back: it may be a secret.
    if (!IsToken(header.name)) return invalid("header name \"" + header.name + "\" is not a token");
    if (header.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return invalid("header " + header.name + " has a CR, LF or NUL in its value");
    }
  }
  if (request.max_redirects < 0) return invalid("max_redirects is negative");
  if (request.timeout <= milliseconds(0)) return invalid("the timeout must be positive");
  return {};
}

// What the callbacks of one hop learn.
struct Hop {
  const AddressPolicy* policy = nullptr;
  size_t max_excerpt = 0;
  size_t max_read = 0;
  std::vector<std::string> denials;  // Reasons, one per refused address.
  int allowed_connects = 0;
  HttpHeaders headers;
  std::string excerpt;
  uint64_t body_bytes = 0;
  bool read_stopped = false;  // OnBody refused more than max_read bytes.
};

// libcurl calls this for every address it is about to connect to: after DNS,
// per happy-eyeballs attempt, per redirect. Refusing here is the only point
// that sees the real address whatever the URL's spelling.
curl_socket_t OpenSocket(void* data, curlsocktype, curl_sockaddr* address) {
  auto* hop = static_cast<Hop*>(data);
  auto ip = IpAddress::FromSockaddr(&address->addr);
  if (!ip) {
    hop->denials.push_back(ip.error().message);
    return CURL_SOCKET_BAD;
  }
  AddressDecision decision = hop->policy->Check(*ip);
  if (!decision.allowed) {
    hop->denials.push_back(std::move(decision.reason));
    return CURL_SOCKET_BAD;
  }
  ++hop->allowed_connects;
  return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* hop = static_cast<Hop*>(user);
  std::string_view line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    hop->headers.clear();  // A new response (after a 100 Continue): its headers replace these.
  } else if (const size_t colon = line.find(':');
             colon != line.npos && hop->headers.size() < HttpClient::kMaxResponseHeaders) {
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    hop->headers.push_back({std::string(line.substr(0, colon)), std::string(value)});
  }
  return size * count;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* hop = static_cast<Hop*>(user);
  size_t n = size * count;
  const size_t readable = hop->max_read - std::min<uint64_t>(hop->max_read, hop->body_bytes);
  const bool stop = n > readable;
  if (stop) n = readable;
  hop->body_bytes += n;
  // A few bytes past the excerpt's end, so that a character the cut splits
  // is recognised as cut rather than ill-formed (Utf8Prefix).
  const size_t window = hop->max_excerpt + (kUtf8MaxSequence - 1);
  const size_t room = window - std::min(window, hop->excerpt.size());
  hop->excerpt.append(data, std::min(room, n));
  if (!stop) return n;
  // Anything but size * count aborts the transfer (CURLE_WRITE_ERROR), which
  // Send() reports as a response read up to the cap.
  hop->read_stopped = true;
  return CURL_WRITEFUNC_ERROR;
}

// The method, body and headers of one hop (which a redirect may change).
struct HopRequest {
  std::string method;
  std::string url;
  std::string body;
  HttpHeaders headers;
};

void SetMethod(CURL* easy, const HopRequest& r) {
  const bool sends_body =
      !r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH";
  if (r.method == "HEAD") {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else if (sends_body) {
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, r.body.data());
    if (r.method != "POST") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  } else if (r.method != "GET") {
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }
}

SlistPtr HeaderList(const HttpHeaders& headers) {
  // "Expect:" stops libcurl waiting for 100 Continue on large bodies and
  // "Content-Type:" stops it claiming form encoding; callers set their own.
  curl_slist* list = curl_slist_append(nullptr, "Expect:");
  list = curl_slist_append(list, "Content-Type:");
  for (const HttpHeader& h : headers) {
    // "Name;" is libcurl's spelling of a header with an empty value.
    const std::string line = h.value.empty() ? h.name + ";" : h.name + ": " + h.value;
    list = curl_slist_append(list, line.c_str());
  }
  return SlistPtr(list);
}

void Configure(CURL* easy, const HopRequest& r, curl_slist* headers, Hop& hop, milliseconds timeout,
               const std::string& user_agent, char* error_buffer) {
  curl_easy_reset(easy);  // Options of an earlier hop must not leak into this one.
  curl_easy_setopt(easy, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);  // Send() follows, re-checking each hop.
  curl_easy_setopt(easy, CURLOPT_PROXY, "");           // No http_proxy from the environment.
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  // "chime/0.1.0" unless the request names its own (curl copies the string).
  curl_easy_setopt(easy, CURLOPT_USERAGENT, user_agent.empty() ? UserAgent().c_str() : user_agent.c_str());
  // An hour-long call sends nothing for minutes: keepalive probes keep NAT
  // and load balancer state alive and find a dead peer.
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPIDLE, 30L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPINTVL, 15L);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &OpenSocket);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, &hop);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &hop);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &hop);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer);
  SetMethod(easy, r);
}

// Runs one transfer on `multi`, waking at once when `stop` fires. nullopt
// when stopped.
std::optional<CURLcode> Run(CURLM* multi, CURL* easy, std::stop_token stop) {
  curl_multi_add_handle(multi, easy);
  std::optional<CURLcode> result;
  {
    std::stop_callback wake(stop, [multi] { curl_multi_wakeup(multi); });
    int running = 1;
    while (!stop.stop_requested()) {
      if (curl_multi_perform(multi, &running) != CURLM_OK) {
        result = CURLE_FAILED_INIT;
        break;
      }
      if (running == 0) {
        int queued = 0;
        const CURLMsg* message = curl_multi_info_read(multi, &queued);
        result = message != nullptr ? message->data.result : CURLE_FAILED_INIT;
        break;
      }
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    }
  }
  curl_multi_remove_handle(multi, easy);
  return result;
}

Error TransferError(CURLcode code, const Hop& hop, const std::string& where, const char* detail,
                    milliseconds timeout) {
  if (hop.allowed_connects == 0 && !hop.denials.empty()) {
    // A name can resolve to several addresses; each refusal says why.
    std::string reasons;
    for (const std::string& reason : hop.denials) {
      if (reasons.find(reason) != std::string::npos) continue;
      reasons += (reasons.empty() ? "" : "; ") + reason;
    }
    return Error{ErrorCode::kFailedPrecondition, where + ": " + reasons};
  }
  const std::string why = *detail != '\0' ? detail : curl_easy_strerror(code);
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return Error{ErrorCode::kRetryable,
                   where + ": timed out after " + std::to_string(timeout.count()) + " ms"};
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return Error{ErrorCode::kInvalidArgument, where + ": " + why};
    default:
      return Error{ErrorCode::kUnavailable, where + ": " + why};
  }
}

std::string RemoteAddress(CURL* easy) {
  char* ip = nullptr;
  long port = 0;
  curl_easy_getinfo(easy, CURLINFO_PRIMARY_IP, &ip);
  curl_easy_getinfo(easy, CURLINFO_PRIMARY_PORT, &port);
  const std::string host = ip != nullptr ? ip : "";
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// Turns `r` into the request for `next`, the way browsers do: 303 (and 301
// or 302 after a POST) becomes a body-less GET, and sensitive headers stay
// behind when the origin changes.
void FollowRedirect(HopRequest& r, int status, const std::string& next) {
  if ((status == 303 && r.method != "HEAD") ||
      ((status == 301 || status == 302) && r.method == "POST")) {
    r.method = "GET";
    r.body.clear();
  }
  UrlPtr from = ParseUrl(r.url);
  UrlPtr to = ParseUrl(next);
  if (from == nullptr || to == nullptr || Origin(from.get()) != Origin(to.get())) {
    std::erase_if(r.headers, [](const HttpHeader& h) { return h.sensitive; });
  }
  r.url = next;
}

}  // namespace

// Idle easy + multi handle pairs. The multi handle owns the connection
// cache, so a pair handed back keeps its connections open for the next Send
// that borrows it. Thread-safe.
class HttpClient::HandlePool {
 public:
  struct Handles {
    EasyPtr easy;
    MultiPtr multi;
  };

  // A pair, idle or new; null handles when libcurl cannot make one.
  std::unique_ptr<Handles> Take() {
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        auto handles = std::move(idle_.back());
        idle_.pop_back();
        return handles;
      }
    }
    auto handles = std::make_unique<Handles>();
    handles->easy.reset(curl_easy_init());
    handles->multi.reset(curl_multi_init());
    return handles;
  }

  // Keeps `handles` for reuse unless the pool is full.
  void Give(std::unique_ptr<Handles> handles) {
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdleHandles) idle_.push_back(std::move(handles));
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<Handles>> idle_;  // Guarded by mu_.
};

HttpClient::HttpClient(AddressPolicy policy)
    : policy_(std::move(policy)), pool_(std::make_shared<HandlePool>()) {}

std::optional<std::string_view> FindHeader(const HttpHeaders& headers, std::string_view name) {
  for (const HttpHeader& h : headers) {
    if (std::equal(h.name.begin(), h.name.end(), name.begin(), name.end(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return h.value;
    }
  }
  return std::nullopt;
}

std::string RedactUrl(std::string_view text) {
  UrlPtr url = ParseUrl(text);
  if (url == nullptr) return "<unparsable URL>";
  if (!UrlPart(url.get(), CURLUPART_USER).empty() ||
      !UrlPart(url.get(), CURLUPART_PASSWORD).empty()) {
    curl_url_set(url.get(), CURLUPART_USER, "***", 0);
    curl_url_set(url.get(), CURLUPART_PASSWORD, nullptr, 0);
  }
  return UrlPart(url.get(), CURLUPART_URL);
}

std::optional<std::string> UrlOrigin(std::string_view text) {
  UrlPtr url = ParseUrl(text);
  if (url == nullptr) return std::nullopt;
  std::string scheme = UrlPart(url.get(), CURLUPART_SCHEME);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  if (scheme != "http" && scheme != "https") return std::nullopt;
  std::string host = UrlPart(url.get(), CURLUPART_HOST);
  if (host.empty()) return std::nullopt;
  std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
  return scheme + "://" + host + ":" + UrlPart(url.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
}

Result<HttpResponse> HttpClient::Send(const HttpRequest& request, std::stop_token stop) const {
  EnsureCurl();
  if (auto valid = ValidateRequest(request); !valid) return std::unexpected(valid.error());
  std::unique_ptr<HandlePool::Handles> handles = pool_->Take();
  if (handles->easy == nullptr || handles->multi == nullptr) {
    return Fail(ErrorCode::kInternal, "libcurl init failed");
  }
  // Back to the pool however Send ends; a transfer in flight was removed
  // from the multi handle by Run(), so the pair is idle.
  struct Return {
    HandlePool& pool;
    std::unique_ptr<HandlePool::Handles>& handles;
    ~Return() { pool.Give(std::move(handles)); }
  } give_back{*pool_, handles};
  CURL* const easy = handles->easy.get();
  CURLM* const multi = handles->multi.get();

  HopRequest r{request.method, request.url, request.body, request.headers};
  HttpResponse response;
  while (true) {
    const std::string where = r.method + " " + RedactUrl(r.url);
    const milliseconds left = request.timeout - duration_cast<milliseconds>(response.duration);
    if (left <= milliseconds(0)) {
      return Fail(ErrorCode::kRetryable,
                  where + ": timed out after " + std::to_string(request.timeout.count()) + " ms");
    }
    Hop hop{.policy = &policy_, .max_excerpt = request.max_body_excerpt, .max_read = request.max_read_bytes};
    SlistPtr headers = HeaderList(r.headers);
    char detail[CURL_ERROR_SIZE] = {};
    Configure(easy, r, headers.get(), hop, left, request.user_agent, detail);
    const std::optional<CURLcode> code = Run(multi, easy, stop);
    if (!code) return Fail(ErrorCode::kUnavailable, where + ": cancelled (the worker is stopping)");
    curl_off_t micros = 0;
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &micros);
    response.duration += microseconds(micros);
    const bool capped = *code == CURLE_WRITE_ERROR && hop.read_stopped;
    if (*code != CURLE_OK && !capped) {
      return std::unexpected(TransferError(*code, hop, where, detail, request.timeout));
    }
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    char* next = nullptr;
    curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &next);
    if (request.follow_redirects && !capped && IsRedirect(static_cast<int>(status)) && next != nullptr) {
      if (response.redirects == request.max_redirects) {
        return Fail(ErrorCode::kInvalidArgument,
                    where + ": more than " + std::to_string(request.max_redirects) + " redirects");
      }
      ++response.redirects;
      FollowRedirect(r, static_cast<int>(status), next);
      continue;
    }
    response.status = static_cast<int>(status);
    response.headers = std::move(hop.headers);
    // Text for results and logs: whatever the server sent, well-formed
    // UTF-8 cut on a character boundary (a serialiser downstream would
    // throw on anything else).
    response.body_excerpt = Utf8Prefix(hop.excerpt, request.max_body_excerpt);
    response.body_bytes = hop.body_bytes;
    response.body_complete = !capped;
    response.body_truncated = capped || hop.body_bytes > hop.excerpt.size() ||
                              RepairUtf8(hop.excerpt).size() > response.body_excerpt.size();
    response.remote_address = RemoteAddress(easy);
    response.url = RedactUrl(r.url);
    return response;
  }
}

}  // namespace chime::http
