// CURVE with an allowlist: a listed client talks to the server, an unlisted
// one is refused in the handshake and nothing it sends arrives.
#include "common/net/curve.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/support/wait_until.h"

namespace chime::net {
namespace {

using std::chrono::milliseconds;

std::string TempFile(const std::string& name, const std::string& content) {
  auto path = std::filesystem::temp_directory_path() /
              ("chime-curve-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(path) << content;
  return path.string();
}

using chime::testing::WaitUntil;

class CurveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_keys_ = CurveGenerateKeyPair().value();
    allowed_keys_ = CurveGenerateKeyPair().value();
    stranger_keys_ = CurveGenerateKeyPair().value();
    zap_ = std::make_unique<ZapAuthenticator>(context_, std::vector{allowed_keys_.public_key});
    ASSERT_TRUE(zap_->Start().has_value());
    server_.set(zmq::sockopt::linger, 0);
    CurveApplyServer(server_, server_keys_);
    server_.bind("tcp://127.0.0.1:0");
    endpoint_ = server_.get(zmq::sockopt::last_endpoint);
  }
  void TearDown() override { zap_->Stop(); }

  std::unique_ptr<zmq::socket_t> Client(const CurveKeyPair& keys) {
    auto s = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
    s->set(zmq::sockopt::linger, 0);
    CurveApplyClient(*s, CurveClientConfig{server_keys_.public_key, keys});
    s->connect(endpoint_);
    return s;
  }

  std::optional<std::string> ServerReceive(milliseconds wait) {
    zmq::pollitem_t item{server_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, wait) == 0) return std::nullopt;
    zmq::message_t id, body;
    (void)server_.recv(id);
    (void)server_.recv(body);
    return body.to_string();
  }

  zmq::context_t context_;
  CurveKeyPair server_keys_, allowed_keys_, stranger_keys_;
  std::unique_ptr<ZapAuthenticator> zap_;
  zmq::socket_t server_{context_, zmq::socket_type::router};
  std::string endpoint_;
};

TEST_F(CurveTest, AListedClientIsHeard) {
  auto client = Client(allowed_keys_);
  client->send(zmq::str_buffer("hello"));
  EXPECT_EQ(ServerReceive(milliseconds(10'000)), "hello");
  EXPECT_EQ(zap_->refused(), 0);
}

TEST_F(CurveTest, AnUnlistedClientIsRefusedAndNothingItSendsArrives) {
  auto stranger = Client(stranger_keys_);
  stranger->send(zmq::str_buffer("let me in"));
  ASSERT_TRUE(WaitUntil("the ZAP handler to refuse a connection", [&] { return zap_->refused() >= 1; },
                        std::chrono::seconds(10)));
  // The listed client's message is the first and only one to arrive.
  auto friendly = Client(allowed_keys_);
  friendly->send(zmq::str_buffer("hello"));
  EXPECT_EQ(ServerReceive(milliseconds(10'000)), "hello");
  EXPECT_EQ(ServerReceive(milliseconds(0)), std::nullopt);
}

TEST_F(CurveTest, AListedClientWithAWrongServerKeyIsNotHeard) {
  // Its HELLO is boxed for another server: the handshake fails before ZAP.
  auto misled = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
  misled->set(zmq::sockopt::linger, 0);
  CurveApplyClient(*misled, CurveClientConfig{stranger_keys_.public_key, allowed_keys_});
  misled->connect(endpoint_);
  misled->send(zmq::str_buffer("misled"));
  auto friendly = Client(allowed_keys_);
  friendly->send(zmq::str_buffer("hello"));
  EXPECT_EQ(ServerReceive(milliseconds(10'000)), "hello");
  EXPECT_EQ(ServerReceive(milliseconds(0)), std::nullopt);
}

TEST_F(CurveTest, APlainTextClientIsNotHeard) {
  zmq::socket_t plain(context_, zmq::socket_type::dealer);
  plain.set(zmq::sockopt::linger, 0);
  plain.connect(endpoint_);
  plain.send(zmq::str_buffer("plain"));
  auto friendly = Client(allowed_keys_);
  friendly->send(zmq::str_buffer("hello"));
  EXPECT_EQ(ServerReceive(milliseconds(10'000)), "hello");
  EXPECT_EQ(ServerReceive(milliseconds(0)), std::nullopt);
}

TEST(CurveFilesTest, ReadsKeyPairsAndAllowlistsAndNamesBadLines) {
  auto pair = CurveGenerateKeyPair().value();
  auto path = TempFile("pair", "# scheduler\n" + pair.public_key + "\n" + pair.secret_key + "\n");
  auto read = CurveReadKeyPair(path);
  ASSERT_TRUE(read.has_value()) << read.error().ToString();
  EXPECT_EQ(read->public_key, pair.public_key);
  EXPECT_EQ(read->secret_key, pair.secret_key);

  auto bad = TempFile("bad", pair.public_key + "\nnot-a-key\n");
  auto refused = CurveReadKeyPair(bad);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find(":2: not a 40-character Z85"), std::string::npos)
      << refused.error().message;

  auto one = TempFile("one", pair.public_key + "\n");
  ASSERT_FALSE(CurveReadKeyPair(one).has_value());
  EXPECT_EQ(CurveReadKeyPair(one).error().message.find(pair.secret_key), std::string::npos);

  // Halves of two pairs: refused at start rather than failing every handshake.
  auto other = CurveGenerateKeyPair().value();
  auto mixed = TempFile("mixed", pair.public_key + "\n" + other.secret_key + "\n");
  auto mismatch = CurveReadKeyPair(mixed);
  ASSERT_FALSE(mismatch.has_value());
  EXPECT_NE(mismatch.error().message.find("the public key is not the secret key's"), std::string::npos);
  EXPECT_EQ(mismatch.error().message.find(other.secret_key), std::string::npos);
  std::filesystem::remove(mixed);

  auto list = TempFile("list", pair.public_key + "  # worker-1\n\n");
  auto allowed = CurveReadAllowlist(list);
  ASSERT_TRUE(allowed.has_value());
  EXPECT_EQ(*allowed, std::vector{pair.public_key});
  auto empty = TempFile("empty", "# nobody\n");
  EXPECT_FALSE(CurveReadAllowlist(empty).has_value());
  for (const auto& f : {path, bad, one, list, empty}) std::filesystem::remove(f);
}

}  // namespace
}  // namespace chime::net
