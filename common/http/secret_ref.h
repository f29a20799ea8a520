// Secrets named by reference. A job payload says "env:CRON_SECRET" or
// "file:/run/secrets/chime/github"; the worker resolves the reference when the
// job runs, so secret values never sit in the job table, the run ledger or a
// ZeroMQ frame.
//
// Whoever can enqueue a job writes its references, so the resolver only
// reads the variables and the exact files the worker's operator permitted;
// otherwise a payload could post env:CHIME_DATABASE_URL or a service-account
// token file to a URL of its choosing. (Permitting a file used to permit its
// whole directory: a payload read the database URL and the admin secret
// mounted beside the cron secret. Issue 18, finding 3.)
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"

namespace chime::http {

// A secret's bytes. Streams as "***", has no fmt formatter (formatting one
// does not compile) and no implicit conversion: the value leaves only
// through Reveal(), so every use is easy to find.
class Secret {
 public:
  explicit Secret(std::string bytes) : bytes_(std::move(bytes)) {}
  const std::string& Reveal() const { return bytes_; }

  friend std::ostream& operator<<(std::ostream& out, const Secret&) { return out << "***"; }

 private:
  std::string bytes_;
};

// A parsed reference: env:NAME or file:/absolute/path.
struct SecretRef {
  enum class Source { kEnv, kFile };
  Source source = Source::kEnv;
  std::string name;  // The variable name or the absolute path.

  // InvalidArgument, stating the accepted forms, for anything else (a file
  // path with a ".." component included); lets a payload be rejected when it
  // is enqueued rather than when it runs. File paths come back lexically
  // normal ("/run/secrets/./a//b" is "/run/secrets/a/b").
  [[nodiscard]] static Result<SecretRef> Parse(std::string_view text);
  std::string ToString() const;
};

// What a worker may resolve.
struct SecretRefPolicy {
  // Variable names; an entry ending in '*' is a prefix ("CHIME_SECRET_*").
  std::vector<std::string> env_names;
  // Absolute paths of the files that may be read, each exactly: a reference
  // must name one of them (compared lexically normal), never a sibling, a
  // child or the directory.
  std::vector<std::filesystem::path> files;
};

// Resolves references under a policy. Immutable, so thread-safe (as long as
// nothing calls setenv concurrently).
class SecretResolver {
 public:
  static constexpr size_t kMaxFileBytes = 64 * 1024;

  explicit SecretResolver(SecretRefPolicy policy) : policy_(std::move(policy)) {}

  // The secret, with one trailing newline ("\n" or "\r\n") of a file dropped.
  // A permitted file is read through its resolved path (a Kubernetes secret
  // mount's symlinks are followed), opened without following a last symlink
  // swapped in meanwhile, and must be a regular file (a FIFO or device could
  // block or never end). InvalidArgument for a malformed reference, an
  // oversized file or one that is not a regular file; FailedPrecondition for
  // a reference the policy does not permit; NotFound for an unset or empty
  // variable or an unreadable or empty file. Messages name the reference,
  // never the value.
  [[nodiscard]] Result<Secret> Resolve(std::string_view ref) const;
  [[nodiscard]] Result<Secret> Resolve(const SecretRef& ref) const;

 private:
  [[nodiscard]] Result<Secret> ReadEnv(const SecretRef& ref) const;
  [[nodiscard]] Result<Secret> ReadFile(const SecretRef& ref) const;

  SecretRefPolicy policy_;
};

}  // namespace chime::http
