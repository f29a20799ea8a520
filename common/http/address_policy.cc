#include "common/http/address_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <optional>

namespace chime::http {
namespace {

struct DefaultRange {
  const char* cidr;
  const char* label;
};

// IANA special-purpose registries (RFC 6890 and successors), plus the cloud
// metadata endpoints as their own /32 and /128 so a broader allow entry does
// not open them.
constexpr DefaultRange kDefaultDeny[] = {
    {"0.0.0.0/8", "unspecified"},
    {"10.0.0.0/8", "private"},
    {"100.64.0.0/10", "shared address space (CGNAT)"},
    {"100.100.100.200/32", "CGNAT/metadata"},
    {"127.0.0.0/8", "loopback"},
    {"169.254.0.0/16", "link-local"},
    {"169.254.169.254/32", "link-local/metadata"},
    {"172.16.0.0/12", "private"},
    {"192.0.0.0/24", "reserved"},
    {"192.0.2.0/24", "documentation"},
    {"192.88.99.0/24", "reserved"},
    {"192.168.0.0/16", "private"},
    {"198.18.0.0/15", "reserved"},
    {"198.51.100.0/24", "documentation"},
    {"203.0.113.0/24", "documentation"},
    {"224.0.0.0/4", "multicast"},
    {"240.0.0.0/4", "reserved"},
    {"255.255.255.255/32", "broadcast"},
    {"::/128", "unspecified"},
    {"::1/128", "loopback"},
    {"64:ff9b:1::/48", "reserved"},
    {"100::/64", "reserved"},
    {"2001::/32", "an IPv6 tunnel range"},
    {"2001:db8::/32", "documentation"},
    {"2002::/16", "an IPv6 tunnel range"},
    {"fc00::/7", "private"},
    {"fd00:ec2::254/128", "private/metadata"},
    {"fe80::/10", "link-local"},
    {"fec0::/10", "private"},
    {"ff00::/8", "multicast"},
};

bool HasPrefix(const IpAddress& a, std::initializer_list<uint8_t> prefix) {
  return std::equal(prefix.begin(), prefix.end(), a.bytes.begin());
}

// The IPv4 address that packets to `a` reach, for the IPv6 forms that embed
// one: IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96 other than :: and
// ::1) and NAT64 (64:ff9b::/96).
std::optional<IpAddress> EmbeddedIpv4(const IpAddress& a) {
  if (!a.v6) return std::nullopt;
  const bool mapped = HasPrefix(a, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff});
  const bool nat64 = HasPrefix(a, {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0});
  const bool low = HasPrefix(a, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  const bool compat = HasPrefix(a, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) &&
                      !(low && a.bytes[15] <= 1);  // :: and ::1 are IPv6's own.
  if (!mapped && !nat64 && !compat) return std::nullopt;
  IpAddress v4;
  std::copy_n(a.bytes.begin() + 12, 4, v4.bytes.begin());
  return v4;
}

Error BadEntry(std::string_view text, std::string_view why) {
  return Error{ErrorCode::kInvalidArgument,
               "address range \"" + std::string(text) + "\": " + std::string(why)};
}

}  // namespace

Result<IpAddress> IpAddress::Parse(std::string_view text) {
  // inet_pton reads a C string: a NUL would hide what follows it.
  const std::string s(text.substr(0, text.find('\0')));
  IpAddress a;
  if (s.size() != text.size()) {
    return Fail(ErrorCode::kInvalidArgument, "\"" + s + "...\" contains a NUL byte");
  }
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  a.v6 = true;
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) return a;
  return Fail(ErrorCode::kInvalidArgument,
              "\"" + s + "\" is not an IPv4 or IPv6 address in standard notation");
}

Result<IpAddress> IpAddress::FromSockaddr(const sockaddr* address) {
  IpAddress a;
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    std::memcpy(a.bytes.data(), &in->sin_addr, 4);
    return a;
  }
  if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    a.v6 = true;
    std::memcpy(a.bytes.data(), &in6->sin6_addr, 16);
    return a;
  }
  return Fail(ErrorCode::kInvalidArgument,
              "address family " + std::to_string(address->sa_family) + " is not IPv4 or IPv6");
}

std::string IpAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof text);
  return text;
}

Result<Cidr> Cidr::Parse(std::string_view text) {
  const size_t slash = text.find('/');
  auto base = IpAddress::Parse(text.substr(0, slash));
  if (!base) return std::unexpected(BadEntry(text, base.error().message));
  Cidr cidr{*base, base->bit_count()};
  if (slash != std::string_view::npos) {
    const std::string_view bits = text.substr(slash + 1);
    const auto [end, ec] =
        std::from_chars(bits.data(), bits.data() + bits.size(), cidr.prefix_bits);
    if (bits.empty() || ec != std::errc() || end != bits.data() + bits.size() ||
        cidr.prefix_bits < 0 || cidr.prefix_bits > base->bit_count()) {
      return std::unexpected(BadEntry(
          text, "prefix length must be a number from 0 to " + std::to_string(base->bit_count())));
    }
  }
  Cidr network = cidr;
  for (int bit = cidr.prefix_bits; bit < base->bit_count(); ++bit) {
    network.base.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  }
  if (network.base != cidr.base) {
    // A typo such as 10.0.0.1/8 more likely means a host than a network.
    return std::unexpected(
        BadEntry(text, "bits are set past the prefix (did you mean " + network.ToString() + "?)"));
  }
  return cidr;
}

Result<std::vector<Cidr>> Cidr::ParseList(const std::vector<std::string>& texts) {
  std::vector<Cidr> out;
  for (const std::string& text : texts) {
    auto cidr = Parse(text);
    if (!cidr) return std::unexpected(cidr.error());
    out.push_back(*cidr);
  }
  return out;
}

bool Cidr::Contains(const IpAddress& address) const {
  if (address.v6 != base.v6) return false;
  const int whole = prefix_bits / 8;
  if (!std::equal(base.bytes.begin(), base.bytes.begin() + whole, address.bytes.begin())) {
    return false;
  }
  const int rest = prefix_bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xffu << (8 - rest));
  return (base.bytes[whole] & mask) == (address.bytes[whole] & mask);
}

std::string Cidr::ToString() const { return base.ToString() + "/" + std::to_string(prefix_bits); }

AddressPolicy::AddressPolicy() {
  for (const DefaultRange& range : kDefaultDeny) {
    auto cidr = Cidr::Parse(range.cidr);
    if (!cidr) std::abort();  // The table above is wrong: a bug, caught by any test.
    rules_.push_back({*cidr, false, range.label});
  }
}

Result<AddressPolicy> AddressPolicy::FromLists(const std::vector<std::string>& allow,
                                               const std::vector<std::string>& deny) {
  AddressPolicy policy;
  auto add = [&](const std::vector<std::string>& texts, bool is_allow) -> Result<void> {
    auto cidrs = Cidr::ParseList(texts);
    if (!cidrs) {
      return Fail(ErrorCode::kInvalidArgument,
                  std::string(is_allow ? "allow" : "deny") + " list: " + cidrs.error().message);
    }
    for (const Cidr& cidr : *cidrs) {
      policy.rules_.push_back(
          {cidr, is_allow,
           std::string(is_allow ? "allowed by " : "in the denied range ") + cidr.ToString()});
    }
    return {};
  };
  if (auto r = add(allow, true); !r) return std::unexpected(r.error());
  if (auto r = add(deny, false); !r) return std::unexpected(r.error());
  return policy;
}

AddressDecision AddressPolicy::Check(const IpAddress& address) const {
  const std::optional<IpAddress> embedded = EmbeddedIpv4(address);
  const IpAddress& judged = embedded ? *embedded : address;
  const Rule* best = nullptr;
  for (const Rule& rule : rules_) {
    if (!rule.range.Contains(judged)) continue;
    const bool longer = best == nullptr || rule.range.prefix_bits > best->range.prefix_bits;
    const bool allow_wins_tie =
        best != nullptr && rule.range.prefix_bits == best->range.prefix_bits && rule.allow;
    if (longer || allow_wins_tie) best = &rule;
  }
  std::string name = address.ToString();
  if (embedded) name += " (IPv4 " + judged.ToString() + ")";
  if (best == nullptr) return {true, name + " is a public address"};
  if (best->allow) return {true, name + " is " + best->label};
  return {false, name + " is " + best->label + ": denied by the worker's address policy"};
}

}  // namespace chime::http
