// Fuzzes wire::DecodeEnvelope (protobuf parse + ValidateEnvelope) and
// EncodeEnvelope. Input: one frame as a peer would send it.
//
// Properties, for every frame DecodeEnvelope accepts: the message names a
// body and speaks PROTOCOL_V1; EncodeEnvelope's output decodes again, to a
// message equal to the first (MessageDifferencer, and byte-equal under
// deterministic serialization); encoding that again gives as many bytes.
// A rejection is InvalidArgument with a message.
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/message_differencer.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/wire/envelope.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace v1 = chime::v1;

std::string Deterministic(const v1::Envelope& e) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  e.SerializeWithCachedSizes(&coded);
  return out;
}

}  // namespace

// Protobuf logs every invalid UTF-8 string it rejects; the fuzzer makes many.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  auto decoded = chime::wire::DecodeEnvelope(frame);
  if (!decoded) {
    FUZZ_CHECK(decoded.error().code == chime::ErrorCode::kInvalidArgument &&
                   !decoded.error().message.empty(),
               "rejected with code %d and message \"%s\"", static_cast<int>(decoded.error().code),
               decoded.error().message.c_str());
    return 0;
  }
  const v1::Envelope& first = *decoded;
  const std::string_view body = chime::wire::BodyName(first);
  FUZZ_CHECK(body != "empty" && body != "unknown", "accepted an envelope with body %s",
             std::string(body).c_str());
  FUZZ_CHECK(first.protocol() == v1::PROTOCOL_V1, "accepted protocol %d",
             static_cast<int>(first.protocol()));

  const std::string encoded = chime::wire::EncodeEnvelope(first);
  auto second = chime::wire::DecodeEnvelope(encoded);
  FUZZ_CHECK(second.has_value(), "%s: re-encoded envelope is rejected: %s",
             std::string(body).c_str(), second ? "" : second.error().message.c_str());
  std::string diff;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  FUZZ_CHECK(differencer.Compare(first, *second), "%s: decode(encode(m)) != m: %s",
             std::string(body).c_str(), diff.c_str());
  (void)first.ByteSizeLong();
  (void)second->ByteSizeLong();
  FUZZ_CHECK(Deterministic(first) == Deterministic(*second),
             "%s: equal messages serialize differently", std::string(body).c_str());
  // Map entries may come out in any order, so only the length must agree.
  FUZZ_CHECK(chime::wire::EncodeEnvelope(*second).size() == encoded.size(),
             "%s: encoding is not stable", std::string(body).c_str());
  return 0;
}
