// Profile lookup for llmscale's processes: the filesystem access (engine::ProfileFiles) and the
// search order of `llmscale serve-sim`, `llmscale up` and the benchmarks. The engine reads no
// file and no environment variable itself (issue 13); this is where both happen.
//
// Order: --profiles-dir if given, else $LLMSCALE_PROFILES if set, then the profiles built into
// the binary (so a replica started from any directory finds the shipped ones, and a user's
// directory overrides a shipped profile, model or accelerator of the same name).
// Thread-compatible; the returned searches are plain values.
#pragma once

#include <memory>
#include <string_view>

#include "core/result.h"
#include "engine/profile.h"

namespace llmscale::server {

// Reads files and lists directories with std::filesystem.
std::shared_ptr<const engine::ProfileFiles> filesystem_profile_files();

// The search of `llmscale serve-sim --profiles-dir <flag>` with $LLMSCALE_PROFILES = `env`
// (empty: unset).
engine::ProfileSearch profile_search(std::string_view profiles_dir_flag, std::string_view env);
// profile_search(flag, the value of $LLMSCALE_PROFILES).
engine::ProfileSearch default_profile_search(std::string_view profiles_dir_flag = {});

// `dir` (when not empty), then the built-in profiles.
engine::ProfileSearch dir_then_builtin(std::string_view dir);
// load_profile(dir_then_builtin(dir), name_or_path).
core::Result<engine::Profile> load_profile(std::string_view dir, std::string_view name_or_path);

}  // namespace llmscale::server
