// Fuzzes URL and query parsing: never crashes; a parsed URL prints to a string that parses to
// the same parts; encoded query parameters parse back to themselves.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/url.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto url = llmscale::net::parse_url(text)) {
    auto again = llmscale::net::parse_url(url->to_string());
    if (!again) std::abort();
    if (again->scheme != url->scheme || again->host != url->host || again->port != url->port ||
        again->path != url->path || again->query != url->query) {
      std::abort();
    }
  }
  llmscale::net::QueryParams lenient = llmscale::net::parse_query_lenient(text);
  auto reparsed = llmscale::net::parse_query(lenient.encode());
  if (!reparsed || reparsed->size() != lenient.size()) std::abort();
  auto a = lenient.begin();
  for (auto b = reparsed->begin(); b != reparsed->end(); ++a, ++b) {
    if (*a != *b) std::abort();
  }
  if (auto decoded = llmscale::net::percent_decode(text, true)) {
    auto back = llmscale::net::percent_decode(llmscale::net::query_escape(*decoded), true);
    if (!back || *back != *decoded) std::abort();
  }
  return 0;
}
