// Raw TCP streams and listeners.
#include "net/tcp.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>

#include "net/detail/transport.h"

namespace llmscale::net {

using detail::ByteBuffer;
using detail::error_code;
using detail::kNoThrow;
using detail::tcp;
using detail::Watchdog;
namespace asio = boost::asio;

namespace {

core::Error io_error(const error_code& ec, const std::string& what, bool timed_out) {
  if (timed_out) return core::Error{core::ErrorCode::kDeadlineExceeded, what + " timeout"};
  if (ec == asio::error::connection_refused) {
    return core::Error{core::ErrorCode::kUnavailable, "connection refused: " + what};
  }
  if (ec == asio::error::operation_aborted) {
    return core::Error{core::ErrorCode::kCancelled, what + ": cancelled"};
  }
  return core::Error{core::ErrorCode::kUnavailable, what + ": " + ec.message()};
}

}  // namespace

struct TcpStream::Impl {
  explicit Impl(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
  ByteBuffer buffer;
  // End of stream was seen. Asio 1.26 does not retry a read speculatively after one that
  // drained the socket, and the edge-triggered end-of-stream event does not repeat, so a
  // second read after EOF would wait forever: remember it instead.
  bool eof = false;
};

TcpStream::TcpStream() = default;
TcpStream::TcpStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TcpStream::~TcpStream() = default;
TcpStream::TcpStream(TcpStream&&) noexcept = default;
TcpStream& TcpStream::operator=(TcpStream&&) noexcept = default;

Awaitable<core::Result<TcpStream>> TcpStream::connect(std::string host, std::uint16_t port,
                                                      core::Duration timeout) {
  auto executor = co_await asio::this_coro::executor;
  std::string where = Endpoint{host, port}.to_string();
  tcp::socket socket(executor);
  Watchdog watchdog(executor, [&socket](int) {
    error_code ignored;
    socket.close(ignored);
  });
  watchdog.arm_for(1, timeout);
  error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (!ec) {
    std::tie(ec) = co_await socket.async_connect(tcp::endpoint(address, port), kNoThrow);
  } else {
    tcp::resolver resolver(executor);
    auto [resolve_ec, results] =
        co_await resolver.async_resolve(host, std::to_string(port), kNoThrow);
    if (resolve_ec) {
      if (watchdog.expired())
        co_return tl::unexpected(io_error(resolve_ec, "connect " + where, true));
      co_return core::make_error(core::ErrorCode::kUnavailable,
                                 "dns: cannot resolve " + host + ": " + resolve_ec.message());
    }
    tcp::endpoint connected;
    std::tie(ec, connected) = co_await asio::async_connect(socket, results, kNoThrow);
  }
  bool timed_out = watchdog.expired() != 0;
  watchdog.disarm();
  if (ec) co_return tl::unexpected(io_error(ec, "connect " + where, timed_out));
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  co_return TcpStream(std::make_unique<Impl>(std::move(socket)));
}

Awaitable<core::Status> TcpStream::write(std::string_view data, core::Duration timeout) {
  if (!impl_) co_return core::make_error(core::ErrorCode::kFailedPrecondition, "not connected");
  auto& socket = impl_->socket;
  Watchdog watchdog(socket.get_executor(), [&socket](int) {
    error_code ignored;
    socket.close(ignored);
  });
  watchdog.arm_for(1, timeout);
  auto [ec, n] =
      co_await asio::async_write(socket, asio::buffer(data.data(), data.size()), kNoThrow);
  bool timed_out = watchdog.expired() != 0;
  watchdog.disarm();
  if (ec) co_return tl::unexpected(io_error(ec, "write", timed_out));
  co_return core::Status{};
}

Awaitable<core::Result<std::string>> TcpStream::read_some(core::Duration timeout, std::size_t max) {
  if (!impl_) co_return core::make_error(core::ErrorCode::kFailedPrecondition, "not connected");
  auto& buffer = impl_->buffer;
  if (!buffer.empty()) {
    std::string out(buffer.data().substr(0, max));
    buffer.consume(out.size());
    co_return out;
  }
  if (impl_->eof) co_return std::string();
  auto& socket = impl_->socket;
  Watchdog watchdog(socket.get_executor(), [&socket](int) {
    error_code ignored;
    socket.cancel(ignored);
  });
  watchdog.arm_for(1, timeout);
  std::string out(max, '\0');
  auto [ec, n] = co_await socket.async_read_some(asio::buffer(out), kNoThrow);
  bool timed_out = watchdog.expired() != 0;
  watchdog.disarm();
  if (ec == asio::error::eof) {
    impl_->eof = true;
    co_return std::string();
  }
  if (ec) co_return tl::unexpected(io_error(ec, "read", timed_out));
  out.resize(n);
  co_return out;
}

Awaitable<core::Result<std::string>> TcpStream::read_until(std::string_view delimiter,
                                                           core::Duration timeout,
                                                           std::size_t max) {
  if (!impl_) co_return core::make_error(core::ErrorCode::kFailedPrecondition, "not connected");
  auto& buffer = impl_->buffer;
  auto& socket = impl_->socket;
  Watchdog watchdog(socket.get_executor(), [&socket](int) {
    error_code ignored;
    socket.cancel(ignored);
  });
  watchdog.arm_for(1, timeout);
  while (true) {
    std::size_t found = buffer.data().find(delimiter);
    if (found != std::string_view::npos) {
      std::string out(buffer.data().substr(0, found + delimiter.size()));
      buffer.consume(out.size());
      co_return out;
    }
    if (buffer.size() >= max) {
      co_return core::make_error(core::ErrorCode::kResourceExhausted, "read_until: no delimiter");
    }
    if (impl_->eof) {
      co_return core::make_error(core::ErrorCode::kUnavailable, "read_until: end of stream");
    }
    auto [ec, n] = co_await socket.async_read_some(buffer.prepare(16 * 1024), kNoThrow);
    buffer.commit(n);
    if (ec == asio::error::eof) {
      impl_->eof = true;
      co_return core::make_error(core::ErrorCode::kUnavailable, "read_until: end of stream");
    }
    if (ec) co_return tl::unexpected(io_error(ec, "read", watchdog.expired() != 0));
  }
}

Awaitable<core::Result<std::string>> TcpStream::read_until_eof(core::Duration timeout,
                                                               std::size_t max) {
  if (!impl_) co_return core::make_error(core::ErrorCode::kFailedPrecondition, "not connected");
  auto& buffer = impl_->buffer;
  auto& socket = impl_->socket;
  Watchdog watchdog(socket.get_executor(), [&socket](int) {
    error_code ignored;
    socket.cancel(ignored);
  });
  watchdog.arm_for(1, timeout);
  while (buffer.size() < max && !impl_->eof) {
    auto [ec, n] = co_await socket.async_read_some(buffer.prepare(16 * 1024), kNoThrow);
    buffer.commit(n);
    if (ec == asio::error::eof || ec == asio::error::connection_reset) {
      impl_->eof = true;
      break;
    }
    if (ec) co_return tl::unexpected(io_error(ec, "read", watchdog.expired() != 0));
  }
  std::string out(buffer.data());
  buffer.consume(out.size());
  co_return out;
}

void TcpStream::set_receive_buffer_size(int bytes) {
  if (!impl_) return;
  error_code ignored;
  impl_->socket.set_option(asio::socket_base::receive_buffer_size(bytes), ignored);
}

void TcpStream::shutdown_write() {
  if (!impl_) return;
  error_code ignored;
  impl_->socket.shutdown(tcp::socket::shutdown_send, ignored);
}

void TcpStream::close() {
  if (!impl_) return;
  error_code ignored;
  impl_->socket.close(ignored);
}

bool TcpStream::is_open() const {
  return impl_ && impl_->socket.is_open();
}

Endpoint TcpStream::local_endpoint() const {
  if (!impl_) return {};
  error_code ec;
  auto endpoint = impl_->socket.local_endpoint(ec);
  if (ec) return {};
  return Endpoint{endpoint.address().to_string(), endpoint.port()};
}

struct TcpListener::Impl {
  explicit Impl(asio::io_context& io) : acceptor(io) {}
  tcp::acceptor acceptor;
};

TcpListener::TcpListener() = default;
TcpListener::~TcpListener() = default;
TcpListener::TcpListener(TcpListener&&) noexcept = default;
TcpListener& TcpListener::operator=(TcpListener&&) noexcept = default;

core::Result<TcpListener> TcpListener::listen(EventLoop& loop, const std::string& address,
                                              std::uint16_t port) {
  error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  if (ec) return core::invalid_argument("tcp: invalid address \"" + address + "\"");
  TcpListener listener;
  listener.impl_ = std::make_unique<Impl>(detail::io_context_of(loop));
  auto& acceptor = listener.impl_->acceptor;
  tcp::endpoint endpoint(ip, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return core::make_error(
        core::ErrorCode::kUnavailable,
        "tcp: listen " + Endpoint{address, port}.to_string() + ": " + ec.message());
  }
  return listener;
}

std::uint16_t TcpListener::port() const {
  if (!impl_) return 0;
  error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

Awaitable<core::Result<TcpStream>> TcpListener::accept() {
  if (!impl_) co_return core::make_error(core::ErrorCode::kFailedPrecondition, "not listening");
  auto executor = co_await asio::this_coro::executor;
  auto [ec, socket] = co_await impl_->acceptor.async_accept(executor, kNoThrow);
  if (ec) co_return tl::unexpected(io_error(ec, "accept", false));
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  co_return TcpStream(std::make_unique<TcpStream::Impl>(std::move(socket)));
}

void TcpListener::close() {
  if (!impl_) return;
  error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace llmscale::net
