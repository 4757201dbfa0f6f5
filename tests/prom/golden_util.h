// Golden files: compare output with tests/prom/golden/<name>; LLMSCALE_UPDATE_GOLDEN=1 rewrites.
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "test_util.h"

namespace llmscale::prom::testing {

inline void expect_golden(const std::string& name, const std::string& actual) {
  std::string path = prom_test_path("golden/" + name);
  const char* update = std::getenv("LLMSCALE_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  std::string expected = read_file(path);
  EXPECT_EQ(expected, actual) << "golden file " << path
                              << " differs (LLMSCALE_UPDATE_GOLDEN=1 rewrites it)";
}

}  // namespace llmscale::prom::testing
