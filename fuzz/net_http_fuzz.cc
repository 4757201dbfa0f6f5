// Fuzzes the HTTP/1.1 request and response parsers (Beast underneath) the way the server and
// client drive them: bytes arrive in two pieces, parsing pauses after the header, limits are
// small. Never crashes; a parsed request target goes through ServerRequest::set_target.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/detail/http_parser.h"
#include "net/server.h"

namespace {

using llmscale::net::detail::ParseState;

template <class Parser>
ParseState drive(Parser& parser, std::string_view text, std::size_t split) {
  std::string buffer(text.substr(0, split));
  std::size_t fed = split;
  while (true) {
    std::size_t consumed = 0;
    ParseState state = parser.put(buffer, consumed);
    buffer.erase(0, consumed);
    if (state == ParseState::kError || state == ParseState::kDone) return state;
    if (state == ParseState::kHeaderDone) continue;
    if (fed < text.size()) {
      buffer.append(text.substr(fed));
      fed = text.size();
      continue;
    }
    return parser.put_eof();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::size_t split = data[0] % size;
  bool head = data[1] & 1;
  std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
  split = std::min(split, text.size());

  llmscale::net::detail::RequestParser request;
  request.reset(4096, 65536);
  if (drive(request, text, split) == ParseState::kDone) {
    auto& message = request.message();
    if (message.body.size() > 65536) std::abort();
    llmscale::net::ServerRequest parsed;
    parsed.method = message.method;
    parsed.headers = message.headers;
    parsed.body = message.body;
    if (parsed.set_target(message.target)) (void)parsed.form();
  }

  llmscale::net::detail::ResponseParser response;
  response.reset(4096, 65536, head);
  if (drive(response, text, split) == ParseState::kDone) {
    if (response.message().status < 100 || response.message().status > 999) std::abort();
  }
  return 0;
}
