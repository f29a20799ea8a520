#include "jobctl/exit_code.h"

namespace chime::jobctl {

ExitCode ExitCodeFor(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return kExitUsage;
    case ErrorCode::kNotFound: return kExitNotFound;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kLeaseLost: return kExitPrecondition;
    case ErrorCode::kUnavailable: return kExitUnavailable;
    case ErrorCode::kUnauthenticated: return kExitUnauthenticated;
    case ErrorCode::kPermissionDenied: return kExitPermissionDenied;
    case ErrorCode::kRetryable:
    case ErrorCode::kInternal: return kExitFailure;
  }
  return kExitFailure;
}

}  // namespace chime::jobctl
