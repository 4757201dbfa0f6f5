// Fuzzes the SSE parser: never crashes, and splitting the input at any point (here: at a byte
// chosen by the input) yields the same events as feeding it whole. Events written back with
// the writer parse to the same data.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "net/sse.h"

using llmscale::net::SseEvent;
using llmscale::net::SseParser;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t split = data[0] % size;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  split = std::min(split, text.size());

  SseParser whole(4096);
  std::vector<SseEvent> expected = whole.feed(text);
  SseParser pieces(4096);
  std::vector<SseEvent> got = pieces.feed(text.substr(0, split));
  std::vector<SseEvent> rest = pieces.feed(text.substr(split));
  got.insert(got.end(), rest.begin(), rest.end());
  if (whole.failed() != pieces.failed()) std::abort();
  if (!whole.failed() && got != expected) std::abort();

  for (const SseEvent& event : expected) {
    SseParser again;
    auto round = again.feed(llmscale::net::format_sse_event(event));
    // The writer normalises line breaks inside data to '\n'; a bare '\r' in data becomes a
    // line break too, so compare after the same normalisation.
    std::string data_text;
    for (std::size_t i = 0; i < event.data.size(); ++i) {
      char c = event.data[i];
      if (c == '\r') {
        data_text.push_back('\n');
        if (i + 1 < event.data.size() && event.data[i + 1] == '\n') ++i;
      } else {
        data_text.push_back(c);
      }
    }
    if (round.size() != 1 || round[0].data != data_text) std::abort();
  }
  return 0;
}
