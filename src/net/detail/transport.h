// Connection plumbing shared by the server, the client and raw TCP: a socket that may be
// wrapped in TLS (one AsyncStream either way, chosen at run time so the HTTP code is compiled
// once), a lazily re-armed deadline (Watchdog) and a compacting read buffer.
//
// Internal to net (includes Asio). Thread-safety: a Transport and its Watchdog are used from one
// strand (or the single loop thread).
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/time.h"

namespace llmscale::net::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;
using SteadyTime = SteadyClock::time_point;

// Completion token for coroutines that want error codes as values, not exceptions.
inline constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

class Transport {
 public:
  using executor_type = asio::any_io_executor;
  using TlsStream = asio::ssl::stream<tcp::socket>;

  explicit Transport(tcp::socket socket) : plain_(std::move(socket)) {
    // Only synchronous calls (try_write) see this; Asio's async operations manage the
    // descriptor's mode themselves.
    error_code ignored;
    plain_->non_blocking(true, ignored);
  }
  Transport(tcp::socket socket, asio::ssl::context& tls)
      : tls_(std::in_place, std::move(socket), tls) {}

  tcp::socket& socket() { return tls_ ? tls_->next_layer() : *plain_; }
  bool is_tls() const { return tls_.has_value(); }
  TlsStream& tls() { return *tls_; }
  executor_type get_executor() { return socket().get_executor(); }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [this](auto&& handler, const Buffers& b) {
          if (tls_) {
            tls_->async_read_some(b, std::forward<decltype(handler)>(handler));
          } else {
            plain_->async_read_some(b, std::forward<decltype(handler)>(handler));
          }
        },
        token, buffers);
  }

  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(error_code, std::size_t)>(
        [this](auto&& handler, const Buffers& b) {
          if (tls_) {
            tls_->async_write_some(b, std::forward<decltype(handler)>(handler));
          } else {
            plain_->async_write_some(b, std::forward<decltype(handler)>(handler));
          }
        },
        token, buffers);
  }

  // Writes what the kernel takes right now, without waiting (plain TCP only; TLS returns 0).
  // The common case, a response that fits the socket buffer, then needs no asynchronous
  // operation, no timer and no trip through the scheduler. `ec` is would_block when the
  // socket is full.
  template <class Buffers>
  std::size_t try_write(const Buffers& buffers, error_code& ec) {
    ec.clear();
    if (tls_) return 0;
    return plain_->write_some(buffers, ec);
  }

  // Aborts pending operations; the connection stays usable (e.g. to write a 408).
  void cancel() {
    error_code ec;
    socket().cancel(ec);
  }
  // Closes the socket; pending operations complete with operation_aborted.
  void close() {
    error_code ec;
    socket().shutdown(tcp::socket::shutdown_both, ec);
    socket().close(ec);
  }
  bool is_open() { return socket().is_open(); }

 private:
  std::optional<tcp::socket> plain_;
  std::optional<TlsStream> tls_;
};

// One deadline at a time for whichever I/O phase is in progress (handshake, header, body,
// write...). Re-arming with a later deadline costs no timer operation: the wait in flight
// notices the new deadline when it fires and waits again, so a busy keep-alive connection does
// not churn timers. When a deadline passes, on_expire(phase) runs (on the same executor) and
// expired() reports the phase until the next arm().
class Watchdog {
 public:
  using Callback = std::function<void(int phase)>;

  Watchdog(const asio::any_io_executor& executor, Callback on_expire);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void arm(int phase, SteadyTime deadline) {
    State& s = *state_;
    s.phase = phase;
    s.deadline = deadline;
    s.expired = 0;
    if (!s.waiting || deadline < s.wait_until) start_wait(state_);
  }
  void arm_for(int phase, core::Duration timeout) {
    arm(phase, SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(timeout));
  }
  void disarm() {
    state_->deadline = SteadyTime::max();
    state_->phase = 0;
  }
  int expired() const { return state_->expired; }
  int phase() const { return state_->phase; }

 private:
  struct State {
    State(const asio::any_io_executor& executor, Callback callback)
        : timer(executor), on_expire(std::move(callback)) {}
    asio::steady_timer timer;
    Callback on_expire;
    SteadyTime deadline = SteadyTime::max();
    SteadyTime wait_until = SteadyTime::max();
    std::uint64_t generation = 0;
    int phase = 0;
    int expired = 0;
    bool waiting = false;
    bool stopped = false;
  };

  // Out of line (transport.cc) so the timer handler is compiled once for all of net.
  static void start_wait(const std::shared_ptr<State>& state);

  std::shared_ptr<State> state_;
};

// Drops the first `n` bytes of a buffer array (after a partial write).
template <std::size_t N>
void consume_buffers(std::array<asio::const_buffer, N>& buffers, std::size_t n) {
  for (auto& b : buffers) {
    std::size_t take = std::min(n, b.size());
    b += take;
    n -= take;
  }
}

// A contiguous read buffer: bytes are appended at the end and consumed from the front.
class ByteBuffer {
 public:
  std::string_view data() const { return {data_.get() + begin_, end_ - begin_}; }
  std::size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }

  asio::mutable_buffer prepare(std::size_t n) {
    if (capacity_ - end_ < n) make_room(n);
    return asio::mutable_buffer(data_.get() + end_, n);
  }
  void commit(std::size_t n) { end_ += n; }
  void consume(std::size_t n) {
    begin_ += std::min(n, size());
    if (begin_ == end_) begin_ = end_ = 0;
  }

 private:
  void make_room(std::size_t n);

  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace llmscale::net::detail
