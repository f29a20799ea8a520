#include "tests/support/cdp_browser.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/support/wait_until.h"

extern char** environ;

namespace chime::testing {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;

// A descriptor at 10 or above, close-on-exec, so that the child's dup2 onto
// 3 and 4 never collides with the pipes' own numbers.
int High(int fd) {
  const int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  ::close(fd);
  return high;
}

std::string Quote(const std::string& text) { return json(text).dump(); }

}  // namespace

Result<std::string> DecodeBase64(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    const int v = value(c);
    if (v < 0) return Fail(ErrorCode::kInvalidArgument, "not base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

Result<std::unique_ptr<CdpBrowser>> CdpBrowser::Start(const BrowserConfig& config) {
  std::unique_ptr<CdpBrowser> b(new CdpBrowser());
  int commands[2], replies[2];
  if (::pipe(commands) != 0 || ::pipe(replies) != 0) {
    return Fail(ErrorCode::kUnavailable, std::string("pipe: ") + std::strerror(errno));
  }
  const int child_in = High(commands[0]), parent_out = High(commands[1]);
  const int parent_in = High(replies[0]), child_out = High(replies[1]);
  b->log_path_ = std::filesystem::temp_directory_path() /
                 ("chime-chromium-" + std::to_string(::getpid()) + "-" + std::to_string(child_in) + ".log");
  std::vector<std::string> args{config.binary,
                                "--headless=new",
                                "--no-sandbox",
                                "--disable-gpu",
                                "--no-first-run",
                                "--no-default-browser-check",
                                "--disable-extensions",
                                "--disable-background-networking",
                                "--disable-dev-shm-usage",
                                "--hide-scrollbars",
                                "--mute-audio",
                                "--force-color-profile=srgb",
                                "--user-data-dir=" + config.profile_dir.string(),
                                "--window-size=" + std::to_string(config.width) + "," + std::to_string(config.height),
                                "--remote-debugging-pipe",
                                "about:blank"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, b->log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_adddup2(&actions, child_in, 3);
  posix_spawn_file_actions_adddup2(&actions, child_out, 4);
  posix_spawn_file_actions_addclosefrom_np(&actions, 5);
  const int rc = ::posix_spawn(&b->pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(child_in);
  ::close(child_out);
  b->to_browser_ = parent_out;
  b->from_browser_ = parent_in;
  if (rc != 0) {
    b->pid_ = -1;
    return Fail(ErrorCode::kUnavailable, "posix_spawn " + config.binary + ": " + std::strerror(rc));
  }
  // SIGPIPE from a browser that died would kill the test instead of failing it.
  ::signal(SIGPIPE, SIG_IGN);

  auto target = b->Call("Target.createTarget", {{"url", "about:blank"}}, /*browser=*/true);
  if (!target) return std::unexpected(target.error());
  auto attached = b->Call("Target.attachToTarget", {{"targetId", (*target)["targetId"]}, {"flatten", true}}, true);
  if (!attached) return std::unexpected(attached.error());
  b->session_ = (*attached)["sessionId"].get<std::string>();
  for (const char* domain : {"Page.enable", "Runtime.enable"}) {
    if (auto ok = b->Call(domain); !ok) return std::unexpected(ok.error());
  }
  auto metrics = b->Call("Emulation.setDeviceMetricsOverride",
                         {{"width", config.width}, {"height", config.height}, {"deviceScaleFactor", 1}, {"mobile", false}});
  if (!metrics) return std::unexpected(metrics.error());
  return b;
}

CdpBrowser::~CdpBrowser() {
  if (to_browser_ >= 0) ::close(to_browser_);
  if (from_browser_ >= 0) ::close(from_browser_);
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  std::error_code ec;
  std::filesystem::remove(log_path_, ec);
}

std::string CdpBrowser::log() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<void> CdpBrowser::Send(const json& message) {
  std::string text = message.dump();
  text.push_back('\0');
  size_t sent = 0;
  while (sent < text.size()) {
    const ssize_t n = ::write(to_browser_, text.data() + sent, text.size() - sent);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Fail(ErrorCode::kUnavailable, std::string("write to the browser: ") + std::strerror(errno));
    sent += static_cast<size_t>(n);
  }
  return {};
}

Result<std::optional<json>> CdpBrowser::Receive(milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (const size_t nul = buffer_.find('\0'); nul != std::string::npos) {
      std::string text = buffer_.substr(0, nul);
      buffer_.erase(0, nul + 1);
      json message = json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (message.is_discarded()) return Fail(ErrorCode::kInternal, "the browser sent a message that is not JSON");
      return std::optional<json>(std::move(message));
    }
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::optional<json>();
    pollfd p{.fd = from_browser_, .events = POLLIN, .revents = 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char chunk[65536];
    const ssize_t n = ::read(from_browser_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Fail(ErrorCode::kUnavailable, "the browser closed its pipe:\n" + log().substr(0, 4000));
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

Result<json> CdpBrowser::Call(const std::string& method, json params, bool browser, milliseconds timeout) {
  const int64_t id = next_id_++;
  json message{{"id", id}, {"method", method}, {"params", std::move(params)}};
  if (!browser) message["sessionId"] = session_;
  if (auto ok = Send(message); !ok) return std::unexpected(ok.error());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Fail(ErrorCode::kUnavailable, method + ": no reply from the browser");
    auto got = Receive(left);
    if (!got) return std::unexpected(got.error());
    if (!*got) continue;
    const json& m = **got;
    if (!m.contains("id") || m["id"] != id) continue;  // An event, or another session's.
    if (m.contains("error")) return Fail(ErrorCode::kInternal, method + ": " + m["error"].dump());
    return m.value("result", json::object());
  }
}

Result<void> CdpBrowser::Navigate(const std::string& url) {
  auto r = Call("Page.navigate", {{"url", url}});
  if (!r) return std::unexpected(r.error());
  if (r->contains("errorText")) return Fail(ErrorCode::kUnavailable, "navigate " + url + ": " + (*r)["errorText"].dump());
  return {};
}

Result<json> CdpBrowser::Evaluate(const std::string& expression) {
  auto r = Call("Runtime.evaluate", {{"expression", expression}, {"awaitPromise", true}, {"returnByValue", true}});
  if (!r) return std::unexpected(r.error());
  if (r->contains("exceptionDetails")) {
    return Fail(ErrorCode::kInternal, "in the page: " + (*r)["exceptionDetails"].dump().substr(0, 2000));
  }
  return (*r)["result"].value("value", json());
}

::testing::AssertionResult CdpBrowser::WaitFor(const std::string& expression, milliseconds bound) {
  return WaitUntil("the page to make `" + expression.substr(0, 300) + "` true", [&] {
    auto v = Evaluate("Boolean(" + expression + ")");
    return v && v->is_boolean() && v->get<bool>();
  }, bound);
}

Result<void> CdpBrowser::Click(const std::string& selector) {
  auto box = Evaluate("(() => { const e = document.querySelector(" + Quote(selector) +
                      "); if (!e) return null; e.scrollIntoView({block: 'center'}); "
                      "const r = e.getBoundingClientRect(); return {x: r.x + r.width / 2, y: r.y + r.height / 2}; })()");
  if (!box) return std::unexpected(box.error());
  if (box->is_null()) return Fail(ErrorCode::kNotFound, "no element matches " + selector);
  for (const char* type : {"mouseMoved", "mousePressed", "mouseReleased"}) {
    json event{{"type", type}, {"x", (*box)["x"]}, {"y", (*box)["y"]}, {"button", "left"}, {"clickCount", 1}};
    if (std::string(type) == "mouseMoved") event["button"] = "none";
    if (auto ok = Call("Input.dispatchMouseEvent", event); !ok) return std::unexpected(ok.error());
  }
  return {};
}

Result<void> CdpBrowser::Type(const std::string& selector, const std::string& text) {
  auto focused = Evaluate("(() => { const e = document.querySelector(" + Quote(selector) +
                          "); if (!e) return false; e.focus(); return document.activeElement === e; })()");
  if (!focused) return std::unexpected(focused.error());
  if (!focused->is_boolean() || !focused->get<bool>()) return Fail(ErrorCode::kNotFound, "cannot focus " + selector);
  auto typed = Call("Input.insertText", {{"text", text}});
  if (!typed) return std::unexpected(typed.error());
  return {};
}

Result<void> CdpBrowser::Screenshot(const std::filesystem::path& path, bool full_page, double scale) {
  json params{{"format", "png"}};
  auto metrics = Call("Page.getLayoutMetrics");
  if (!metrics) return std::unexpected(metrics.error());
  const json& size = full_page ? (*metrics)["cssContentSize"] : (*metrics)["cssLayoutViewport"];
  const json width = full_page ? size["width"] : size["clientWidth"];
  const json height = full_page ? size["height"] : size["clientHeight"];
  params["captureBeyondViewport"] = full_page;
  params["clip"] = {{"x", 0}, {"y", 0}, {"width", width}, {"height", height}, {"scale", scale}};
  auto shot = Call("Page.captureScreenshot", params);
  if (!shot) return std::unexpected(shot.error());
  auto png = DecodeBase64((*shot)["data"].get<std::string>());
  if (!png) return std::unexpected(png.error());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(png->data(), static_cast<std::streamsize>(png->size()));
  if (!out) return Fail(ErrorCode::kUnavailable, "cannot write " + path.string());
  return {};
}

}  // namespace chime::testing
