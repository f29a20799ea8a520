#include "common/web/db_pool.h"

namespace chime::web {

DbPool::DbPool(db::ConnectionConfig config, size_t max_connections)
    : config_(std::move(config)), max_(std::max<size_t>(1, max_connections)) {}

DbPool::Borrowed::Borrowed(DbPool* pool, std::unique_ptr<db::Connection> conn)
    : pool_(pool), conn_(std::move(conn)) {}

DbPool::Borrowed::Borrowed(Borrowed&& other) noexcept
    : pool_(other.pool_), conn_(std::move(other.conn_)) {}

DbPool::Borrowed::~Borrowed() {
  if (conn_) pool_->Return(std::move(conn_));
}

Result<DbPool::Borrowed> DbPool::Acquire(std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, wait, [&] { return !idle_.empty() || open_ < max_; })) {
    return Fail(ErrorCode::kUnavailable, "every database connection of the http server is busy");
  }
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return Borrowed(this, std::move(conn));
  }
  ++open_;
  lock.unlock();
  return Borrowed(this, std::make_unique<db::Connection>(config_));
}

void DbPool::Return(std::unique_ptr<db::Connection> conn) {
  {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(conn));
  }
  cv_.notify_one();
}

}  // namespace chime::web
