#include "tests/support/raw_zmtp.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

namespace chime::testing {

RawZmtp::RawZmtp(const std::string& endpoint) {
  const int port = std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval wait{.tv_sec = 10, .tv_usec = 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof wait);
  connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

RawZmtp::~RawZmtp() {
  if (fd_ >= 0) close(fd_);
}

bool RawZmtp::Handshake() {
  // Signature (0xFF, 8 bytes of padding, 0x7F), version 3.0, mechanism,
  // as-server 0 and filler: 64 bytes.
  std::string greeting(64, '\0');
  greeting[0] = '\xff';
  greeting[9] = '\x7f';
  greeting[10] = 3;
  greeting.replace(12, 4, "NULL");
  // READY with one property: Socket-Type (4-byte length) = DEALER.
  const std::string type = "DEALER";
  const std::string ready = std::string(1, 5) + "READY" + std::string(1, 11) + "Socket-Type" +
                            std::string(3, '\0') + static_cast<char>(type.size()) + type;
  if (!Send(greeting + '\x04' + static_cast<char>(ready.size()) + ready)) return false;
  std::string theirs;
  if (!Read(64, theirs) || !Read(2, theirs) || theirs[64] != '\x04') return false;
  return Read(static_cast<unsigned char>(theirs[65]), theirs) && theirs.find("READY") != std::string::npos;
}

bool RawZmtp::SendFrameHeader(uint64_t size, bool more) {
  std::string header(1, static_cast<char>(0x02 | (more ? 0x01 : 0)));
  for (int shift = 56; shift >= 0; shift -= 8) header += static_cast<char>((size >> shift) & 0xff);
  return Send(header);
}

bool RawZmtp::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent_ += static_cast<uint64_t>(n);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool RawZmtp::Read(size_t n, std::string& out) {
  while (n > 0) {
    char buf[256];
    const ssize_t got = recv(fd_, buf, std::min(n, sizeof buf), 0);
    if (got <= 0) return false;
    out.append(buf, static_cast<size_t>(got));
    n -= static_cast<size_t>(got);
  }
  return true;
}

}  // namespace chime::testing
