#include "scheduler/credential_directory.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace chime::scheduler {
namespace {

db::ConnectionConfig WithTimeout(db::ConnectionConfig db, std::chrono::milliseconds timeout) {
  db.statement_timeout = timeout;
  return db;
}

// A row as the authenticator reads it. The schema's CHECKs keep the scope
// one of three names and the key material 32 bytes each.
auth::TokenRecord ToRecord(const db::ApiTokenRow& row) {
  auth::TokenRecord r;
  r.name = row.name;
  r.scope = auth::ParseScope(row.scope).value_or(auth::Scope::kRead);
  std::copy_n(row.secret_sha256.begin(), std::min(row.secret_sha256.size(), r.verifiers.secret_sha256.size()),
              r.verifiers.secret_sha256.begin());
  std::copy_n(row.signing_key.begin(), std::min(row.signing_key.size(), r.verifiers.signing_key.size()),
              r.verifiers.signing_key.begin());
  r.expires_at = row.expires_at;
  r.revoked_at = row.revoked_at;
  return r;
}

}  // namespace

Result<void> CredentialDirectoryConfig::Validate() const {
  if (ttl.count() < 0 || ttl > std::chrono::minutes(1)) {
    return Fail(ErrorCode::kInvalidArgument, "credential cache ttl: must be 0-60 s");
  }
  if (touch_interval.count() <= 0) {
    return Fail(ErrorCode::kInvalidArgument, "credential touch interval: must be positive");
  }
  if (max_cached == 0) return Fail(ErrorCode::kInvalidArgument, "credential cache: max_cached must be positive");
  return {};
}

CredentialDirectory::CredentialDirectory(db::ConnectionConfig db, CredentialDirectoryConfig config,
                                         const Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      conn_(WithTimeout(std::move(db), config_.statement_timeout)),
      store_(conn_) {}

Result<std::optional<auth::TokenRecord>> CredentialDirectory::TokenFind(std::string_view name) {
  const auto now = clock_.SteadyNow();
  std::lock_guard lock(mu_);
  if (auto it = cache_.find(std::string(name)); it != cache_.end() && now - it->second.fetched < config_.ttl) {
    return it->second.record;
  }
  auto row = store_.TokenFind(std::string(name));
  if (!row) {
    // A name the store refuses (never a valid token name) is no token.
    if (row.error().code == ErrorCode::kInvalidArgument) return std::optional<auth::TokenRecord>{};
    return std::unexpected(row.error());
  }
  if (cache_.size() >= config_.max_cached) cache_.clear();
  Entry& entry = cache_[std::string(name)];
  entry.record = *row ? std::optional(ToRecord(**row)) : std::nullopt;
  entry.fetched = now;
  return entry.record;
}

void CredentialDirectory::TokenUsed(std::string_view name) {
  const auto now = clock_.SteadyNow();
  std::lock_guard lock(mu_);
  auto it = cache_.find(std::string(name));
  if (it == cache_.end()) return;
  auto& touched = it->second.touched;
  if (touched && now - *touched < config_.touch_interval) return;
  touched = now;
  // Bookkeeping only: a failure here never fails the request.
  if (auto ok = store_.TokenTouch(std::string(name)); !ok) {
    spdlog::debug("token '{}': last-used time not recorded: {}", name, ok.error().message);
  }
}

Result<bool> CredentialDirectory::NonceRecord(std::string_view nonce,
                                              std::chrono::system_clock::time_point expires_at) {
  std::lock_guard lock(mu_);
  return store_.NonceRecord(nonce, expires_at);
}

void CredentialDirectory::Invalidate(std::string_view name) {
  std::lock_guard lock(mu_);
  cache_.erase(std::string(name));
}

}  // namespace chime::scheduler
