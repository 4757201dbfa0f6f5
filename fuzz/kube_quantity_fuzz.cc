// Fuzzes Quantity parsing and printing: never crashes; canonical text re-parses to the same value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "kube/quantity.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto q = llmscale::kube::Quantity::parse(text);
  if (!q) return 0;
  std::string printed = q->to_string();
  auto again = llmscale::kube::Quantity::parse(printed);
  if (!again) std::abort();
  // Upstream prints no suffix for exponents past E (1000E prints "1"), so only values within
  // the representable range must round-trip.
  double magnitude = q->as_double() < 0 ? -q->as_double() : q->as_double();
  if (magnitude < 9e18 && again->compare(*q) != 0) std::abort();
  (void)q->milli_value();
  (void)q->as_double();
  return 0;
}
