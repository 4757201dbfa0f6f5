// HTTP/1.1 server on coroutines: keep-alive, pipelining, chunked streaming with backpressure,
// optional TLS and client-certificate verification, limits that answer properly, graceful stop.
//
// A Handler is a coroutine `Awaitable<void>(ServerRequest&, ResponseWriter&)`; it answers with
// ResponseWriter::send(), or streams with begin_stream()/write()/end() (SSE: begin_sse() and
// send_event()). Both references stay valid until the handler's coroutine finishes. Requests
// on one connection are handled one after another (pipelined requests wait their turn).
//
// Limits and their answers: header larger than max_header_bytes -> 431; body larger than
// max_body_bytes -> 413 (before reading it, also for `Expect: 100-continue`); the whole header
// not received within header_timeout of the connection opening or of its first byte (a
// slow-loris client) -> 408 and close; a keep-alive connection idle for idle_timeout -> closed
// silently; a body stalled for body_timeout, or a request (header and body) not complete within
// request_timeout of its first byte (a body trickled in) -> 408 and close; a write the client
// does not drain for
// write_timeout -> connection closed (the writing handler gets an error); more than
// max_connections open -> 503 and close. A malformed request, or one whose body length is not
// reliably framed (RFC 9112 §6.3: a Transfer-Encoding not ending in chunked, Content-Length with
// Transfer-Encoding, conflicting lengths...) -> 400 and close; a transfer coding other than
// chunked ("gzip, chunked") -> 501 and close. See src/net/README.md, "Message framing".
//
// Ownership and threads: HttpServer is created, started, stopped and destroyed on the loop's
// thread (any thread before the loop runs). Connections share the server's state, so
// destroying the HttpServer closes everything without waiting. With a multi-threaded loop each
// connection (and its handler invocations) runs on its own strand; handlers of different
// connections may run concurrently.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "net/event_loop.h"
#include "net/http.h"
#include "net/sse.h"
#include "net/tls.h"
#include "net/url.h"

namespace llmscale::net {

namespace detail {
struct ServerState;
}

struct ServerOptions {
  // Address to bind: "127.0.0.1", "0.0.0.0", "::", "::1". Port 0 picks a free port (read it
  // back with HttpServer::port()).
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;
  std::optional<TlsServerOptions> tls;

  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  core::Duration header_timeout = std::chrono::seconds(10);
  // The longest pause between two reads of a request body.
  core::Duration body_timeout = std::chrono::seconds(30);
  // The whole request, header and body, must arrive within this of its first byte (of the
  // accept for a connection's first request), however steadily it trickles in: Envoy's
  // request_timeout, Go's Server.ReadTimeout. 60 s takes an 8 MiB body (max_body_bytes) at
  // 140 KB/s. 0 disables.
  core::Duration request_timeout = std::chrono::seconds(60);
  core::Duration idle_timeout = std::chrono::seconds(60);
  core::Duration write_timeout = std::chrono::seconds(30);
  std::size_t max_connections = 10000;
  // 0 = unlimited requests per connection.
  std::size_t max_requests_per_connection = 0;
  int listen_backlog = 1024;
  // Sent as the Server header when non-empty.
  std::string server_name;
};

// One parsed request. A plain value, so handler tests can build one with set_target().
struct ServerRequest {
  std::string method;
  std::string target;     // the raw request-target
  std::string raw_path;   // target without the query, as sent
  std::string path;       // raw_path percent-decoded
  std::string raw_query;  // without '?'
  QueryParams query;      // decoded; malformed pairs dropped (Go's URL.Query())
  Headers headers;
  std::string body;
  int version = 11;  // 10 or 11
  Endpoint remote;
  bool tls = false;
  // The client certificate when one was presented over TLS, else null.
  std::shared_ptr<const PeerCertificate> peer_certificate;
  // Filled by Router for `{name}` segments, decoded.
  std::vector<std::pair<std::string, std::string>> path_params;

  // Sets target, raw_path, path, raw_query and query from a request-target (origin form
  // "/a/b?x=1", absolute form "http://h/a", or "*"). kInvalidArgument for a bad escape in the
  // path or any other form.
  core::Status set_target(std::string request_target);

  std::string_view header(std::string_view name) const { return headers.value(name); }
  std::optional<std::string_view> path_param(std::string_view name) const;
  // Query parameters followed by the fields of an application/x-www-form-urlencoded body
  // (Go's Request.Form; Prometheus' API accepts both).
  QueryParams form() const;
};

// How a handler answers. Implemented by the server's connections and by
// RecordingResponseWriter (net/recording_writer.h) for handler unit tests.
//
// Every operation returns an error once the client is gone or a write timed out; handlers
// should stop then. Writes complete when the bytes are handed to the kernel, so a slow client
// slows the writer down (backpressure) instead of growing a buffer.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;

  // A complete response; Content-Length is set from the body. REQUIRES: nothing sent yet.
  virtual Awaitable<core::Status> send(Response response) = 0;
  // Starts a streamed response (chunked; close-delimited for HTTP/1.0 clients).
  virtual Awaitable<core::Status> begin_stream(int status, Headers headers) = 0;
  // Sends `data` as one chunk; empty data sends nothing. `data` must stay valid until the
  // returned awaitable completes. REQUIRES: begin_stream() succeeded.
  virtual Awaitable<core::Status> write(std::string_view data) = 0;
  // Finishes a streamed response. The server calls it if the handler returns without.
  virtual Awaitable<core::Status> end() = 0;
  // Breaks the response off: the connection closes now, without the last chunk of a streamed
  // body (a close-delimited HTTP/1.0 body ends with a reset), so the client sees a truncated
  // response, never a complete one; with nothing sent yet it gets no response at all. For a
  // handler whose source failed mid-body (Go's ReverseProxy panics with http.ErrAbortHandler for
  // the same effect). Later operations fail. No effect once the response is complete.
  virtual void abort() = 0;

  // True once the status line has been sent.
  virtual bool head_sent() const = 0;
  // Whether the client is still connected. Detection runs in the background once this or
  // on_disconnect() is called, or a stream began; before that it reports true.
  virtual bool client_connected() = 0;
  // Calls `callback` (on the connection's executor) when the client disconnects while the
  // handler runs, or right away if it already has. Never called after the handler finished.
  virtual void on_disconnect(std::function<void()> callback) = 0;

  // SSE: 200 with text/event-stream, no caching, and no proxy buffering (X-Accel-Buffering).
  Awaitable<core::Status> begin_sse(Headers headers = {});
  Awaitable<core::Status> send_event(const SseEvent& event);
  // An unnamed event with this data ("data: ...\n\n"): OpenAI-style token chunks.
  Awaitable<core::Status> send_data(std::string_view data);
  // A comment (keep-alive).
  Awaitable<core::Status> send_comment(std::string_view text);

 private:
  std::string sse_buffer_;
};

using Handler = std::function<Awaitable<void>(ServerRequest&, ResponseWriter&)>;

struct ServerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_rejected = 0;  // over max_connections
  std::uint64_t requests = 0;
  std::uint64_t header_timeouts = 0;  // 408 for a slow header
  std::uint64_t body_timeouts = 0;    // 408 for a stalled body or request_timeout
  std::uint64_t idle_timeouts = 0;
  std::uint64_t write_timeouts = 0;
  std::uint64_t bad_requests = 0;  // 400 (and 501 for an unsupported transfer coding)
  std::uint64_t too_large = 0;     // 413 and 431
  std::uint64_t tls_handshake_failures = 0;
  std::uint64_t handler_errors = 0;  // exceptions escaping handlers
  std::size_t active_connections = 0;
};

class HttpServer {
 public:
  HttpServer(EventLoop& loop, ServerOptions options);
  // Closes the listener and every connection at once (see close()).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts accepting. Errors: kInvalidArgument for a bad address or TLS
  // configuration, kUnavailable when the address cannot be bound.
  core::Status start(Handler handler);

  // The bound port (after start()).
  std::uint16_t port() const;
  // "http://127.0.0.1:PORT" + path ("https://" with TLS); the wildcard address maps to loopback.
  std::string url(std::string_view path = "/") const;

  // Graceful stop: stops accepting, closes idle keep-alive connections, lets requests in
  // progress finish (their responses carry Connection: close) until `grace` has passed, then
  // closes what is left. Completes when every connection is closed.
  Awaitable<void> stop(core::Duration grace = std::chrono::seconds(10));
  // Immediate stop: closes the listener and all connections (in-flight handlers see errors).
  void close();

  ServerStats stats() const;

 private:
  std::shared_ptr<detail::ServerState> state_;
};

}  // namespace llmscale::net
