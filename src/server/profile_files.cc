// Filesystem and environment side of profile lookup (see profile_files.h).
#include "server/profile_files.h"

#include <cstdlib>
#include <filesystem>

#include "core/file.h"

namespace llmscale::server {
namespace {

namespace fs = std::filesystem;

class FilesystemProfileFiles final : public engine::ProfileFiles {
 public:
  core::Result<std::string> read(const std::string& path) const override {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      return core::make_error(core::ErrorCode::kNotFound, path + ": no such file");
    }
    return core::read_file(path);
  }

  std::optional<std::vector<std::string>> list(const std::string& dir) const override {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return std::nullopt;
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.is_regular_file(ec)) names.push_back(entry.path().filename().string());
    }
    return names;
  }
};

engine::ProfileSearch with_dir(std::string_view dir, std::string from) {
  engine::ProfileSearch search;
  search.files = filesystem_profile_files();
  if (!dir.empty()) search.dirs.push_back({std::string(dir), std::move(from)});
  return search;
}

}  // namespace

std::shared_ptr<const engine::ProfileFiles> filesystem_profile_files() {
  static const auto kFiles = std::make_shared<const FilesystemProfileFiles>();
  return kFiles;
}

engine::ProfileSearch profile_search(std::string_view profiles_dir_flag, std::string_view env) {
  if (!profiles_dir_flag.empty()) return with_dir(profiles_dir_flag, "--profiles-dir");
  return with_dir(env, "$LLMSCALE_PROFILES");
}

engine::ProfileSearch default_profile_search(std::string_view profiles_dir_flag) {
  const char* env = std::getenv("LLMSCALE_PROFILES");
  return profile_search(profiles_dir_flag, env != nullptr ? env : "");
}

engine::ProfileSearch dir_then_builtin(std::string_view dir) {
  return with_dir(dir, "");
}

core::Result<engine::Profile> load_profile(std::string_view dir, std::string_view name_or_path) {
  return engine::load_profile(dir_then_builtin(dir), name_or_path);
}

}  // namespace llmscale::server
