#include "scheduler/token_cache.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/db/auth_store.h"

namespace chime::scheduler {

Result<void> TokenCacheConfig::Validate() const {
  if (refresh.count() <= 0 || refresh > std::chrono::minutes(1)) {
    return Fail(ErrorCode::kInvalidArgument, "token cache refresh: must be 1 ms - 60 s");
  }
  if (stale_after <= refresh) {
    return Fail(ErrorCode::kInvalidArgument, "token cache: stale_after must exceed refresh");
  }
  if (touch_interval.count() <= 0) {
    return Fail(ErrorCode::kInvalidArgument, "token cache: touch_interval must be positive");
  }
  return {};
}

auth::TokenRecord TokenRecordOf(const db::ApiTokenRow& row) {
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

namespace {

db::ConnectionConfig WithTimeout(db::ConnectionConfig db, std::chrono::milliseconds timeout) {
  db.statement_timeout = timeout;
  return db;
}

}  // namespace

TokenCache::TokenCache(db::ConnectionConfig db, TokenCacheConfig config, const Clock& clock)
    : config_(std::move(config)), clock_(clock), conn_(WithTimeout(std::move(db), config_.statement_timeout)) {}

TokenCache::~TokenCache() { Stop(); }

void TokenCache::Start() {
  if (thread_.joinable()) return;
  Load();
  thread_ = std::jthread([this](std::stop_token stop) { Loop(stop); });
}

void TokenCache::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  cv_.notify_all();
  thread_.join();
}

Result<std::optional<auth::TokenRecord>> TokenCache::TokenFind(std::string_view name) {
  std::lock_guard lock(mu_);
  if (!loaded_at_ || clock_.SteadyNow() - *loaded_at_ > config_.stale_after) {
    return Fail(ErrorCode::kUnavailable, "named tokens cannot be checked: the database is unreachable");
  }
  auto it = tokens_.find(name);
  if (it == tokens_.end()) return std::optional<auth::TokenRecord>{};
  return std::optional<auth::TokenRecord>(it->second);
}

void TokenCache::TokenUsed(std::string_view name) {
  std::lock_guard lock(mu_);
  if (used_.size() < 10'000) used_.emplace(name);
}

void TokenCache::RefreshNow(std::chrono::milliseconds wait) {
  if (!thread_.joinable()) return;
  std::unique_lock lock(mu_);
  const uint64_t mine = ++requested_;
  cv_.notify_all();
  cv_.wait_for(lock, wait, [&] { return loaded_ >= mine; });
}

void TokenCache::Loop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, stop, config_.refresh, [&] { return requested_ > loaded_; });
    }
    if (stop.stop_requested()) return;
    // Touches first: a RefreshNow() returns after the load, with the uses
    // recorded before it written too.
    Touch();
    Load();
  }
}

void TokenCache::Load() {
  uint64_t seen = 0;
  {
    std::lock_guard lock(mu_);
    seen = requested_;
  }
  db::AuthStore store(conn_);
  auto rows = store.TokensLoadAll();
  std::lock_guard lock(mu_);
  loaded_ = seen;
  if (!rows) {
    spdlog::debug("token cache: reload failed: {}", rows.error().message);
  } else {
    tokens_.clear();
    for (const auto& row : *rows) tokens_.emplace(row.name, TokenRecordOf(row));
    loaded_at_ = clock_.SteadyNow();
  }
  cv_.notify_all();
}

void TokenCache::Touch() {
  std::set<std::string, std::less<>> used;
  {
    std::lock_guard lock(mu_);
    used.swap(used_);
  }
  const auto now = clock_.SteadyNow();
  db::AuthStore store(conn_);
  for (const auto& name : used) {
    auto it = touched_.find(name);
    if (it != touched_.end() && now - it->second < config_.touch_interval) continue;
    touched_[name] = now;
    // Bookkeeping only: a failure here never fails a request.
    if (auto ok = store.TokenTouch(name); !ok) {
      spdlog::debug("token '{}': last-used time not recorded: {}", name, ok.error().message);
    }
  }
}

}  // namespace chime::scheduler
