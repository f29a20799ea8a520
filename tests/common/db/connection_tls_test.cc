// sslmode=verify-full through common/db/connection against a private server
// whose certificate an openssl-made CA signed for "chime-test.invalid"
// (reached at 127.0.0.1 through hostaddr): the right CA and name connect over
// TLS; a look-alike CA of the same name, or a name the certificate does not
// carry, is refused with an error that says why and holds no password.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "common/db/connection.h"
#include "tests/support/private_pg.h"

namespace chime::db {
namespace {

using chime::testing::PrivateServer;
using chime::testing::Shell;

constexpr const char* kServerName = "chime-test.invalid";
constexpr const char* kPassword = "pw-Sntl-7f3a9c1e0b5d";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class ConnectionTlsTest : public ::testing::Test {
 protected:
  // One server and one set of certificates for the suite.
  static void SetUpTestSuite() {
    char dir[] = "/tmp/chime-tls.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    certs_ = new std::string(dir);
    ASSERT_TRUE(MakeCertificates(*certs_));
    server_ = new PrivateServer();
    ASSERT_TRUE(server_->ok()) << server_->error();
    ASSERT_TRUE(server_->WriteDataFile("chime-server.crt", ReadFile(*certs_ + "/server.crt")));
    ASSERT_TRUE(server_->WriteDataFile("chime-server.key", ReadFile(*certs_ + "/server.key")));
    server_->Scalar("ALTER SYSTEM SET ssl_cert_file = 'chime-server.crt'");
    server_->Scalar("ALTER SYSTEM SET ssl_key_file = 'chime-server.key'");
    server_->Scalar("ALTER SYSTEM SET ssl = on");
    ASSERT_TRUE(server_->Reload([] { return server_->Scalar("SHOW ssl") == "on"; }))
        << "TLS did not come on:\n" << server_->log();
  }

  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    if (certs_ != nullptr) std::filesystem::remove_all(*certs_);
    delete certs_;
    certs_ = nullptr;
  }

  // A CA, a server certificate it signs for kServerName, and a look-alike
  // CA with the same name that signed nothing.
  static bool MakeCertificates(const std::string& dir) {
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    const std::string ca_ext = "-addext basicConstraints=critical,CA:TRUE "
                               "-addext keyUsage=critical,keyCertSign,cRLSign";
    std::ofstream(dir + "/server.ext") << "subjectAltName=DNS:" << kServerName << "\n"
                                       << "basicConstraints=CA:FALSE\n"
                                       << "keyUsage=digitalSignature,keyEncipherment\n"
                                       << "extendedKeyUsage=serverAuth\n";
    const std::string script =
        "set -e; cd '" + dir + "'; "
        "openssl req -x509 " + ec + " -days 2 -subj '/CN=Chime Test CA' " + ca_ext +
        " -keyout ca.key -out ca.crt; "
        "openssl req -x509 " + ec + " -days 2 -subj '/CN=Chime Test CA' " + ca_ext +
        " -keyout other-ca.key -out other-ca.crt; "
        "openssl req " + ec + " -subj '/CN=" + kServerName + "' -keyout server.key -out server.csr; "
        "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
        "-extfile server.ext -out server.crt";
    int status = 0;
    const std::string out = Shell(script, &status);
    EXPECT_EQ(status, 0) << out;
    return status == 0;
  }

  // The server's URL as a client given `host` and `root_ca` sees it, with a
  // password (trust authentication never asks for it; it is there to be
  // kept out of errors).
  static std::string Url(const std::string& host, const std::string& root_ca) {
    return "postgresql://postgres:" + std::string(kPassword) + "@" + host + ":" +
           std::to_string(server_->port()) + "/postgres?hostaddr=127.0.0.1&sslmode=verify-full&sslrootcert=" +
           *certs_ + "/" + root_ca;
  }

  // Connects with `url`, which must be refused; the error's message.
  static std::string Refusal(const std::string& url, const std::string& why) {
    Connection conn(ConnectionConfig{.url = url});
    const auto r = conn.Connect();
    if (r.has_value()) {
      ADD_FAILURE() << "connected although " << why;
      return "";
    }
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable) << r.error().ToString();
    EXPECT_TRUE(r.error().message.starts_with("cannot connect to database: ")) << r.error().message;
    EXPECT_EQ(r.error().message.find(kPassword), std::string::npos) << r.error().message;
    EXPECT_FALSE(conn.connected());
    return r.error().message;
  }

  static inline std::string* certs_ = nullptr;
  static inline PrivateServer* server_ = nullptr;
};

TEST_F(ConnectionTlsTest, VerifyFullWithTheRightCaAndNameConnectsOverTls) {
  Connection conn(ConnectionConfig{.url = Url(kServerName, "ca.crt")});
  ASSERT_TRUE(conn.Connect().has_value());
  std::string ssl, version;
  auto ran = conn.Run([&](pqxx::connection_base& c) {
    pqxx::nontransaction tx(c);
    const auto r = tx.exec("SELECT ssl::text, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    ssl = r[0][0].c_str();
    version = r[0][1].c_str();
  });
  ASSERT_TRUE(ran.has_value()) << ran.error().ToString();
  EXPECT_EQ(ssl, "true");
  EXPECT_TRUE(version.starts_with("TLSv1.")) << version;
}

TEST_F(ConnectionTlsTest, AServerSignedByAnotherCaIsRefused) {
  const std::string why = Refusal(Url(kServerName, "other-ca.crt"), "another CA signed the server's certificate");
  EXPECT_NE(why.find("certificate verify failed"), std::string::npos) << why;
}

TEST_F(ConnectionTlsTest, AServerWhoseCertificateNamesAnotherHostIsRefused) {
  const std::string why = Refusal(Url("wrong-name.invalid", "ca.crt"), "the certificate is for another name");
  EXPECT_NE(why.find("does not match host name \"wrong-name.invalid\""), std::string::npos) << why;
}

TEST_F(ConnectionTlsTest, VerifyFullWithoutARootCertificateIsRefused) {
  const std::string why = Refusal(Url(kServerName, "no-such-ca.crt"), "there is no root certificate");
  EXPECT_NE(why.find("root certificate file"), std::string::npos) << why;
}

}  // namespace
}  // namespace chime::db
