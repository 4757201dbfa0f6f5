// Small helpers shared by subcommands: reading an input file or stdin, one-line errors.
#pragma once

#include <string>

#include "core/result.h"

namespace llmscale::cli {

// Reads FILE, or standard input when path is "-".
core::Result<std::string> read_input(const std::string& path);

// Prints "error: <message>" on stderr and returns `code`.
int fail(const std::string& message, int code = 2);

}  // namespace llmscale::cli
