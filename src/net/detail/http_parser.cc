// HTTP/1.1 parsers on Beast's basic_parser (RFC 9112 framing, chunked decoding, limits).
#include "net/detail/http_parser.h"

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

namespace llmscale::net::detail {

namespace http = boost::beast::http;
using boost::beast::error_code;
using boost::beast::string_view;

namespace {

template <bool isRequest>
class MessageParser final : public http::basic_parser<isRequest> {
 public:
  explicit MessageParser(ParsedMessage& message) : message_(message) {}

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
    message_.headers.add(std::string_view(name.data(), name.size()),
                         std::string_view(value.data(), value.size()));
  }
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
    if (isRequest && length) message_.body.reserve(static_cast<std::size_t>(*length));
  }
  std::size_t on_body_impl(string_view body, error_code&) override {
    message_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override {
    message_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(error_code&) override {}

  ParsedMessage& message_;
};

ParseError classify(const error_code& ec) {
  if (ec == http::error::header_limit) return ParseError::kHeaderTooLarge;
  if (ec == http::error::body_limit) return ParseError::kBodyTooLarge;
  if (ec == http::error::partial_message || ec == http::error::end_of_stream) {
    return ParseError::kPartialMessage;
  }
  return ParseError::kBadMessage;
}

template <class Parser>
ParseState put_into(Parser& parser, std::string_view data, std::size_t& consumed, ParseError& error,
                    std::string& message) {
  consumed = 0;
  bool header_was_done = parser.is_header_done();
  // basic_parser pauses after the header unless eager; take the body eagerly once it started.
  parser.eager(header_was_done);
  while (true) {
    error_code ec;
    std::size_t n =
        parser.put(boost::asio::const_buffer(data.data() + consumed, data.size() - consumed), ec);
    consumed += n;
    if (ec == http::error::need_more) return ParseState::kNeedMore;
    if (ec) {
      error = classify(ec);
      message = ec.message();
      return ParseState::kError;
    }
    if (parser.is_done()) return ParseState::kDone;
    if (!header_was_done && parser.is_header_done()) return ParseState::kHeaderDone;
    if (n == 0 || consumed == data.size()) return ParseState::kNeedMore;
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
  impl_->parser->body_limit(static_cast<std::uint64_t>(max_body_bytes));
  error_ = ParseError::kNone;
  error_message_.clear();
}

ParseState RequestParser::put(std::string_view data, std::size_t& consumed) {
  return put_into(*impl_->parser, data, consumed, error_, error_message_);
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
  return put_into(*impl_->parser, data, consumed, error_, error_message_);
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
