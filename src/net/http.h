// HTTP/1.1 value types shared by the server and the client: header lists, requests, responses.
//
// Plain values with no I/O and no Boost: other modules build and inspect them freely (and unit
// test handlers with them, see net/recording_writer.h). Header names compare
// case-insensitively (RFC 9110 §5.1); field order and repeated fields are kept as received.
// Not thread-safe; copy or move between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time.h"

namespace llmscale::net {

class CancelSignal;  // net/client.h

// ASCII case-insensitive equality (header names, tokens, schemes).
bool iequals(std::string_view a, std::string_view b);

// An ordered, multi-valued list of header fields with case-insensitive names.
class Headers {
 public:
  using Field = std::pair<std::string, std::string>;
  using const_iterator = std::vector<Field>::const_iterator;

  Headers() = default;
  Headers(std::initializer_list<Field> fields) : fields_(fields) {}

  // Appends a field (a repeated name keeps every value).
  void add(std::string_view name, std::string_view value);
  // Replaces every field called `name` by one field.
  void set(std::string_view name, std::string_view value);
  // Removes every field called `name`; returns how many were removed.
  std::size_t remove(std::string_view name);

  // The first value of `name`, or nullopt.
  std::optional<std::string_view> get(std::string_view name) const;
  // The first value of `name`, or "" when absent.
  std::string_view value(std::string_view name) const;
  std::vector<std::string_view> get_all(std::string_view name) const;
  bool contains(std::string_view name) const;
  // True when any `name` field holds `token` in its comma-separated list, ignoring case
  // ("Connection: keep-alive, Upgrade" has the token "upgrade").
  bool has_token(std::string_view name, std::string_view token) const;

  const_iterator begin() const { return fields_.begin(); }
  const_iterator end() const { return fields_.end(); }
  std::size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  void clear() { fields_.clear(); }
  void reserve(std::size_t n) { fields_.reserve(n); }

 private:
  std::vector<Field> fields_;
};

// A client request (HttpClient::request / open). `url` is absolute: http://host[:port]/path?q.
// The client adds Host, Content-Length and User-Agent unless given. The optional limits override
// ClientOptions for this request only.
struct Request {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;

  std::optional<core::Duration> total_timeout;
  std::optional<core::Duration> response_head_timeout;
  std::optional<core::Duration> idle_timeout;
  std::optional<std::size_t> max_body_bytes;
  // When set, CancelSignal::cancel() aborts the exchange at any stage, also while it still
  // waits for the response head (see net/client.h).
  std::shared_ptr<CancelSignal> cancel;

  // Shorthands (g++ 12 warns about designated initializers that leave members out).
  static Request get(std::string url);
  static Request post(std::string url, std::string body, std::string_view content_type = "");
};

// A complete response: what a handler sends, or what HttpClient::request returns.
//
// The body is either owned (`body`) or shared (`shared_body`, set by set_shared_body()): the
// server writes a shared body from where it lies, so one rendered answer (an answer cache's
// entry) goes to any number of clients without a copy. Responses HttpClient returns always own
// their body.
struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // When set, the bytes sent instead of `body` (which stays empty). Immutable: other responses
  // may be sending the same bytes at the same time.
  std::shared_ptr<const std::string> shared_body;

  // The body's bytes, shared or owned.
  std::string_view payload() const { return shared_body ? *shared_body : std::string_view(body); }

  // `body` with Content-Type "text/plain; charset=utf-8".
  static Response text(int status, std::string body);
  // `body` (already JSON) with Content-Type "application/json".
  static Response json(int status, std::string body);
};

// A response body rendered once and sent many times, as is or gzip-encoded. The gzip form is
// compressed by the first response that asks for it and kept for every later one, so a body
// shared by many responses is compressed once. Immutable once built (the gzip form is made at
// most once, under a once_flag): share it between threads as std::shared_ptr<const SharedBody>.
class SharedBody : public std::enable_shared_from_this<SharedBody> {
 public:
  explicit SharedBody(std::string bytes) : bytes_(std::move(bytes)) {}
  SharedBody(const SharedBody&) = delete;
  SharedBody& operator=(const SharedBody&) = delete;

  const std::string& bytes() const { return bytes_; }
  // The plain bytes as a Response::shared_body (keeps this SharedBody alive).
  std::shared_ptr<const std::string> plain() const;
  // The gzip form (one member, zlib level 1 as Kubernetes' API servers compress), made on the
  // first call from any thread; later calls return the same bytes.
  std::shared_ptr<const std::string> gzipped() const;

 private:
  std::string bytes_;
  mutable std::once_flag gzip_once_;
  mutable std::string gzip_;
};

// Kubernetes' API response compression (k8s.io/apiserver responsewriters, feature
// APIResponseCompression, on by default): bodies over 128 KiB are gzip-encoded for a request
// whose Accept-Encoding lists the token "gzip".
inline constexpr std::size_t kApiServerGzipThresholdBytes = 128 * 1024;

// Whether a request's Accept-Encoding lists "gzip", as Kubernetes' negotiateContentEncoding
// reads it: a comma-separated element that is exactly "gzip" once trimmed (so "gzip;q=0.5"
// does not count, nor "GZIP").
bool accepts_gzip(const Headers& request_headers);

// Makes `body` the body of `response` without copying it: its gzip form, with
// Content-Encoding: gzip and Vary: Accept-Encoding, when the request accepts gzip and the body
// is over `gzip_threshold` bytes, else the plain bytes.
void set_shared_body(Response& response, const std::shared_ptr<const SharedBody>& body,
                     const Headers& request_headers,
                     std::size_t gzip_threshold = kApiServerGzipThresholdBytes);

// A network peer or listening address; IPv6 addresses are stored without brackets.
struct Endpoint {
  std::string address;
  std::uint16_t port = 0;

  // "127.0.0.1:8080", "[::1]:8080".
  std::string to_string() const;
};

// The reason phrase for a status code ("Not Found"); "Unknown" for codes without one.
std::string_view reason_phrase(int status);

// Hop-by-hop fields a proxy must not forward (RFC 9110 §7.6.1): Connection, Keep-Alive,
// Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade, Proxy-Authenticate,
// Proxy-Authorization.
bool is_hop_by_hop_header(std::string_view name);

// The current time as an IMF-fixdate for the Date header ("Sun, 06 Nov 1994 08:49:37 GMT").
std::string http_date(core::Time time);

}  // namespace llmscale::net
