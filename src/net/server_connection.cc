// One server connection: TLS handshake, request parsing with limits and timeouts, handler
// dispatch, keep-alive and pipelining, the streaming ResponseWriter, disconnect detection.
#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include "core/log.h"
#include "net/detail/http_parser.h"
#include "net/detail/server_internal.h"
#include "net/detail/tls_context.h"
#include "net/detail/transport.h"

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
using detail::asio::const_buffer;
namespace asio = boost::asio;

namespace {

enum Phase : int { kHandshake = 1, kHeader, kIdle, kBody, kWrite, kLinger };

constexpr std::size_t kReadChunk = 16 * 1024;
// Bytes of a pipelined next request buffered while a handler runs; beyond this we stop reading
// (and so stop noticing disconnects) until the handler is done.
constexpr std::size_t kMaxBufferedWhileHandling = 64 * 1024;
constexpr auto kLingerTime = 500ms;
constexpr std::size_t kLingerBytes = 1024 * 1024;

// The Date header, formatted at most once per second per thread.
std::string_view cached_date() {
  thread_local std::string text;
  thread_local std::int64_t second = -1;
  auto now = std::chrono::system_clock::now();
  auto s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (s != second) {
    second = s;
    text = http_date(std::chrono::time_point_cast<core::Duration>(now));
  }
  return text;
}

// Field names and values must not break the framing (response splitting).
bool safe_field(std::string_view text) {
  for (char c : text) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

bool status_has_no_body(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

std::string describe(const error_code& ec) {
  return ec.message();
}

}  // namespace

namespace {

// ---------------------------------------------------------------------------------------------
// One client connection

class Connection final : public detail::ServerConnection,
                         public std::enable_shared_from_this<Connection> {
 public:
  enum class WriterState { kNone, kStreaming, kDone, kFailed };

  Connection(std::shared_ptr<detail::ServerState> server, tcp::socket socket)
      : server_(std::move(server)),
        transport_(server_->tls ? Transport(std::move(socket), *server_->tls)
                                : Transport(std::move(socket))),
        watchdog_(transport_.get_executor(), [this](int phase) { on_deadline(phase); }),
        read_signal_(transport_.get_executor()) {
    error_code ec;
    auto endpoint = transport_.socket().remote_endpoint(ec);
    if (!ec) {
      auto address = endpoint.address();
      if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
      }
      remote_.address = address.to_string();
      remote_.port = endpoint.port();
    }
  }

  asio::any_io_executor executor() override { return transport_.get_executor(); }

  static Awaitable<void> run(std::shared_ptr<Connection> self) {
    co_await self->serve();
    self->server_->remove(self.get());
  }

  // Stop requested: close now if idle between requests, else after the current response.
  void begin_close() override {
    closing_ = true;
    if (waiting_) transport_.close();
  }
  void force_close() override {
    closing_ = true;
    transport_.close();
  }

  // --- used by ConnectionWriter ---
  // Writes up to three buffers as one gather write. (Three parameters rather than an array:
  // g++ 12 cannot copy an array-holding parameter into a coroutine frame.)
  Awaitable<core::Status> write_all(const_buffer first, const_buffer second = {},
                                    const_buffer third = {}) {
    std::array<const_buffer, 3> buffers{first, second, third};
    if (broken_ || !transport_.is_open()) {
      co_return core::make_error(core::ErrorCode::kCancelled, "client disconnected");
    }
    error_code ec;
    std::size_t written = transport_.try_write(buffers, ec);
    if (!ec && written == asio::buffer_size(buffers)) co_return core::Status{};
    if (ec && ec != asio::error::would_block) {
      broken_ = true;
      co_return core::make_error(core::ErrorCode::kCancelled,
                                 "client disconnected: " + describe(ec));
    }
    detail::consume_buffers(buffers, written);
    watchdog_.arm_for(kWrite, server_->options.write_timeout);
    std::size_t n = 0;
    std::tie(ec, n) = co_await asio::async_write(transport_, buffers, kNoThrow);
    bool timed_out = watchdog_.expired() == kWrite;
    watchdog_.disarm();
    if (!ec) co_return core::Status{};
    broken_ = true;
    if (timed_out) {
      server_->counters.write_timeouts++;
      co_return core::make_error(
          core::ErrorCode::kDeadlineExceeded,
          "write timeout: the client read nothing for " +
              std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 server_->options.write_timeout)
                                 .count()) +
              "ms");
    }
    co_return core::make_error(core::ErrorCode::kCancelled, "client disconnected: " + describe(ec));
  }

  // Starts a background read that notices the client leaving while a handler runs. Bytes it
  // receives (a pipelined request) are kept for the next parse.
  void start_watch() {
    if (watch_pending_ || peer_gone_ || broken_ || !transport_.is_open()) return;
    if (buffer_.size() >= kMaxBufferedWhileHandling) return;
    watch_pending_ = true;
    transport_.async_read_some(asio::buffer(watch_buffer_),
                               [self = shared_from_this()](const error_code& ec, std::size_t n) {
                                 self->on_watch(ec, n);
                               });
  }

  bool peer_gone() const { return peer_gone_ || broken_; }

  void add_disconnect_callback(std::function<void()> callback) {
    start_watch();
    if (peer_gone()) {
      callback();
      return;
    }
    disconnect_callbacks_.push_back(std::move(callback));
  }

  // The handler broke its response off (ResponseWriter::abort): close at once. `reset` sends a
  // TCP reset instead of a FIN, for a close-delimited body whose end would otherwise look normal.
  void abort_response(bool reset) {
    broken_ = true;
    closing_ = true;
    if (reset) {
      error_code ec;
      transport_.socket().set_option(tcp::socket::linger(true, 0), ec);
      transport_.socket().close(ec);
    } else {
      transport_.close();
    }
  }

  bool closing() const { return closing_ || server_->stopping; }
  const std::shared_ptr<detail::ServerState>& server() const { return server_; }

 private:
  Awaitable<void> serve();
  Awaitable<bool> read_request(bool first);
  Awaitable<error_code> read_more();
  Awaitable<void> answer_error(int status, std::string_view text);
  Awaitable<void> shutdown();

  void on_deadline(int phase) {
    // A slow header or body gets a 408, so only abort the read; anything else closes.
    if (phase == kHeader || phase == kBody) {
      transport_.cancel();
    } else {
      transport_.close();
    }
  }

  void on_watch(const error_code& ec, std::size_t n) {
    watch_pending_ = false;
    if (n > 0) {
      auto space = buffer_.prepare(n);
      std::memcpy(space.data(), watch_buffer_.data(), n);
      buffer_.commit(n);
    }
    watch_error_ = ec;
    if (ec) {
      if (!peer_gone_) {
        peer_gone_ = true;
        auto callbacks = std::move(disconnect_callbacks_);
        disconnect_callbacks_.clear();
        for (auto& callback : callbacks) callback();
      }
    } else if (handling_) {
      start_watch();
    }
    if (main_waiting_) read_signal_.cancel();
  }

  std::shared_ptr<detail::ServerState> server_;
  Transport transport_;
  Watchdog watchdog_;
  ByteBuffer buffer_;
  detail::RequestParser parser_;
  Endpoint remote_;
  std::shared_ptr<const PeerCertificate> peer_;

  bool waiting_ = true;    // between requests with nothing received: safe to close on stop
  bool closing_ = false;   // stop requested
  bool broken_ = false;    // a write failed; the connection is unusable
  bool linger_ = false;    // close by half-closing and draining (unread input may remain)
  bool handling_ = false;  // a handler is running

  bool watch_pending_ = false;
  bool main_waiting_ = false;
  bool peer_gone_ = false;
  error_code watch_error_;
  std::array<char, kReadChunk> watch_buffer_;
  asio::steady_timer read_signal_;
  std::vector<std::function<void()>> disconnect_callbacks_;
};

// ---------------------------------------------------------------------------------------------
// The ResponseWriter of one request on a connection

class ConnectionWriter final : public ResponseWriter {
 public:
  ConnectionWriter(Connection& connection, const ServerRequest& request, bool keep_alive)
      : connection_(connection),
        head_only_(request.method == "HEAD"),
        http10_(request.version == 10),
        keep_alive_(keep_alive) {}

  Awaitable<core::Status> send(Response response) override {
    if (state_ != Connection::WriterState::kNone) {
      co_return core::make_error(core::ErrorCode::kFailedPrecondition, "response already started");
    }
    bool no_body = status_has_no_body(response.status);
    // A shared body is written from where it lies (the response, and so the bytes, live in
    // this coroutine's frame until the write completes).
    std::string_view payload = response.payload();
    start_head(response.status, response.headers);
    if (!no_body) {
      head_.append("Content-Length: ");
      head_.append(std::to_string(payload.size()));
      head_.append("\r\n");
    }
    finish_head();
    const_buffer body;
    if (!no_body && !head_only_) body = asio::buffer(payload.data(), payload.size());
    auto status = co_await connection_.write_all(asio::buffer(head_), body);
    state_ = status ? Connection::WriterState::kDone : Connection::WriterState::kFailed;
    co_return status;
  }

  Awaitable<core::Status> begin_stream(int status_code, Headers headers) override {
    if (state_ != Connection::WriterState::kNone) {
      co_return core::make_error(core::ErrorCode::kFailedPrecondition, "response already started");
    }
    no_body_ = head_only_ || status_has_no_body(status_code);
    // HTTP/1.0 has no chunked coding: the body ends when we close.
    chunked_ = !http10_;
    if (http10_) keep_alive_ = false;
    start_head(status_code, headers);
    if (!status_has_no_body(status_code) && chunked_)
      head_.append("Transfer-Encoding: chunked\r\n");
    finish_head();
    state_ = Connection::WriterState::kStreaming;
    connection_.start_watch();
    auto status = co_await connection_.write_all(asio::buffer(head_));
    if (!status) state_ = Connection::WriterState::kFailed;
    co_return status;
  }

  Awaitable<core::Status> write(std::string_view data) override {
    if (state_ != Connection::WriterState::kStreaming) co_return not_streaming();
    if (data.empty() || no_body_) co_return core::Status{};
    if (connection_.peer_gone()) {
      state_ = Connection::WriterState::kFailed;
      co_return core::make_error(core::ErrorCode::kCancelled, "client disconnected");
    }
    core::Status status;
    if (chunked_) {
      // RFC 9112 §7.1: chunk-size in hex, CRLF, data, CRLF.
      char* end = std::to_chars(chunk_head_, chunk_head_ + 16, data.size(), 16).ptr;
      *end++ = '\r';
      *end++ = '\n';
      status = co_await connection_.write_all(
          asio::buffer(chunk_head_, static_cast<std::size_t>(end - chunk_head_)),
          asio::buffer(data.data(), data.size()), asio::buffer("\r\n", 2));
    } else {
      status = co_await connection_.write_all(asio::buffer(data.data(), data.size()));
    }
    if (!status) state_ = Connection::WriterState::kFailed;
    co_return status;
  }

  Awaitable<core::Status> end() override {
    if (state_ == Connection::WriterState::kDone) co_return core::Status{};
    if (state_ != Connection::WriterState::kStreaming) co_return not_streaming();
    core::Status status;
    if (chunked_ && !no_body_) {
      status = co_await connection_.write_all(asio::buffer("0\r\n\r\n", 5));
    }
    state_ = status ? Connection::WriterState::kDone : Connection::WriterState::kFailed;
    co_return status;
  }

  void abort() override {
    if (state_ == Connection::WriterState::kDone) return;
    // RFC 9112 §7.1: without the last chunk the client knows the body is incomplete; a body
    // delimited by the close (HTTP/1.0) can only show it with a reset.
    bool reset = state_ == Connection::WriterState::kStreaming && !chunked_ && !no_body_;
    state_ = Connection::WriterState::kFailed;
    connection_.abort_response(reset);
  }

  bool head_sent() const override { return state_ != Connection::WriterState::kNone; }
  bool client_connected() override {
    connection_.start_watch();
    return !connection_.peer_gone();
  }
  void on_disconnect(std::function<void()> callback) override {
    connection_.add_disconnect_callback(std::move(callback));
  }

  Connection::WriterState state() const { return state_; }
  bool keep_alive() const { return keep_alive_; }
  void fail() { state_ = Connection::WriterState::kFailed; }

 private:
  core::Error not_streaming_error() const {
    if (state_ == Connection::WriterState::kFailed) {
      return core::Error{core::ErrorCode::kCancelled, "response failed (client gone)"};
    }
    return core::Error{core::ErrorCode::kFailedPrecondition, "no stream started"};
  }
  core::Status not_streaming() const { return tl::unexpected(not_streaming_error()); }

  void start_head(int status, const Headers& headers) {
    if (headers.has_token("Connection", "close") || connection_.closing()) keep_alive_ = false;
    head_.clear();
    head_.reserve(256);
    head_.append("HTTP/1.1 ");
    head_.append(std::to_string(status));
    head_.push_back(' ');
    head_.append(reason_phrase(status));
    head_.append("\r\n");
    has_date_ = false;
    for (const auto& [name, value] : headers) {
      if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
          iequals(name, "Connection")) {
        continue;  // framing and connection management are ours
      }
      if (!safe_field(name) || !safe_field(value) || name.empty()) {
        core::log_warn("http server: dropped response header with CR/LF: " + name);
        continue;
      }
      if (iequals(name, "Date")) has_date_ = true;
      head_.append(name);
      head_.append(": ");
      head_.append(value);
      head_.append("\r\n");
    }
  }

  void finish_head() {
    if (!has_date_) {
      head_.append("Date: ");
      head_.append(cached_date());
      head_.append("\r\n");
    }
    const std::string& server_name = connection_.server()->options.server_name;
    if (!server_name.empty()) {
      head_.append("Server: ");
      head_.append(server_name);
      head_.append("\r\n");
    }
    if (!keep_alive_) {
      head_.append("Connection: close\r\n");
    } else if (http10_) {
      head_.append("Connection: keep-alive\r\n");
    }
    head_.append("\r\n");
  }

  Connection& connection_;
  bool head_only_;
  bool http10_;
  bool keep_alive_;
  bool chunked_ = false;
  bool no_body_ = false;
  bool has_date_ = false;
  Connection::WriterState state_ = Connection::WriterState::kNone;
  std::string head_;
  char chunk_head_[20];
};

Awaitable<void> Connection::serve() {
  const ServerOptions& options = server_->options;
  if (transport_.is_tls()) {
    watchdog_.arm_for(kHandshake, options.header_timeout);
    auto [ec] = co_await transport_.tls().async_handshake(asio::ssl::stream_base::server, kNoThrow);
    watchdog_.disarm();
    if (ec) {
      server_->counters.tls_failures++;
      if (core::log_enabled(core::LogLevel::kDebug)) {
        core::log_debug(
            "http server: TLS handshake with " + remote_.to_string() + " failed: " +
            detail::describe_handshake_failure(transport_.tls().native_handle(), ec.message()));
      }
      transport_.close();
      co_return;
    }
    peer_ = detail::peer_certificate(transport_.tls().native_handle());
  }

  bool first = true;
  std::size_t served = 0;
  while (!closing()) {
    if (!co_await read_request(first)) break;
    first = false;
    ++served;
    server_->counters.requests++;

    auto& message = parser_.message();
    ServerRequest request;
    request.method = std::move(message.method);
    if (auto s = request.set_target(std::move(message.target)); !s) {
      server_->counters.bad_requests++;
      co_await answer_error(400, s.error().message);
      break;
    }
    request.headers = std::move(message.headers);
    request.body = std::move(message.body);
    request.version = message.version;
    request.remote = remote_;
    request.tls = transport_.is_tls();
    request.peer_certificate = peer_;

    bool keep_alive = parser_.keep_alive() && (options.max_requests_per_connection == 0 ||
                                               served < options.max_requests_per_connection);
    ConnectionWriter writer(*this, request, keep_alive);
    handling_ = true;
    bool threw = false;
    try {
      co_await server_->handler(request, writer);
    } catch (const std::exception& e) {
      threw = true;
      server_->counters.handler_errors++;
      core::log_error("http server: handler for " + request.method + " " + request.target +
                      " threw: " + e.what());
    } catch (...) {
      threw = true;
      server_->counters.handler_errors++;
      core::log_error("http server: handler for " + request.method + " " + request.target +
                      " threw a non-standard exception");
    }
    handling_ = false;
    disconnect_callbacks_.clear();

    if (writer.state() == WriterState::kNone) {
      if (!threw) {
        core::log_warn("http server: handler for " + request.method + " " + request.path +
                       " sent no response");
      }
      co_await writer.send(Response::text(500, "internal server error\n"));
    } else if (writer.state() == WriterState::kStreaming) {
      if (threw) {
        // Ending the chunked body would make a truncated stream look complete.
        writer.fail();
      } else {
        co_await writer.end();
      }
    }
    if (writer.state() != WriterState::kDone || !writer.keep_alive() || peer_gone()) {
      // The client gone or the stream cut: nothing left to drain politely.
      linger_ = linger_ || (writer.state() == WriterState::kDone && !peer_gone());
      break;
    }
  }
  co_await shutdown();
}

// Reads one complete request into parser_. False when the connection should close (errors are
// answered here).
Awaitable<bool> Connection::read_request(bool first) {
  const ServerOptions& options = server_->options;
  parser_.reset(options.max_header_bytes, options.max_body_bytes);
  waiting_ = buffer_.empty();
  // The whole request must arrive within request_timeout of its first byte (the accept for a
  // connection's first request), whatever the pace: Envoy's request_timeout, Go's
  // Server.ReadTimeout (which covers the body). Without it a body trickled a byte at a time
  // would hold the connection forever, since each byte re-arms body_timeout.
  SteadyTime request_deadline = SteadyTime::max();
  auto start_request_clock = [&] {
    if (options.request_timeout > core::Duration::zero()) {
      request_deadline = SteadyClock::now() +
                         std::chrono::duration_cast<SteadyClock::duration>(options.request_timeout);
    }
  };
  auto arm = [&](int phase, core::Duration timeout) {
    SteadyTime deadline =
        SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(timeout);
    watchdog_.arm(phase, std::min(deadline, request_deadline));
  };
  // The first request's header must arrive within header_timeout of the accept (slow-loris);
  // later ones get idle_timeout to start and header_timeout from their first byte.
  if (first || !waiting_) {
    start_request_clock();
    arm(kHeader, options.header_timeout);
  } else {
    watchdog_.arm_for(kIdle, options.idle_timeout);
  }
  while (true) {
    ParseState state = ParseState::kNeedMore;
    if (!buffer_.empty()) {
      std::size_t consumed = 0;
      state = parser_.put(buffer_.data(), consumed);
      buffer_.consume(consumed);
    }
    if (state == ParseState::kDone) break;
    if (state == ParseState::kHeaderDone) {
      auto& headers = parser_.message().headers;
      if (headers.has_token("Expect", "100-continue") && !parser_.done() && buffer_.empty() &&
          parser_.message().version >= 11) {
        // RFC 9110 §10.1.1: the body is wanted (its size passed the limit check already).
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        auto status = co_await write_all(asio::buffer(kContinue.data(), kContinue.size()));
        if (!status) co_return false;
      }
      arm(kBody, options.body_timeout);
      continue;
    }
    if (state == ParseState::kError) {
      switch (parser_.error()) {
        case ParseError::kHeaderTooLarge:
          server_->counters.too_large++;
          co_await answer_error(431, "request header larger than " +
                                         std::to_string(options.max_header_bytes) + " bytes");
          break;
        case ParseError::kTrailerTooLarge:
          server_->counters.too_large++;
          co_await answer_error(431, "request " + parser_.error_message());
          break;
        case ParseError::kBodyTooLarge:
          server_->counters.too_large++;
          co_await answer_error(
              413, "request body larger than " + std::to_string(options.max_body_bytes) + " bytes");
          break;
        case ParseError::kNotImplemented:
          // RFC 9112 §6.1 (Go and Envoy answer 501 too); the body cannot be framed, so close.
          server_->counters.bad_requests++;
          co_await answer_error(501, parser_.error_message());
          break;
        case ParseError::kPartialMessage: break;
        default:
          // RFC 9112 §6.3: a request whose body length cannot be determined reliably gets 400
          // and the connection is closed (what follows is never parsed as a next request).
          server_->counters.bad_requests++;
          co_await answer_error(400, "malformed request: " + parser_.error_message());
          break;
      }
      co_return false;
    }
    if (closing() && waiting_) co_return false;
    error_code ec = co_await read_more();
    if (!ec) {
      if (waiting_ && !buffer_.empty()) {
        waiting_ = false;
        if (watchdog_.phase() == kIdle) {
          start_request_clock();
          arm(kHeader, options.header_timeout);
        }
      }
      // body_timeout bounds a stall: each read re-arms it (within request_deadline).
      if (parser_.header_done()) arm(kBody, options.body_timeout);
      continue;
    }
    int expired = watchdog_.expired();
    if (expired == kHeader) {
      server_->counters.header_timeouts++;
      co_await answer_error(
          408, "request header not received within " +
                   std::to_string(
                       std::chrono::duration_cast<std::chrono::milliseconds>(options.header_timeout)
                           .count()) +
                   "ms");
    } else if (expired == kBody) {
      server_->counters.body_timeouts++;
      if (SteadyClock::now() >= request_deadline) {
        co_await answer_error(
            408, "request not received within " +
                     std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        options.request_timeout)
                                        .count()) +
                     "ms");
      } else {
        co_await answer_error(
            408, "request body stalled for " +
                     std::to_string(
                         std::chrono::duration_cast<std::chrono::milliseconds>(options.body_timeout)
                             .count()) +
                     "ms");
      }
    } else if (expired == kIdle) {
      server_->counters.idle_timeouts++;
    }
    co_return false;
  }
  watchdog_.disarm();
  waiting_ = false;
  co_return true;
}

Awaitable<error_code> Connection::read_more() {
  if (watch_pending_) {
    // The background read started during the last handler is still out; its result is ours.
    main_waiting_ = true;
    read_signal_.expires_at(SteadyTime::max());
    co_await read_signal_.async_wait(kNoThrow);
    main_waiting_ = false;
    co_return watch_error_;
  }
  if (peer_gone_) co_return watch_error_ ? watch_error_ : error_code(asio::error::eof);
  auto [ec, n] = co_await transport_.async_read_some(buffer_.prepare(kReadChunk), kNoThrow);
  buffer_.commit(n);
  co_return ec;
}

Awaitable<void> Connection::answer_error(int status, std::string_view text) {
  if (core::log_enabled(core::LogLevel::kDebug)) {
    core::log_debug("http server: " + std::to_string(status) + " to " + remote_.to_string() + ": " +
                    std::string(text));
  }
  std::string response =
      "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason_phrase(status)) +
      "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
      std::to_string(text.size() + 1) + "\r\nDate: " + std::string(cached_date()) +
      "\r\nConnection: close\r\n\r\n" + std::string(text) + "\n";
  auto status_sent = co_await write_all(asio::buffer(response));
  // Unread input may remain (a body we refused): half-close and drain so the client reads our
  // answer instead of a reset.
  linger_ = static_cast<bool>(status_sent);
}

Awaitable<void> Connection::shutdown() {
  if (!transport_.is_open()) co_return;
  if (linger_ && !watch_pending_ && !peer_gone()) {
    error_code ec;
    transport_.socket().shutdown(tcp::socket::shutdown_send, ec);
    watchdog_.arm_for(kLinger, kLingerTime);
    std::size_t drained = 0;
    while (drained < kLingerBytes) {
      auto [read_ec, n] =
          co_await transport_.socket().async_read_some(asio::buffer(watch_buffer_), kNoThrow);
      if (read_ec) break;
      drained += n;
    }
    watchdog_.disarm();
  }
  transport_.close();
}

}  // namespace

void detail::start_connection(const std::shared_ptr<ServerState>& state, tcp::socket socket) {
  auto connection = std::make_shared<Connection>(state, std::move(socket));
  state->add(connection);
  asio::co_spawn(
      connection->executor(), Connection::run(connection), [](const std::exception_ptr& e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          core::log_error(std::string("http server: connection coroutine failed: ") + ex.what());
        } catch (...) {
          core::log_error("http server: connection coroutine failed");
        }
      });
}

}  // namespace llmscale::net
