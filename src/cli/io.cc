// Input and error helpers for subcommands.
#include "cli/io.h"

#include <iostream>

#include "core/file.h"

namespace llmscale::cli {

core::Result<std::string> read_input(const std::string& path) {
  if (path == "-") {
    // The same bound as a file: a hostile pipe cannot fill memory.
    std::string text;
    char buf[64 * 1024];
    while (std::cin.read(buf, sizeof buf) || std::cin.gcount() > 0) {
      text.append(buf, static_cast<std::size_t>(std::cin.gcount()));
      if (text.size() > core::kDefaultMaxFileBytes) {
        return core::make_error(core::ErrorCode::kResourceExhausted,
                                "standard input is larger than " +
                                    std::to_string(core::kDefaultMaxFileBytes) + " bytes");
      }
    }
    return text;
  }
  return core::read_file(path);
}

int fail(const std::string& message, int code) {
  std::cerr << "error: " << message << "\n";
  return code;
}

}  // namespace llmscale::cli
