// jobctl's process exit codes and how error codes map onto them. Scripts
// depend on these numbers; they are listed in `jobctl --help`. Thread-safe.
#pragma once

#include "common/base/error.h"

namespace chime::jobctl {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,       // Anything else (internal error, retryable conflict, ...).
  kExitUsage = 2,         // Usage error or invalid argument: the input was rejected.
  kExitNotFound = 3,      // No such job.
  kExitPrecondition = 4,  // Failed precondition or conflict (e.g. job already finished).
  kExitUnavailable = 5,   // The database or scheduler cannot be reached; retry later.
  kExitUnauthenticated = 6,  // The scheduler refused the credential (token, admin secret, signature).
  kExitPermissionDenied = 7,  // The credential is valid but its scope does not allow the command.
  kExitPartial = 8,  // enqueue --wait: the job's run ended partial (done, with errors).
  kExitSkipped = 9,  // enqueue --wait: the job's run was skipped (the work declined it).
};

ExitCode ExitCodeFor(ErrorCode code);

// The footer of `jobctl --help`.
inline constexpr const char* kExitCodeHelp =
    "Exit codes: 0 ok; 2 usage error or invalid argument; 3 not found;\n"
    "4 failed precondition or conflict (or --wait: the job failed or was cancelled);\n"
    "5 database or scheduler unavailable; 6 credential refused (token or admin secret);\n"
    "7 the token's scope does not allow the command; 8 --wait: the job's run ended\n"
    "partial; 9 --wait: its run was skipped; 1 anything else.\n"
    "Errors go to stderr as one line: \"jobctl: <message>\".";

}  // namespace chime::jobctl
