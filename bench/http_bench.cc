#include "bench/http_bench.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <thread>

#include "bench/cluster.h"
#include "bench/http_load.h"
#include "bench/interrupt.h"
#include "common/base/child_process.h"

namespace chime::bench {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr size_t kChunk = 64 * 1024;

double MsSince(Clock::time_point since) {
  return std::chrono::duration<double, std::milli>(Clock::now() - since).count();
}

// The swarms and the throughput clients need a descriptor each.
void RaiseDescriptorLimit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

// One GET on a fresh connection: its latency in ms, or -1 without an answer.
double ProbeMs(const std::string& address, const std::string& path, int* status) {
  const auto started = Clock::now();
  LoadConnection c(address, seconds(30));
  *status = 0;
  if (!c.ok() || !c.Send("GET " + path + " HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n", seconds(30))) {
    return -1;
  }
  *status = c.Read(seconds(30)).status;
  return *status == 0 ? -1 : MsSince(started);
}

struct Server {
  std::unique_ptr<ChildProcess> process;
  std::string address;
  pid_t pid() const { return process->pid(); }
};

Result<Server> StartScheduler(const std::string& conninfo) {
  EnsureBinDir();
  Server s;
  s.process = std::make_unique<ChildProcess>(
      std::vector<std::string>{BinaryPath("scheduler/chime-scheduler"), "--bind", "tcp://127.0.0.1:0",
                               "--http-listen", "127.0.0.1:0"},
      std::map<std::string, std::string>{{"CHIME_DATABASE_URL", conninfo},
                                         {"CHIME_ADMIN_SECRET", kBenchAdminSecret},
                                         {"CHIME_LOG_LEVEL", "info"}});
  if (!s.process->Start()) return Fail(ErrorCode::kInternal, s.process->log());
  auto line = s.process->WaitForLog("http listening on ", seconds(30));
  if (!line) return Fail(ErrorCode::kInternal, "scheduler did not start: " + s.process->log());
  s.address = line->substr(line->find("http listening on ") + 18);
  while (!s.address.empty() && (s.address.back() == '\n' || s.address.back() == '\r')) s.address.pop_back();
  const auto deadline = Clock::now() + seconds(30);
  int status = 0;
  while (Clock::now() < deadline) {
    if (ProbeMs(s.address, "/readyz", &status) >= 0 && status == 200) return s;
    std::this_thread::sleep_for(milliseconds(100));
  }
  return Fail(ErrorCode::kInternal, "scheduler never became ready: " + s.process->log());
}

// 1. A chunked upload without a token.
void MeasureUpload(const Server& s, int body_mib, int bound_mib, Report& report) {
  report.BeginSection("http", "chunked POST /healthz without a token (RSS in MiB)");
  const double idle = RssMib(s.pid());
  double peak = idle;
  std::string outcome = "sent all";
  int64_t sent = 0;
  int status = 0;
  {
    LoadConnection c(s.address, seconds(5));
    std::string chunk(kChunk + 16, 'a');
    char size_line[16];
    std::snprintf(size_line, sizeof(size_line), "%zx\r\n", kChunk);
    chunk.replace(0, std::strlen(size_line), size_line);
    chunk.resize(std::strlen(size_line) + kChunk);
    chunk += "\r\n";
    if (!c.ok() || !c.Send("POST /healthz HTTP/1.1\r\nHost: bench\r\nTransfer-Encoding: chunked\r\n"
                           "Content-Type: application/octet-stream\r\n\r\n", seconds(5))) {
      outcome = "refused the connection";
    } else {
      const int64_t total = static_cast<int64_t>(body_mib) * 1024 * 1024;
      while (sent < total && !Interrupt::StopRequested()) {
        if (!c.Send(chunk, seconds(5))) {
          outcome = "stopped reading or closed";
          break;
        }
        sent += static_cast<int64_t>(kChunk);
        if (sent % (16 * 1024 * 1024) == 0) {
          peak = std::max(peak, RssMib(s.pid()));
          if (peak - idle > bound_mib) {
            outcome = "RSS bound passed";
            break;
          }
        }
      }
      if (sent >= total) c.Send("0\r\n\r\n", seconds(5));
      status = c.Read(seconds(5)).status;
    }
    peak = std::max(peak, RssMib(s.pid()));
  }
  std::this_thread::sleep_for(milliseconds(500));
  const std::vector<Param> params{{"outcome", outcome}};
  report.Add({"rss_idle", idle, "MiB", params});
  report.Add({"rss_peak", peak, "MiB", params});
  report.Add({"rss_after", RssMib(s.pid()), "MiB", params});
  report.Add({"body_sent", static_cast<double>(sent) / (1024.0 * 1024.0), "MiB", params});
  report.Add({"status", static_cast<double>(status), "code", params});
  report.EndSection();
}

// 2. Never-ending headers from many connections.
void MeasureHeaderFlood(const Server& s, int clients, int secs, Report& report) {
  report.BeginSection("http", "never-ending headers, 64 KiB/s each (RSS in MiB)");
  const double idle = RssMib(s.pid());
  SlowSwarm swarm(s.address, clients, kChunk / 10, milliseconds(100));
  swarm.Connect();
  std::atomic<bool> done{false};
  double peak = idle;
  std::thread sampler([&] {
    while (!done.load()) {
      peak = std::max(peak, RssMib(s.pid()));
      std::this_thread::sleep_for(milliseconds(100));
    }
  });
  swarm.Run(seconds(secs));
  int status = 0;
  const double probe = ProbeMs(s.address, "/healthz", &status);
  done = true;
  sampler.join();
  const std::vector<Param> params{{"clients", clients}, {"seconds", secs}};
  report.Add({"rss_idle", idle, "MiB", params});
  report.Add({"rss_peak", peak, "MiB", params});
  report.Add({"connected", static_cast<double>(swarm.connected()), "conns", params});
  report.Add({"open_at_end", static_cast<double>(swarm.open()), "conns", params});
  report.Add({"healthz_after", probe, "ms", params});
  report.EndSection();
}

// 3. Probes while slowloris clients hold connections.
void MeasureSlowloris(const Server& s, int clients, int secs, Report& report) {
  report.BeginSection("http", "probes while slowloris clients send a header line every 3 s (ms)");
  SlowSwarm swarm(s.address, clients, 1, seconds(3));
  swarm.Connect();
  std::thread trickle([&] { swarm.Run(seconds(secs + 5)); });
  std::this_thread::sleep_for(milliseconds(200));
  for (const char* path : {"/healthz", "/readyz"}) {
    std::vector<double> ms;
    int failed = 0;
    const auto end = Clock::now() + seconds(secs) / 2;
    while (Clock::now() < end && !Interrupt::StopRequested()) {
      int status = 0;
      const double t = ProbeMs(s.address, path, &status);
      if (t < 0 || status != 200) {
        ++failed;
      } else {
        ms.push_back(t);
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
    const std::vector<Param> params{{"probe", path}, {"slow_clients", clients}};
    report.Add({"p50", RoundedPercentile(ms, 0.5), "ms", params});
    report.Add({"p99", RoundedPercentile(ms, 0.99), "ms", params});
    report.Add({"max", ms.empty() ? -1 : *std::max_element(ms.begin(), ms.end()), "ms", params});
    report.Add({"answered", static_cast<double>(ms.size()), "probes", params});
    report.Add({"failed", static_cast<double>(failed), "probes", params});
  }
  trickle.join();
  report.Add({"slow_open_at_end", static_cast<double>(swarm.open()), "conns",
              {{"probe", "-"}, {"slow_clients", clients}}});
  report.EndSection();
}

// 4. Keep-alive throughput with 4 client threads.
void MeasureThroughput(const Server& s, int requests, Report& report) {
  report.BeginSection("http", "keep-alive throughput, 4 client threads");
  const std::string token = std::string("Authorization: Bearer ") + kBenchAdminSecret + "\r\n";
  for (const auto& [route, headers] : std::vector<std::pair<std::string, std::string>>{
           {"/healthz", ""}, {"/api/jobs?limit=1", token}}) {
    constexpr int kThreads = 4;
    std::atomic<int> ok{0}, failed{0};
    const auto started = Clock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, route = route, headers = headers] {
        const std::string request = "GET " + route + " HTTP/1.1\r\nHost: bench\r\n" + headers + "\r\n";
        std::unique_ptr<LoadConnection> c;
        for (int i = 0; i < requests / kThreads && !Interrupt::StopRequested(); ++i) {
          if (!c) c = std::make_unique<LoadConnection>(s.address, seconds(10));
          auto reply = c->ok() && c->Send(request, seconds(10)) ? c->Read(seconds(10)) : LoadConnection::Reply{};
          if (reply.status == 200) {
            ++ok;
          } else {
            ++failed;
          }
          if (reply.status == 0 || !reply.keep_alive) c.reset();
        }
      });
    }
    for (auto& t : threads) t.join();
    const double secs = MsSince(started) / 1e3;
    const std::vector<Param> params{{"route", route}};
    report.Add({"rate", ok.load() / secs, "req/s", params});
    report.Add({"failed", static_cast<double>(failed.load()), "requests", params});
  }
  report.Add({"rss_end", RssMib(s.pid()), "MiB", {{"route", "-"}}});
  report.EndSection();
}

}  // namespace

Result<void> HttpBenchConfig::Validate() const {
  auto bad = [](const std::string& why) { return Fail(ErrorCode::kInvalidArgument, why); };
  if (body_mib < 0 || body_mib > 16384) return bad("--body-mib: must be 1..16384");
  if (rss_bound_mib < 1) return bad("--rss-bound-mib: must be positive");
  if (header_clients < 0 || header_clients > 20000) return bad("--header-clients: must be 1..20000");
  if (slow_clients < 1 || slow_clients > 20000) return bad("--slow-clients: must be 1..20000");
  if (header_seconds < 0 || probe_seconds < 0 || requests < 0) return bad("durations and counts must be positive");
  return {};
}

std::string HttpBench::description() const {
  return "hostile HTTP clients against a real chime-scheduler: chunked bodies, endless headers, slowloris";
}

void HttpBench::AddOptions(CLI::App& command) {
  command.add_option("--body-mib", config_.body_mib, "chunked body size (default 1024, --quick 64)");
  command.add_option("--rss-bound-mib", config_.rss_bound_mib, "stop the upload once RSS grew this much")
      ->capture_default_str();
  command.add_option("--header-clients", config_.header_clients, "never-ending header connections (default 1000)");
  command.add_option("--header-seconds", config_.header_seconds, "how long they send (default 10)");
  command.add_option("--slow-clients", config_.slow_clients, "slowloris connections")->capture_default_str();
  command.add_option("--probe-seconds", config_.probe_seconds, "how long probes run among them (default 15)");
  command.add_option("--requests", config_.requests, "throughput requests per route (default 20000)");
}

Result<void> HttpBench::Run(const BenchEnv& env) {
  RaiseDescriptorLimit();
  const bool q = env.quick;
  auto server = StartScheduler(env.conninfo);
  if (!server) return std::unexpected(server.error());
  Report& report = *env.report;
  report.Note("chime-scheduler http on " + server->address);
  MeasureUpload(*server, config_.body_mib > 0 ? config_.body_mib : (q ? 64 : 1024), config_.rss_bound_mib, report);
  if (Interrupt::StopRequested()) return std::unexpected(Interrupt::Interrupted());
  MeasureHeaderFlood(*server, config_.header_clients > 0 ? config_.header_clients : (q ? 100 : 1000),
                     config_.header_seconds > 0 ? config_.header_seconds : (q ? 3 : 10), report);
  if (Interrupt::StopRequested()) return std::unexpected(Interrupt::Interrupted());
  MeasureSlowloris(*server, config_.slow_clients, config_.probe_seconds > 0 ? config_.probe_seconds : (q ? 3 : 15),
                   report);
  if (Interrupt::StopRequested()) return std::unexpected(Interrupt::Interrupted());
  MeasureThroughput(*server, config_.requests > 0 ? config_.requests : (q ? 2000 : 20000), report);
  return {};
}

}  // namespace chime::bench
