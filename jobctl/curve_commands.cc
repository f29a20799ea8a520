#include "jobctl/curve_commands.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/net/curve.h"

namespace chime::jobctl {

Result<void> RunCurveKeygen(LocalContext& ctx, const CurveKeygenOptions& o) {
  if (o.file.empty()) return Fail(ErrorCode::kInvalidArgument, "FILE: empty");
  auto keys = net::CurveGenerateKeyPair();
  if (!keys) return std::unexpected(keys.error());
  // O_EXCL: an existing key file is never replaced (its peers would be
  // locked out); 0600: the secret key is for this file's owner alone.
  const int fd = ::open(o.file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    return Fail(ErrorCode::kInvalidArgument,
                o.file + ": " + (err == EEXIST ? "exists; a key file is never overwritten" : std::strerror(err)));
  }
  const std::string text = "# CURVE key pair (jobctl curve-keygen): public key, then secret key\n" +
                           keys->public_key + "\n" + keys->secret_key + "\n";
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  const bool synced = written == text.size() && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!synced) {
    ::unlink(o.file.c_str());  // No half-written key file is left behind.
    return Fail(ErrorCode::kInvalidArgument, o.file + ": writing failed: " + std::strerror(err));
  }
  ctx.out << keys->public_key << "\n";
  return {};
}

}  // namespace chime::jobctl
