// Error values for expected failures. Every module boundary returns
// chime::Result<T>; exceptions never cross one.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace chime {

enum class ErrorCode {
  kInvalidArgument,     // The caller's input is malformed; retrying won't help.
  kNotFound,            // No such object.
  kAlreadyExists,       // A unique constraint holds the object already.
  kFailedPrecondition,  // The object is in a state that forbids the operation.
  kLeaseLost,           // The job is no longer running under the caller's lease.
  kUnavailable,         // The database or a peer cannot be reached; retry later.
  kRetryable,           // Serialization failure or deadlock; retry the operation.
  kUnauthenticated,     // Missing or wrong credentials.
  kPermissionDenied,    // Valid credentials whose scope does not cover the operation.
  kInternal,            // A bug or an unexpected server error.
};

// Stable lower-case name of a code, for logs and JSON ("not_found").
std::string_view ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string message;

  std::string ToString() const;
};

template <typename T>
using Result = std::expected<T, Error>;

// Shorthand: return chime::Fail(ErrorCode::kNotFound, "job 7 not found");
inline std::unexpected<Error> Fail(ErrorCode code, std::string message) {
  return std::unexpected<Error>(Error{code, std::move(message)});
}

}  // namespace chime
