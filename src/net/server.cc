// HttpServer: binding, the accept loop (with the max_connections answer), graceful and
// immediate stop, statistics. Connections live in server_connection.cc.
#include "net/server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/this_coro.hpp>

#include "core/log.h"
#include "net/detail/server_internal.h"
#include "net/detail/tls_context.h"
#include "net/detail/transport.h"

namespace llmscale::net {

using namespace std::chrono_literals;
using detail::error_code;
using detail::kNoThrow;
using detail::SteadyClock;
using detail::SteadyTime;
using detail::tcp;
namespace asio = boost::asio;

// ---------------------------------------------------------------------------------------------
// Accepting

namespace {

void log_exceptions(const std::exception_ptr& e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    core::log_error(std::string("http server: connection coroutine failed: ") + ex.what());
  } catch (...) {
    core::log_error("http server: connection coroutine failed");
  }
}

// Over max_connections: answer 503 without reading the request, then close.
void reject(tcp::socket& socket, bool tls) {
  error_code ec;
  if (!tls) {
    static constexpr std::string_view kBusy =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Length: 21\r\nConnection: close\r\n\r\ntoo many connections\n";
    socket.non_blocking(true, ec);
    socket.write_some(asio::buffer(kBusy.data(), kBusy.size()), ec);
    socket.shutdown(tcp::socket::shutdown_send, ec);
  }
  socket.close(ec);
}

Awaitable<void> accept_loop(std::shared_ptr<detail::ServerState> s) {
  bool warned = false;
  while (true) {
    auto executor = s->new_executor();
    auto [ec, socket] = co_await s->acceptor->async_accept(executor, kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !s->acceptor->is_open() || s->stopping) {
        co_return;
      }
      // Out of file descriptors and the like: back off instead of spinning.
      if (!warned) {
        core::log_warn("http server: accept failed: " + ec.message());
        warned = true;
      }
      asio::steady_timer pause(co_await asio::this_coro::executor);
      pause.expires_after(50ms);
      co_await pause.async_wait(kNoThrow);
      continue;
    }
    if (s->stopping) {
      error_code ignored;
      socket.close(ignored);
      co_return;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    s->counters.accepted++;
    if (s->active() >= s->options.max_connections) {
      s->counters.rejected++;
      reject(socket, s->tls != nullptr);
      continue;
    }
    detail::start_connection(s, std::move(socket));
  }
}

}  // namespace

void detail::ServerState::close_listener() {
  stopping = true;
  auto self = shared_from_this();
  run_on(acceptor_executor, [self] {
    error_code ec;
    if (self->acceptor) self->acceptor->close(ec);
  });
}

// ---------------------------------------------------------------------------------------------
// HttpServer

HttpServer::HttpServer(EventLoop& loop, ServerOptions options)
    : state_(std::make_shared<detail::ServerState>(loop, std::move(options))) {}

HttpServer::~HttpServer() {
  close();
}

core::Status HttpServer::start(Handler handler) {
  detail::ServerState& s = *state_;
  if (s.started) return core::make_error(core::ErrorCode::kFailedPrecondition, "already started");
  s.handler = std::move(handler);
  if (s.options.tls) {
    auto context = detail::make_server_tls_context(*s.options.tls);
    if (!context) return tl::unexpected(context.error());
    s.tls = std::move(*context);
  }
  error_code ec;
  auto address = asio::ip::make_address(s.options.address, ec);
  if (ec)
    return core::invalid_argument("http server: invalid address \"" + s.options.address + "\"");
  tcp::endpoint endpoint(address, s.options.port);
  std::string where = Endpoint{address.to_string(), s.options.port}.to_string();
  s.acceptor_executor = s.new_executor();
  s.acceptor.emplace(s.acceptor_executor);
  auto fail = [&](std::string_view step) {
    s.acceptor.reset();
    return core::make_error(core::ErrorCode::kUnavailable, "http server: " + std::string(step) +
                                                               " " + where + ": " + ec.message());
  };
  s.acceptor->open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  s.acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
  if (address.is_v6() && address.to_v6().is_unspecified()) {
    s.acceptor->set_option(asio::ip::v6_only(false), ec);  // "::" serves IPv4 too
  }
  s.acceptor->bind(endpoint, ec);
  if (ec) return fail("bind");
  s.acceptor->listen(s.options.listen_backlog, ec);
  if (ec) return fail("listen");
  s.port = s.acceptor->local_endpoint(ec).port();
  s.started = true;
  asio::co_spawn(s.acceptor_executor, accept_loop(state_), log_exceptions);
  return {};
}

std::uint16_t HttpServer::port() const {
  return state_->port;
}

std::string HttpServer::url(std::string_view path) const {
  std::string host = state_->options.address;
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return std::string(state_->tls ? "https://" : "http://") + host + ":" +
         std::to_string(state_->port) + std::string(path);
}

Awaitable<void> HttpServer::stop(core::Duration grace) {
  auto s = state_;  // the connections and this coroutine may outlive *this
  if (!s->started) co_return;
  s->close_listener();
  for (auto& connection : s->snapshot()) {
    s->run_on(connection->executor(), [connection] { connection->begin_close(); });
  }
  asio::steady_timer timer(co_await asio::this_coro::executor);
  auto wait_until = [&](SteadyTime deadline) -> Awaitable<void> {
    // Connections leave the registry from their own strands; poll in short slices.
    while (s->active() > 0 && SteadyClock::now() < deadline) {
      timer.expires_after(std::min<SteadyClock::duration>(deadline - SteadyClock::now(), 5ms));
      co_await timer.async_wait(kNoThrow);
    }
  };
  co_await wait_until(SteadyClock::now() +
                      std::chrono::duration_cast<SteadyClock::duration>(grace));
  if (s->active() > 0) {
    core::log_warn("http server: " + std::to_string(s->active()) +
                   " connection(s) still busy after the grace period; closing them");
    for (auto& connection : s->snapshot()) {
      s->run_on(connection->executor(), [connection] { connection->force_close(); });
    }
    co_await wait_until(SteadyClock::now() + 2s);
  }
}

void HttpServer::close() {
  auto s = state_;
  if (!s->started) return;
  s->close_listener();
  for (auto& connection : s->snapshot()) {
    s->run_on(connection->executor(), [connection] { connection->force_close(); });
  }
}

ServerStats HttpServer::stats() const {
  const detail::ServerCounters& c = state_->counters;
  ServerStats out;
  out.connections_accepted = c.accepted;
  out.connections_rejected = c.rejected;
  out.requests = c.requests;
  out.header_timeouts = c.header_timeouts;
  out.body_timeouts = c.body_timeouts;
  out.idle_timeouts = c.idle_timeouts;
  out.write_timeouts = c.write_timeouts;
  out.bad_requests = c.bad_requests;
  out.too_large = c.too_large;
  out.tls_handshake_failures = c.tls_failures;
  out.handler_errors = c.handler_errors;
  out.active_connections = state_->active();
  return out;
}

}  // namespace llmscale::net
