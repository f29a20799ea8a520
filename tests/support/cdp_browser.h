// Headless Chromium driven through the Chrome DevTools Protocol over
// --remote-debugging-pipe: the browser reads commands on its fd 3 and writes
// replies and events on fd 4, each message one JSON text followed by a NUL.
// No websocket, no node: a test opens a page, navigates, evaluates script,
// clicks and types with real input events, and saves screenshots. Calls are
// synchronous (one outstanding command); events are read and dropped. The
// browser is killed and reaped by the destructor. Thread-compatible.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/base/error.h"

namespace chime::testing {

struct BrowserConfig {
  std::string binary;                 // /usr/bin/chromium.
  std::filesystem::path profile_dir;  // A fresh directory; removed by the caller.
  int width = 1440;
  int height = 1000;
};

class CdpBrowser {
 public:
  // Starts the browser and opens one page (a target attached with a flat
  // session) of config.width x height CSS pixels.
  [[nodiscard]] static Result<std::unique_ptr<CdpBrowser>> Start(const BrowserConfig& config);
  ~CdpBrowser();
  CdpBrowser(const CdpBrowser&) = delete;
  CdpBrowser& operator=(const CdpBrowser&) = delete;

  // One command to the page's session (`browser`: to the browser itself);
  // its "result", or the protocol's error as Internal.
  [[nodiscard]] Result<nlohmann::json> Call(const std::string& method, nlohmann::json params = nlohmann::json::object(),
                                            bool browser = false,
                                            std::chrono::milliseconds timeout = std::chrono::seconds(60));

  [[nodiscard]] Result<void> Navigate(const std::string& url);
  // The value of `expression` (awaited when it is a promise); an exception
  // in the page is Internal with its text.
  [[nodiscard]] Result<nlohmann::json> Evaluate(const std::string& expression);
  // Polls `expression` until it is true (WaitUntil); fails after `bound`
  // (a guard for a broken build, not a timing assertion).
  ::testing::AssertionResult WaitFor(const std::string& expression, std::chrono::milliseconds bound = std::chrono::seconds(60));
  // A left click at the middle of the first element `selector` matches,
  // scrolled into view first, as a user's mouse would send it.
  [[nodiscard]] Result<void> Click(const std::string& selector);
  // Focuses `selector` and types `text` into it.
  [[nodiscard]] Result<void> Type(const std::string& selector, const std::string& text);
  // The page as a PNG at `path`: the whole page, or the viewport; `scale`
  // below 1 makes a smaller picture of the same layout.
  [[nodiscard]] Result<void> Screenshot(const std::filesystem::path& path, bool full_page = true, double scale = 1);

  // What the browser wrote to stdout and stderr.
  std::string log() const;

 private:
  CdpBrowser() = default;
  Result<void> Send(const nlohmann::json& message);
  // The next message, or nullopt after `timeout`.
  Result<std::optional<nlohmann::json>> Receive(std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  int to_browser_ = -1;
  int from_browser_ = -1;
  std::string buffer_;  // Bytes read past the last NUL.
  std::string session_;
  int64_t next_id_ = 1;
  std::filesystem::path log_path_;
};

// Base64 (RFC 4648, with padding) to bytes; InvalidArgument on bad input.
[[nodiscard]] Result<std::string> DecodeBase64(std::string_view text);

}  // namespace chime::testing
