// Fuzzes the HTTP/1.1 request and response parsers (Beast underneath) the way the server and
// client drive them: bytes arrive in two pieces, parsing pauses after the header, limits are
// small, and what follows a complete request is parsed as the next (pipelined) one. Never
// crashes, and checks the framing invariants (RFC 9112 §6): a message only completes with sound
// framing (check_framing passes on its header: one Transfer-Encoding ending in chunked and no
// Content-Length, or one valid Content-Length that its body matches), within the limits, and no
// trailer field reaches the header. A parsed request target goes through ServerRequest.
//
// Input: byte 0 picks the split point, byte 1 bit 0 marks a response to HEAD; the rest is the
// stream (seeds in fuzz/corpus/net_http/).
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "net/detail/http_parser.h"
#include "net/server.h"

namespace {

using llmscale::net::Headers;
using llmscale::net::detail::ParseState;

constexpr std::size_t kHeaderLimit = 4096;
constexpr std::size_t kBodyLimit = 65536;

template <class Parser>
ParseState drive(Parser& parser, std::string& buffer, std::string_view& unfed) {
  while (true) {
    std::size_t consumed = 0;
    ParseState state = parser.put(buffer, consumed);
    buffer.erase(0, consumed);
    if (state == ParseState::kError || state == ParseState::kDone) return state;
    if (state == ParseState::kHeaderDone) continue;
    if (!unfed.empty()) {
      buffer.append(unfed);
      unfed = {};
      continue;
    }
    // Only bytes that can still complete a message stay unconsumed: the header is bounded by
    // the header limit, a chunk line or trailer section by theirs.
    if (buffer.size() > kHeaderLimit + llmscale::net::detail::kMaxChunkLineBytes + 4) std::abort();
    return parser.put_eof();
  }
}

// The framing of a completed message is sound, and its body is what the framing says.
void check_complete(Headers headers, const std::string& body, bool is_request, int version,
                    bool bodyless) {
  Headers checked = headers;
  if (llmscale::net::detail::check_framing(checked, is_request, version)) std::abort();
  if (headers.get_all("Content-Length").size() > 1) std::abort();  // collapsed
  if (body.size() > kBodyLimit) std::abort();
  auto length = headers.get("Content-Length");
  if (length && !bodyless) {
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(length->data(), length->data() + length->size(), n);
    if (ec != std::errc() || end != length->data() + length->size()) std::abort();
    if (is_request && n != body.size()) std::abort();
  }
  if (is_request && !length && !headers.contains("Transfer-Encoding") && !body.empty()) {
    std::abort();  // a request without framing fields has no body (RFC 9112 §6.3 ¶7)
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::size_t split = data[0] % size;
  bool head = data[1] & 1;
  std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
  split = std::min(split, text.size());

  // Requests, pipelined on one connection: each completed one leaves the rest for the next.
  {
    std::string buffer(text.substr(0, split));
    std::string_view unfed = text.substr(split);
    llmscale::net::detail::RequestParser request;
    for (int i = 0; i < 8; ++i) {
      request.reset(kHeaderLimit, kBodyLimit);
      if (buffer.empty() && unfed.empty()) break;
      if (drive(request, buffer, unfed) != ParseState::kDone) break;
      auto& message = request.message();
      check_complete(message.headers, message.body, true, message.version, false);
      llmscale::net::ServerRequest parsed;
      parsed.method = message.method;
      parsed.headers = message.headers;
      parsed.body = message.body;
      if (parsed.set_target(message.target)) (void)parsed.form();
      if (!request.keep_alive()) break;
    }
  }

  {
    std::string buffer(text.substr(0, split));
    std::string_view unfed = text.substr(split);
    llmscale::net::detail::ResponseParser response;
    response.reset(kHeaderLimit, kBodyLimit, head);
    std::string body;
    while (true) {
      std::size_t consumed = 0;
      ParseState state = response.put(buffer, consumed);
      buffer.erase(0, consumed);
      body += response.message().body;  // the client drains the body after every put()
      response.message().body.clear();
      if (state == ParseState::kHeaderDone) continue;
      if (state == ParseState::kNeedMore && !unfed.empty()) {
        buffer.append(unfed);
        unfed = {};
        continue;
      }
      if (state == ParseState::kNeedMore) state = response.put_eof();
      if (state == ParseState::kDone) {
        auto& message = response.message();
        if (message.status < 100 || message.status > 999) std::abort();
        int status = message.status;
        bool bodyless = head || status < 200 || status == 204 || status == 304;
        check_complete(message.headers, body, false, message.version, bodyless);
      }
      break;
    }
  }
  return 0;
}
