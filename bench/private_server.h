// A throwaway PostgreSQL server for one chime-bench run, started and stopped
// through scripts/pg.sh in a fresh temporary directory, always with normal
// durability (CHIME_PG_FAST is cleared). From Start() until Stop() it is the
// Interrupt hard-stop hook, so a second Ctrl-C does not leave it running.
// Thread-compatible (pg.sh serializes concurrent start/stop itself).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/base/error.h"

namespace chime::bench {

// Runs argv[0] with the given arguments, no shell, an empty signal mask and
// stderr inherited; returns its stdout. Internal if it cannot start or exits
// non-zero.
[[nodiscard]] Result<std::string> RunCommand(const std::vector<std::string>& argv);

class PrivateServer {
 public:
  // Runs `<script> start <tmpdir>` and reads the URL it prints. With `keep`,
  // Stop() leaves the cluster and its directory in place.
  [[nodiscard]] static Result<std::unique_ptr<PrivateServer>> Start(const std::string& script,
                                                                    bool keep);
  ~PrivateServer();  // Stop().

  const std::string& url() const { return url_; }
  const std::string& dir() const { return dir_; }

  // Stops the server; without `keep` also destroys the cluster and removes
  // the directory. Idempotent; failures are logged.
  void Stop();

 private:
  PrivateServer(std::string script, std::string dir, bool keep)
      : script_(std::move(script)), dir_(std::move(dir)), keep_(keep) {}

  std::string script_;
  std::string dir_;
  bool keep_;
  std::string url_;
  bool stopped_ = false;
};

}  // namespace chime::bench
