// Input and error helpers for subcommands.
#include "cli/io.h"

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace llmscale::cli {

core::Result<std::string> read_input(const std::string& path) {
  if (path == "-") {
    std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return text;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return core::make_error(core::ErrorCode::kNotFound, "cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int fail(const std::string& message, int code) {
  std::cerr << "error: " << message << "\n";
  return code;
}

}  // namespace llmscale::cli
