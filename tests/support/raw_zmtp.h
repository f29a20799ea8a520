// A TCP connection to a ZeroMQ endpoint that speaks ZMTP 3.0 (NULL
// mechanism, as a DEALER) by hand, so a test controls every byte a hostile
// peer sends - frame headers that promise 100 MB, parts that never end -
// and sees when the other side hangs up. Sends and receives give up after
// 10 s. The descriptor is close-on-exec, so processes the test starts do not
// hold the connection open. Thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace chime::testing {

class RawZmtp {
 public:
  // Connects to "tcp://127.0.0.1:PORT" (loopback only).
  explicit RawZmtp(const std::string& endpoint);
  ~RawZmtp();
  RawZmtp(const RawZmtp&) = delete;
  RawZmtp& operator=(const RawZmtp&) = delete;

  bool connected() const { return connected_; }

  // Greeting and READY; then reads the other side's greeting and READY.
  // True when both sides are through; false when the other side refuses
  // (a CURVE server hangs up on a NULL greeting).
  bool Handshake();

  // A long data frame's header: `size` bytes follow, then more parts if
  // `more`. False once the other side has hung up.
  bool SendFrameHeader(uint64_t size, bool more);

  // Sends all of `bytes`; false once the other side has hung up (or has
  // not read for 10 s).
  bool Send(std::string_view bytes);
  // Bytes the kernel took so far.
  uint64_t sent() const { return sent_; }

 private:
  bool Read(size_t n, std::string& out);

  int fd_ = -1;
  bool connected_ = false;
  uint64_t sent_ = 0;
};

}  // namespace chime::testing
