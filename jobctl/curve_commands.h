// `jobctl curve-keygen`: makes the CURVE key files the ZeroMQ links read
// (common/net/curve.h). Needs neither the database nor a scheduler.
#pragma once

#include <string>

#include "common/base/error.h"
#include "jobctl/commands.h"

namespace chime::jobctl {

struct CurveKeygenOptions {
  std::string file;  // Where the key pair goes; must not exist yet.
};

// Writes a fresh key pair to FILE (the public key line, then the secret key
// line; created with mode 0600, never over an existing file) and prints the
// public key, the line for the scheduler's allowlist or, for the server's
// own pair, CHIME_CURVE_SERVER_PUBLIC_KEY. InvalidArgument names the file.
[[nodiscard]] Result<void> RunCurveKeygen(LocalContext& ctx, const CurveKeygenOptions& options);

}  // namespace chime::jobctl
