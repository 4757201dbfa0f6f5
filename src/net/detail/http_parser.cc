// HTTP/1.1 parsers on Beast's basic_parser (RFC 9112 framing, chunked decoding, limits).
//
// Beast 1.81 frames most messages right but not all: it ignores a Transfer-Encoding that does
// not end in `chunked` (so a request's body would be parsed as the next request: smuggling),
// accepts "Content-Length: 5, 5", merges trailer fields into the header, and buffers a chunk
// line or trailer section without bound. check_framing() and the hooks below close those gaps.
#include "net/detail/http_parser.h"

#include <cctype>
#include <limits>
#include <vector>

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include "core/strings.h"

namespace llmscale::net::detail {

namespace http = boost::beast::http;
using boost::beast::error_code;
using boost::beast::string_view;

namespace {

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::optional<FramingError> framing_error(ParseError error, std::string message) {
  return FramingError{error, std::move(message)};
}

}  // namespace

std::optional<FramingError> check_framing(Headers& headers, bool is_request, int version) {
  // Content-Length = 1*DIGIT (RFC 9110 §8.6). Go's parseContentLength takes nothing else, so a
  // list ("5, 5") or a sign is malformed; repeated fields must be identical (Go compares the
  // text) and are collapsed to one, as Go does.
  std::vector<std::string_view> lengths = headers.get_all("Content-Length");
  for (std::string_view length : lengths) {
    if (!all_digits(length)) return framing_error(ParseError::kBadMessage, "bad Content-Length");
    if (length != lengths.front()) {
      return framing_error(ParseError::kBadMessage, "conflicting Content-Length fields");
    }
  }
  if (lengths.size() > 1) {
    std::string first(lengths.front());
    headers.set("Content-Length", first);
  }

  std::vector<std::string_view> fields = headers.get_all("Transfer-Encoding");
  if (fields.empty()) return std::nullopt;
  // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing. (Go ignores
  // the field in HTTP/1.0 and frames by Content-Length; rejecting cannot be smuggled past.)
  if (version < 11) {
    return framing_error(ParseError::kBadMessage, "Transfer-Encoding in an HTTP/1.0 message");
  }
  // RFC 9112 §6.3 ¶3: both fields "ought to be handled as an error" (request smuggling); Envoy
  // rejects such messages by default, Beast does when the coding is chunked.
  if (!lengths.empty()) {
    return framing_error(ParseError::kBadMessage,
                         "both Transfer-Encoding and Content-Length present");
  }
  // transfer-coding list (RFC 9110 §5.6.1: empty elements do not count), over every field.
  std::vector<std::string_view> codings;
  for (std::string_view field : fields) {
    for (std::string_view part : core::split(field, ',')) {
      part = core::trim(part);
      if (!part.empty()) codings.push_back(part);
    }
  }
  // RFC 9112 §6.3 ¶4: a request whose final coding is not chunked has no reliable length:
  // 400 and close. (For a response the RFC reads to the close, but we decode no other coding,
  // so, like Go's Transport, the response is refused.) The values are never echoed back.
  if (codings.empty() || !iequals(codings.back(), "chunked")) {
    return framing_error(ParseError::kBadMessage, "Transfer-Encoding does not end in chunked");
  }
  // RFC 9112 §6.1: chunked must not be applied more than once.
  for (std::size_t i = 0; i + 1 < codings.size(); ++i) {
    if (iequals(codings[i], "chunked")) {
      return framing_error(ParseError::kBadMessage, "chunked applied more than once");
    }
  }
  // "gzip, chunked": framed soundly, but we decode no other transfer coding. RFC 9112 §6.1 says
  // 501 for a request (Go and Envoy answer 501 for any coding but chunked).
  if (codings.size() > 1) {
    return framing_error(is_request ? ParseError::kNotImplemented : ParseError::kBadMessage,
                         "unsupported transfer coding");
  }
  return std::nullopt;
}

namespace {

template <bool isRequest>
class MessageParser final : public http::basic_parser<isRequest> {
 public:
  explicit MessageParser(ParsedMessage& message) : message_(message) {}

  // Set when one of our checks (not Beast's) failed the message.
  const std::optional<FramingError>& framing_error() const { return framing_error_; }
  void fail(FramingError error) { framing_error_ = std::move(error); }

 private:
  void on_request_impl(http::verb, string_view method, string_view target, int version,
                       error_code&) override {
    message_.method.assign(method.data(), method.size());
    message_.target.assign(target.data(), target.size());
    message_.version = version;
  }
  void on_response_impl(int code, string_view, int version, error_code& ec) override {
    // Beast takes any three digits; RFC 9110 §15 status codes run from 100 to 599 (we accept
    // up to 999 as extensions).
    if (code < 100) ec = http::error::bad_status;
    message_.status = code;
    message_.version = version;
  }
  void on_field_impl(http::field, string_view name, string_view value, error_code&) override {
    // Beast reports trailer fields here too. RFC 9110 §6.5.1: they must not be merged into the
    // header section; RFC 9112 §7.1.2 lets a recipient discard them (nothing here reads them;
    // Go keeps them apart in Request.Trailer).
    if (header_done_) return;
    message_.headers.add(std::string_view(name.data(), name.size()),
                         std::string_view(value.data(), value.size()));
  }
  void on_header_impl(error_code& ec) override {
    header_done_ = true;
    framing_error_ = check_framing(message_.headers, isRequest, message_.version);
    if (framing_error_) ec = http::error::bad_transfer_encoding;
  }
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
    if (isRequest && length) message_.body.reserve(static_cast<std::size_t>(*length));
  }
  std::size_t on_body_impl(string_view body, error_code&) override {
    message_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t size, string_view extensions, error_code& ec) override {
    // Chunk extensions are allowed and ignored (RFC 9112 §7.1.1), but, like Go's chunkedReader
    // (CVE-2023-39326), framing overhead beyond 16 bytes per chunk plus twice the chunk's data
    // may add up to 16 KiB at most, so extensions cannot multiply what a peer makes us read.
    // (Line length counted as the minimal hex digits + extensions + CRLF.)
    std::uint64_t digits = 1;
    for (std::uint64_t rest = size; rest >= 16; rest /= 16) ++digits;
    std::uint64_t line = digits + extensions.size() + 2;
    if (line > kMaxChunkLineBytes) {
      framing_error_ =
          FramingError{ParseError::kBadMessage,
                       "chunk line longer than " + std::to_string(kMaxChunkLineBytes) + " bytes"};
      ec = http::error::bad_chunk_extension;
      return;
    }
    excess_ += line;
    constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t allowance = size > (kMax - 16) / 2 ? kMax : 16 + 2 * size;
    excess_ = excess_ > allowance ? excess_ - allowance : 0;
    if (excess_ > 16 * 1024) {
      framing_error_ =
          FramingError{ParseError::kBadMessage, "chunked encoding contains too much non-data"};
      ec = http::error::bad_chunk_extension;
    }
  }
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
    message_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(error_code&) override {}

  ParsedMessage& message_;
  bool header_done_ = false;
  std::uint64_t excess_ = 0;
  std::optional<FramingError> framing_error_;
};

// Beast leaves an incomplete chunk-size line, or the last chunk and its trailer section, in the
// caller's buffer until the line (section) ends; bound what may pile up there. `pending` is what
// it did not consume of a chunked body.
std::optional<FramingError> check_pending_chunk_framing(std::string_view pending,
                                                        std::size_t header_limit) {
  std::string_view line = pending;
  if (line.substr(0, 2) == "\r\n") line.remove_prefix(2);  // ends the previous chunk's data
  std::size_t digits = 0;
  bool all_zero = true;
  while (digits < line.size() && std::isxdigit(static_cast<unsigned char>(line[digits]))) {
    if (line[digits] != '0') all_zero = false;
    ++digits;
  }
  bool last_chunk = digits > 0 && all_zero && digits < line.size();
  if (last_chunk) {
    // RFC 9112 §7.1.2: the trailer section is a field section; it gets the header's limit.
    if (pending.size() > header_limit) {
      return FramingError{ParseError::kTrailerTooLarge,
                          "trailer section larger than " + std::to_string(header_limit) + " bytes"};
    }
  } else if (pending.size() > kMaxChunkLineBytes) {
    return FramingError{ParseError::kBadMessage,
                        "chunk line longer than " + std::to_string(kMaxChunkLineBytes) + " bytes"};
  }
  return std::nullopt;
}

ParseError classify(const error_code& ec) {
  if (ec == http::error::header_limit) return ParseError::kHeaderTooLarge;
  if (ec == http::error::body_limit) return ParseError::kBodyTooLarge;
  if (ec == http::error::partial_message || ec == http::error::end_of_stream) {
    return ParseError::kPartialMessage;
  }
  return ParseError::kBadMessage;
}

template <class Parser>
ParseState put_into(Parser& parser, std::size_t header_limit, std::string_view data,
                    std::size_t& consumed, ParseError& error, std::string& message) {
  consumed = 0;
  bool header_was_done = parser.is_header_done();
  // basic_parser pauses after the header unless eager; take the body eagerly once it started.
  parser.eager(header_was_done);
  auto need_more = [&] {
    if (parser.is_header_done() && parser.chunked()) {
      if (auto e = check_pending_chunk_framing(data.substr(consumed), header_limit)) {
        parser.fail(*e);
        error = e->error;
        message = std::move(e->message);
        return ParseState::kError;
      }
    }
    return ParseState::kNeedMore;
  };
  while (true) {
    error_code ec;
    std::size_t n =
        parser.put(boost::asio::const_buffer(data.data() + consumed, data.size() - consumed), ec);
    consumed += n;
    if (ec == http::error::need_more) return need_more();
    if (ec) {
      if (const auto& framing = parser.framing_error()) {
        error = framing->error;
        message = framing->message;
      } else {
        error = classify(ec);
        message = ec.message();
      }
      return ParseState::kError;
    }
    if (parser.is_done()) return ParseState::kDone;
    if (!header_was_done && parser.is_header_done()) return ParseState::kHeaderDone;
    if (n == 0 || consumed == data.size()) return need_more();
  }
}

template <class Parser>
ParseState put_eof_into(Parser& parser, ParseError& error, std::string& message) {
  if (!parser.got_some()) {
    error = ParseError::kPartialMessage;
    message = "end of stream before any data";
    return ParseState::kError;
  }
  error_code ec;
  parser.put_eof(ec);
  if (ec) {
    error = classify(ec);
    message = ec.message();
    return ParseState::kError;
  }
  return parser.is_done() ? ParseState::kDone : ParseState::kNeedMore;
}

}  // namespace

struct RequestParser::Impl {
  ParsedMessage message;
  std::optional<MessageParser<true>> parser;
  std::size_t header_limit = 0;
};

RequestParser::RequestParser() : impl_(std::make_unique<Impl>()) {}
RequestParser::~RequestParser() = default;

void RequestParser::reset(std::size_t max_header_bytes, std::size_t max_body_bytes) {
  impl_->message.method.clear();
  impl_->message.target.clear();
  impl_->message.headers.clear();
  impl_->message.body.clear();
  impl_->message.version = 11;
  impl_->parser.emplace(impl_->message);
  impl_->parser->header_limit(static_cast<std::uint32_t>(max_header_bytes));
  impl_->header_limit = max_header_bytes;
  impl_->parser->body_limit(static_cast<std::uint64_t>(max_body_bytes));
  error_ = ParseError::kNone;
  error_message_.clear();
}

ParseState RequestParser::put(std::string_view data, std::size_t& consumed) {
  return put_into(*impl_->parser, impl_->header_limit, data, consumed, error_, error_message_);
}

ParseState RequestParser::put_eof() {
  return put_eof_into(*impl_->parser, error_, error_message_);
}
bool RequestParser::got_some() const {
  return impl_->parser->got_some();
}
bool RequestParser::header_done() const {
  return impl_->parser->is_header_done();
}
bool RequestParser::done() const {
  return impl_->parser->is_done();
}
bool RequestParser::keep_alive() const {
  return impl_->parser->keep_alive();
}
std::optional<std::uint64_t> RequestParser::content_length() const {
  auto length = impl_->parser->content_length();
  if (!length) return std::nullopt;
  return *length;
}
ParsedMessage& RequestParser::message() {
  return impl_->message;
}

struct ResponseParser::Impl {
  ParsedMessage message;
  std::optional<MessageParser<false>> parser;
  std::size_t header_limit = 0;
};

ResponseParser::ResponseParser() : impl_(std::make_unique<Impl>()) {}
ResponseParser::~ResponseParser() = default;

void ResponseParser::reset(std::size_t max_header_bytes, std::size_t max_body_bytes,
                           bool head_request) {
  impl_->message.status = 0;
  impl_->message.headers.clear();
  impl_->message.body.clear();
  impl_->message.version = 11;
  impl_->parser.emplace(impl_->message);
  impl_->parser->header_limit(static_cast<std::uint32_t>(max_header_bytes));
  impl_->header_limit = max_header_bytes;
  if (max_body_bytes == 0) {
    impl_->parser->body_limit(boost::none);
  } else {
    impl_->parser->body_limit(static_cast<std::uint64_t>(max_body_bytes));
  }
  impl_->parser->skip(head_request);
  error_ = ParseError::kNone;
  error_message_.clear();
}

ParseState ResponseParser::put(std::string_view data, std::size_t& consumed) {
  return put_into(*impl_->parser, impl_->header_limit, data, consumed, error_, error_message_);
}

ParseState ResponseParser::put_eof() {
  return put_eof_into(*impl_->parser, error_, error_message_);
}
bool ResponseParser::got_some() const {
  return impl_->parser->got_some();
}
bool ResponseParser::header_done() const {
  return impl_->parser->is_header_done();
}
bool ResponseParser::done() const {
  return impl_->parser->is_done();
}
bool ResponseParser::keep_alive() const {
  return impl_->parser->keep_alive();
}
bool ResponseParser::chunked() const {
  return impl_->parser->chunked();
}
bool ResponseParser::need_eof() const {
  return impl_->parser->need_eof();
}
ParsedMessage& ResponseParser::message() {
  return impl_->message;
}

}  // namespace llmscale::net::detail
