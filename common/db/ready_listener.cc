#include "common/db/ready_listener.h"

#include <charconv>
#include <pqxx/pqxx>

#include "common/base/backoff.h"
#include "common/base/clock.h"

namespace chime::db {
namespace {

constexpr const char* kChannel = "chime_jobs_ready";

// pqxx 6.4 delivers notifications to receiver objects during
// await_notification(); this one collects them for Wait() to return.
class Collector final : public pqxx::notification_receiver {
 public:
  explicit Collector(pqxx::connection_base& c) : pqxx::notification_receiver(c, kChannel) {}
  void operator()(const std::string& payload, int /*backend_pid*/) override {
    for (auto& r : ParseReadyPayload(payload)) ready.push_back(std::move(r));
  }
  std::vector<ReadyQueue> ready;
};

}  // namespace

struct ReadyListener::Session {
  explicit Session(const std::string& url) : conn(url), collector(conn) {}
  pqxx::connection conn;
  Collector collector;
};

std::vector<ReadyQueue> ParseReadyPayload(std::string_view payload) {
  std::vector<ReadyQueue> out;
  while (!payload.empty()) {
    const auto comma = payload.find(',');
    const std::string_view item = payload.substr(0, comma);
    payload = comma == std::string_view::npos ? std::string_view() : payload.substr(comma + 1);
    const auto colon = item.rfind(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    int64_t n = 0;
    const char* end = item.data() + item.size();
    auto [ptr, ec] = std::from_chars(item.data() + colon + 1, end, n);
    if (ec != std::errc() || ptr != end || n <= 0) continue;
    out.push_back({std::string(item.substr(0, colon)), n});
  }
  return out;
}

ReadyListener::ReadyListener(ConnectionConfig config) : config_(config.ForListen()) {}

ReadyListener::~ReadyListener() = default;

bool ReadyListener::TakeReconnected() {
  const bool was = reconnected_;
  reconnected_ = false;
  return was;
}

Result<void> ReadyListener::EnsureListening() {
  if (session_ && session_->conn.is_open()) return {};
  session_.reset();
  const auto now = std::chrono::steady_clock::now();
  if (failures_ > 0 && now < next_attempt_) {
    return Fail(ErrorCode::kUnavailable, "database unavailable; next LISTEN attempt pending");
  }
  try {
    auto session = std::make_unique<Session>(config_.url);
    // The receiver's LISTEN runs when it is constructed; make sure it did.
    session->conn.get_notifs();
    session_ = std::move(session);
    failures_ = 0;
    reconnected_ = true;
    return {};
  } catch (...) {
    Error error = MapCurrentException();
    ++failures_;
    DefaultRng rng;
    next_attempt_ = now + BackoffDelay(config_.reconnect, failures_, rng);
    error.code = ErrorCode::kUnavailable;
    error.message = "cannot LISTEN for ready jobs: " + RedactUrl(error.message);
    return std::unexpected(std::move(error));
  }
}

Result<std::vector<ReadyQueue>> ReadyListener::Wait(std::chrono::milliseconds timeout) {
  if (auto ok = EnsureListening(); !ok) return std::unexpected(ok.error());
  try {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
    session_->conn.await_notification(static_cast<long>(us / 1'000'000),
                                      static_cast<long>(us % 1'000'000));
    std::vector<ReadyQueue> out;
    out.swap(session_->collector.ready);
    return out;
  } catch (...) {
    Error error = MapCurrentException();
    session_.reset();
    ++failures_;
    DefaultRng rng;
    next_attempt_ = std::chrono::steady_clock::now() + BackoffDelay(config_.reconnect, failures_, rng);
    error.code = ErrorCode::kUnavailable;
    return std::unexpected(std::move(error));
  }
}

}  // namespace chime::db
