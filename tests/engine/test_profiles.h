// Shared helpers for the engine tests: the repository's profiles and a tiny inline profile whose
// KV cache size and scheduler limits each test chooses.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "engine/profile.h"

namespace llmscale::engine::testing {

inline std::string profiles_dir() {
  return std::string(LLMSCALE_SOURCE_DIR) + "/profiles";
}

// ProfileFiles over the real filesystem, for tests (the engine itself reads no files).
class DiskFiles final : public ProfileFiles {
 public:
  core::Result<std::string> read(const std::string& path) const override {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      return core::make_error(core::ErrorCode::kNotFound, path + ": no such file");
    }
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  std::optional<std::vector<std::string>> list(const std::string& dir) const override {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) return std::nullopt;
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.is_regular_file(ec)) names.push_back(entry.path().filename().string());
    }
    return names;
  }
};

// ProfileFiles over an in-memory map of path -> text (directories are the paths' prefixes).
class MemoryFiles final : public ProfileFiles {
 public:
  explicit MemoryFiles(std::map<std::string, std::string> files) : files_(std::move(files)) {}
  core::Result<std::string> read(const std::string& path) const override {
    auto it = files_.find(path);
    if (it == files_.end()) return core::make_error(core::ErrorCode::kNotFound, path);
    return it->second;
  }
  std::optional<std::vector<std::string>> list(const std::string& dir) const override {
    std::vector<std::string> names;
    bool any = false;
    std::string prefix = dir + "/";
    for (const auto& [path, text] : files_) {
      if (path.compare(0, prefix.size(), prefix) != 0) continue;
      any = true;
      std::string rest = path.substr(prefix.size());
      if (rest.find('/') == std::string::npos) names.push_back(rest);
    }
    if (!any) return std::nullopt;
    return names;
  }

 private:
  std::map<std::string, std::string> files_;
};

// `dir` (when not empty) read from disk, then (when `builtin`) the built-in profiles.
inline ProfileSearch disk(const std::string& dir, bool builtin = true,
                          const std::string& from = "") {
  ProfileSearch search;
  search.files = std::make_shared<DiskFiles>();
  if (!dir.empty()) search.dirs.push_back({dir, from});
  search.builtin = builtin;
  return search;
}

inline Profile shipped(const std::string& name) {
  auto profile = load_profile(disk(profiles_dir()), name);
  EXPECT_TRUE(profile.has_value()) << (profile ? "" : profile.error().message);
  return profile ? *profile : Profile{};
}

struct TinyOptions {
  int num_blocks = 64;
  int block_size = 16;
  int max_num_seqs = 8;
  int max_num_batched_tokens = 256;
  int max_model_len = 1024;
  bool prefix_caching = true;
  bool chunked_prefill = true;
};

// Llama-3.1-8B on H100 timings with a small, exactly sized KV cache.
inline Profile tiny(const TinyOptions& o = {}) {
  Profile p = shipped("llama-3.1-8b-h100");
  p.name = "tiny";
  p.scheduler.num_gpu_blocks_override = o.num_blocks;
  p.scheduler.block_size = o.block_size;
  p.scheduler.max_num_seqs = o.max_num_seqs;
  p.scheduler.max_num_batched_tokens = o.max_num_batched_tokens;
  p.scheduler.max_model_len = o.max_model_len;
  p.scheduler.enable_prefix_caching = o.prefix_caching;
  p.scheduler.enable_chunked_prefill = o.chunked_prefill;
  return p;
}

}  // namespace llmscale::engine::testing
