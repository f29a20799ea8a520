#include "common/net/curve.h"

#include <spdlog/spdlog.h>
#include <zmq.h>

#include <cstdlib>
#include <fstream>

#include "common/base/env_setting.h"

namespace chime::net {
namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr const char* kZapDomain = "chime";

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

Result<std::vector<std::string>> ReadKeyLines(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail(ErrorCode::kInvalidArgument, path + ": cannot read");
  std::vector<std::string> keys;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    // Z85 uses '#' too, so a comment is a line starting with '#' or
    // anything after the key and whitespace.
    line = Trim(line);
    if (line.empty() || line.front() == '#') continue;
    line = line.substr(0, line.find_first_of(" \t"));
    if (!CurveValidKey(line)) {
      return Fail(ErrorCode::kInvalidArgument,
                  path + ":" + std::to_string(number) + ": not a 40-character Z85 CURVE key");
    }
    keys.push_back(line);
  }
  return keys;
}

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : nullptr;
}

}  // namespace

bool CurveValidKey(std::string_view z85) {
  if (z85.size() != 40) return false;
  uint8_t decoded[32];
  const std::string copy(z85);
  return zmq_z85_decode(decoded, copy.c_str()) != nullptr;
}

Result<CurveKeyPair> CurveGenerateKeyPair() {
  char public_key[41] = {};
  char secret_key[41] = {};
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    return Fail(ErrorCode::kInternal, std::string("CURVE key generation failed: ") + zmq_strerror(zmq_errno()));
  }
  return CurveKeyPair{public_key, secret_key};
}

Result<CurveKeyPair> CurveReadKeyPair(const std::string& path) {
  auto keys = ReadKeyLines(path);
  if (!keys) return std::unexpected(keys.error());
  if (keys->size() != 2) {
    return Fail(ErrorCode::kInvalidArgument,
                path + ": a key-pair file holds two keys (public, then secret)");
  }
  // A pair whose halves do not belong together fails every handshake
  // without saying why; say it here, at start (without either key).
  char derived[41] = {};
  if (zmq_curve_public(derived, (*keys)[1].c_str()) != 0 || (*keys)[0] != derived) {
    return Fail(ErrorCode::kInvalidArgument, path + ": the public key is not the secret key's");
  }
  return CurveKeyPair{(*keys)[0], (*keys)[1]};
}

Result<std::vector<std::string>> CurveReadAllowlist(const std::string& path) {
  auto keys = ReadKeyLines(path);
  if (!keys) return std::unexpected(keys.error());
  if (keys->empty()) return Fail(ErrorCode::kInvalidArgument, path + ": no client keys listed");
  return keys;
}

Result<std::optional<CurveServerConfig>> CurveServerConfig::FromEnvironment() {
  const char* pair = Env("CHIME_CURVE_SERVER_KEYPAIR_FILE");
  const char* allowed = Env("CHIME_CURVE_ALLOWED_KEYS_FILE");
  if (pair == nullptr && allowed == nullptr) return std::optional<CurveServerConfig>();
  if (pair == nullptr || allowed == nullptr) {
    return Fail(ErrorCode::kInvalidArgument,
                "curve: set both CHIME_CURVE_SERVER_KEYPAIR_FILE and CHIME_CURVE_ALLOWED_KEYS_FILE, "
                "or neither");
  }
  auto server = CurveReadKeyPair(pair);
  if (!server) return std::unexpected(server.error());
  auto list = CurveReadAllowlist(allowed);
  if (!list) return std::unexpected(list.error());
  return std::optional<CurveServerConfig>(CurveServerConfig{*server, *list});
}

Result<std::optional<CurveClientConfig>> CurveClientConfig::FromEnvironment() {
  // The server's public key as a value or, mounted with the other keys, a
  // file (CHIME_CURVE_SERVER_PUBLIC_KEY_FILE).
  auto server_setting = EnvSetting("CHIME_CURVE_SERVER_PUBLIC_KEY");
  if (!server_setting) return std::unexpected(server_setting.error());
  const std::optional<std::string>& server = *server_setting;
  const char* pair = Env("CHIME_CURVE_CLIENT_KEYPAIR_FILE");
  if (!server && pair == nullptr) return std::optional<CurveClientConfig>();
  if (!server || pair == nullptr) {
    return Fail(ErrorCode::kInvalidArgument,
                "curve: set both CHIME_CURVE_SERVER_PUBLIC_KEY (or _FILE) and CHIME_CURVE_CLIENT_KEYPAIR_FILE, "
                "or neither");
  }
  if (!CurveValidKey(*server)) {
    return Fail(ErrorCode::kInvalidArgument,
                "CHIME_CURVE_SERVER_PUBLIC_KEY: not a 40-character Z85 CURVE key");
  }
  auto client = CurveReadKeyPair(pair);
  if (!client) return std::unexpected(client.error());
  return std::optional<CurveClientConfig>(CurveClientConfig{*server, *client});
}

void CurveApplyServer(zmq::socket_t& socket, const CurveKeyPair& server) {
  socket.set(zmq::sockopt::curve_server, 1);
  socket.set(zmq::sockopt::curve_secretkey, server.secret_key);
  socket.set(zmq::sockopt::zap_domain, kZapDomain);
}

void CurveApplyClient(zmq::socket_t& socket, const CurveClientConfig& config) {
  socket.set(zmq::sockopt::curve_serverkey, config.server_public_key);
  socket.set(zmq::sockopt::curve_publickey, config.client.public_key);
  socket.set(zmq::sockopt::curve_secretkey, config.client.secret_key);
}

ZapAuthenticator::ZapAuthenticator(zmq::context_t& context,
                                   const std::vector<std::string>& allowed_public_keys)
    : context_(context) {
  for (const auto& z85 : allowed_public_keys) {
    std::string binary(32, '\0');
    if (zmq_z85_decode(reinterpret_cast<uint8_t*>(binary.data()), z85.c_str()) != nullptr) {
      allowed_.insert(binary);
    }
  }
}

ZapAuthenticator::~ZapAuthenticator() { Stop(); }

Result<void> ZapAuthenticator::Start() {
  if (thread_.joinable()) return {};
  try {
    socket_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::rep);
    socket_->set(zmq::sockopt::linger, 0);
    socket_->bind(kZapEndpoint);
  } catch (const zmq::error_t& e) {
    socket_.reset();
    return Fail(ErrorCode::kInternal, std::string("ZAP handler: ") + e.what());
  }
  thread_ = std::jthread([this](std::stop_token stop) { Loop(stop); });
  return {};
}

void ZapAuthenticator::Stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
  socket_.reset();
}

void ZapAuthenticator::Loop(std::stop_token stop) {
  while (!stop.stop_requested()) {
    zmq::pollitem_t item{socket_->handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) == 0) continue;
    // ZAP request (RFC 27): version, request id, domain, address, identity,
    // mechanism, then credentials (for CURVE: the client's 32-byte key).
    std::vector<zmq::message_t> frames;
    while (true) {
      zmq::message_t frame;
      if (!socket_->recv(frame, zmq::recv_flags::dontwait)) break;
      const bool more = frame.more();
      if (frames.size() < 8) frames.push_back(std::move(frame));
      if (!more) break;
    }
    std::string request_id = frames.size() > 1 ? frames[1].to_string() : "";
    bool ok = frames.size() >= 7 && frames[0].to_string_view() == "1.0" &&
              frames[5].to_string_view() == "CURVE" && allowed_.contains(frames[6].to_string());
    if (!ok) {
      // Logged at 1, 2, 4, 8, ... refusals: a flood of bad handshakes
      // cannot flood the log.
      const int64_t n = ++refused_;
      if ((n & (n - 1)) == 0) {
        spdlog::warn("refused a CURVE client whose key is not on the allowlist ({} so far)", n);
      }
    }
    const std::string status = ok ? "200" : "400";
    const std::string text = ok ? "OK" : "client key not allowed";
    socket_->send(zmq::str_buffer("1.0"), zmq::send_flags::sndmore);
    socket_->send(zmq::buffer(request_id), zmq::send_flags::sndmore);
    socket_->send(zmq::buffer(status), zmq::send_flags::sndmore);
    socket_->send(zmq::buffer(text), zmq::send_flags::sndmore);
    socket_->send(zmq::str_buffer(""), zmq::send_flags::sndmore);  // User id.
    socket_->send(zmq::str_buffer(""), zmq::send_flags::none);     // Metadata.
  }
}

}  // namespace chime::net
