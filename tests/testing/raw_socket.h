// A plain TCP connection to a loopback port, for tests that must send bytes
// no well-behaved client would (malformed requests, slow headers, floods).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace wisp::testing {

class RawConnection {
 public:
  // Connects to 127.0.0.1:port; connected() says whether it worked. A
  // `receive_buffer_bytes` above 0 shrinks the socket's receive buffer
  // (SO_RCVBUF), for a client that reads slowly or not at all.
  explicit RawConnection(uint16_t port, int receive_buffer_bytes = 0);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends all of `bytes`; false when the peer has closed.
  bool Send(std::string_view bytes);
  // Reads until the peer closes or `deadline` passes. `closed` tells which.
  std::string ReadUntilClosed(std::chrono::milliseconds deadline, bool* closed = nullptr);
  // Reads until `needle` appears in what was read, the peer closes, or the deadline.
  std::string ReadUntil(std::string_view needle, std::chrono::milliseconds deadline);

 private:
  int fd_ = -1;
};

}  // namespace wisp::testing
