// The address policy: every built-in range denied, embedded IPv4 judged as
// IPv4, operator entries opening and closing ranges, bad entries refused.
#include "common/http/address_policy.h"

#include <gtest/gtest.h>

namespace chime::http {
namespace {

AddressDecision Check(const AddressPolicy& policy, std::string_view address) {
  auto ip = IpAddress::Parse(address);
  EXPECT_TRUE(ip.has_value()) << address;
  return policy.Check(ip.value_or(IpAddress{}));
}

struct DeniedCase {
  const char* address;
  const char* label;
};

class DefaultPolicyDeniesTest : public ::testing::TestWithParam<DeniedCase> {};

TEST_P(DefaultPolicyDeniesTest, DeniesTheBuiltInRange) {
  const AddressDecision decision = Check(AddressPolicy(), GetParam().address);
  EXPECT_FALSE(decision.allowed) << decision.reason;
  EXPECT_NE(decision.reason.find(std::string(" is ") + GetParam().label + ": denied"),
            std::string::npos)
      << decision.reason;
}

INSTANTIATE_TEST_SUITE_P(
    EveryRange, DefaultPolicyDeniesTest,
    ::testing::Values(
        DeniedCase{"127.0.0.1", "loopback"}, DeniedCase{"127.255.255.254", "loopback"},
        DeniedCase{"::1", "loopback"}, DeniedCase{"0.0.0.0", "unspecified"},
        DeniedCase{"0.1.2.3", "unspecified"}, DeniedCase{"::", "unspecified"},
        DeniedCase{"10.1.2.3", "private"}, DeniedCase{"172.16.0.1", "private"},
        DeniedCase{"172.31.255.255", "private"}, DeniedCase{"192.168.1.1", "private"},
        DeniedCase{"fc00::1", "private"}, DeniedCase{"fd12:3456::1", "private"},
        DeniedCase{"169.254.1.1", "link-local"}, DeniedCase{"fe80::1", "link-local"},
        DeniedCase{"febf::1", "link-local"},
        DeniedCase{"100.64.0.1", "shared address space (CGNAT)"},
        DeniedCase{"100.127.255.255", "shared address space (CGNAT)"},
        DeniedCase{"169.254.169.254", "link-local/metadata"},
        DeniedCase{"fd00:ec2::254", "private/metadata"},
        DeniedCase{"100.100.100.200", "CGNAT/metadata"}, DeniedCase{"224.0.0.1", "multicast"},
        DeniedCase{"239.255.255.250", "multicast"}, DeniedCase{"ff02::1", "multicast"},
        DeniedCase{"255.255.255.255", "broadcast"}, DeniedCase{"240.0.0.1", "reserved"},
        DeniedCase{"198.18.0.1", "reserved"}, DeniedCase{"192.0.2.1", "documentation"},
        DeniedCase{"2001:db8::1", "documentation"},
        DeniedCase{"2002:7f00:1::1", "an IPv6 tunnel range"},
        // IPv6 forms that reach an IPv4 address are judged as that address.
        DeniedCase{"::ffff:127.0.0.1", "loopback"},
        DeniedCase{"::ffff:169.254.169.254", "link-local/metadata"},
        DeniedCase{"::ffff:10.0.0.1", "private"}, DeniedCase{"::127.0.0.1", "loopback"},
        DeniedCase{"64:ff9b::a00:1", "private"}));

TEST(AddressPolicyTest, AllowsPublicAddresses) {
  const AddressPolicy policy;
  for (const char* address : {"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "169.255.0.1",
                              "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"}) {
    const AddressDecision decision = Check(policy, address);
    EXPECT_TRUE(decision.allowed) << address << ": " << decision.reason;
  }
}

TEST(AddressPolicyTest, ReasonNamesTheAddressAndWhyItIsDenied) {
  EXPECT_EQ(Check(AddressPolicy(), "169.254.169.254").reason,
            "169.254.169.254 is link-local/metadata: denied by the worker's address policy");
  EXPECT_EQ(Check(AddressPolicy(), "::ffff:127.0.0.1").reason,
            "::ffff:127.0.0.1 (IPv4 127.0.0.1) is loopback: denied by the worker's address policy");
}

TEST(AddressPolicyTest, AllowEntryOpensExactlyItsRange) {
  const AddressPolicy policy = AddressPolicy::FromLists({"127.0.0.1/32"}, {}).value();
  EXPECT_TRUE(Check(policy, "127.0.0.1").allowed);
  EXPECT_EQ(Check(policy, "127.0.0.1").reason, "127.0.0.1 is allowed by 127.0.0.1/32");
  EXPECT_TRUE(Check(policy, "::ffff:127.0.0.1").allowed);
  EXPECT_FALSE(Check(policy, "127.0.0.2").allowed);
  EXPECT_FALSE(Check(policy, "::1").allowed);
}

TEST(AddressPolicyTest, BroadAllowLeavesTheMetadataHostDenied) {
  const AddressPolicy link_local = AddressPolicy::FromLists({"169.254.0.0/16"}, {}).value();
  EXPECT_TRUE(Check(link_local, "169.254.1.1").allowed);
  EXPECT_FALSE(Check(link_local, "169.254.169.254").allowed);

  const AddressPolicy metadata = AddressPolicy::FromLists({"169.254.169.254/32"}, {}).value();
  EXPECT_TRUE(Check(metadata, "169.254.169.254").allowed);
}

TEST(AddressPolicyTest, AllowWinsATieWithDeny) {
  const AddressPolicy policy = AddressPolicy::FromLists({"10.0.0.0/8"}, {"10.0.0.0/8"}).value();
  EXPECT_TRUE(Check(policy, "10.9.9.9").allowed);
}

TEST(AddressPolicyTest, DenyEntryClosesAPublicRange) {
  const AddressPolicy policy =
      AddressPolicy::FromLists({}, {"8.8.8.0/24", "2606:4700::/32"}).value();
  const AddressDecision decision = Check(policy, "8.8.8.8");
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.reason,
            "8.8.8.8 is in the denied range 8.8.8.0/24: denied by the worker's address policy");
  EXPECT_FALSE(Check(policy, "2606:4700:4700::1111").allowed);
  EXPECT_TRUE(Check(policy, "8.8.4.4").allowed);
}

TEST(AddressPolicyTest, BadEntriesAreInvalidArgumentNamingTheEntry) {
  for (const char* bad :
       {"10.0.0.0/33", "fe80::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x", "::1/abc",
        "not-an-ip", "2130706433", "127.1", "0177.0.0.1", "", "fe80::1%eth0"}) {
    auto cidr = Cidr::Parse(bad);
    ASSERT_FALSE(cidr.has_value()) << bad;
    EXPECT_EQ(cidr.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(cidr.error().message.find(std::string("\"") + bad + "\""), std::string::npos)
        << cidr.error().message;
  }
}

// Found by fuzz_address_policy: inet_pton stopped at a NUL, so
// "10.0.0.0\0junk" parsed as 10.0.0.0.
TEST(AddressPolicyTest, TextWithANulByteIsNotAnAddress) {
  using namespace std::string_literals;
  auto parsed = IpAddress::Parse("10.0.0.0\0junk"s);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(parsed.error().message.find("NUL"), std::string::npos) << parsed.error().message;
  EXPECT_FALSE(Cidr::Parse("10.0.0.0\0/8"s).has_value());
}

TEST(AddressPolicyTest, HostBitsPastThePrefixSuggestTheNetwork) {
  auto cidr = Cidr::Parse("10.0.0.1/8");
  ASSERT_FALSE(cidr.has_value());
  EXPECT_NE(cidr.error().message.find("did you mean 10.0.0.0/8?"), std::string::npos)
      << cidr.error().message;
}

TEST(AddressPolicyTest, FromListsNamesTheListWithTheBadEntry) {
  auto policy = AddressPolicy::FromLists({"127.0.0.1/32"}, {"192.168.0.0/16", "bogus"});
  ASSERT_FALSE(policy.has_value());
  EXPECT_EQ(policy.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(policy.error().message.rfind("deny list: address range \"bogus\"", 0), 0u)
      << policy.error().message;
}

TEST(AddressPolicyTest, PrefixesThatSplitAByteMatchOnlyTheirBits) {
  const Cidr cidr = Cidr::Parse("172.16.0.0/12").value();
  EXPECT_TRUE(cidr.Contains(IpAddress::Parse("172.31.0.1").value()));
  EXPECT_FALSE(cidr.Contains(IpAddress::Parse("172.32.0.1").value()));
  EXPECT_FALSE(cidr.Contains(IpAddress::Parse("172.15.255.255").value()));
  EXPECT_FALSE(cidr.Contains(IpAddress::Parse("::ffff:172.16.0.1").value()));  // Another family.
  EXPECT_TRUE(Cidr::Parse("0.0.0.0/0").value().Contains(IpAddress::Parse("8.8.8.8").value()));
}

}  // namespace
}  // namespace chime::http
