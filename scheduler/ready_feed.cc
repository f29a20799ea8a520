#include "scheduler/ready_feed.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "common/db/ready_listener.h"
#include "scheduler/router_server.h"

namespace chime::scheduler {

ReadyFeed::ReadyFeed(zmq::context_t& context, db::ConnectionConfig db)
    : context_(context), db_(std::move(db)) {}

ReadyFeed::~ReadyFeed() { Stop(); }

void ReadyFeed::Start() {
  if (thread_.joinable()) return;
  if (!db_.CanListen()) {
    // LISTEN through a transaction pooler would listen on a server session
    // other clients use; without a direct URL there is nothing to forward.
    spdlog::warn("ready feed: off (the database URL is pooled and CHIME_DATABASE_LISTEN_URL is "
                 "not set): jobs start when a worker polls, not on enqueue");
    return;
  }
  thread_ = std::jthread([this](std::stop_token stop) { Loop(stop); });
}

void ReadyFeed::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

void ReadyFeed::Loop(std::stop_token stop) {
  zmq::socket_t push(context_, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 0);
  push.connect(RouterServer::kReadyEndpoint);
  db::ReadyListener listener(db_);
  std::mutex mu;
  std::condition_variable_any backoff;
  bool failing = false;
  while (!stop.stop_requested()) {
    // A short wait keeps Stop() prompt; notifications wake it at once.
    auto ready = listener.Wait(std::chrono::milliseconds(250));
    if (!ready) {
      if (!failing) spdlog::warn("ready feed: {}; workers keep polling", ready.error().message);
      failing = true;
      listening_.store(false);
      std::unique_lock lock(mu);
      backoff.wait_for(lock, stop, std::chrono::milliseconds(200), [] { return false; });
      continue;
    }
    if (listener.TakeReconnected()) {
      if (failing) spdlog::info("ready feed: listening again");
      failing = false;
      // Whatever was announced while away is lost: let every worker look.
      push.send(zmq::str_buffer("*"), zmq::send_flags::dontwait);
      listening_.store(true);
    }
    if (ready->empty()) continue;
    // '*' (migration 0023): a job finished under a limit on every queue;
    // the jobs waiting for its slot may be on any queue.
    if (std::any_of(ready->begin(), ready->end(), [](const db::ReadyQueue& q) { return q.queue == "*"; })) {
      push.send(zmq::str_buffer("*"), zmq::send_flags::dontwait);
      forwarded_.fetch_add(1);
      continue;
    }
    std::string notice;
    for (const auto& q : *ready) {
      if (!notice.empty()) notice += ',';
      notice += q.queue + ":" + std::to_string(q.count);
    }
    push.send(zmq::buffer(notice), zmq::send_flags::dontwait);
    forwarded_.fetch_add(1);
  }
}

}  // namespace chime::scheduler
