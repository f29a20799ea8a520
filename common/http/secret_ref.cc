#include "common/http/secret_ref.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace chime::http {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kForms = "expected env:NAME or file:/absolute/path";

bool ValidEnvName(std::string_view name) {
  auto word = [](char c) { return c == '_' || std::isalnum(static_cast<unsigned char>(c)); };
  return !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0])) &&
         std::all_of(name.begin(), name.end(), word);
}

bool EnvPermitted(const std::vector<std::string>& patterns, std::string_view name) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& pattern) {
    if (pattern.ends_with('*')) return name.starts_with(pattern.substr(0, pattern.size() - 1));
    return name == pattern;
  });
}

Error RefError(ErrorCode code, const SecretRef& ref, std::string_view why) {
  return Error{code, "secret reference " + ref.ToString() + ": " + std::string(why)};
}

void DropTrailingNewline(std::string& s) {
  if (s.ends_with("\r\n")) {
    s.resize(s.size() - 2);
  } else if (s.ends_with('\n')) {
    s.pop_back();
  }
}

}  // namespace

Result<SecretRef> SecretRef::Parse(std::string_view text) {
  auto malformed = [&](std::string_view why) {
    return Fail(ErrorCode::kInvalidArgument,
                "secret reference \"" + std::string(text) + "\": " + std::string(why));
  };
  if (text.starts_with("env:")) {
    const std::string_view name = text.substr(4);
    if (!ValidEnvName(name)) return malformed("not a variable name; " + std::string(kForms));
    return SecretRef{Source::kEnv, std::string(name)};
  }
  if (text.starts_with("file:")) {
    const fs::path path(text.substr(5));
    if (!path.is_absolute()) return malformed("the path must be absolute; " + std::string(kForms));
    for (const fs::path& part : path) {
      if (part == "..") return malformed("the path may not contain \"..\"; name the file itself");
    }
    return SecretRef{Source::kFile, path.lexically_normal().string()};
  }
  return malformed(kForms);
}

std::string SecretRef::ToString() const {
  return (source == Source::kEnv ? "env:" : "file:") + name;
}

Result<Secret> SecretResolver::Resolve(std::string_view ref) const {
  auto parsed = SecretRef::Parse(ref);
  if (!parsed) return std::unexpected(parsed.error());
  return Resolve(*parsed);
}

Result<Secret> SecretResolver::Resolve(const SecretRef& ref) const {
  return ref.source == SecretRef::Source::kEnv ? ReadEnv(ref) : ReadFile(ref);
}

Result<Secret> SecretResolver::ReadEnv(const SecretRef& ref) const {
  if (!EnvPermitted(policy_.env_names, ref.name)) {
    return std::unexpected(RefError(ErrorCode::kFailedPrecondition, ref,
                                    "the worker's secret policy does not permit this variable"));
  }
  const char* value = std::getenv(ref.name.c_str());
  if (value == nullptr || *value == '\0') {
    return std::unexpected(
        RefError(ErrorCode::kNotFound, ref, "not set (or empty) in the worker's environment"));
  }
  return Secret(value);
}

Result<Secret> SecretResolver::ReadFile(const SecretRef& ref) const {
  const fs::path wanted = fs::path(ref.name).lexically_normal();
  const bool permitted = std::any_of(policy_.files.begin(), policy_.files.end(), [&](const fs::path& file) {
    return file.lexically_normal() == wanted;
  });
  if (!permitted) {
    return std::unexpected(RefError(ErrorCode::kFailedPrecondition, ref,
                                    "the worker's secret policy does not permit this file (each file is "
                                    "permitted by its exact path)"));
  }
  std::error_code ec;
  const fs::path resolved = fs::canonical(wanted, ec);
  if (ec) return std::unexpected(RefError(ErrorCode::kNotFound, ref, "cannot read: " + ec.message()));
  // O_NOFOLLOW: the resolved path has no symlink left; one swapped in since
  // is refused. O_NONBLOCK: opening a FIFO must not wait for a writer.
  const int fd = ::open(resolved.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    return std::unexpected(RefError(ErrorCode::kNotFound, ref, std::string("cannot read: ") + std::strerror(errno)));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    return std::unexpected(RefError(ErrorCode::kInvalidArgument, ref, "not a regular file"));
  }
  std::string bytes;
  char buffer[8192];
  while (bytes.size() <= kMaxFileBytes) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::unexpected(RefError(ErrorCode::kNotFound, ref, "read failed"));
    if (n == 0) break;
    bytes.append(buffer, static_cast<size_t>(n));
  }
  if (bytes.size() > kMaxFileBytes) {
    return std::unexpected(RefError(ErrorCode::kInvalidArgument, ref,
                                    "larger than " + std::to_string(kMaxFileBytes) + " bytes"));
  }
  DropTrailingNewline(bytes);
  if (bytes.empty()) {
    return std::unexpected(RefError(ErrorCode::kNotFound, ref, "the file is empty"));
  }
  return Secret(std::move(bytes));
}

}  // namespace chime::http
