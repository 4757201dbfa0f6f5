// What the client's translation units share: the connection pool and one request/response
// exchange. Internal to net (includes Asio).
//
// client_pool.cc opens and pools connections, client_exchange.cc reads response bodies,
// client.cc writes requests, reads heads and holds the public API.
#pragma once

#include <atomic>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>

#include "net/client.h"
#include "net/detail/http_parser.h"
#include "net/detail/tls_context.h"
#include "net/detail/transport.h"
#include "net/gzip.h"
#include "net/url.h"

namespace llmscale::net::detail {

// Watchdog phases of an exchange.
enum ClientPhase : int { kConnect = 1, kHandshake, kHead, kIdle, kTotal };

inline constexpr std::size_t kClientReadChunk = 16 * 1024;

inline SteadyClock::duration steady(core::Duration d) {
  return std::chrono::duration_cast<SteadyClock::duration>(d);
}

// ---------------------------------------------------------------------------------------------
// Pool

struct PooledConnection {
  PooledConnection(tcp::socket socket, std::string pool_key)
      : transport(std::move(socket)), key(std::move(pool_key)) {}
  PooledConnection(tcp::socket socket, asio::ssl::context& tls, std::string pool_key)
      : transport(std::move(socket), tls), key(std::move(pool_key)) {}

  Transport transport;
  ByteBuffer buffer;
  ResponseParser parser;
  std::string key;
  SteadyTime idle_since;
};

struct Waiter {
  explicit Waiter(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;
  bool granted = false;
  // A keep-alive connection handed over, or null: a slot to open a new connection in.
  std::shared_ptr<PooledConnection> connection;
};

struct HostPool {
  std::vector<std::shared_ptr<PooledConnection>> idle;
  std::size_t open = 0;  // in use + idle + being opened
  std::deque<std::shared_ptr<Waiter>> waiters;
};

struct ClientShared {
  ClientShared(EventLoop& l, ClientOptions o) : loop(l), options(std::move(o)) {}

  EventLoop& loop;
  ClientOptions options;

  std::mutex mutex;
  std::unordered_map<std::string, HostPool> pools;
  std::shared_ptr<asio::ssl::context> tls;
  std::optional<core::Error> tls_error;
  bool closed = false;

  std::atomic<std::uint64_t> requests{0}, opened{0}, reused{0}, retries{0};

  core::Result<std::shared_ptr<asio::ssl::context>> tls_context() {
    std::lock_guard lock(mutex);
    if (!tls && !tls_error) {
      auto context = make_client_tls_context(options.tls);
      if (context) {
        tls = std::move(*context);
      } else {
        tls_error = context.error();
      }
    }
    if (tls_error) return tl::unexpected(*tls_error);
    return tls;
  }

  static void wake(const std::shared_ptr<Waiter>& waiter) {
    asio::post(waiter->timer.get_executor(), [waiter] { waiter->timer.cancel(); });
  }

  // Gives a connection back: kept for reuse (or handed to a waiter), or closed.
  void release(const std::shared_ptr<PooledConnection>& connection, bool reusable) {
    std::lock_guard lock(mutex);
    HostPool& pool = pools[connection->key];
    if (reusable && !closed) {
      connection->idle_since = SteadyClock::now();
      if (!pool.waiters.empty()) {
        auto waiter = std::move(pool.waiters.front());
        pool.waiters.pop_front();
        waiter->granted = true;
        waiter->connection = connection;
        wake(waiter);
      } else {
        pool.idle.push_back(connection);
      }
      return;
    }
    connection->transport.close();
    release_slot_locked(pool);
  }

  void release_slot(const std::string& key) {
    std::lock_guard lock(mutex);
    release_slot_locked(pools[key]);
  }

  void release_slot_locked(HostPool& pool) {
    if (!pool.waiters.empty()) {
      // The slot passes straight to the next waiter, who opens a connection in it.
      auto waiter = std::move(pool.waiters.front());
      pool.waiters.pop_front();
      waiter->granted = true;
      wake(waiter);
    } else if (pool.open > 0) {
      --pool.open;
    }
  }
};

// A kept-alive connection is dead if the server closed it (EOF readable) or sent something
// unsolicited; checked without blocking before reuse.
bool still_usable(PooledConnection& connection, core::Duration max_idle);
// ---------------------------------------------------------------------------------------------
// One request/response exchange

struct Exchange {
  Exchange(std::shared_ptr<ClientShared> s, asio::any_io_executor e)
      : shared(std::move(s)), executor(e), watchdog(std::move(e), [this](int) {
          if (connection) connection->transport.close();
        }) {}

  ~Exchange() {
    if (connection) shared->release(connection, false);
  }

  std::shared_ptr<ClientShared> shared;
  asio::any_io_executor executor;
  Watchdog watchdog;
  std::shared_ptr<PooledConnection> connection;
  bool reused = false;

  std::string method;
  std::string url_text;
  Url url;
  core::Duration head_timeout{};
  core::Duration idle_timeout{};
  SteadyTime total_deadline = SteadyTime::max();
  std::size_t max_body = 0;  // decoded body limit, 0 = none

  int status = 0;
  Headers headers;
  std::optional<GzipDecoder> gzip;
  SteadyTime sent_at;
  SteadyTime head_at;
  std::string pending;  // body bytes parsed but not yet handed out
  SteadyTime pending_at;
  SteadyTime last_read_at;  // when the last socket read completed
  std::size_t body_bytes = 0;
  bool done = false;
  bool cancelled = false;
  std::optional<core::Error> failure;

  core::Error error(std::string_view kind, core::ErrorCode code, std::string_view detail) const {
    std::string message(kind);
    message += ": ";
    message += method;
    message += " ";
    message += url_text;
    if (!detail.empty()) {
      message += ": ";
      message += detail;
    }
    return core::Error{code, std::move(message)};
  }

  // Arms the watchdog for `phase`, or for the total deadline when that comes first.
  void arm(int phase, core::Duration timeout) {
    SteadyTime deadline =
        timeout > core::Duration::zero() ? SteadyClock::now() + steady(timeout) : SteadyTime::max();
    if (total_deadline < deadline) {
      deadline = total_deadline;
      phase = kTotal;
    }
    if (deadline == SteadyTime::max()) {
      watchdog.disarm();
    } else {
      watchdog.arm(phase, deadline);
    }
  }

  // Classifies a failed read or write.
  core::Error io_error(const error_code& ec) const {
    if (cancelled) return error("cancelled", core::ErrorCode::kCancelled, "");
    switch (watchdog.expired()) {
      case kHead:
        return error(
            "response head timeout", core::ErrorCode::kDeadlineExceeded,
            "no response within " +
                std::to_string(
                    std::chrono::duration_cast<std::chrono::milliseconds>(head_timeout).count()) +
                "ms");
      case kIdle:
        return error(
            "idle timeout", core::ErrorCode::kDeadlineExceeded,
            "no body data for " +
                std::to_string(
                    std::chrono::duration_cast<std::chrono::milliseconds>(idle_timeout).count()) +
                "ms");
      case kTotal: return error("total timeout", core::ErrorCode::kDeadlineExceeded, "");
      default: break;
    }
    return error("connection reset", core::ErrorCode::kUnavailable, ec.message());
  }

  void finish_body() {
    done = true;
    watchdog.disarm();
    auto& parser = connection->parser;
    bool reusable = parser.keep_alive() && !parser.need_eof() && connection->buffer.empty();
    shared->release(connection, reusable);
    connection.reset();
  }

  void fail(core::Error e) {
    failure = std::move(e);
    watchdog.disarm();
    if (connection) {
      shared->release(connection, false);
      connection.reset();
    }
  }

  // Moves parsed body bytes into `pending`, decoding gzip and enforcing the limit.
  core::Status take_body(SteadyTime at) {
    std::string& raw = connection->parser.message().body;
    if (raw.empty()) return {};
    if (gzip) {
      std::string decoded;
      auto s = gzip->feed(raw, decoded);
      raw.clear();
      if (!s) {
        if (s.error().code == core::ErrorCode::kResourceExhausted) {
          return tl::unexpected(
              error("response too large", core::ErrorCode::kResourceExhausted, s.error().message));
        }
        return tl::unexpected(
            error("malformed response", core::ErrorCode::kUnavailable, s.error().message));
      }
      if (pending.empty()) {
        pending = std::move(decoded);
      } else {
        pending += decoded;
      }
    } else if (pending.empty()) {
      pending.swap(raw);
      raw.clear();
    } else {
      pending += raw;
      raw.clear();
    }
    if (!pending.empty()) pending_at = at;
    body_bytes += pending.size();
    if (max_body > 0 && body_bytes > max_body) {
      return tl::unexpected(error("response too large", core::ErrorCode::kResourceExhausted,
                                  "body exceeds " + std::to_string(max_body) + " bytes"));
    }
    return {};
  }

  Awaitable<core::Result<BodyChunk>> read_chunk();
};

struct Acquired {
  std::shared_ptr<PooledConnection> connection;
  bool reused = false;
};

// A pooled connection to ex.url's host (or a new one, always when force_new), waiting for a
// slot under the per-host cap until ex.total_deadline.
Awaitable<core::Result<Acquired>> acquire(std::shared_ptr<ClientShared> shared, Exchange& ex,
                                          bool force_new);

}  // namespace llmscale::net::detail
