// Secret references: only env:NAME and file:/path, only what the policy
// permits, and no error ever shows a value.
#include "common/http/secret_ref.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace chime::http {
namespace {

namespace fs = std::filesystem;

constexpr const char* kValue = "hunter2-value";

class SecretRefTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "chime-secret-ref-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    fs::create_directory(root_ / "secrets");
    fs::create_directory(root_ / "secrets-evil");
    setenv("CHIME_TEST_HTTP_TOKEN", kValue, 1);
    setenv("CHIME_TEST_HTTP_EMPTY", "", 1);
    setenv("CHIME_TEST_OTHER", kValue, 1);
  }
  void TearDown() override {
    fs::remove_all(root_);
    unsetenv("CHIME_TEST_HTTP_TOKEN");
    unsetenv("CHIME_TEST_HTTP_EMPTY");
    unsetenv("CHIME_TEST_OTHER");
  }

  fs::path Write(const fs::path& relative, const std::string& content) {
    const fs::path path = root_ / relative;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  SecretResolver Resolver() const {
    return SecretResolver(
        {.env_names = {"CHIME_TEST_HTTP_*", "CRON_SECRET"},
         .files = {root_ / "secrets/a", root_ / "secrets/b", root_ / "secrets/c", root_ / "secrets/d",
                   root_ / "secrets/absent", root_ / "secrets/empty", root_ / "secrets/big",
                   root_ / "secrets/link", root_ / "secrets/fifo", root_ / "secrets/integrations_cron"}});
  }

  // Resolving `ref` fails with `code`, names the (normalised) reference and
  // hides kValue.
  void ExpectRefused(const std::string& ref, ErrorCode code) {
    auto secret = Resolver().Resolve(ref);
    ASSERT_FALSE(secret.has_value()) << ref;
    EXPECT_EQ(secret.error().code, code) << secret.error().ToString();
    EXPECT_EQ(secret.error().message.find(kValue), std::string::npos) << secret.error().message;
    const std::string named = SecretRef::Parse(ref)->ToString();
    EXPECT_NE(secret.error().message.find(named), std::string::npos) << secret.error().message;
  }

  fs::path root_;
};

TEST_F(SecretRefTest, ParsesEnvAndFileReferences) {
  const SecretRef env = SecretRef::Parse("env:CRON_SECRET").value();
  EXPECT_EQ(env.source, SecretRef::Source::kEnv);
  EXPECT_EQ(env.name, "CRON_SECRET");
  const SecretRef file = SecretRef::Parse("file:/run/secrets/./chime/token").value();
  EXPECT_EQ(file.source, SecretRef::Source::kFile);
  EXPECT_EQ(file.name, "/run/secrets/chime/token");
  EXPECT_EQ(file.ToString(), "file:/run/secrets/chime/token");
}

TEST_F(SecretRefTest, OtherFormsAreInvalidArgumentStatingTheAcceptedOnes) {
  for (const char* bad : {"CRON_SECRET", "env:", "env:1ABC", "env:A-B", "file:relative/token",
                          "file:", "vault:kv/cron", "ENV:CRON_SECRET", ""}) {
    auto ref = SecretRef::Parse(bad);
    ASSERT_FALSE(ref.has_value()) << bad;
    EXPECT_EQ(ref.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(ref.error().message.find("env:NAME or file:/absolute/path"), std::string::npos)
        << ref.error().message;
  }
}

TEST_F(SecretRefTest, ResolvesAPermittedVariable) {
  auto secret = Resolver().Resolve("env:CHIME_TEST_HTTP_TOKEN");
  ASSERT_TRUE(secret.has_value()) << secret.error().ToString();
  EXPECT_EQ(secret->Reveal(), kValue);
}

TEST_F(SecretRefTest, UnsetOrEmptyVariableIsNotFound) {
  ExpectRefused("env:CRON_SECRET", ErrorCode::kNotFound);
  ExpectRefused("env:CHIME_TEST_HTTP_EMPTY", ErrorCode::kNotFound);
}

TEST_F(SecretRefTest, VariableOutsideThePolicyIsRefusedWithoutItsValue) {
  ExpectRefused("env:CHIME_TEST_OTHER", ErrorCode::kFailedPrecondition);
  ExpectRefused("env:PATH", ErrorCode::kFailedPrecondition);
}

TEST_F(SecretRefTest, ReadsAFileDroppingOneTrailingNewline) {
  const SecretResolver resolver = Resolver();
  EXPECT_EQ(resolver.Resolve("file:" + Write("secrets/a", "s3cret\n").string())->Reveal(),
            "s3cret");
  EXPECT_EQ(resolver.Resolve("file:" + Write("secrets/b", "s3cret\r\n").string())->Reveal(),
            "s3cret");
  EXPECT_EQ(resolver.Resolve("file:" + Write("secrets/c", "s3cret\n\n").string())->Reveal(),
            "s3cret\n");
  EXPECT_EQ(resolver.Resolve("file:" + Write("secrets/d", "s3cret").string())->Reveal(), "s3cret");
}

TEST_F(SecretRefTest, FilesNotPermittedByTheirExactPathAreRefused) {
  const fs::path outside = Write("outside", kValue);
  Write("secrets-evil/token", kValue);
  ExpectRefused("file:" + outside.string(), ErrorCode::kFailedPrecondition);
  ExpectRefused("file:" + (root_ / "secrets-evil/token").string(), ErrorCode::kFailedPrecondition);
  ExpectRefused("file:" + (root_ / "secrets").string(), ErrorCode::kFailedPrecondition);
}

// Issue 18, finding 3: permitting file:/run/secrets/chime/integrations_cron
// permitted every file of /run/secrets/chime/, and a payload read the
// database URL and the admin secret mounted beside it.
TEST_F(SecretRefTest, PermittingAFileDoesNotPermitItsSiblings) {
  Write("secrets/integrations_cron", "cron-value");
  Write("secrets/database_url", kValue);
  Write("secrets/admin_secret", kValue);
  fs::create_directory(root_ / "secrets/sub");
  Write("secrets/sub/token", kValue);
  EXPECT_EQ(Resolver().Resolve("file:" + (root_ / "secrets/integrations_cron").string())->Reveal(), "cron-value");
  ExpectRefused("file:" + (root_ / "secrets/database_url").string(), ErrorCode::kFailedPrecondition);
  ExpectRefused("file:" + (root_ / "secrets/admin_secret").string(), ErrorCode::kFailedPrecondition);
  ExpectRefused("file:" + (root_ / "secrets/sub/token").string(), ErrorCode::kFailedPrecondition);
  ExpectRefused("file:" + (root_ / "secrets/./admin_secret").string(), ErrorCode::kFailedPrecondition);
}

TEST_F(SecretRefTest, DotDotInAFileReferenceIsRefusedAtParse) {
  for (const std::string& ref : std::vector<std::string>{"file:/run/secrets/chime/../chime/integrations_cron", "file:/run/secrets/..",
                                "file:" + (root_ / "secrets/a/../b").string()}) {
    auto parsed = SecretRef::Parse(ref);
    ASSERT_FALSE(parsed.has_value()) << ref;
    EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(parsed.error().message.find(".."), std::string::npos) << parsed.error().message;
  }
}

// A permitted name may be a symlink (a Kubernetes secret mount is one): it
// is followed. A FIFO would block the reading slot: refused, at once.
TEST_F(SecretRefTest, APermittedSymlinkIsFollowedAndANonRegularFileRefused) {
  const fs::path target = Write("outside", "linked-value");
  fs::create_symlink(target, root_ / "secrets" / "link");
  EXPECT_EQ(Resolver().Resolve("file:" + (root_ / "secrets/link").string())->Reveal(), "linked-value");
  ASSERT_EQ(mkfifo((root_ / "secrets/fifo").c_str(), 0600), 0);
  ExpectRefused("file:" + (root_ / "secrets/fifo").string(), ErrorCode::kInvalidArgument);
}

TEST_F(SecretRefTest, MissingOrEmptyFileIsNotFound) {
  ExpectRefused("file:" + (root_ / "secrets/absent").string(), ErrorCode::kNotFound);
  ExpectRefused("file:" + Write("secrets/empty", "\n").string(), ErrorCode::kNotFound);
}

TEST_F(SecretRefTest, OversizedFileIsInvalidArgument) {
  const std::string big(SecretResolver::kMaxFileBytes + 1, 'x');
  ExpectRefused("file:" + Write("secrets/big", big).string(), ErrorCode::kInvalidArgument);
}

TEST_F(SecretRefTest, SecretStreamsAsStars) {
  std::ostringstream out;
  out << Secret(kValue);
  EXPECT_EQ(out.str(), "***");
}

}  // namespace
}  // namespace chime::http
