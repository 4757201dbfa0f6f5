// HttpClient: writing requests and reading response heads (with the stale keep-alive retry),
// the public API, and hopping onto a strand on multi-threaded loops. The pool lives in
// client_pool.cc, body reading in client_exchange.cc.
#include "net/client.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>

#include "net/detail/client_internal.h"

namespace llmscale::net {

using detail::error_code;
using detail::kNoThrow;
using detail::ParseError;
using detail::ParseState;
using detail::SteadyClock;
using detail::SteadyTime;
namespace asio = boost::asio;

namespace {

constexpr std::string_view kKinds[] = {"invalid request",
                                       "dns",
                                       "connection refused",
                                       "unreachable",
                                       "connect timeout",
                                       "tls handshake timeout",
                                       "tls",
                                       "response head timeout",
                                       "idle timeout",
                                       "total timeout",
                                       "connection reset",
                                       "malformed response",
                                       "response too large",
                                       "cancelled"};

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

using detail::ClientShared;
using detail::Exchange;
using detail::kHead;
using detail::kIdle;
using detail::PooledConnection;
using detail::steady;

namespace {

// ---------------------------------------------------------------------------------------------
// Starting an exchange: connection, request, response head

std::string serialize_request(const Request& request, const Url& url,
                              const ClientOptions& options) {
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

// Marks the exchange cancelled and closes its connection (a pending read or write fails);
// nothing once it is done. With several loop threads the exchange lives on its own strand;
// join it there.
void abort_exchange(const std::shared_ptr<Exchange>& exchange) {
  auto abort = [ex = exchange] {
    if (ex->done) return;
    ex->cancelled = true;
    if (ex->connection) ex->connection->transport.close();
  };
  if (exchange->shared->loop.threads() > 1) {
    asio::post(exchange->executor, std::move(abort));
  } else {
    abort();
  }
}

Awaitable<core::Result<std::shared_ptr<Exchange>>> start_exchange(
    std::shared_ptr<ClientShared> shared, Request request, std::size_t max_body) {
  const ClientOptions& options = shared->options;
  shared->requests++;
  auto executor = co_await asio::this_coro::executor;
  auto ex = std::make_shared<Exchange>(shared, executor);
  ex->method = request.method;
  ex->url_text = request.url;
  if (request.cancel) {
    std::weak_ptr<Exchange> weak = ex;
    bool attached = request.cancel->attach([weak] {
      if (auto exchange = weak.lock()) abort_exchange(exchange);
    });
    if (!attached)
      co_return tl::unexpected(ex->error("cancelled", core::ErrorCode::kCancelled, ""));
  }
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
    if (ex->cancelled) {  // cancelled while connecting or waiting for a pooled connection
      auto e = ex->error("cancelled", core::ErrorCode::kCancelled, "");
      ex->fail(e);
      co_return tl::unexpected(e);
    }
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
      auto [ec, n] = co_await conn.transport.async_read_some(
          conn.buffer.prepare(detail::kClientReadChunk), kNoThrow);
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
  co_return tl::unexpected(
      ex->error("connection reset", core::ErrorCode::kUnavailable, "retry failed"));
}

template <class T>
Awaitable<T> on_strand(const std::shared_ptr<ClientShared>& shared, Awaitable<T> task) {
  if (shared->loop.threads() > 1) {
    co_return co_await asio::co_spawn(asio::make_strand(detail::io_context_of(shared->loop)),
                                      std::move(task), asio::use_awaitable);
  }
  co_return co_await std::move(task);
}

Awaitable<core::Result<Response>> do_request(std::shared_ptr<ClientShared> shared,
                                             Request request) {
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

int ClientStream::status() const {
  return exchange_ ? exchange_->status : 0;
}
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
bool ClientStream::done() const {
  return !exchange_ || (exchange_->done && exchange_->pending.empty());
}

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
      co_return core::make_error(
          core::ErrorCode::kResourceExhausted,
          "response too large: body exceeds " + std::to_string(max_bytes) + " bytes");
    }
    body += chunk->data;
  }
}

void ClientStream::cancel() {
  if (exchange_) abort_exchange(exchange_);
}

void CancelSignal::cancel() {
  std::function<void()> abort;
  {
    std::lock_guard lock(mutex_);
    if (cancelled_) return;
    cancelled_ = true;
    abort = std::move(abort_);
    abort_ = nullptr;
  }
  if (abort) abort();
}

bool CancelSignal::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

bool CancelSignal::attach(std::function<void()> abort) {
  std::lock_guard lock(mutex_);
  if (cancelled_) return false;
  abort_ = std::move(abort);
  return true;
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
