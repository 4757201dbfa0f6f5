// Raw TCP streams and listeners on coroutines: TCP readiness probes (Kubernetes tcpSocket
// probes), and test peers that must misbehave on purpose (a server that never answers or sends
// garbage, a client that sends its header one byte at a time or never reads).
//
// Every read takes a timeout. A TcpStream / TcpListener is used from one coroutine at a time on
// the loop that created it; destroying one closes the socket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/time.h"
#include "net/event_loop.h"
#include "net/http.h"

namespace llmscale::net {

class TcpStream {
 public:
  TcpStream();
  ~TcpStream();
  TcpStream(TcpStream&&) noexcept;
  TcpStream& operator=(TcpStream&&) noexcept;

  // Connects within `timeout`. Errors: kUnavailable ("connection refused", "dns: ..."),
  // kDeadlineExceeded ("connect timeout").
  static Awaitable<core::Result<TcpStream>> connect(std::string host, std::uint16_t port,
                                                    core::Duration timeout);

  // Writes all of `data`; kDeadlineExceeded if the peer does not take it within `timeout`.
  Awaitable<core::Status> write(std::string_view data,
                                core::Duration timeout = std::chrono::seconds(10));
  // What arrives next (up to `max` bytes); "" at end of stream.
  Awaitable<core::Result<std::string>> read_some(core::Duration timeout,
                                                 std::size_t max = 64 * 1024);
  // Everything up to and including `delimiter` (bytes after it are kept for the next read).
  Awaitable<core::Result<std::string>> read_until(std::string_view delimiter,
                                                  core::Duration timeout,
                                                  std::size_t max = 1024 * 1024);
  // Everything until the peer closes (or `max` bytes).
  Awaitable<core::Result<std::string>> read_until_eof(core::Duration timeout,
                                                      std::size_t max = 16 * 1024 * 1024);

  // SO_RCVBUF, before reading (a small window makes a slow reader exert backpressure sooner).
  void set_receive_buffer_size(int bytes);
  // Half-close: the peer reads end of stream; we can still read.
  void shutdown_write();
  void close();
  bool is_open() const;
  Endpoint local_endpoint() const;

 private:
  struct Impl;
  explicit TcpStream(std::unique_ptr<Impl> impl);
  friend class TcpListener;
  std::unique_ptr<Impl> impl_;
};

class TcpListener {
 public:
  TcpListener();
  ~TcpListener();
  TcpListener(TcpListener&&) noexcept;
  TcpListener& operator=(TcpListener&&) noexcept;

  // Binds and listens (port 0: any free port).
  static core::Result<TcpListener> listen(EventLoop& loop, const std::string& address = "127.0.0.1",
                                          std::uint16_t port = 0);
  std::uint16_t port() const;
  // The next connection; kCancelled once closed.
  Awaitable<core::Result<TcpStream>> accept();
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmscale::net
