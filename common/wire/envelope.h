// Turning ZeroMQ frames into validated chime.v1 envelopes and back. Every
// process decodes with DecodeEnvelope, so a garbage, truncated, oversized or
// out-of-range message from any peer becomes one InvalidArgument error value
// (the caller logs it once and drops the peer's message); nothing past this
// point has to re-check ranges.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "chime/v1/chime.pb.h"
#include "common/base/error.h"

namespace chime::wire {

namespace v1 = ::chime::v1;

// The largest frame any Chime socket accepts (ZMQ_MAXMSGSIZE is set to it
// too): a 1 MiB payload or summary plus room for the rest.
inline constexpr size_t kMaxFrameBytes = 4u << 20;

// Bounds shared by the validator and the senders.
inline constexpr int kMaxSlots = 1000;
inline constexpr int kMaxQueues = 64;
inline constexpr int kMaxKinds = 1000;
inline constexpr int kMaxListedJobs = 1000;
inline constexpr int kMaxBatchedResults = 1000;         // JobResults.results
inline constexpr size_t kResultBatchBytes = 1u << 20;   // A JobResults frame's payload, about
inline constexpr size_t kMaxIdBytes = 256;
inline constexpr size_t kNonceBytes = 16;
inline constexpr size_t kSignatureBytes = 32;

// Parses and validates one frame. InvalidArgument names what was wrong
// ("frame: 5000000 bytes exceeds 4194304", "hello.slots: 0 is out of range
// 1-1000", "protocol: 7 is newer than this peer's 1").
[[nodiscard]] Result<v1::Envelope> DecodeEnvelope(std::string_view frame,
                                                  size_t max_bytes = kMaxFrameBytes);

// Serializes with protocol set to PROTOCOL_V1.
[[nodiscard]] std::string EncodeEnvelope(v1::Envelope envelope);

// The range checks DecodeEnvelope applies, for messages built in memory.
[[nodiscard]] Result<void> ValidateEnvelope(const v1::Envelope& envelope);

// Queue and kind names: IsValidName (common/base/name_rule.h).
[[nodiscard]] bool ValidName(std::string_view name);

// The name of the envelope's body ("hello", "dispatch", ...), for logs.
[[nodiscard]] std::string_view BodyName(const v1::Envelope& envelope);

}  // namespace chime::wire
