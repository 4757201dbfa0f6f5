// The client's connection pool: reuse, the per-host cap and its waiters, opening connections
// (DNS, TCP, TLS handshake) with the connect timeout and error classification.
#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "net/detail/client_internal.h"

namespace llmscale::net {

using detail::Acquired;
using detail::ClientShared;
using detail::error_code;
using detail::Exchange;
using detail::kConnect;
using detail::kHandshake;
using detail::kNoThrow;
using detail::kTotal;
using detail::PooledConnection;
using detail::steady;
using detail::SteadyClock;
using detail::SteadyTime;
using detail::tcp;
using detail::Watchdog;
namespace asio = boost::asio;

// A kept-alive connection is dead if the server closed it (EOF readable) or sent something
// unsolicited; checked without blocking before reuse.
bool detail::still_usable(PooledConnection& connection, core::Duration max_idle) {
  if (!connection.transport.is_open()) return false;
  if (SteadyClock::now() - connection.idle_since > steady(max_idle)) return false;
  char byte;
  ssize_t n =
      ::recv(connection.transport.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

namespace {

Awaitable<core::Result<std::shared_ptr<PooledConnection>>> open_connection(
    std::shared_ptr<ClientShared> shared, Exchange& ex, const std::string& key) {
  const ClientOptions& options = shared->options;
  const Url& url = ex.url;
  std::string where = Endpoint{url.host, url.port}.to_string();
  auto executor = ex.executor;
  tcp::socket socket(executor);
  tcp::socket* target = &socket;
  tcp::resolver resolver(executor);
  Watchdog watchdog(executor, [&target, &resolver](int) {
    error_code ignored;
    target->close(ignored);
    resolver.cancel();
  });
  auto arm = [&](int phase) {
    SteadyTime deadline = options.connect_timeout > core::Duration::zero()
                              ? SteadyClock::now() + steady(options.connect_timeout)
                              : SteadyTime::max();
    if (ex.total_deadline < deadline) {
      deadline = ex.total_deadline;
      phase = kTotal;
    }
    if (deadline != SteadyTime::max()) watchdog.arm(phase, deadline);
  };
  auto timeout_error = [&](std::string_view kind) {
    if (watchdog.expired() == kTotal) {
      return ex.error("total timeout", core::ErrorCode::kDeadlineExceeded, "while connecting");
    }
    return ex.error(kind, core::ErrorCode::kDeadlineExceeded,
                    "no connection to " + where + " within " +
                        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           options.connect_timeout)
                                           .count()) +
                        "ms");
  };

  arm(kConnect);
  error_code ec;
  std::string host = url.host;
  auto address = asio::ip::make_address(host.substr(0, host.find('%')), ec);
  if (!ec) {
    std::tie(ec) = co_await socket.async_connect(tcp::endpoint(address, url.port), kNoThrow);
  } else {
    auto [resolve_ec, results] =
        co_await resolver.async_resolve(host, std::to_string(url.port), kNoThrow);
    if (resolve_ec) {
      if (watchdog.expired()) co_return tl::unexpected(timeout_error("connect timeout"));
      co_return tl::unexpected(ex.error("dns", core::ErrorCode::kUnavailable,
                                        "cannot resolve " + host + ": " + resolve_ec.message()));
    }
    tcp::endpoint connected;
    std::tie(ec, connected) = co_await asio::async_connect(socket, results, kNoThrow);
  }
  if (ec) {
    if (watchdog.expired()) co_return tl::unexpected(timeout_error("connect timeout"));
    if (ec == asio::error::connection_refused) {
      co_return tl::unexpected(
          ex.error("connection refused", core::ErrorCode::kUnavailable, "connect " + where));
    }
    if (ec == asio::error::host_unreachable || ec == asio::error::network_unreachable ||
        ec == asio::error::network_down || ec == asio::error::host_not_found) {
      co_return tl::unexpected(ex.error("unreachable", core::ErrorCode::kUnavailable,
                                        "connect " + where + ": " + ec.message()));
    }
    co_return tl::unexpected(ex.error("connection reset", core::ErrorCode::kUnavailable,
                                      "connect " + where + ": " + ec.message()));
  }
  error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  shared->opened++;

  if (!url.is_https()) {
    watchdog.disarm();
    co_return std::make_shared<PooledConnection>(std::move(socket), key);
  }
  auto context = shared->tls_context();
  if (!context) {
    co_return tl::unexpected(
        ex.error("tls", core::ErrorCode::kInvalidArgument, context.error().message));
  }
  auto connection = std::make_shared<PooledConnection>(std::move(socket), **context, key);
  target = &connection->transport.socket();
  auto* ssl = connection->transport.tls().native_handle();
  if (auto s = detail::configure_client_session(ssl, url.host, options.tls); !s) {
    co_return tl::unexpected(ex.error("tls", core::ErrorCode::kInvalidArgument, s.error().message));
  }
  arm(kHandshake);
  auto [handshake_ec] = co_await connection->transport.tls().async_handshake(
      asio::ssl::stream_base::client, kNoThrow);
  if (handshake_ec) {
    if (watchdog.expired()) co_return tl::unexpected(timeout_error("tls handshake timeout"));
    co_return tl::unexpected(ex.error(
        "tls", core::ErrorCode::kUnavailable,
        "handshake with " + where +
            " failed: " + detail::describe_handshake_failure(ssl, handshake_ec.message())));
  }
  watchdog.disarm();
  co_return connection;
}

}  // namespace

Awaitable<core::Result<Acquired>> detail::acquire(std::shared_ptr<ClientShared> shared,
                                                  Exchange& ex, bool force_new) {
  const ClientOptions& options = shared->options;
  std::string key = ex.url.scheme + "://" + ex.url.authority();
  std::shared_ptr<detail::Waiter> waiter;
  std::vector<std::shared_ptr<PooledConnection>> stale;
  {
    std::lock_guard lock(shared->mutex);
    detail::HostPool& pool = shared->pools[key];
    if (!force_new) {
      while (!pool.idle.empty()) {
        auto candidate = std::move(pool.idle.back());
        pool.idle.pop_back();
        if (detail::still_usable(*candidate, options.pool_idle_timeout)) {
          shared->reused++;
          for (auto& s : stale) s->transport.close();
          co_return Acquired{std::move(candidate), true};
        }
        stale.push_back(std::move(candidate));
        --pool.open;
      }
    }
    if (options.max_connections_per_host == 0 || pool.open < options.max_connections_per_host) {
      ++pool.open;
    } else {
      waiter = std::make_shared<detail::Waiter>(ex.executor);
      pool.waiters.push_back(waiter);
    }
  }
  for (auto& s : stale) s->transport.close();

  if (waiter) {
    waiter->timer.expires_at(ex.total_deadline);
    while (true) {
      {
        std::lock_guard lock(shared->mutex);
        if (waiter->granted) break;
      }
      auto [ec] = co_await waiter->timer.async_wait(kNoThrow);
      std::lock_guard lock(shared->mutex);
      if (waiter->granted) break;
      if (!ec) {
        auto& waiters = shared->pools[key].waiters;
        std::erase(waiters, waiter);
        co_return tl::unexpected(ex.error("total timeout", core::ErrorCode::kDeadlineExceeded,
                                          "waiting for a connection to " + ex.url.authority()));
      }
    }
    if (waiter->connection) {
      shared->reused++;
      co_return Acquired{std::move(waiter->connection), true};
    }
  }
  auto connection = co_await open_connection(shared, ex, key);
  if (!connection) {
    shared->release_slot(key);
    co_return tl::unexpected(connection.error());
  }
  co_return Acquired{std::move(*connection), false};
}

}  // namespace llmscale::net
