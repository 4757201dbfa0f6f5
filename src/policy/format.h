// Number formatting for the policies' one-line explanations (internal to src/policy).
#pragma once

#include <cstdio>
#include <string>

namespace llmscale::policy {

// `value` with `digits` decimals ("12.5").
inline std::string fixed(double value, int digits = 1) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, value);
  return buf;
}

}  // namespace llmscale::policy
