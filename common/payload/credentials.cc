#include "common/payload/credentials.h"

#include <algorithm>
#include <array>
#include <string>

namespace chime::payload {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

template <size_t N>
bool ContainsAny(const std::string& text, const std::array<std::string_view, N>& words) {
  return std::any_of(words.begin(), words.end(),
                     [&](std::string_view w) { return text.find(w) != std::string::npos; });
}

constexpr std::array<std::string_view, 10> kHeaderWords{
    "secret", "token", "password", "passwd", "auth", "signature", "credential", "apikey", "api-key", "api_key"};

constexpr std::array<std::string_view, 7> kExactCredentialHeaders{
    "authorization", "proxy-authorization", "cookie", "x-cron-secret", "x-cron-key", "x-internal-secret",
    "x-vercel-cron-signature"};

constexpr std::array<std::string_view, 9> kQueryWords{
    "secret", "token", "password", "passwd", "apikey", "api_key", "api-key", "signature", "credential"};

constexpr std::array<std::string_view, 11> kFieldWords{
    "secret",     "password", "passwd",       "apikey",        "api_key",      "api-key",
    "privatekey", "private_key", "accesstoken", "access_token", "refresh_token"};

}  // namespace

bool IsCredentialHeaderName(std::string_view name) {
  const std::string n = Lower(name);
  if (std::find(kExactCredentialHeaders.begin(), kExactCredentialHeaders.end(), n) !=
      kExactCredentialHeaders.end()) {
    return true;
  }
  if (n.starts_with("webhook-")) return true;
  if (n.ends_with("key") && n != "idempotency-key") return true;
  return ContainsAny(n, kHeaderWords);
}

bool IsReservedHeaderName(std::string_view name) {
  const std::string n = Lower(name);
  return n == "idempotency-key" || n.starts_with("chime-") || n == "user-agent" || n == "host" ||
         n == "content-length" || n == "transfer-encoding" || n == "connection" || n == "expect";
}

bool IsCredentialQueryName(std::string_view name) {
  const std::string n = Lower(name);
  return n == "key" || n == "sig" || ContainsAny(n, kQueryWords);
}

bool IsCredentialFieldName(std::string_view name) {
  const std::string n = Lower(name);
  return ContainsAny(n, kFieldWords) || n.find("refreshtoken") != std::string::npos;
}

bool LooksLikeCredentialValue(std::string_view value) {
  const std::string v = Lower(value.substr(0, 8));
  return v.starts_with("bearer ") || v.starts_with("basic ") || value.starts_with("whsec_");
}

}  // namespace chime::payload
