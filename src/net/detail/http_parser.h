// HTTP/1.1 message parsers (Beast's basic_parser underneath), behind a Boost-free interface so
// that only http_parser.cc compiles Beast.
//
// Message framing follows RFC 9112 §6 strictly (request smuggling, response splitting): a
// Transfer-Encoding must end in exactly one `chunked` and come without Content-Length, the
// Content-Length fields must agree and be plain digits, chunk lines and trailer sections are
// bounded, and trailer fields are discarded rather than merged into the header. The rules and
// their sources are listed in src/net/README.md ("Message framing"); check_framing() is the
// header-level part.
//
// Incremental: put() consumes what it can from the caller's buffer (the caller keeps the rest
// and calls again with more bytes). Parsing pauses once after the header so the server can
// answer `Expect: 100-continue` and the client can hand out the response head.
// Single-threaded values; reset() starts the next message on the same connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "net/http.h"

namespace llmscale::net::detail {

enum class ParseState {
  kNeedMore,    // give more bytes (or put_eof)
  kHeaderDone,  // the header is complete; call put() again for the body
  kDone,        // the message is complete
  kError,
};

enum class ParseError {
  kNone,
  kHeaderTooLarge,
  kBodyTooLarge,
  kTrailerTooLarge,  // the chunked body's trailer section is larger than the header limit
  kBadMessage,
  kNotImplemented,  // a request transfer coding we do not decode ("gzip, chunked"): 501
  kPartialMessage,  // the peer closed in the middle of a message
};

// The longest chunk-size line (size, extensions, CRLF) accepted: Go's net/http/internal
// maxLineLength. Longer lines are malformed (they would otherwise be buffered without bound).
inline constexpr std::size_t kMaxChunkLineBytes = 4096;

struct FramingError {
  ParseError error = ParseError::kBadMessage;
  std::string message;
};

// Checks the framing fields of a complete header (RFC 9112 §6.1-6.3), as the parsers do before
// reading any body; nullopt when the framing is sound. `is_request` selects the request rules
// (400 or 501) over the response ones (always kBadMessage: the client gives up on the response).
// Collapses repeated identical Content-Length fields to one, as Go does.
std::optional<FramingError> check_framing(Headers& headers, bool is_request, int version);

struct ParsedMessage {
  // Request line (requests) or status line (responses).
  std::string method;
  std::string target;
  int status = 0;
  int version = 11;  // 10 or 11
  Headers headers;
  // Requests: the whole body. Responses: the body bytes parsed since the caller last took
  // them (the client drains this after every put()).
  std::string body;
};

class RequestParser {
 public:
  RequestParser();
  ~RequestParser();

  void reset(std::size_t max_header_bytes, std::size_t max_body_bytes);
  ParseState put(std::string_view data, std::size_t& consumed);
  ParseState put_eof();

  bool got_some() const;
  bool header_done() const;
  bool done() const;
  bool keep_alive() const;
  std::optional<std::uint64_t> content_length() const;
  ParseError error() const { return error_; }
  const std::string& error_message() const { return error_message_; }
  ParsedMessage& message();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ParseError error_ = ParseError::kNone;
  std::string error_message_;
};

class ResponseParser {
 public:
  ResponseParser();
  ~ResponseParser();

  // `head_request`: the response to HEAD has no body whatever its headers say.
  // `max_body_bytes` 0 means unlimited.
  void reset(std::size_t max_header_bytes, std::size_t max_body_bytes, bool head_request);
  ParseState put(std::string_view data, std::size_t& consumed);
  ParseState put_eof();

  bool got_some() const;
  bool header_done() const;
  bool done() const;
  bool keep_alive() const;
  bool chunked() const;
  // The body runs until the server closes the connection (no length, not chunked).
  bool need_eof() const;
  ParseError error() const { return error_; }
  const std::string& error_message() const { return error_message_; }
  ParsedMessage& message();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ParseError error_ = ParseError::kNone;
  std::string error_message_;
};

}  // namespace llmscale::net::detail
