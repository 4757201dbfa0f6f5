// Message framing of the HTTP/1.1 parsers against RFC 9112 (request smuggling and response
// splitting cases): Transfer-Encoding variants, Content-Length with Transfer-Encoding, repeated
// Content-Length, obs-fold, bare LF and CR, chunk extensions, trailers and the bounds on chunk
// lines and trailer sections. Pure parsing, no sockets; server_test.cc checks the answers.
#include "net/detail/http_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace llmscale::net::detail {
namespace {

struct Outcome {
  ParseState state = ParseState::kNeedMore;
  ParseError error = ParseError::kNone;
  std::string message;
  ParsedMessage parsed;
  std::string rest;  // bytes left after a complete message (a pipelined next one)
};

// Feeds `bytes` `step` bytes at a time, as a socket would deliver them, keeping what the parser
// did not consume (as the server and client do) until it completes or fails.
template <class Parser>
Outcome drive(Parser& parser, std::string_view bytes, std::size_t step) {
  Outcome out;
  std::string buffer;
  std::size_t fed = 0;
  while (true) {
    std::size_t consumed = 0;
    out.state = parser.put(buffer, consumed);
    buffer.erase(0, consumed);
    if (out.state == ParseState::kHeaderDone) continue;
    if (out.state != ParseState::kNeedMore) break;
    if (fed == bytes.size()) break;
    std::size_t n = std::min(step, bytes.size() - fed);
    buffer.append(bytes.substr(fed, n));
    fed += n;
  }
  out.error = parser.error();
  out.message = parser.error_message();
  out.parsed = parser.message();
  out.rest = buffer + std::string(bytes.substr(fed));
  return out;
}

Outcome request(std::string_view bytes, std::size_t step = 1 << 20,
                std::size_t header_limit = 8192) {
  RequestParser parser;
  parser.reset(header_limit, 1 << 20);
  return drive(parser, bytes, step);
}

Outcome response(std::string_view bytes, std::size_t step = 1 << 20) {
  ResponseParser parser;
  parser.reset(8192, 0, false);
  return drive(parser, bytes, step);
}

std::string post(std::string_view fields, std::string_view body = "") {
  return "POST /a HTTP/1.1\r\nHost: x\r\n" + std::string(fields) + "\r\n" + std::string(body);
}

constexpr std::string_view kSmuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";

void expect_rejected(const Outcome& out, ParseError error, std::string_view message) {
  EXPECT_EQ(out.state, ParseState::kError);
  EXPECT_EQ(out.error, error);
  EXPECT_NE(out.message.find(message), std::string::npos) << out.message;
}

// RFC 9112 §6.3 ¶4: a request whose final transfer coding is not chunked cannot be framed; it
// must fail (400) instead of being taken as bodiless, which made the body a second request.
TEST(HttpFramingTest, TransferEncodingMustEndInChunked) {
  for (std::string_view te : {"identity", "xchunked", "chunked, gzip", "chunkedx", "chunked;q=1",
                              "gzip", ",", "", "chunked, identity"}) {
    SCOPED_TRACE(te);
    auto out = request(post("Transfer-Encoding: " + std::string(te) + "\r\n",
                            "5\r\nhello\r\n0\r\n\r\n" + std::string(kSmuggled)));
    expect_rejected(out, ParseError::kBadMessage, "");
  }
  // The same with the body as a Content-Length would have carried it (Beast ignored the field).
  auto out = request("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n" +
                     std::string(kSmuggled));
  expect_rejected(out, ParseError::kBadMessage, "does not end in chunked");
}

TEST(HttpFramingTest, ChunkedTwiceOrAfterAnotherCoding) {
  expect_rejected(request(post("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n")),
                  ParseError::kBadMessage, "more than once");
  expect_rejected(
      request(post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n")),
      ParseError::kBadMessage, "");
  // Framed soundly but with a coding we do not decode: 501 (RFC 9112 §6.1, Go, Envoy).
  expect_rejected(request(post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n")),
                  ParseError::kNotImplemented, "unsupported transfer coding");
  expect_rejected(
      request(post("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n")),
      ParseError::kNotImplemented, "");
}

TEST(HttpFramingTest, ChunkedIsCaseInsensitiveAndListsMayHaveEmptyElements) {
  for (std::string_view te : {"chunked", "Chunked", "CHUNKED", " chunked ", ", chunked"}) {
    SCOPED_TRACE(te);
    auto out = request(post("Transfer-Encoding: " + std::string(te) + "\r\n",
                            "5\r\nhello\r\n0\r\n\r\n" + std::string(kSmuggled)));
    EXPECT_EQ(out.state, ParseState::kDone) << out.message;
    EXPECT_EQ(out.parsed.body, "hello");
    EXPECT_EQ(out.rest, kSmuggled);  // a genuinely pipelined request stays for the next parse
  }
}

TEST(HttpFramingTest, ContentLengthWithTransferEncodingIsRejected) {
  // Either order, chunked or not (RFC 9112 §6.3 ¶3; Envoy's default).
  expect_rejected(request(post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n")),
                  ParseError::kBadMessage, "");
  expect_rejected(request(post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n")),
                  ParseError::kBadMessage, "");
  expect_rejected(request(post("Transfer-Encoding: identity\r\nContent-Length: 5\r\n", "hello")),
                  ParseError::kBadMessage, "");
  expect_rejected(request(post("Content-Length: 5\r\nTransfer-Encoding: gzip\r\n", "hello")),
                  ParseError::kBadMessage, "");
}

TEST(HttpFramingTest, TransferEncodingInHttp10IsRejected) {
  // RFC 9112 §6.1: faulty framing.
  auto out = request(
      "POST /a HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  expect_rejected(out, ParseError::kBadMessage, "HTTP/1.0");
}

TEST(HttpFramingTest, RepeatedContentLength) {
  // Identical repeated fields are one length (RFC 9110 §8.6; Go collapses them).
  auto same = request(post("Content-Length: 5\r\nContent-Length: 5\r\n", "hello"));
  EXPECT_EQ(same.state, ParseState::kDone) << same.message;
  EXPECT_EQ(same.parsed.body, "hello");
  EXPECT_EQ(same.parsed.headers.get_all("Content-Length").size(), 1u);
  // Differing ones, lists, signs and junk are malformed (Go's parseContentLength).
  for (std::string_view fields :
       {"Content-Length: 5\r\nContent-Length: 6\r\n", "Content-Length: 5, 5\r\n",
        "Content-Length: 5,5\r\n", "Content-Length: +5\r\n", "Content-Length: -1\r\n",
        "Content-Length: 5 5\r\n", "Content-Length: 0x5\r\n", "Content-Length:\r\n",
        "Content-Length: 99999999999999999999999\r\n",
        "Content-Length: 05\r\nContent-Length: 5\r\n"}) {
    SCOPED_TRACE(fields);
    expect_rejected(request(post(fields, "hello")), ParseError::kBadMessage, "");
  }
}

TEST(HttpFramingTest, ObsFoldIsReplacedBySpace) {
  // RFC 9112 §5.2 lets a server replace obs-fold by SP instead of rejecting; Go's textproto and
  // Beast do. The folded value never reaches a handler (or a proxied request) with its CRLF.
  auto out = request("GET / HTTP/1.1\r\nHost: x\r\nX-Folded: one\r\n two\r\n\tthree\r\n\r\n");
  EXPECT_EQ(out.state, ParseState::kDone) << out.message;
  EXPECT_EQ(out.parsed.headers.value("X-Folded"), "one two three");
  // A folded framing field is taken as its joined value: "gzip chunked" is not chunked.
  expect_rejected(request(post("Transfer-Encoding: gzip\r\n chunked\r\n", "0\r\n\r\n")),
                  ParseError::kBadMessage, "");
  expect_rejected(request(post("Content-Length: 5\r\n 6\r\n", "hello")), ParseError::kBadMessage,
                  "");
  // A first field line that starts with whitespace folds into nothing: malformed.
  expect_rejected(request("GET / HTTP/1.1\r\n X: y\r\nHost: x\r\n\r\n"), ParseError::kBadMessage,
                  "");
}

TEST(HttpFramingTest, BareLineFeedsAndCarriageReturnsAreRejected) {
  // RFC 9112 §2.2 allows a bare LF as a line end but does not require it; like Go since
  // CVE-2025-22871 (chunk lines) and Envoy, bare LF and bare CR are malformed everywhere.
  for (std::string_view bytes : {
           "GET / HTTP/1.1\nHost: x\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\n\n", "GET / HTTP/1.1\r\nHost: x\rX: y\r\n\r\n",
           "GET / HTTP/1.1\r\nHost : x\r\n\r\n",  // whitespace before the colon (RFC 9112 §5.1)
       }) {
    SCOPED_TRACE(bytes);
    // (Beast waits for a CRLF CRLF before parsing fields: the request that follows supplies it.)
    EXPECT_EQ(request(std::string(bytes) + std::string(kSmuggled)).state, ParseState::kError);
  }
  using namespace std::string_view_literals;
  EXPECT_EQ(request("GET / HTTP/1.1\r\nHost: x\r\nX: a\0b\r\n\r\n"sv).state, ParseState::kError);
  // In a chunked body: after the size, after the data.
  EXPECT_EQ(request(post("Transfer-Encoding: chunked\r\n", "5\nhello\r\n0\r\n\r\n")).state,
            ParseState::kError);
  EXPECT_EQ(request(post("Transfer-Encoding: chunked\r\n", "5\r\nhello\n0\r\n\r\n")).state,
            ParseState::kError);
  EXPECT_EQ(request(post("Transfer-Encoding: chunked\r\n", "5\r\nhelloXX0\r\n\r\n")).state,
            ParseState::kError);
}

TEST(HttpFramingTest, ChunkSizesMustBeHex) {
  for (std::string_view body : {"0x5\r\nhello\r\n0\r\n\r\n", "-5\r\nhello\r\n0\r\n\r\n",
                                "ffffffffffffffffff\r\nx\r\n0\r\n\r\n", " 5\r\nhello\r\n0\r\n\r\n",
                                "\r\n5\r\nhello\r\n0\r\n\r\n"}) {
    SCOPED_TRACE(body);
    EXPECT_EQ(request(post("Transfer-Encoding: chunked\r\n", body)).state, ParseState::kError);
  }
}

TEST(HttpFramingTest, ChunkExtensionsAreIgnored) {
  auto out = request(post("Transfer-Encoding: chunked\r\n",
                          "5;name=value\r\nhello\r\n6 ; a ; b=\"q;\\\"x\"\r\n world\r\n"
                          "0;last\r\n\r\n"),
                     3);
  EXPECT_EQ(out.state, ParseState::kDone) << out.message;
  EXPECT_EQ(out.parsed.body, "hello world");
  // Malformed extensions are malformed chunks.
  EXPECT_EQ(request(post("Transfer-Encoding: chunked\r\n", "5;\"bad\r\nhello\r\n0\r\n\r\n")).state,
            ParseState::kError);
}

TEST(HttpFramingTest, ChunkLinesAreBounded) {
  // A chunk line longer than Go's 4096-byte limit fails while it is still arriving, instead of
  // being buffered until its CRLF comes.
  std::string endless = "5;x=" + std::string(8192, 'a');
  auto arriving = request(post("Transfer-Encoding: chunked\r\n", endless), 1000);
  expect_rejected(arriving, ParseError::kBadMessage, "chunk line longer than 4096");
  // ...and when it arrives whole.
  auto whole = request(post("Transfer-Encoding: chunked\r\n",
                            "1;x=" + std::string(5000, 'a') + "\r\nX\r\n0\r\n\r\n"));
  expect_rejected(whole, ParseError::kBadMessage, "chunk line longer than 4096");
  // Long extensions on many tiny chunks: overhead beyond 16 KiB is refused (Go, CVE-2023-39326).
  std::string many;
  for (int i = 0; i < 20; ++i) many += "1;x=" + std::string(1000, 'a') + "\r\nX\r\n";
  auto noisy = request(post("Transfer-Encoding: chunked\r\n", many + "0\r\n\r\n"));
  expect_rejected(noisy, ParseError::kBadMessage, "too much non-data");
  // One byte per chunk (streaming) is fine.
  std::string bytewise;
  for (int i = 0; i < 5000; ++i) bytewise += "1\r\nX\r\n";
  auto fine = request(post("Transfer-Encoding: chunked\r\n", bytewise + "0\r\n\r\n"));
  EXPECT_EQ(fine.state, ParseState::kDone) << fine.message;
  EXPECT_EQ(fine.parsed.body.size(), 5000u);
}

TEST(HttpFramingTest, TrailersAreDiscardedAndBounded) {
  auto out = request(
      post("Transfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n",
           "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n" + std::string(kSmuggled)),
      7);
  EXPECT_EQ(out.state, ParseState::kDone) << out.message;
  EXPECT_EQ(out.parsed.body, "hello");
  // RFC 9110 §6.5.1: not merged into the header section.
  EXPECT_FALSE(out.parsed.headers.contains("X-Checksum"));
  EXPECT_FALSE(out.parsed.headers.contains("X-Other"));
  EXPECT_EQ(out.rest, kSmuggled);
  // Framing fields are not allowed as trailers (RFC 9110 §6.5.1), malformed fields neither.
  for (std::string_view trailer : {"Content-Length: 99\r\n", "Transfer-Encoding: gzip\r\n",
                                   "bad trailer\r\n", "X: a\nY: b\r\n"}) {
    SCOPED_TRACE(trailer);
    auto bad =
        request(post("Transfer-Encoding: chunked\r\n", "0\r\n" + std::string(trailer) + "\r\n"));
    EXPECT_EQ(bad.state, ParseState::kError);
  }
  // A trailer section over the header limit fails while it arrives.
  std::string big = "0\r\nX-Big: " + std::string(20000, 'b');
  expect_rejected(request(post("Transfer-Encoding: chunked\r\n", big), 1000, 8192),
                  ParseError::kTrailerTooLarge, "trailer section larger than 8192 bytes");
}

TEST(HttpFramingTest, ResponsesFollowTheSameRules) {
  auto chunked = response(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x\r\nhello\r\n0\r\n"
      "X-T: 1\r\n\r\n");
  EXPECT_EQ(chunked.state, ParseState::kDone) << chunked.message;
  EXPECT_EQ(chunked.parsed.body, "hello");
  EXPECT_FALSE(chunked.parsed.headers.contains("X-T"));
  for (std::string_view head : {
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n",
           "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
           "HTTP/1.1 200 OK\nContent-Length: 5\r\n\r\n",
       }) {
    SCOPED_TRACE(head);
    auto out = response(std::string(head) + "hello");
    EXPECT_EQ(out.state, ParseState::kError);
    EXPECT_NE(out.error, ParseError::kNotImplemented);
  }
  // A body cut off mid-chunk is incomplete, and a malformed chunk is an error.
  EXPECT_EQ(response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel").state,
            ParseState::kNeedMore);
  EXPECT_EQ(response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n").state,
            ParseState::kError);
}

TEST(HttpFramingTest, CheckFramingCollapsesRepeatedLengths) {
  Headers headers{{"Content-Length", "7"}, {"X", "y"}, {"Content-Length", "7"}};
  EXPECT_FALSE(check_framing(headers, true, 11).has_value());
  EXPECT_EQ(headers.get_all("Content-Length").size(), 1u);
  EXPECT_EQ(headers.value("Content-Length"), "7");
  Headers none{{"Host", "x"}};
  EXPECT_FALSE(check_framing(none, true, 10).has_value());
}

}  // namespace
}  // namespace llmscale::net::detail
