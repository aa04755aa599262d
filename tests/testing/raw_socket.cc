#include "testing/raw_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace wisp::testing {

RawConnection::RawConnection(uint16_t port, int receive_buffer_bytes) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  if (receive_buffer_bytes > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof receive_buffer_bytes);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

namespace {

// Reads what is available within the remaining time. Returns -1 on timeout,
// 0 on orderly close (or reset), else the byte count.
ssize_t ReadSome(int fd, std::string& out, std::chrono::steady_clock::time_point until) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
  if (left.count() <= 0) return -1;
  pollfd p{fd, POLLIN, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
  if (ready <= 0) return -1;
  char buf[16384];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  if (n < 0) return errno == EINTR || errno == EAGAIN ? 1 : 0;  // a reset counts as closed
  out.append(buf, static_cast<size_t>(n));
  return n;
}

}  // namespace

std::string RawConnection::ReadUntilClosed(std::chrono::milliseconds deadline, bool* closed) {
  std::string out;
  const auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    const ssize_t n = ReadSome(fd_, out, until);
    if (n == 0) {
      if (closed) *closed = true;
      return out;
    }
    if (n < 0) {
      if (closed) *closed = false;
      return out;
    }
  }
}

std::string RawConnection::ReadUntil(std::string_view needle, std::chrono::milliseconds deadline) {
  std::string out;
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (out.find(needle) == std::string::npos) {
    if (ReadSome(fd_, out, until) <= 0) break;
  }
  return out;
}

}  // namespace wisp::testing
