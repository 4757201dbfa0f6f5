// HTTP/1.1 client on coroutines: a keep-alive connection pool per (scheme, host, port) with a
// per-host cap, TLS (CA, client certificate, SNI, insecure mode), four timeouts, size limits,
// gzip decoding, and streaming responses with per-read arrival times (TTFT and inter-token
// latency measurement).
//
//   net::ClientOptions options;
//   options.connect_timeout = 2s;
//   net::HttpClient client(loop, options);
//   auto response = co_await client.request(net::Request::get("http://127.0.0.1:9090/metrics"));
//   if (!response) log_warn(response.error().to_string());
//
// Timeouts: connect (DNS + TCP + TLS handshake), response head (from sending the request to
// the end of the response header), idle (between two body reads), total (the whole exchange,
// including waiting for a pooled connection). Zero disables one. Per-request overrides are in
// Request.
//
// Errors carry a code and a message that starts with a fixed kind, so callers can both branch
// and log: client_error_kind() recovers it. Kinds and codes:
//   "invalid request"        kInvalidArgument   (bad URL, bad header)
//   "dns"                    kUnavailable       (name does not resolve)
//   "connection refused"     kUnavailable
//   "unreachable"            kUnavailable       (no route / network down)
//   "connect timeout"        kDeadlineExceeded  (also "tls handshake timeout")
//   "tls"                    kUnavailable       (handshake or verification failed;
//                                                kInvalidArgument for bad TLS configuration)
//   "response head timeout"  kDeadlineExceeded
//   "idle timeout"           kDeadlineExceeded
//   "total timeout"          kDeadlineExceeded
//   "connection reset"       kUnavailable       (peer reset or closed mid-exchange)
//   "malformed response"     kUnavailable
//   "response too large"     kResourceExhausted (header or body over the limit)
//   "cancelled"              kCancelled         (ClientStream::cancel, client destroyed)
//
// Idempotent requests (GET, HEAD, OPTIONS, PUT, DELETE) that fail on a reused keep-alive
// connection before any response byte arrives are retried once on a new connection (the server
// may have closed it while idle), as Go's Transport does.
//
// Thread-safety: an HttpClient may be used by any number of coroutines at once, on any thread
// of its loop. With a multi-threaded loop each exchange runs on the strand of its connection.
// A ClientStream is used by one coroutine at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/time.h"
#include "net/event_loop.h"
#include "net/http.h"
#include "net/tls.h"

namespace llmscale::net {

namespace detail {
struct ClientShared;
struct Exchange;
}  // namespace detail

struct ClientOptions {
  TlsClientOptions tls;
  core::Duration connect_timeout = std::chrono::seconds(10);
  core::Duration response_head_timeout = std::chrono::seconds(30);
  core::Duration idle_timeout = std::chrono::seconds(60);
  core::Duration total_timeout = core::Duration::zero();
  // Connections (in use + idle + connecting) per scheme://host:port; further requests wait.
  std::size_t max_connections_per_host = 256;
  // Idle keep-alive connections older than this are not reused.
  core::Duration pool_idle_timeout = std::chrono::seconds(90);
  std::size_t max_header_bytes = 64 * 1024;
  // request(): bodies (after gzip decoding) beyond this fail with kResourceExhausted.
  // open(): no limit unless the Request sets one.
  std::size_t max_body_bytes = 64 * 1024 * 1024;
  // When a request carries `Accept-Encoding: gzip` and the response is gzip-encoded, decode it
  // (and drop Content-Encoding / Content-Length from the returned headers).
  bool decode_gzip = true;
  std::string user_agent = "llmscale";
};

// Aborts an exchange from outside it, at any stage: before it starts, while it connects or
// waits for the response head (which ClientStream::cancel cannot reach: open() has not returned
// yet), or while the body streams. A proxy whose own client went away sets one in
// Request::cancel and calls cancel() from ResponseWriter::on_disconnect. The exchange then fails
// with "cancelled" (kCancelled) and its connection is closed, so the upstream server sees the
// disconnect. Cancelling after the exchange finished does nothing.
//
// Thread-safety: cancel() may be called from any thread; with a multi-threaded loop it takes
// effect on the exchange's strand shortly after. One signal may serve several exchanges in turn
// (retries); cancel() reaches the one attached last.
class CancelSignal {
 public:
  void cancel();
  bool cancelled() const;

  // For HttpClient: registers how to abort the current exchange. Returns false (and keeps
  // nothing) when cancel() was already called.
  bool attach(std::function<void()> abort);

 private:
  mutable std::mutex mutex_;
  bool cancelled_ = false;
  std::function<void()> abort_;
};

// A piece of a response body as it came off the socket.
struct BodyChunk {
  std::string data;
  // When the read that delivered these bytes completed (steady clock, nanoseconds).
  std::chrono::steady_clock::time_point received_at;
};

// A response whose head has arrived and whose body is read piece by piece.
class ClientStream {
 public:
  ClientStream();
  ~ClientStream();  // an unfinished body closes the connection (it is not reused)
  ClientStream(ClientStream&&) noexcept;
  ClientStream& operator=(ClientStream&&) noexcept;

  int status() const;
  const Headers& headers() const;
  // When the request was handed to the connection, and when the response head was complete.
  std::chrono::steady_clock::time_point sent_at() const;
  std::chrono::steady_clock::time_point head_received_at() const;

  // The body bytes that arrive next (decoded from chunked framing, and from gzip when decoding
  // applies). An empty chunk means the body is complete (done() is then true). Bytes that came
  // in the same read as the head are returned first, stamped with the head's time.
  Awaitable<core::Result<BodyChunk>> read_chunk();
  // The rest of the body, up to `max_bytes` (kResourceExhausted beyond).
  Awaitable<core::Result<std::string>> read_all(std::size_t max_bytes = 64 * 1024 * 1024);
  bool done() const;
  // Aborts the exchange: a pending or later read_chunk() fails with kCancelled and the
  // connection is closed. May be called from any coroutine or callback on the loop (e.g. a
  // proxy's ResponseWriter::on_disconnect) while another coroutine waits in read_chunk(); with
  // a multi-threaded loop it takes effect on the exchange's strand shortly after.
  void cancel();

  // For HttpClient (the exchange type is internal).
  explicit ClientStream(std::shared_ptr<detail::Exchange> exchange);

 private:
  std::shared_ptr<detail::Exchange> exchange_;
};

struct ClientStats {
  std::uint64_t requests = 0;
  std::uint64_t connections_opened = 0;
  std::uint64_t connections_reused = 0;
  std::uint64_t retries = 0;
  std::size_t idle_connections = 0;
};

class HttpClient {
 public:
  explicit HttpClient(EventLoop& loop, ClientOptions options = {});
  // Closes idle connections. Exchanges in progress keep what they need alive.
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // The whole response, body included.
  Awaitable<core::Result<Response>> request(Request request);
  // The response head; the body is read from the returned stream.
  Awaitable<core::Result<ClientStream>> open(Request request);

  // Builds the TLS context now (it is otherwise built on the first https request), so a bad CA
  // or key file is reported at startup.
  core::Status check_tls_config();
  void close_idle_connections();
  ClientStats stats() const;

 private:
  std::shared_ptr<detail::ClientShared> shared_;
};

// The kind at the start of an HttpClient error message ("connect timeout"), or "" when the
// error did not come from HttpClient.
std::string_view client_error_kind(const core::Error& error);

}  // namespace llmscale::net
