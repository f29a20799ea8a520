#include "common/payload/http_request_payload.h"

#include <algorithm>
#include <cctype>

#include "common/payload/credentials.h"

namespace chime::payload {
namespace {

using nlohmann::json;

constexpr size_t kMaxUrlBytes = 8192;
constexpr size_t kMaxHeaders = 100;
constexpr size_t kMaxSecretRefBytes = 1024;
constexpr int kMaxScanDepth = 64;

std::unexpected<Error> Bad(const std::string& field, const std::string& why) {
  return Fail(ErrorCode::kInvalidArgument, field + ": " + why);
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool IsToken(std::string_view s) {
  static constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return !s.empty() && s.size() <= 256 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || kSymbols.find(c) != kSymbols.npos;
  });
}

// A name shown in a message: printable ASCII only, at most 64 bytes.
std::string Shown(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 64)) out += (c >= 0x21 && c < 0x7f) ? c : '?';
  return out;
}

// Decodes %XX escapes (a bad escape stays as it is): "%74oken" is "token".
std::string PercentDecoded(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

// http(s)://authority/path?query: no user:password@, no credential-like
// query parameter. The URL itself is checked again (parsed by libcurl) when
// the worker sends it.
Result<void> CheckUrl(const std::string& url) {
  const std::string lower = Lower(url.substr(0, 8));
  size_t scheme_end = 0;
  if (lower.starts_with("https://")) {
    scheme_end = 8;
  } else if (lower.starts_with("http://")) {
    scheme_end = 7;
  } else {
    return Bad("url", "must be an http:// or https:// URL");
  }
  if (url.size() > kMaxUrlBytes) return Bad("url", "is longer than " + std::to_string(kMaxUrlBytes) + " bytes");
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Bad("url", "has a space or control character (percent-encode it)");
    }
  }
  const size_t authority_end = std::min(url.find_first_of("/?#", scheme_end), url.size());
  const std::string_view authority = std::string_view(url).substr(scheme_end, authority_end - scheme_end);
  if (authority.empty()) return Bad("url", "has no host");
  if (authority.find('@') != std::string_view::npos) {
    return Bad("url", "must not carry user:password@ (a credential); use auth with a secret reference");
  }
  const size_t q = url.find('?');
  if (q == std::string::npos) return {};
  std::string_view query = std::string_view(url).substr(q + 1);
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const std::string name = PercentDecoded(pair.substr(0, pair.find('=')));
    if (IsCredentialQueryName(name)) {
      return Bad("url", "query parameter \"" + Shown(name) +
                            "\" looks like a credential; a payload may not carry one (send it with auth "
                            "and a secret reference)");
    }
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  return {};
}

Result<std::string> SecretRef(const json& value, const std::string& field) {
  const std::string hint = "must be a secret reference, env:NAME or file:/absolute/path (never the secret itself)";
  if (!value.is_string()) return Bad(field, hint);
  const std::string& ref = value.get_ref<const std::string&>();
  if (ref.size() > kMaxSecretRefBytes) return Bad(field, hint);
  if (ref.starts_with("env:")) {
    const std::string_view name = std::string_view(ref).substr(4);
    const bool ok = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
                    std::all_of(name.begin(), name.end(), [](char c) {
                      return c == '_' || std::isalnum(static_cast<unsigned char>(c));
                    });
    if (ok) return ref;
  } else if (ref.starts_with("file:/")) {
    const std::string_view path = std::string_view(ref).substr(5);
    const bool printable = std::all_of(path.begin(), path.end(), [](char c) {
      return static_cast<unsigned char>(c) > 0x20 && c != 0x7f;
    });
    const bool dotdot = path.find("/../") != std::string_view::npos || path.ends_with("/..");
    if (printable && !dotdot) return ref;
    if (dotdot) return Bad(field, "a file reference may not contain \"..\"");
  }
  // Not echoed: it may be the secret, pasted by mistake.
  return Bad(field, hint);
}

Result<void> ReadHeaders(const json& headers, HttpRequestPayload& out) {
  if (!headers.is_object()) return Bad("headers", "must be an object of strings");
  if (headers.size() > kMaxHeaders) return Bad("headers", "more than " + std::to_string(kMaxHeaders));
  for (const auto& [name, value] : headers.items()) {
    const std::string field = "headers." + Shown(name);
    if (!IsToken(name)) return Bad(field, "is not a header name (an HTTP token)");
    if (!value.is_string()) return Bad(field, "must be a string");
    if (IsReservedHeaderName(name)) {
      return Bad(field, "is set by Chime (Idempotency-Key, Chime-*, User-Agent) or by HTTP itself; leave it out");
    }
    if (IsCredentialHeaderName(name)) {
      return Bad(field, "credentials are not accepted in a payload; use \"auth\": {\"type\": \"header\", "
                        "\"name\": \"" + Shown(name) + "\", \"secret\": \"env:NAME\"} (or bearer, x-cron-secret, "
                        "standard-webhooks)");
    }
    const std::string& text = value.get_ref<const std::string&>();
    if (text.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return Bad(field, "has a CR, LF or NUL in its value");
    }
    if (LooksLikeCredentialValue(text)) {
      return Bad(field, "its value looks like a credential; use auth with a secret reference");
    }
    out.headers.emplace_back(name, text);
  }
  return {};
}

Result<void> ReadAuth(const json& auth, HttpRequestPayload& out) {
  if (!auth.is_object() || !auth.contains("type") || !auth["type"].is_string()) {
    return Bad("auth", "must be {\"type\": ..., \"secret\": \"env:NAME\"}");
  }
  static const std::vector<std::pair<std::string, HttpAuthType>> kTypes = {
      {"standard-webhooks", HttpAuthType::kStandardWebhooks}, {"bearer", HttpAuthType::kBearer},
      {"x-cron-secret", HttpAuthType::kCronSecret},           {"header", HttpAuthType::kHeader},
      {"none", HttpAuthType::kNone}};
  const std::string& type = auth["type"].get_ref<const std::string&>();
  auto it = std::find_if(kTypes.begin(), kTypes.end(), [&](auto& t) { return t.first == type; });
  if (it == kTypes.end()) {
    return Bad("auth.type", "\"" + Shown(type) +
                                "\" is not one of bearer, x-cron-secret, header, standard-webhooks, none");
  }
  out.auth.type = it->second;
  for (const auto& [key, _] : auth.items()) {
    const bool known = key == "type" || key == "secret" || (key == "name" && out.auth.type == HttpAuthType::kHeader);
    if (!known) {
      return Bad("auth." + Shown(key), out.auth.type == HttpAuthType::kHeader
                                           ? "unknown key (expected type, name, secret)"
                                           : "unknown key (expected type, secret; name only with type header)");
    }
  }
  if (out.auth.type == HttpAuthType::kNone) {
    if (auth.contains("secret")) return Bad("auth.secret", "must be left out with type none");
    return {};
  }
  if (out.auth.type == HttpAuthType::kHeader) {
    if (!auth.contains("name") || !auth["name"].is_string() || !IsToken(auth["name"].get<std::string>())) {
      return Bad("auth.name", "type header needs the header's name, e.g. \"x-cron-key\"");
    }
    out.auth.header = auth["name"].get<std::string>();
    if (IsReservedHeaderName(out.auth.header) || Lower(out.auth.header).starts_with("webhook-")) {
      return Bad("auth.name", "\"" + Shown(out.auth.header) + "\" is set by Chime or by HTTP itself");
    }
  }
  if (!auth.contains("secret")) {
    return Bad("auth.secret", "a reference such as \"env:CRON_SECRET\" is required");
  }
  auto ref = SecretRef(auth["secret"], "auth.secret");
  if (!ref) return std::unexpected(ref.error());
  out.auth.secret_ref = std::move(*ref);
  return {};
}

Result<void> ReadExpect(const json& expect, HttpRequestPayload& out) {
  if (!expect.is_array() || expect.empty() || expect.size() > 100) {
    return Bad("expectStatus", "must be a non-empty array of status codes");
  }
  for (const auto& s : expect) {
    if (!s.is_number_integer() || s.get<int64_t>() < 100 || s.get<int64_t>() > 599) {
      return Bad("expectStatus", "every entry must be a status code (100-599)");
    }
    out.expect_status.push_back(s.get<int>());
  }
  return {};
}

// Refuses credential-shaped fields and values anywhere in a JSON body.
Result<void> ScanBody(const json& value, const std::string& at, int depth) {
  if (depth > kMaxScanDepth) return {};
  if (value.is_string()) {
    if (LooksLikeCredentialValue(value.get_ref<const std::string&>())) {
      return Bad(at, "looks like a credential (\"Bearer ...\", \"whsec_...\"); a payload may not carry one");
    }
    return {};
  }
  if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      if (auto ok = ScanBody(value[i], at + "[" + std::to_string(i) + "]", depth + 1); !ok) return ok;
    }
    return {};
  }
  if (!value.is_object()) return {};
  for (const auto& [key, item] : value.items()) {
    const std::string field = at + "." + Shown(key);
    if (IsCredentialFieldName(key) && item.is_string() && !item.get_ref<const std::string&>().empty()) {
      return Bad(field, "is named like a credential; a payload may not carry one (the endpoint should read its "
                        "secret from its own environment, or take it through auth)");
    }
    if (auto ok = ScanBody(item, field, depth + 1); !ok) return ok;
  }
  return {};
}

Result<void> ReadBody(const json& body, HttpRequestPayload& out) {
  if (auto ok = ScanBody(body, "body", 0); !ok) return ok;
  if (body.is_string()) {
    out.body = body.get<std::string>();
    return {};
  }
  out.body = body.dump();
  out.body_is_json = true;
  return {};
}

Result<void> ReadRetryOn(const json& list, HttpRequestPayload& out) {
  if (!list.is_array()) {
    return Bad("retryOn", "must be an array of \"5xx\", \"4xx\", status codes, \"timeout\", \"network\", "
                          "\"failureBody\"");
  }
  RetryOn r{.server_errors = false, .client_errors = false, .statuses = {}, .timeout = false, .network = false,
            .failure_body = false};
  for (const auto& item : list) {
    int status = 0;
    if (item.is_number_integer()) {
      status = item.get<int>();
    } else if (item.is_string()) {
      const std::string& s = item.get_ref<const std::string&>();
      if (s == "5xx") {
        r.server_errors = true;
      } else if (s == "4xx") {
        r.client_errors = true;
      } else if (s == "timeout") {
        r.timeout = true;
      } else if (s == "network") {
        r.network = true;
      } else if (s == "failureBody") {
        r.failure_body = true;
      } else if (s.size() == 3 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        status = std::stoi(s);
      } else {
        return Bad("retryOn", "\"" + Shown(s) + "\" is not 5xx, 4xx, a status code, timeout, network or failureBody");
      }
    } else {
      return Bad("retryOn", "entries must be strings or status codes");
    }
    if (status != 0) {
      if (status < 400 || status > 599) return Bad("retryOn", std::to_string(status) + " is not a 4xx or 5xx status");
      r.statuses.push_back(status);
    }
  }
  out.retry_on = std::move(r);
  return {};
}

Result<void> ReadResponseMapping(const json& mapping, HttpRequestPayload& out) {
  if (!mapping.is_object()) return Bad("response", "must be an object of JSON pointers");
  const std::vector<std::pair<std::string, std::optional<std::string>*>> fields = {
      {"errors", &out.response.errors}, {"skipped", &out.response.skipped}, {"reason", &out.response.reason},
      {"success", &out.response.success}, {"status", &out.response.status}, {"counts", &out.response.counts}};
  for (const auto& [key, value] : mapping.items()) {
    auto it = std::find_if(fields.begin(), fields.end(), [&](auto& f) { return f.first == key; });
    if (it == fields.end()) {
      return Bad("response." + Shown(key), "unknown key (expected errors, skipped, reason, success, status, counts)");
    }
    if (!value.is_string()) return Bad("response." + key, "must be a JSON pointer such as \"/data/errors\"");
    try {
      (void)json::json_pointer(value.get<std::string>());
    } catch (const json::exception&) {
      return Bad("response." + key, "is not a JSON pointer (\"\" or \"/a/b\", ~0 for ~, ~1 for /)");
    }
    *it->second = value.get<std::string>();
  }
  return {};
}

}  // namespace

std::string_view HttpAuthTypeName(HttpAuthType type) {
  switch (type) {
    case HttpAuthType::kNone: return "none";
    case HttpAuthType::kBearer: return "bearer";
    case HttpAuthType::kCronSecret: return "x-cron-secret";
    case HttpAuthType::kHeader: return "header";
    case HttpAuthType::kStandardWebhooks: return "standard-webhooks";
  }
  return "none";
}

bool RetryOn::RetriesStatus(int status) const {
  if (server_errors && status >= 500 && status <= 599) return true;
  if (client_errors && status >= 400 && status <= 499) return true;
  return std::find(statuses.begin(), statuses.end(), status) != statuses.end();
}

Result<HttpRequestPayload> ParseHttpRequestPayload(const json& p) {
  if (!p.is_object()) return Fail(ErrorCode::kInvalidArgument, "payload must be a JSON object");
  static const std::vector<std::string> kKnown = {
      "url", "method", "headers", "body", "timeoutMs", "expectStatus", "followRedirects", "auth",
      "retryOn", "response", "dryRun", "dry_run"};
  for (const auto& [key, _] : p.items()) {
    if (std::find(kKnown.begin(), kKnown.end(), key) == kKnown.end()) {
      return Fail(ErrorCode::kInvalidArgument, "unknown parameter \"" + Shown(key) + "\"");
    }
  }
  HttpRequestPayload out;
  if (!p.contains("url") || !p["url"].is_string()) return Bad("url", "required, an http:// or https:// URL");
  out.url = p["url"].get<std::string>();
  if (auto ok = CheckUrl(out.url); !ok) return std::unexpected(ok.error());
  if (p.contains("method")) {
    if (!p["method"].is_string()) return Bad("method", "must be a string");
    out.method = p["method"].get<std::string>();
    std::transform(out.method.begin(), out.method.end(), out.method.begin(),
                   [](unsigned char c) { return std::toupper(c); });
    if (out.method.empty() || out.method.size() > 32 ||
        !std::all_of(out.method.begin(), out.method.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
      return Bad("method", "must be 1 to 32 letters (GET, POST, ...)");
    }
  }
  if (p.contains("timeoutMs")) {
    const json& t = p["timeoutMs"];
    if (!t.is_number_integer() || t.get<int64_t>() < 1 || t.get<int64_t>() > kHttpMaxTimeout.count()) {
      return Bad("timeoutMs", "must be an integer from 1 to " + std::to_string(kHttpMaxTimeout.count()) +
                                  " (1 hour); default " + std::to_string(kHttpDefaultTimeout.count()));
    }
    out.timeout = std::chrono::milliseconds(t.get<int64_t>());
  }
  if (p.contains("followRedirects")) {
    if (!p["followRedirects"].is_boolean()) return Bad("followRedirects", "must be true or false");
    out.follow_redirects = p["followRedirects"].get<bool>();
  }
  for (const char* key : {"dryRun", "dry_run"}) {
    if (!p.contains(key)) continue;
    if (!p[key].is_boolean()) return Bad(key, "must be true or false");
    out.dry_run = out.dry_run || p[key].get<bool>();
  }
  using Reader = Result<void> (*)(const json&, HttpRequestPayload&);
  for (auto [key, read] : {std::pair<const char*, Reader>{"headers", &ReadHeaders}, {"auth", &ReadAuth},
                           {"expectStatus", &ReadExpect}, {"body", &ReadBody}, {"retryOn", &ReadRetryOn},
                           {"response", &ReadResponseMapping}}) {
    if (!p.contains(key)) continue;
    if (auto ok = read(p[key], out); !ok) return std::unexpected(ok.error());
  }
  if (out.body_is_json) {
    const bool typed = std::any_of(out.headers.begin(), out.headers.end(),
                                   [](auto& h) { return Lower(h.first) == "content-type"; });
    if (!typed) out.headers.emplace_back("Content-Type", "application/json");
  }
  if (out.auth.type == HttpAuthType::kHeader) {
    const std::string name = Lower(out.auth.header);
    if (std::any_of(out.headers.begin(), out.headers.end(), [&](auto& h) { return Lower(h.first) == name; })) {
      return Bad("auth.name", "\"" + Shown(out.auth.header) + "\" is also in headers; give it once, in auth");
    }
  }
  return out;
}

}  // namespace chime::payload
