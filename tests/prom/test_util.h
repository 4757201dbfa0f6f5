// Helpers shared by the prom tests: fixture files and small builders.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace llmscale::prom::testing {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string prom_test_path(const std::string& relative) {
  return std::string(LLMSCALE_SOURCE_DIR) + "/tests/prom/" + relative;
}

// Upstream authors elided parts of their examples with lines that are exactly "...".
inline std::string strip_elisions(const std::string& text) {
  std::string out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line == "...") continue;
    out += line;
    out += '\n';
  }
  return out;
}

}  // namespace llmscale::prom::testing
