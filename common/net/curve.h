// Optional CURVE encryption and client allowlisting for every ZeroMQ link.
// The scheduler holds a server key pair and a list of client public keys;
// workers and jobctl hold their own key pair and the server's public key. A
// peer whose key is not listed is refused during the handshake by a ZAP
// handler, before any message reaches the scheduler.
//
// Keys are Z85 text (40 characters). A key-pair file holds two lines, the
// public key then the secret key; an allowlist file holds one public key per
// line. A line starting with '#' is a comment, as is anything after a key
// and whitespace ('#' itself is a Z85 character). Secret keys never appear in logs or errors.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <zmq.hpp>

#include "common/base/error.h"

namespace chime::net {

struct CurveKeyPair {
  std::string public_key;  // Z85, 40 characters.
  std::string secret_key;  // Z85, 40 characters. Never log.
};

// A fresh key pair from libzmq (libsodium underneath).
[[nodiscard]] Result<CurveKeyPair> CurveGenerateKeyPair();
// Reads a key-pair file; InvalidArgument names the file, never its content,
// also when the public key is not the secret key's.
[[nodiscard]] Result<CurveKeyPair> CurveReadKeyPair(const std::string& path);
// Reads an allowlist file of public keys.
[[nodiscard]] Result<std::vector<std::string>> CurveReadAllowlist(const std::string& path);
[[nodiscard]] bool CurveValidKey(std::string_view z85);

// The scheduler side: what CHIME_CURVE_SERVER_KEYPAIR_FILE and
// CHIME_CURVE_ALLOWED_KEYS_FILE configure. Both set, or neither (CURVE off).
struct CurveServerConfig {
  CurveKeyPair server;
  std::vector<std::string> allowed_client_keys;

  // nullopt when CURVE is off; InvalidArgument when only one variable is set
  // or a file is bad.
  [[nodiscard]] static Result<std::optional<CurveServerConfig>> FromEnvironment();
};

// The client side: CHIME_CURVE_SERVER_PUBLIC_KEY (or
// CHIME_CURVE_SERVER_PUBLIC_KEY_FILE, a file holding it) and
// CHIME_CURVE_CLIENT_KEYPAIR_FILE. Both set, or neither (CURVE off).
struct CurveClientConfig {
  std::string server_public_key;
  CurveKeyPair client;

  [[nodiscard]] static Result<std::optional<CurveClientConfig>> FromEnvironment();
};

// Makes `socket` a CURVE server whose clients are checked by the
// authenticator (ZAP domain "chime"). Call before bind.
void CurveApplyServer(zmq::socket_t& socket, const CurveKeyPair& server);
// Makes `socket` a CURVE client of the server key. Call before connect.
void CurveApplyClient(zmq::socket_t& socket, const CurveClientConfig& config);

// Answers ZAP requests for one ZeroMQ context: a CURVE client whose public
// key is on the allowlist is accepted, everyone else refused (and counted).
// Owns a REP socket on inproc://zeromq.zap.01 and one thread. Start() before
// any CURVE server socket binds; Stop() is idempotent.
class ZapAuthenticator {
 public:
  ZapAuthenticator(zmq::context_t& context, const std::vector<std::string>& allowed_public_keys);
  ~ZapAuthenticator();

  [[nodiscard]] Result<void> Start();
  void Stop();

  int64_t refused() const { return refused_.load(); }

 private:
  void Loop(std::stop_token stop);

  zmq::context_t& context_;
  std::unordered_set<std::string> allowed_;  // Binary (32-byte) public keys.
  std::unique_ptr<zmq::socket_t> socket_;    // Owned by the thread once started.
  std::atomic<int64_t> refused_{0};
  std::jthread thread_;
};

}  // namespace chime::net
