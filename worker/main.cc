// chime-worker: a thin main over chime::worker::Worker. Loads the
// configuration (flags > CHIME_* environment > --config file), registers the
// built-in kinds and the seeds' kinds (configured by --kinds-config), runs until SIGTERM or SIGINT, then drains and exits 0.
// User handlers linked into this binary register themselves with
// CHIME_REGISTER_HANDLER.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <optional>
#include <string>
#include <thread>

#include "common/db/job_store.h"
#include "common/history/history.h"
#include "common/log/log.h"
#include "worker/builtin_kinds.h"
#include "worker/http_metrics.h"
#include "worker/http_service.h"
#include "worker/kinds/app_config.h"
#include "worker/kinds/register.h"
#include "worker/worker.h"

int main(int argc, char** argv) {
  // Stop signals are waited for by this thread only; every thread the
  // worker starts inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // Start-up errors exit 2 with one line naming the problem: a JSON line
  // with --log-format json, from argv and the environment until the
  // configuration (which may set the format in its file) is loaded.
  chime::LogFormat fatal_format = chime::StartupLogFormat(argc, argv);
  auto fatal = [&fatal_format](const std::string& message) {
    chime::LogStartupError("chime-worker", "worker", fatal_format, message);
    return 2;
  };
  auto loaded = chime::worker::LoadWorkerConfig(argc, argv);
  if (!loaded) return fatal(loaded.error().message);
  if (!*loaded) return 0;  // --help or --version was printed
  const chime::worker::WorkerConfig& config = **loaded;
  // Validate() checked the format already.
  fatal_format = *chime::ParseLogFormat(config.log_format);
  if (auto ok = chime::InitLogging("worker", config.log_level, fatal_format); !ok) {
    return fatal(ok.error().message);
  }
  chime::history::InitProcess("worker:" + config.worker_id);
  auto& handlers = chime::worker::HandlerRegistry::Global();
  chime::worker::RegisterBuiltinKinds(handlers);
  // The seeds' kinds; a bad kinds file stops the worker naming the field.
  auto kinds = config.kinds_config.empty()
                   ? chime::Result<chime::worker::kinds::AppConfig>(chime::worker::kinds::DefaultAppConfig())
                   : chime::worker::kinds::LoadAppConfig(config.kinds_config);
  if (!kinds) return fatal("kinds_config: " + kinds.error().message);
  if (auto ok = chime::worker::kinds::RegisterAppKinds(handlers, *kinds); !ok) {
    return fatal("kinds_config: " + ok.error().message);
  }
  // Metrics label the kinds this worker runs by name, any other as "_other".
  chime::worker::WorkerMetrics metrics(handlers.Kinds());
  chime::worker::Worker worker(config, handlers, &metrics);
  if (auto ok = worker.Start(); !ok) return fatal(ok.error().message);
  std::optional<chime::worker::HttpService> http;
  if (config.http_listen != "off") {
    http.emplace(chime::web::ServerConfig{.listen = config.http_listen, .flag = "http_listen"}, worker,
                 metrics);
    if (auto bound = http->Start(); !bound) {
      worker.Drain();
      return fatal(bound.error().message);
    }
  }
  if (config.drain) {
    // Scripts: run until nothing in this worker's queues is ready or
    // running, then drain.
    chime::db::Connection conn(config.database());
    chime::db::JobStore store(conn);
    while (true) {
      timespec wait{0, 200'000'000};
      int sig = sigtimedwait(&signals, nullptr, &wait);
      if (sig > 0) break;
      auto stats = store.JobsStats();
      if (!stats) continue;
      int64_t ready = 0;
      for (const auto& q : stats->queues) {
        if (std::ranges::find(config.queues, q.queue) != config.queues.end()) ready += q.ready;
      }
      if (ready == 0 && worker.executor().RunningIds().empty() && worker.executor().free_slots() == config.slots) break;
    }
  } else {
    int sig = 0;
    sigwait(&signals, &sig);
    spdlog::info("signal {} received; draining", sig);
  }
  worker.Drain();  // /readyz answers 503 meanwhile.
  if (http) http->Stop();
  return 0;
}
