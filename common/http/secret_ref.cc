#include "common/http/secret_ref.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

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

// True when `path` (canonical) lies below `dir`, compared component by
// component so /run/secrets-evil is not below /run/secrets.
bool IsBelow(const fs::path& path, const fs::path& dir) {
  std::error_code ec;
  fs::path base = fs::weakly_canonical(dir, ec);
  if (ec || !dir.is_absolute()) return false;
  if (!base.has_filename()) base = base.parent_path();  // "/run/secrets/" has an empty last part.
  auto [dir_end, path_it] = std::mismatch(base.begin(), base.end(), path.begin(), path.end());
  return dir_end == base.end() && path_it != path.end();
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
  std::error_code ec;
  const fs::path path = fs::weakly_canonical(ref.name, ec);
  const bool permitted =
      !ec && std::any_of(policy_.file_dirs.begin(), policy_.file_dirs.end(),
                         [&](const fs::path& dir) { return IsBelow(path, dir); });
  if (!permitted) {
    return std::unexpected(
        RefError(ErrorCode::kFailedPrecondition, ref,
                 "the file is not below a directory the worker's secret policy permits"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::unexpected(
        RefError(ErrorCode::kNotFound, ref, std::string("cannot read: ") + std::strerror(errno)));
  }
  std::string bytes(kMaxFileBytes + 1, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<size_t>(in.gcount()));
  if (in.bad()) return std::unexpected(RefError(ErrorCode::kNotFound, ref, "read failed"));
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
