// Which IP addresses an outbound HTTP request may connect to. The client asks
// the policy about the exact address it is about to connect to (after DNS and
// on every redirect), so a job payload cannot steer a worker into loopback,
// the private network or a cloud metadata service.
//
// Rules: the built-in deny list (loopback, unspecified, private, link-local,
// CGNAT, metadata, multicast, broadcast, reserved and documentation ranges)
// plus the operator's deny entries, opened by the operator's allow entries.
// The longest matching prefix decides, an allow winning a tie; so allowing
// 169.254.0.0/16 still leaves 169.254.169.254/32 denied unless that /32 is
// allowed too. An address matching nothing is allowed. IPv6 addresses that
// embed an IPv4 address (::ffff:a.b.c.d, ::a.b.c.d, 64:ff9b::a.b.c.d) are
// judged as that IPv4 address, because that is where the packets go.
//
// Immutable after construction, so thread-safe.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/error.h"

namespace chime::http {

// An IPv4 or IPv6 address. IPv4 uses the first 4 bytes.
struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};

  // Strict textual forms only ("127.0.0.1", "::1"); not "2130706433" or
  // "0177.0.0.1", which the client's URL parser may still accept and which
  // the policy then sees as the address they really name.
  [[nodiscard]] static Result<IpAddress> Parse(std::string_view text);
  // InvalidArgument for a family other than AF_INET/AF_INET6.
  [[nodiscard]] static Result<IpAddress> FromSockaddr(const sockaddr* address);

  int bit_count() const { return v6 ? 128 : 32; }
  std::string ToString() const;
  bool operator==(const IpAddress&) const = default;
};

// A prefix such as "10.0.0.0/8" or "fe80::/10"; a bare address is a host
// prefix (/32 or /128).
struct Cidr {
  IpAddress base;
  int prefix_bits = 0;

  // InvalidArgument, naming the text, for a bad address, a prefix length out
  // of range, or bits set past the prefix ("10.0.0.1/8").
  [[nodiscard]] static Result<Cidr> Parse(std::string_view text);
  // Parses a list of entries; the first bad one fails the whole list.
  [[nodiscard]] static Result<std::vector<Cidr>> ParseList(const std::vector<std::string>& texts);

  bool Contains(const IpAddress& address) const;
  std::string ToString() const;
};

struct AddressDecision {
  bool allowed = false;
  // Why, for logs and the run's errors: "169.254.169.254 is link-local/metadata:
  // denied by the worker's address policy".
  std::string reason;
};

class AddressPolicy {
 public:
  // The built-in deny list and nothing allowed beyond public addresses.
  AddressPolicy();

  // The built-in deny list plus `deny`, opened by `allow`. InvalidArgument
  // names the list and the bad entry.
  [[nodiscard]] static Result<AddressPolicy> FromLists(const std::vector<std::string>& allow,
                                                       const std::vector<std::string>& deny);

  AddressDecision Check(const IpAddress& address) const;

 private:
  struct Rule {
    Cidr range;
    bool allow;
    std::string label;  // "loopback", "operator's deny list", ...
  };

  std::vector<Rule> rules_;
};

}  // namespace chime::http
