// Input and error helpers for subcommands.
#include "cli/io.h"

#include <iostream>
#include <iterator>

#include "core/file.h"

namespace llmscale::cli {

core::Result<std::string> read_input(const std::string& path) {
  if (path == "-") {
    std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return text;
  }
  return core::read_file(path);
}

int fail(const std::string& message, int code) {
  std::cerr << "error: " << message << "\n";
  return code;
}

}  // namespace llmscale::cli
