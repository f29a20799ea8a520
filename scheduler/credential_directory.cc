#include "scheduler/credential_directory.h"

#include "scheduler/token_cache.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace chime::scheduler {
namespace {

db::ConnectionConfig WithTimeout(db::ConnectionConfig db, std::chrono::milliseconds timeout) {
  db.statement_timeout = timeout;
  return db;
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
  entry.record = *row ? std::optional(TokenRecordOf(**row)) : std::nullopt;
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
  {
    std::lock_guard lock(mu_);
    cache_.erase(std::string(name));
  }
  if (on_change_) on_change_();
}

}  // namespace chime::scheduler
