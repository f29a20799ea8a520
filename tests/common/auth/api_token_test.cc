// Named tokens: the text round-trips, a malformed one is refused without
// being quoted, and what is stored (digest, public key) checks the token
// without being it.
#include "common/auth/api_token.h"

#include <gtest/gtest.h>

#include <set>

namespace chime::auth {
namespace {

TEST(ApiTokenTest, AGeneratedTokenReadsBackWithTheSameVerifiers) {
  auto token = ApiToken::Generate("ci-2026_01.a");
  ASSERT_TRUE(token.has_value()) << token.error().message;
  const std::string text = token->text();
  EXPECT_TRUE(text.starts_with("chime_ci-2026_01.a_"));
  EXPECT_EQ(text.size(), std::string("chime_ci-2026_01.a_").size() + 43);
  auto parsed = ApiToken::Parse(" " + text + "\n");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(parsed->name(), "ci-2026_01.a");
  EXPECT_EQ(parsed->text(), text);
  EXPECT_TRUE(SameDigest(parsed->Verifiers().secret_sha256, token->Verifiers().secret_sha256));
  EXPECT_EQ(parsed->Verifiers().signing_key, token->Verifiers().signing_key);
}

TEST(ApiTokenTest, EveryTokenHasItsOwnSecretAndKeys) {
  std::set<std::string> texts, keys;
  for (int i = 0; i < 50; ++i) {
    auto t = ApiToken::Generate("same").value();
    texts.insert(t.text());
    keys.insert(ToHex(t.Verifiers().signing_key));
  }
  EXPECT_EQ(texts.size(), 50u);
  EXPECT_EQ(keys.size(), 50u);
}

TEST(ApiTokenTest, WhatIsStoredIsNeitherTheSecretNorEachOther) {
  auto t = ApiToken::Generate("ci").value();
  const std::string text = t.text();
  const std::string secret = text.substr(text.size() - 43);
  const TokenVerifiers v = t.Verifiers();
  const std::string digest = ToHex(v.secret_sha256), key = ToHex(v.signing_key);
  EXPECT_NE(digest, key);
  for (const std::string& stored : {digest, key}) {
    EXPECT_EQ(stored.find(secret), std::string::npos);
    EXPECT_EQ(text.find(stored), std::string::npos);
  }
}

TEST(ApiTokenTest, ASignatureVerifiesOnlyWithItsKeyAndMessage) {
  auto a = ApiToken::Generate("a").value();
  auto b = ApiToken::Generate("b").value();
  const std::string sig = a.Sign("message");
  ASSERT_EQ(sig.size(), kTokenSignatureBytes);
  EXPECT_TRUE(VerifySignature(a.Verifiers().signing_key, "message", sig));
  EXPECT_FALSE(VerifySignature(a.Verifiers().signing_key, "messagE", sig));
  EXPECT_FALSE(VerifySignature(b.Verifiers().signing_key, "message", sig));
  EXPECT_FALSE(VerifySignature(a.Verifiers().signing_key, "message", sig.substr(1)));
  std::string flipped = sig;
  flipped[10] ^= 1;
  EXPECT_FALSE(VerifySignature(a.Verifiers().signing_key, "message", flipped));
}

TEST(ApiTokenTest, MalformedTokensAreRefusedWithoutQuotingThem) {
  // A secret without '_' or '-': the parse cuts the secret from the end, so
  // with a secret that starts with '_', "chime_ci_" + secret + "A" is a
  // well-formed token of the name "ci_" (this test failed 8 % of its runs).
  std::string good;
  std::string secret;
  do {
    good = ApiToken::Generate("ci").value().text();
    secret = good.substr(good.size() - 43);
  } while (secret.find_first_of("_-") != std::string::npos);
  for (const std::string& bad : {
           std::string(""), std::string("ci_") + secret, "chime_" + secret, "chime__" + secret,
           "chime_ci_" + secret.substr(1), "chime_ci_" + secret + "A", "chime_c i_" + secret,
           "chime_ci_" + secret.substr(0, 42) + "!", "chime_bootstrap_" + secret,
           "chime_ci_" + std::string(43, '_'),  // Decodes, but not canonically to 32 bytes.
           "Bearer chime_ci_" + secret}) {
    auto r = ApiToken::Parse(bad);
    EXPECT_FALSE(r.has_value()) << bad;
    if (r) continue;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().message.find(secret.substr(0, 10)), std::string::npos) << r.error().message;
  }
}

TEST(ApiTokenTest, NamesAreShortPrintableAndNeverBootstrap) {
  for (const char* good : {"ci", "a", "CI.prod-2026_01", "x123456789x123456789x123456789x123456789x123456789x123456789abcd"}) {
    EXPECT_TRUE(ValidTokenName(good)) << good;
  }
  for (const std::string& bad : {std::string(""), std::string(65, 'a'), std::string("has space"),
                                std::string("colon:x"), std::string("nul\0x", 5), std::string("é"),
                                std::string("new\nline"), std::string("bootstrap")}) {
    EXPECT_FALSE(ValidTokenName(bad)) << bad;
    auto r = CheckTokenName(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  }
}

TEST(ApiTokenTest, HexRoundTripsAndRefusesJunk) {
  const std::array<unsigned char, 3> bytes{0x00, 0xab, 0xff};
  EXPECT_EQ(ToHex(bytes), "00abff");
  std::array<unsigned char, 3> back{};
  ASSERT_TRUE(FromHex("00ABff", back.data(), back.size()));
  EXPECT_EQ(back, bytes);
  EXPECT_FALSE(FromHex("00abf", back.data(), back.size()));
  EXPECT_FALSE(FromHex("00abfg", back.data(), back.size()));
}

}  // namespace
}  // namespace chime::auth
