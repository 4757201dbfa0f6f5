// HttpClient: connection pool, connect + TLS, request writing, response parsing with timeouts,
// streaming bodies, gzip.
#include "net/client.h"

#include <sys/socket.h>

#include <atomic>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>

#include "core/log.h"
#include "net/detail/http_parser.h"
#include "net/detail/tls_context.h"
#include "net/detail/transport.h"
#include "net/gzip.h"
#include "net/url.h"

namespace llmscale::net {

using namespace std::chrono_literals;
using detail::ByteBuffer;
using detail::error_code;
using detail::kNoThrow;
using detail::ParseError;
using detail::ParseState;
using detail::SteadyClock;
using detail::SteadyTime;
using detail::tcp;
using detail::Transport;
using detail::Watchdog;
namespace asio = boost::asio;

namespace {

enum Phase : int { kConnect = 1, kHandshake, kHead, kIdle, kTotal };

constexpr std::size_t kReadChunk = 16 * 1024;

constexpr std::string_view kKinds[] = {
    "invalid request",       "dns",          "connection refused", "unreachable",
    "connect timeout",       "tls handshake timeout", "tls", "response head timeout",
    "idle timeout",          "total timeout", "connection reset",   "malformed response",
    "response too large",    "cancelled"};

SteadyClock::duration steady(core::Duration d) {
  return std::chrono::duration_cast<SteadyClock::duration>(d);
}

bool idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
         method == "DELETE" || method == "TRACE";
}

bool safe_field(std::string_view text) {
  for (char c : text) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

}  // namespace

namespace detail {

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
  explicit Waiter(asio::any_io_executor executor) : timer(std::move(executor)) {}
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
bool still_usable(PooledConnection& connection, core::Duration max_idle) {
  if (!connection.transport.is_open()) return false;
  if (SteadyClock::now() - connection.idle_since > steady(max_idle)) return false;
  char byte;
  ssize_t n = ::recv(connection.transport.socket().native_handle(), &byte, 1,
                     MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

// ---------------------------------------------------------------------------------------------
// One request/response exchange

struct Exchange {
  Exchange(std::shared_ptr<ClientShared> s, asio::any_io_executor e)
      : shared(std::move(s)),
        executor(e),
        watchdog(std::move(e), [this](int) {
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
    SteadyTime deadline = timeout > core::Duration::zero() ? SteadyClock::now() + steady(timeout)
                                                           : SteadyTime::max();
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
        return error("response head timeout", core::ErrorCode::kDeadlineExceeded,
                     "no response within " + std::to_string(std::chrono::duration_cast<
                                                                 std::chrono::milliseconds>(
                                                                 head_timeout)
                                                                 .count()) +
                         "ms");
      case kIdle:
        return error("idle timeout", core::ErrorCode::kDeadlineExceeded,
                     "no body data for " + std::to_string(std::chrono::duration_cast<
                                                              std::chrono::milliseconds>(
                                                              idle_timeout)
                                                              .count()) +
                         "ms");
      case kTotal:
        return error("total timeout", core::ErrorCode::kDeadlineExceeded, "");
      default:
        break;
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
    failure = e;
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
          return tl::unexpected(error("response too large", core::ErrorCode::kResourceExhausted,
                                      s.error().message));
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

Awaitable<core::Result<BodyChunk>> Exchange::read_chunk() {
  while (true) {
    if (failure) co_return tl::unexpected(*failure);
    if (cancelled) {
      fail(error("cancelled", core::ErrorCode::kCancelled, ""));
      continue;
    }
    if (!pending.empty()) {
      BodyChunk chunk{std::move(pending), pending_at};
      pending.clear();
      co_return chunk;
    }
    if (done) co_return BodyChunk{{}, SteadyClock::now()};

    auto& conn = *connection;
    if (!conn.buffer.empty()) {
      std::size_t consumed = 0;
      ParseState state = conn.parser.put(conn.buffer.data(), consumed);
      conn.buffer.consume(consumed);
      if (state == ParseState::kError) {
        if (conn.parser.error() == ParseError::kBodyTooLarge) {
          fail(error("response too large", core::ErrorCode::kResourceExhausted,
                     "body exceeds " + std::to_string(max_body) + " bytes"));
        } else {
          fail(error("malformed response", core::ErrorCode::kUnavailable,
                     conn.parser.error_message()));
        }
        continue;
      }
      if (auto s = take_body(last_read_at); !s) {
        fail(s.error());
        continue;
      }
      if (state == ParseState::kDone) {
        if (gzip) {
          if (auto s = gzip->finish(); !s) {
            fail(error("malformed response", core::ErrorCode::kUnavailable, s.error().message));
            continue;
          }
        }
        finish_body();
        continue;
      }
      if (!pending.empty()) continue;
    }

    arm(kIdle, idle_timeout);
    auto [ec, n] = co_await conn.transport.async_read_some(conn.buffer.prepare(kReadChunk), kNoThrow);
    last_read_at = SteadyClock::now();
    conn.buffer.commit(n);
    if (ec) {
      if ((ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) &&
          conn.parser.need_eof() && !cancelled && watchdog.expired() == 0) {
        // The body was delimited by the close (no length, not chunked).
        conn.parser.put_eof();
        finish_body();
        continue;
      }
      fail(io_error(ec));
      continue;
    }
  }
}

}  // namespace detail

using detail::ClientShared;
using detail::Exchange;
using detail::PooledConnection;

namespace {

// ---------------------------------------------------------------------------------------------
// Acquiring a connection

struct Acquired {
  std::shared_ptr<PooledConnection> connection;
  bool reused = false;
};

Awaitable<core::Result<std::shared_ptr<PooledConnection>>> connect(
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
    co_return tl::unexpected(ex.error("tls", core::ErrorCode::kInvalidArgument,
                                      context.error().message));
  }
  auto connection = std::make_shared<PooledConnection>(std::move(socket), **context, key);
  target = &connection->transport.socket();
  auto* ssl = connection->transport.tls().native_handle();
  if (auto s = detail::configure_client_session(ssl, url.host, options.tls); !s) {
    co_return tl::unexpected(ex.error("tls", core::ErrorCode::kInvalidArgument, s.error().message));
  }
  arm(kHandshake);
  auto [handshake_ec] =
      co_await connection->transport.tls().async_handshake(asio::ssl::stream_base::client, kNoThrow);
  if (handshake_ec) {
    if (watchdog.expired()) co_return tl::unexpected(timeout_error("tls handshake timeout"));
    co_return tl::unexpected(
        ex.error("tls", core::ErrorCode::kUnavailable,
                 "handshake with " + where + " failed: " +
                     detail::describe_handshake_failure(ssl, handshake_ec.message())));
  }
  watchdog.disarm();
  co_return connection;
}

Awaitable<core::Result<Acquired>> acquire(std::shared_ptr<ClientShared> shared, Exchange& ex,
                                         bool force_new) {
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
  auto connection = co_await connect(shared, ex, key);
  if (!connection) {
    shared->release_slot(key);
    co_return tl::unexpected(connection.error());
  }
  co_return Acquired{std::move(*connection), false};
}

// ---------------------------------------------------------------------------------------------
// Starting an exchange: connection, request, response head

std::string serialize_request(const Request& request, const Url& url, const ClientOptions& options) {
  std::string out;
  out.reserve(256 + request.body.size());
  out += request.method;
  out += ' ';
  out += url.target();
  out += " HTTP/1.1\r\n";
  if (!request.headers.contains("Host")) {
    out += "Host: ";
    out += url.authority();
    out += "\r\n";
  }
  if (!request.headers.contains("User-Agent") && !options.user_agent.empty()) {
    out += "User-Agent: ";
    out += options.user_agent;
    out += "\r\n";
  }
  for (const auto& [name, value] : request.headers) {
    if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding")) continue;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  const std::string& m = request.method;
  if (!request.body.empty() || m == "POST" || m == "PUT" || m == "PATCH") {
    out += "Content-Length: ";
    out += std::to_string(request.body.size());
    out += "\r\n";
  }
  out += "\r\n";
  out += request.body;
  return out;
}

Awaitable<core::Result<std::shared_ptr<Exchange>>> start_exchange(
    std::shared_ptr<ClientShared> shared, Request request, std::size_t max_body) {
  const ClientOptions& options = shared->options;
  shared->requests++;
  auto executor = co_await asio::this_coro::executor;
  auto ex = std::make_shared<Exchange>(shared, executor);
  ex->method = request.method;
  ex->url_text = request.url;
  auto url = parse_url(request.url);
  if (!url) {
    co_return tl::unexpected(
        ex->error("invalid request", core::ErrorCode::kInvalidArgument, url.error().message));
  }
  ex->url = std::move(*url);
  if (request.method.empty() || !safe_field(request.method) ||
      request.method.find(' ') != std::string::npos) {
    co_return tl::unexpected(
        ex->error("invalid request", core::ErrorCode::kInvalidArgument, "invalid method"));
  }
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || !safe_field(name) || !safe_field(value) ||
        name.find(':') != std::string::npos) {
      co_return tl::unexpected(ex->error("invalid request", core::ErrorCode::kInvalidArgument,
                                         "invalid header field \"" + name + "\""));
    }
  }
  ex->head_timeout = request.response_head_timeout.value_or(options.response_head_timeout);
  ex->idle_timeout = request.idle_timeout.value_or(options.idle_timeout);
  core::Duration total = request.total_timeout.value_or(options.total_timeout);
  if (total > core::Duration::zero()) ex->total_deadline = SteadyClock::now() + steady(total);
  ex->max_body = max_body;
  bool wants_gzip = options.decode_gzip && request.headers.has_token("Accept-Encoding", "gzip");
  bool head = request.method == "HEAD";
  std::string wire = serialize_request(request, ex->url, options);

  for (int attempt = 0; attempt < 2; ++attempt) {
    auto acquired = co_await acquire(shared, *ex, attempt > 0);
    if (!acquired) co_return tl::unexpected(acquired.error());
    ex->connection = std::move(acquired->connection);
    ex->reused = acquired->reused;
    auto& conn = *ex->connection;
    // A stale keep-alive connection fails before the first response byte; retry those once.
    auto retryable = [&] {
      return ex->reused && attempt == 0 && idempotent(ex->method) && !ex->cancelled &&
             ex->watchdog.expired() == 0 && !conn.parser.got_some() && conn.buffer.empty();
    };

    conn.parser.reset(options.max_header_bytes, max_body, head);
    ex->sent_at = SteadyClock::now();
    ex->arm(kHead, ex->head_timeout);
    std::array<asio::const_buffer, 1> pieces{asio::buffer(wire)};
    error_code write_ec;
    std::size_t written = conn.transport.try_write(pieces, write_ec);
    if (write_ec == asio::error::would_block || (!write_ec && written < wire.size())) {
      detail::consume_buffers(pieces, written);
      std::tie(write_ec, written) = co_await asio::async_write(conn.transport, pieces, kNoThrow);
    }
    if (write_ec) {
      if (retryable()) {
        shared->retries++;
        ex->fail(core::Error{});
        ex->failure.reset();
        continue;
      }
      auto e = ex->io_error(write_ec);
      ex->fail(e);
      co_return tl::unexpected(e);
    }

    // Response head (interim 1xx responses are skipped).
    bool retry = false;
    while (true) {
      ParseState state = ParseState::kNeedMore;
      if (!conn.buffer.empty()) {
        std::size_t consumed = 0;
        state = conn.parser.put(conn.buffer.data(), consumed);
        conn.buffer.consume(consumed);
      }
      if (state == ParseState::kError) {
        core::Error e =
            conn.parser.error() == ParseError::kHeaderTooLarge
                ? ex->error("response too large", core::ErrorCode::kResourceExhausted,
                            "header exceeds " + std::to_string(options.max_header_bytes) + " bytes")
            : conn.parser.error() == ParseError::kBodyTooLarge
                ? ex->error("response too large", core::ErrorCode::kResourceExhausted,
                            "body exceeds " + std::to_string(max_body) + " bytes")
                : ex->error("malformed response", core::ErrorCode::kUnavailable,
                            conn.parser.error_message());
        ex->fail(e);
        co_return tl::unexpected(e);
      }
      if (state == ParseState::kHeaderDone || state == ParseState::kDone) {
        int status = conn.parser.message().status;
        if (status >= 100 && status < 200 && status != 101) {
          conn.parser.reset(options.max_header_bytes, max_body, head);
          continue;
        }
        break;
      }
      auto [ec, n] = co_await conn.transport.async_read_some(conn.buffer.prepare(kReadChunk), kNoThrow);
      conn.buffer.commit(n);
      if (ec) {
        if (retryable()) {
          retry = true;
          break;
        }
        if (ec == asio::error::eof && conn.parser.got_some() && ex->watchdog.expired() == 0) {
          auto e = ex->error("malformed response", core::ErrorCode::kUnavailable,
                             "connection closed in the response header");
          ex->fail(e);
          co_return tl::unexpected(e);
        }
        auto e = ex->io_error(ec);
        ex->fail(e);
        co_return tl::unexpected(e);
      }
    }
    if (retry) {
      shared->retries++;
      ex->fail(core::Error{});
      ex->failure.reset();
      continue;
    }

    ex->head_at = SteadyClock::now();
    auto& message = conn.parser.message();
    ex->status = message.status;
    ex->headers = std::move(message.headers);
    std::string_view encoding = ex->headers.value("Content-Encoding");
    if (wants_gzip && (iequals(encoding, "gzip") || iequals(encoding, "x-gzip")) && !head) {
      ex->gzip.emplace(max_body > 0 ? max_body : std::numeric_limits<std::size_t>::max());
      ex->headers.remove("Content-Encoding");
      ex->headers.remove("Content-Length");
    }
    ex->last_read_at = ex->head_at;
    // Between the head and the first read_chunk() only the total deadline applies.
    ex->arm(kIdle, core::Duration::zero());
    if (conn.parser.done()) {
      ex->finish_body();
    }
    co_return ex;
  }
  co_return tl::unexpected(ex->error("connection reset", core::ErrorCode::kUnavailable, "retry failed"));
}

template <class T>
Awaitable<T> on_strand(const std::shared_ptr<ClientShared>& shared, Awaitable<T> task) {
  if (shared->loop.threads() > 1) {
    co_return co_await asio::co_spawn(asio::make_strand(shared->loop.io_context()), std::move(task),
                                      asio::use_awaitable);
  }
  co_return co_await std::move(task);
}

Awaitable<core::Result<Response>> do_request(std::shared_ptr<ClientShared> shared, Request request) {
  std::size_t max_body = request.max_body_bytes.value_or(shared->options.max_body_bytes);
  auto ex = co_await start_exchange(shared, std::move(request), max_body);
  if (!ex) co_return tl::unexpected(ex.error());
  Response response;
  response.status = (*ex)->status;
  response.headers = std::move((*ex)->headers);
  while (true) {
    auto chunk = co_await (*ex)->read_chunk();
    if (!chunk) co_return tl::unexpected(chunk.error());
    if (chunk->data.empty()) break;
    if (response.body.empty()) {
      response.body = std::move(chunk->data);
    } else {
      response.body += chunk->data;
    }
  }
  co_return response;
}

Awaitable<core::Result<ClientStream>> do_open(std::shared_ptr<ClientShared> shared,
                                              Request request);

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public API

ClientStream::ClientStream() = default;
ClientStream::ClientStream(std::shared_ptr<Exchange> exchange) : exchange_(std::move(exchange)) {}
ClientStream::~ClientStream() = default;
ClientStream::ClientStream(ClientStream&&) noexcept = default;
ClientStream& ClientStream::operator=(ClientStream&&) noexcept = default;

int ClientStream::status() const { return exchange_ ? exchange_->status : 0; }
const Headers& ClientStream::headers() const {
  static const Headers kEmpty;
  return exchange_ ? exchange_->headers : kEmpty;
}
std::chrono::steady_clock::time_point ClientStream::sent_at() const {
  return exchange_ ? exchange_->sent_at : std::chrono::steady_clock::time_point();
}
std::chrono::steady_clock::time_point ClientStream::head_received_at() const {
  return exchange_ ? exchange_->head_at : std::chrono::steady_clock::time_point();
}
bool ClientStream::done() const { return !exchange_ || (exchange_->done && exchange_->pending.empty()); }

Awaitable<core::Result<BodyChunk>> ClientStream::read_chunk() {
  if (!exchange_) co_return core::make_error(core::ErrorCode::kFailedPrecondition, "no stream");
  auto ex = exchange_;
  if (ex->shared->loop.threads() > 1) {
    co_return co_await asio::co_spawn(ex->executor, ex->read_chunk(), asio::use_awaitable);
  }
  co_return co_await ex->read_chunk();
}

Awaitable<core::Result<std::string>> ClientStream::read_all(std::size_t max_bytes) {
  std::string body;
  while (true) {
    auto chunk = co_await read_chunk();
    if (!chunk) co_return tl::unexpected(chunk.error());
    if (chunk->data.empty()) co_return body;
    if (body.size() + chunk->data.size() > max_bytes) {
      cancel();
      co_return core::make_error(core::ErrorCode::kResourceExhausted,
                                 "response too large: body exceeds " + std::to_string(max_bytes) +
                                     " bytes");
    }
    body += chunk->data;
  }
}

void ClientStream::cancel() {
  if (!exchange_ || exchange_->done) return;
  exchange_->cancelled = true;
  if (exchange_->connection) exchange_->connection->transport.close();
}

namespace {

Awaitable<core::Result<ClientStream>> do_open(std::shared_ptr<ClientShared> shared,
                                              Request request) {
  std::size_t max_body = request.max_body_bytes.value_or(0);
  auto ex = co_await start_exchange(shared, std::move(request), max_body);
  if (!ex) co_return tl::unexpected(ex.error());
  co_return ClientStream(std::move(*ex));
}

}  // namespace

HttpClient::HttpClient(EventLoop& loop, ClientOptions options)
    : shared_(std::make_shared<ClientShared>(loop, std::move(options))) {}

HttpClient::~HttpClient() {
  {
    std::lock_guard lock(shared_->mutex);
    shared_->closed = true;
  }
  close_idle_connections();
}

Awaitable<core::Result<Response>> HttpClient::request(Request request) {
  auto shared = shared_;
  co_return co_await on_strand(shared, do_request(shared, std::move(request)));
}

Awaitable<core::Result<ClientStream>> HttpClient::open(Request request) {
  auto shared = shared_;
  co_return co_await on_strand(shared, do_open(shared, std::move(request)));
}

core::Status HttpClient::check_tls_config() {
  auto context = shared_->tls_context();
  if (!context) return tl::unexpected(context.error());
  return {};
}

void HttpClient::close_idle_connections() {
  std::vector<std::shared_ptr<PooledConnection>> idle;
  {
    std::lock_guard lock(shared_->mutex);
    for (auto& [key, pool] : shared_->pools) {
      for (auto& c : pool.idle) idle.push_back(std::move(c));
      pool.open -= std::min(pool.open, pool.idle.size());
      pool.idle.clear();
    }
  }
  for (auto& c : idle) c->transport.close();
}

ClientStats HttpClient::stats() const {
  ClientStats out;
  out.requests = shared_->requests;
  out.connections_opened = shared_->opened;
  out.connections_reused = shared_->reused;
  out.retries = shared_->retries;
  std::lock_guard lock(shared_->mutex);
  for (auto& [key, pool] : shared_->pools) out.idle_connections += pool.idle.size();
  return out;
}

std::string_view client_error_kind(const core::Error& error) {
  std::string_view message = error.message;
  for (std::string_view kind : kKinds) {
    if (message.size() > kind.size() && message.substr(0, kind.size()) == kind &&
        message[kind.size()] == ':') {
      return kind;
    }
  }
  return {};
}

}  // namespace llmscale::net
