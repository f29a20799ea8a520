#include "common/wire/envelope.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "common/base/name_rule.h"
#include "common/auth/api_token.h"
#include "common/base/utf8.h"

namespace chime::wire {
namespace {

Result<void> Bad(std::string message) {
  return Fail(ErrorCode::kInvalidArgument, std::move(message));
}

std::string OutOfRange(std::string_view field, int64_t value, int64_t lo, int64_t hi) {
  return std::string(field) + ": " + std::to_string(value) + " is out of range " +
         std::to_string(lo) + "-" + std::to_string(hi);
}

Result<void> CheckRange(std::string_view field, int64_t value, int64_t lo, int64_t hi) {
  if (value < lo || value > hi) return Bad(OutOfRange(field, value, lo, hi));
  return {};
}

// Ids, hosts, versions and reasons go into logs and PostgreSQL text (the
// worker directory) as they are: printable only. A NUL would fail every
// publish of a replica; a newline would forge a log line. The message never
// quotes the value.
Result<void> CheckPrintable(std::string_view field, const std::string& text) {
  if (text.find('\0') != std::string::npos) return Bad(std::string(field) + ": contains a NUL byte");
  if (!IsPrintableUtf8(text)) {
    return Bad(std::string(field) + ": must be printable UTF-8 (no control, line-break or bidi characters)");
  }
  return {};
}

Result<void> CheckId(std::string_view field, const std::string& id) {
  if (id.empty() || id.size() > kMaxIdBytes) {
    return Bad(std::string(field) + ": must be 1-" + std::to_string(kMaxIdBytes) + " bytes");
  }
  return CheckPrintable(field, id);
}

Result<void> CheckText(std::string_view field, const std::string& text) {
  if (text.size() > kMaxIdBytes) return Bad(std::string(field) + ": longer than 256 bytes");
  return CheckPrintable(field, text);
}

Result<void> CheckName(std::string_view field, const std::string& name) {
  if (ValidName(name)) return {};
  // Quote a little of it, hex-free: a hostile name must not flood the log.
  std::string shown = name.substr(0, 64);
  for (char& c : shown) {
    if (!std::isprint(static_cast<unsigned char>(c))) c = '?';
  }
  return Bad(std::string(field) + ": '" + shown + "' is not " + std::string(kNameRule));
}

template <typename Names>
Result<void> CheckNames(std::string_view field, const Names& names, int max, bool required) {
  if (required && names.empty()) return Bad(std::string(field) + ": at least one is required");
  if (names.size() > max) {
    return Bad(std::string(field) + ": " + std::to_string(names.size()) + " entries exceed " +
               std::to_string(max));
  }
  for (const auto& n : names) {
    if (auto ok = CheckName(field, n); !ok) return ok;
  }
  return {};
}

template <typename Ids>
Result<void> CheckJobIds(std::string_view field, const Ids& ids) {
  if (ids.size() > kMaxListedJobs) {
    return Bad(std::string(field) + ": " + std::to_string(ids.size()) + " ids exceed " +
               std::to_string(kMaxListedJobs));
  }
  for (int64_t id : ids) {
    if (id <= 0) return Bad(std::string(field) + ": job id " + std::to_string(id) + " is not positive");
  }
  return {};
}

// Chains checks: the first failure wins.
#define CHIME_CHECK(expr)                    \
  do {                                       \
    if (auto ok_ = (expr); !ok_) return ok_; \
  } while (false)

Result<void> ValidateHello(const v1::WorkerHello& m) {
  CHIME_CHECK(CheckId("hello.worker_id", m.worker_id()));
  CHIME_CHECK(CheckNames("hello.queues", m.queues(), kMaxQueues, /*required=*/true));
  CHIME_CHECK(CheckRange("hello.slots", m.slots(), 1, kMaxSlots));
  CHIME_CHECK(CheckRange("hello.free_slots", m.free_slots(), 0, m.slots()));
  CHIME_CHECK(CheckNames("hello.kinds", m.kinds(), kMaxKinds, /*required=*/false));
  CHIME_CHECK(CheckText("hello.host", m.host()));
  CHIME_CHECK(CheckText("hello.version", m.version()));
  return CheckRange("hello.pid", m.pid(), 0, INT32_MAX);
}

Result<void> ValidateResult(const v1::JobResult& m) {
  CHIME_CHECK(CheckId("result.worker_id", m.worker_id()));
  if (m.job_id() <= 0) return Bad("result.job_id: must be positive");
  CHIME_CHECK(CheckRange("result.attempt", m.attempt(), 1, 1000));
  if (!v1::Outcome_IsValid(m.outcome()) || m.outcome() == v1::OUTCOME_UNSPECIFIED) {
    return Bad("result.outcome: " + std::to_string(m.outcome()) + " is not a known outcome");
  }
  CHIME_CHECK(CheckName("result.kind", m.kind()));
  CHIME_CHECK(CheckName("result.queue", m.queue()));
  if (m.duration_ms() < 0) return Bad("result.duration_ms: must not be negative");
  if (m.errors_size() > 1000) return Bad("result.errors: more than 1000 entries");
  return {};
}

Result<void> ValidateResults(const v1::JobResults& m) {
  if (m.results_size() < 1 || m.results_size() > kMaxBatchedResults) {
    return Bad("results: " + std::to_string(m.results_size()) + " results, must be 1-" +
               std::to_string(kMaxBatchedResults));
  }
  for (int i = 0; i < m.results_size(); ++i) {
    if (auto ok = ValidateResult(m.results(i)); !ok) {
      return Bad("results[" + std::to_string(i) + "]: " + ok.error().message);
    }
  }
  return {};
}

Result<void> ValidateSigned(const v1::SignedRequest& m) {
  if (m.timestamp_ms() <= 0) return Bad("admin_request.timestamp_ms: must be positive");
  if (m.nonce().size() != kNonceBytes) return Bad("admin_request.nonce: must be 16 bytes");
  if (m.token_name().empty()) {
    if (m.signature().size() != kSignatureBytes) {
      return Bad("admin_request.signature: must be 32 bytes (the admin secret's HMAC)");
    }
  } else {
    if (!auth::ValidTokenName(m.token_name())) {
      return Bad("admin_request.token_name: not 1-64 characters of A-Z a-z 0-9 _ . -");
    }
    if (m.signature().size() != auth::kTokenSignatureBytes) {
      return Bad("admin_request.signature: must be 64 bytes (a token's Ed25519 signature)");
    }
  }
  if (m.body().empty()) return Bad("admin_request.body: empty");
  return {};
}

}  // namespace

bool ValidName(std::string_view name) { return IsValidName(name); }

std::string_view BodyName(const v1::Envelope& envelope) {
  switch (envelope.body_case()) {
    case v1::Envelope::kHello: return "hello";
    case v1::Envelope::kCapacity: return "capacity";
    case v1::Envelope::kHeartbeat: return "heartbeat";
    case v1::Envelope::kResult: return "result";
    case v1::Envelope::kResults: return "results";
    case v1::Envelope::kGoodbye: return "goodbye";
    case v1::Envelope::kHelloAck: return "hello_ack";
    case v1::Envelope::kDispatch: return "dispatch";
    case v1::Envelope::kReconnect: return "reconnect";
    case v1::Envelope::kAdminRequest: return "admin_request";
    case v1::Envelope::kAdminReply: return "admin_reply";
    case v1::Envelope::kError: return "error";
    case v1::Envelope::BODY_NOT_SET: return "empty";
  }
  return "unknown";
}

Result<void> ValidateEnvelope(const v1::Envelope& e) {
  if (e.protocol() == v1::PROTOCOL_UNSPECIFIED) return Bad("protocol: missing");
  if (e.protocol() < v1::PROTOCOL_UNSPECIFIED) {
    return Bad("protocol: " + std::to_string(e.protocol()) + " is not a protocol version");
  }
  if (e.protocol() > v1::PROTOCOL_V1) {
    return Bad("protocol: " + std::to_string(e.protocol()) + " is newer than this peer's 1");
  }
  switch (e.body_case()) {
    case v1::Envelope::kHello: return ValidateHello(e.hello());
    case v1::Envelope::kCapacity:
      CHIME_CHECK(CheckId("capacity.worker_id", e.capacity().worker_id()));
      return CheckRange("capacity.free_slots", e.capacity().free_slots(), 0, kMaxSlots);
    case v1::Envelope::kHeartbeat:
      CHIME_CHECK(CheckId("heartbeat.worker_id", e.heartbeat().worker_id()));
      CHIME_CHECK(CheckRange("heartbeat.free_slots", e.heartbeat().free_slots(), 0, kMaxSlots));
      return CheckJobIds("heartbeat.running_jobs", e.heartbeat().running_jobs());
    case v1::Envelope::kResult: return ValidateResult(e.result());
    case v1::Envelope::kResults: return ValidateResults(e.results());
    case v1::Envelope::kGoodbye:
      CHIME_CHECK(CheckId("goodbye.worker_id", e.goodbye().worker_id()));
      return CheckText("goodbye.reason", e.goodbye().reason());
    case v1::Envelope::kHelloAck:
      CHIME_CHECK(CheckRange("hello_ack.heartbeat_interval_ms",
                             e.hello_ack().heartbeat_interval_ms(), 1, 3'600'000));
      return CheckRange("hello_ack.forget_after_ms", e.hello_ack().forget_after_ms(), 1,
                        3'600'000);
    case v1::Envelope::kDispatch:
      CHIME_CHECK(CheckNames("dispatch.queues", e.dispatch().queues(), kMaxQueues, false));
      return CheckRange("dispatch.max_jobs", e.dispatch().max_jobs(), 1, kMaxSlots);
    case v1::Envelope::kReconnect: return {};
    case v1::Envelope::kAdminRequest: return ValidateSigned(e.admin_request());
    case v1::Envelope::kAdminReply:
      if (e.admin_reply().reply_case() == v1::AdminReply::REPLY_NOT_SET) {
        return Bad("admin_reply: no reply set");
      }
      return {};
    case v1::Envelope::kError:
      if (!v1::ErrorCode_IsValid(e.error().code()) ||
          e.error().code() == v1::ERROR_CODE_UNSPECIFIED) {
        return Bad("error.code: " + std::to_string(e.error().code()) + " is not a known code");
      }
      return {};
    case v1::Envelope::BODY_NOT_SET: return Bad("body: no message set");
  }
  return Bad("body: unknown message " + std::to_string(e.body_case()));
}

#undef CHIME_CHECK

Result<v1::Envelope> DecodeEnvelope(std::string_view frame, size_t max_bytes) {
  if (frame.size() > max_bytes) {
    return Fail(ErrorCode::kInvalidArgument, "frame: " + std::to_string(frame.size()) +
                                                 " bytes exceeds " + std::to_string(max_bytes));
  }
  if (frame.empty()) return Fail(ErrorCode::kInvalidArgument, "frame: empty");
  v1::Envelope envelope;
  // Proto3 also rejects strings that are not valid UTF-8 here.
  if (!envelope.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
    return Fail(ErrorCode::kInvalidArgument,
                "frame: " + std::to_string(frame.size()) + " bytes are not a chime.v1.Envelope");
  }
  if (auto ok = ValidateEnvelope(envelope); !ok) return std::unexpected(ok.error());
  return envelope;
}

std::string EncodeEnvelope(v1::Envelope envelope) {
  envelope.set_protocol(v1::PROTOCOL_V1);
  return envelope.SerializeAsString();
}

}  // namespace chime::wire
