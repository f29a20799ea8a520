// The endpoint's answer is the run's result: how http_request turns an HTTP
// response into an outcome, errors, counts and a structured summary. Pure
// (no I/O), so every rule is a unit test; thread-safe.
//
// A 2xx answer whose body is JSON (by Content-Type, or because it starts
// with { or [) is read with the seeds' conventions, each field found at the
// top level or under "data" (or where the payload's "response" pointers
// say):
//   "skipped": true                     -> skipped, with "reason" (004's overlap answer)
//   "success": false, or "status" "failed" / "error"
//                                        -> the attempt failed; retried only with
//                                           retryOn "failureBody"
//   a non-empty "errors" array          -> partial; its items (strings, or objects
//                                           with "message") are the run's errors:
//                                           the first 100, each at most 1 KiB
//   "status": "partial"                 -> partial
//   anything else                       -> succeeded
// The parsed body is kept under "response" (at most 64 KiB of JSON; above
// that {"truncated": true, "bytes", "excerpt"}), its counters under
// "counts" (numbers of the top level, "data", and "summary" or
// "data.summary"; or the object the "counts" pointer names). A status the
// payload does not expect fails the attempt, retried as retryOn says, with
// the body's "error"/"message" in the error. A body that is not JSON keeps
// the status-only rule and a 4 KiB text excerpt. Whatever the bytes (invalid
// UTF-8, NUL, 1 MiB of '['), the result is valid UTF-8 that PostgreSQL's
// jsonb accepts.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/payload/http_request_payload.h"

namespace chime::worker::kinds {

inline constexpr size_t kMaxResponseJsonBytes = 64 * 1024;
inline constexpr size_t kMaxResponseErrors = 100;
inline constexpr size_t kMaxErrorBytes = 1024;
inline constexpr size_t kBodyExcerptBytes = 4096;
// Deeper JSON is kept as text: serialising and storing it costs a stack
// frame a level.
inline constexpr int kMaxResponseDepth = 64;

struct ResponseInput {
  int status = 0;
  std::string_view content_type;  // Of the final response; may be empty.
  std::string_view body;          // What was read (credentials already masked).
  uint64_t body_bytes = 0;        // As received.
  bool body_complete = true;      // False: reading stopped at the client's cap.
};

struct ResponseVerdict {
  enum class Kind { kSucceeded, kPartial, kSkipped, kFailed };
  Kind kind = Kind::kSucceeded;
  bool retryable = false;            // kFailed only.
  std::vector<std::string> errors;   // kPartial and kFailed: never empty.
  std::string skip_reason;           // kSkipped only.
  nlohmann::json fields = nlohmann::json::object();  // Added to the run's summary.
};

// `where` names the request in errors ("POST https://app.example.com/api/x").
ResponseVerdict JudgeResponse(const ResponseInput& response, const payload::HttpRequestPayload& request,
                              std::string_view where);

}  // namespace chime::worker::kinds
