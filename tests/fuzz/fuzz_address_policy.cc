// Fuzzes http::IpAddress::Parse, Cidr::Parse and AddressPolicy. Input: one
// address or range text, all bytes.
//
// Properties:
// - IpAddress::Parse agrees with inet_pton on the same text (a text with a
//   NUL byte is not one inet_pton can see whole, so it must be rejected):
//   accept/reject, family and bytes;
// - an accepted address prints and parses back to itself, and is a host
//   range of itself;
// - an accepted range contains its base, has no bits past the prefix, and
//   prints and parses back to itself;
// - the policy judges an IPv6 address embedding an IPv4 one as that IPv4
//   address; a host range on the operator's allow list is allowed and on the
//   deny list denied (unless it embeds IPv4, judged elsewhere).
#include <arpa/inet.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/http/address_policy.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using chime::fuzz::Escaped;
using chime::http::AddressPolicy;
using chime::http::Cidr;
using chime::http::IpAddress;

// The reference: inet_pton, IPv4 first, on the text as a C string.
std::optional<IpAddress> Reference(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  const std::string s(text);
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  a = IpAddress{};
  a.v6 = true;
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) return a;
  return std::nullopt;
}

// The IPv4 address an IPv6 one embeds (::ffff:a.b.c.d, ::a.b.c.d other than
// :: and ::1, 64:ff9b::a.b.c.d), written independently of the library.
std::optional<IpAddress> Embedded(const IpAddress& a) {
  if (!a.v6) return std::nullopt;
  const auto& b = a.bytes;
  bool zero10 = true;
  for (int i = 0; i < 10; ++i) zero10 = zero10 && b[i] == 0;
  const bool mapped = zero10 && b[10] == 0xff && b[11] == 0xff;
  const bool compat = zero10 && b[10] == 0 && b[11] == 0 &&
                      !(b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] <= 1);
  const std::array<uint8_t, 12> nat64 = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  const bool is_nat64 = std::memcmp(b.data(), nat64.data(), nat64.size()) == 0;
  if (!mapped && !compat && !is_nat64) return std::nullopt;
  IpAddress v4;
  std::memcpy(v4.bytes.data(), b.data() + 12, 4);
  return v4;
}

void CheckAddress(std::string_view text) {
  const std::string shown = Escaped(text);
  const auto got = IpAddress::Parse(text);
  const auto want = Reference(text);
  FUZZ_CHECK(got.has_value() == want.has_value(), "\"%s\": IpAddress::Parse %s, inet_pton %s",
             shown.c_str(), got ? "accepts" : "rejects", want ? "accepts" : "rejects");
  if (!got) return;
  FUZZ_CHECK(*got == *want, "\"%s\": IpAddress::Parse gives %s, inet_pton %s", shown.c_str(),
             got->ToString().c_str(), want->ToString().c_str());

  const auto again = IpAddress::Parse(got->ToString());
  FUZZ_CHECK(again && *again == *got, "\"%s\": %s does not parse back", shown.c_str(),
             got->ToString().c_str());
  const auto host = Cidr::Parse(text);
  FUZZ_CHECK(host && host->base == *got && host->prefix_bits == got->bit_count(),
             "\"%s\": an address but not a host range", shown.c_str());

  static const AddressPolicy policy;
  const auto decision = policy.Check(*got);
  FUZZ_CHECK(!decision.reason.empty(), "\"%s\": a decision without a reason", shown.c_str());
  if (const auto v4 = Embedded(*got)) {
    FUZZ_CHECK(decision.allowed == policy.Check(*v4).allowed,
               "\"%s\": judged unlike the IPv4 address %s it embeds", shown.c_str(),
               v4->ToString().c_str());
  } else {
    const std::vector<std::string> self = {got->ToString()};
    auto allowing = AddressPolicy::FromLists(self, {});
    FUZZ_CHECK(allowing && allowing->Check(*got).allowed, "\"%s\": denied though allowed",
               shown.c_str());
    auto denying = AddressPolicy::FromLists({}, self);
    FUZZ_CHECK(denying && !denying->Check(*got).allowed, "\"%s\": allowed though denied",
               shown.c_str());
  }
}

void CheckRange(std::string_view text) {
  const std::string shown = Escaped(text);
  const auto cidr = Cidr::Parse(text);
  if (!cidr) {
    FUZZ_CHECK(cidr.error().code == chime::ErrorCode::kInvalidArgument,
               "\"%s\": rejected with another code", shown.c_str());
    return;
  }
  FUZZ_CHECK(text.find('\0') == std::string_view::npos, "\"%s\": a range with a NUL byte",
             shown.c_str());
  FUZZ_CHECK(cidr->prefix_bits >= 0 && cidr->prefix_bits <= cidr->base.bit_count(),
             "\"%s\": prefix %d", shown.c_str(), cidr->prefix_bits);
  FUZZ_CHECK(cidr->Contains(cidr->base), "\"%s\": does not contain its base", shown.c_str());
  for (int bit = cidr->prefix_bits; bit < cidr->base.bit_count(); ++bit) {
    FUZZ_CHECK((cidr->base.bytes[bit / 8] & (0x80u >> (bit % 8))) == 0,
               "\"%s\": bit %d set past the prefix", shown.c_str(), bit);
  }
  const auto again = Cidr::Parse(cidr->ToString());
  FUZZ_CHECK(again && again->base == cidr->base && again->prefix_bits == cidr->prefix_bits,
             "\"%s\": %s does not parse back", shown.c_str(), cidr->ToString().c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  CheckAddress(text);
  CheckRange(text);
  return 0;
}
