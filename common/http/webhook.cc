#include "common/http/webhook.h"

#include <sodium.h>

#include <charconv>
#include <cstdlib>

namespace chime::http {
namespace {

using std::chrono::duration_cast;
using std::chrono::seconds;

constexpr std::string_view kKeyPrefix = "whsec_";

void EnsureSodium() {
  // Thread-safe and idempotent; fails only without a usable random source.
  if (sodium_init() < 0) std::abort();
}

std::string Base64(const unsigned char* bytes, size_t size, int variant) {
  std::string out(sodium_base64_ENCODED_LEN(size, variant), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes, size, variant);
  out.resize(out.size() - 1);  // The terminating NUL.
  return out;
}

int64_t UnixSeconds(std::chrono::system_clock::time_point t) {
  return duration_cast<seconds>(t.time_since_epoch()).count();
}

// The v1 signatures in a webhook-signature header; other versions (v1a is
// asymmetric) are not ours to check.
std::vector<std::string_view> V1Signatures(std::string_view header) {
  std::vector<std::string_view> out;
  while (!header.empty()) {
    const size_t space = header.find(' ');
    const std::string_view entry = header.substr(0, space);
    if (entry.starts_with("v1,")) out.push_back(entry.substr(3));
    header = space == header.npos ? std::string_view() : header.substr(space + 1);
  }
  return out;
}

}  // namespace

Result<WebhookKey> WebhookKey::FromSecret(const Secret& secret) {
  std::string_view encoded = secret.Reveal();
  if (encoded.starts_with(kKeyPrefix)) encoded.remove_prefix(kKeyPrefix.size());
  if (encoded.empty()) return Fail(ErrorCode::kInvalidArgument, "webhook secret is empty");
  EnsureSodium();
  std::string key(encoded.size(), '\0');  // Decoding never grows the data.
  size_t key_size = 0;
  auto decode = [&](int variant) {
    const char* end = nullptr;
    return sodium_base642bin(reinterpret_cast<unsigned char*>(key.data()), key.size(), encoded.data(),
                             encoded.size(), nullptr, &key_size, &end, variant) == 0 &&
           end == encoded.data() + encoded.size() && key_size > 0;
  };
  // The reference decoder also takes a key whose '=' padding was left off.
  const bool decoded = decode(sodium_base64_VARIANT_ORIGINAL) ||
                       (encoded.find('=') == std::string_view::npos &&
                        decode(sodium_base64_VARIANT_ORIGINAL_NO_PADDING));
  if (!decoded) {
    return Fail(ErrorCode::kInvalidArgument,
                "webhook secret is not standard base64 (optionally prefixed whsec_), which Standard "
                "Webhooks receivers decode it as; generate one with `openssl rand -base64 32`");
  }
  key.resize(key_size);
  return WebhookKey(std::move(key));
}

std::string WebhookKey::Sign(std::string_view id, int64_t timestamp, std::string_view body) const {
  const std::string content =
      std::string(id) + "." + std::to_string(timestamp) + "." + std::string(body);
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(bytes_.data()),
                              bytes_.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(content.data()),
                                content.size());
  crypto_auth_hmacsha256_final(&state, mac);
  return "v1," + Base64(mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
}

std::string NewWebhookId() {
  EnsureSodium();
  unsigned char random[16];
  randombytes_buf(random, sizeof random);
  return "msg_" + Base64(random, sizeof random, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

Result<void> WebhookVerify(const WebhookKey& key, const WebhookHeaders& headers,
                           std::string_view body, std::chrono::system_clock::time_point now,
                           std::chrono::seconds tolerance) {
  if (headers.id.empty() || headers.timestamp.empty() || headers.signature.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "webhook: webhook-id, webhook-timestamp and webhook-signature are all required");
  }
  int64_t timestamp = 0;
  const std::string& ts = headers.timestamp;
  const auto [end, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), timestamp);
  if (ec != std::errc() || end != ts.data() + ts.size()) {
    return Fail(ErrorCode::kInvalidArgument, "webhook: webhook-timestamp is not unix seconds");
  }
  // A hostile timestamp near the int64 limits must not overflow the subtraction.
  int64_t skew = 0;
  const bool overflow = __builtin_sub_overflow(timestamp, UnixSeconds(now), &skew);
  if (overflow || skew > tolerance.count() || skew < -tolerance.count()) {
    return Fail(ErrorCode::kUnauthenticated,
                "webhook: timestamp is " +
                    (overflow ? std::string("out of range") : std::to_string(skew) + " s from now") +
                    " (limit " + std::to_string(tolerance.count()) + " s)");
  }
  const std::string expected = key.Sign(headers.id, timestamp, body).substr(3);
  for (std::string_view candidate : V1Signatures(headers.signature)) {
    if (candidate.size() == expected.size() &&
        sodium_memcmp(candidate.data(), expected.data(), expected.size()) == 0) {
      return {};
    }
  }
  return Fail(ErrorCode::kUnauthenticated, "webhook: no v1 signature matches the secret");
}

void AddWebhookSignature(HttpRequest& request, const WebhookKey& key,
                         std::chrono::system_clock::time_point now) {
  AddWebhookSignature(request, key, now, NewWebhookId());
}

void AddWebhookSignature(HttpRequest& request, const WebhookKey& key,
                         std::chrono::system_clock::time_point now, std::string_view id_view) {
  const std::string id(id_view);
  const int64_t timestamp = UnixSeconds(now);
  request.headers.push_back({"webhook-id", id});
  request.headers.push_back({"webhook-timestamp", std::to_string(timestamp)});
  request.headers.push_back({"webhook-signature", key.Sign(id, timestamp, request.body), true});
}

void AddBearerAuth(HttpRequest& request, const Secret& secret) {
  request.headers.push_back({"Authorization", "Bearer " + secret.Reveal(), true});
}

void AddCronSecretHeader(HttpRequest& request, const Secret& secret) {
  request.headers.push_back({"x-cron-secret", secret.Reveal(), true});
}

}  // namespace chime::http
