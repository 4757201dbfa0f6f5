// Fuzzes the label selector string parser: never crashes; printed selectors re-parse identically.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kube/label_selector.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto selector = llmscale::kube::Selector::parse(text);
  if (!selector) return 0;
  std::string printed = selector->to_string();
  auto again = llmscale::kube::Selector::parse(printed);
  if (!again || again->to_string() != printed) std::abort();
  (void)selector->matches({{"app", "x"}, {"tier", "a"}});
  return 0;
}
