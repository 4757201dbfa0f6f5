// Profiles: every shipped profile loads and sizes its KV cache as vLLM would; bad files fail
// with the field path in the message; the shipped profiles are built into the binary and looked
// up after users' own directories.
#include "engine/profile.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/process.h"
#include "test_profiles.h"

namespace llmscale::engine {
namespace {

using testing::disk;
using ::testing::HasSubstr;
using testing::profiles_dir;
using testing::shipped;

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

TEST(ProfileTest, ShipsTheSixSeedProfiles) {
  auto names = list_profiles(disk(profiles_dir(), false));
  for (const char* want : {"llama-3.1-8b-h100", "llama-3.1-8b-a100", "llama-3.1-70b-4xh100",
                           "llama-3.1-70b-tpu-v6e-8", "gemma-7b-l4", "gemma-7b-tpu-v5e-8"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
    auto profile = load_profile(disk(profiles_dir()), want);
    ASSERT_TRUE(profile) << profile.error().message;
    EXPECT_GT(profile->startup_seconds(), 0) << want;
    EXPECT_GT(memory_plan(*profile).num_blocks, 0) << want;
  }
}

TEST(ProfileTest, ModelParametersMatchPublishedCounts) {
  // traces-and-perf.md §2.1: 8.03 B, 70.55 B; Gemma 7B: 8.54 B with the tied embedding.
  EXPECT_NEAR(shipped("llama-3.1-8b-h100").model.total_parameters() / 1e9, 8.03, 0.01);
  EXPECT_NEAR(shipped("llama-3.1-70b-4xh100").model.total_parameters() / 1e9, 70.55, 0.01);
  EXPECT_NEAR(shipped("gemma-7b-l4").model.total_parameters() / 1e9, 8.54, 0.01);
}

TEST(ProfileTest, KvBytesPerTokenAsDerivedFromTheArchitecture) {
  // 2 × layers × kv_heads × head_dim × 2 B: 128 KiB (8B), 320 KiB (70B), 448 KiB (Gemma 7B).
  EXPECT_EQ(kv_bytes_per_token_per_chip(shipped("llama-3.1-8b-h100").model, 1), 131072);
  EXPECT_EQ(kv_bytes_per_token_per_chip(shipped("llama-3.1-70b-4xh100").model, 1), 327680);
  EXPECT_EQ(kv_bytes_per_token_per_chip(shipped("llama-3.1-70b-4xh100").model, 4), 81920);
  EXPECT_EQ(kv_bytes_per_token_per_chip(shipped("gemma-7b-l4").model, 1), 458752);
  // 8 KV heads over 16 chips: replicated, one head per chip.
  EXPECT_EQ(kv_bytes_per_token_per_chip(shipped("llama-3.1-70b-4xh100").model, 16), 40960);
}

TEST(ProfileTest, KvCapacityMatchesVllmSizingRule) {
  // traces-and-perf.md §2.7: 8B on one H100 holds about 436k tokens (≈ 27k blocks).
  MemoryPlan h100 = memory_plan(shipped("llama-3.1-8b-h100"));
  EXPECT_NEAR(h100.weight_bytes / kGiB, 14.96, 0.01);
  EXPECT_NEAR(double(h100.capacity_tokens()), 436e3, 0.05 * 436e3);
  // 70B TP4 on H100: about 460k tokens.
  MemoryPlan tp4 = memory_plan(shipped("llama-3.1-70b-4xh100"));
  EXPECT_NEAR(double(tp4.capacity_tokens()), 460e3, 0.08 * 460e3);
  // Overrides win.
  Profile p = shipped("llama-3.1-8b-h100");
  p.scheduler.num_gpu_blocks_override = 1952;
  p.scheduler.max_model_len = 4096;
  EXPECT_EQ(memory_plan(p).capacity_tokens(), 31232);
}

TEST(ProfileTest, SchedulerDefaultsFollowVllmBatchDefaults) {
  Profile h100 = shipped("llama-3.1-8b-h100");
  EXPECT_EQ(h100.scheduler.max_num_seqs, 1024);
  EXPECT_EQ(h100.scheduler.max_num_batched_tokens, 8192);
  Profile a100 = shipped("llama-3.1-8b-a100");
  EXPECT_EQ(a100.scheduler.max_num_seqs, 256);
  EXPECT_EQ(a100.scheduler.max_num_batched_tokens, 2048);
  EXPECT_EQ(a100.scheduler.block_size, 16);
  EXPECT_DOUBLE_EQ(a100.scheduler.gpu_memory_utilization, 0.9);
  EXPECT_TRUE(a100.scheduler.enable_prefix_caching);
  EXPECT_TRUE(a100.scheduler.enable_chunked_prefill);
}

TEST(ProfileTest, SeedStartupPhases) {
  Profile tpu = shipped("llama-3.1-70b-tpu-v6e-8");
  ASSERT_FALSE(tpu.startup.empty());
  EXPECT_EQ(tpu.startup.back().name, "xla_compile");
  EXPECT_DOUBLE_EQ(tpu.startup.back().seconds, 202.93);
  EXPECT_EQ(tpu.accelerator.kind, "tpu");
}

// Decodes `text` as a deployment profile with the shipped models and accelerators.
core::Result<Profile> parse(const std::string& text) {
  return parse_profile(text, "test", disk(profiles_dir()), "test.yaml");
}

const char* kValid = R"(
model: llama-3.1-8b
accelerator: nvidia-h100-80gb
tensor_parallel_size: 1
)";

TEST(ProfileTest, MinimalProfileGetsDefaults) {
  auto p = parse(kValid);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->name, "test");
  EXPECT_EQ(p->max_model_len(), 131072);
  EXPECT_DOUBLE_EQ(p->efficiency.weight_bandwidth, 0.7);
}

TEST(ProfileTest, InlineModelAndAccelerator) {
  auto p = parse(R"(
model: {name: toy, num_hidden_layers: 2, hidden_size: 256, num_attention_heads: 4,
        intermediate_size: 512, vocab_size: 1000, max_position_embeddings: 2048}
accelerator: {name: toy-chip, memory_gib: 4, memory_bandwidth_gb_per_s: 100,
              peak_bf16_tflops: 10}
)");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->model.head_dim, 64);
  EXPECT_EQ(p->model.num_key_value_heads, 4);
  EXPECT_EQ(p->scheduler.max_num_seqs, 256);
}

struct BadCase {
  const char* text;
  const char* message;
};

TEST(ProfileTest, ErrorsNameTheFieldPath) {
  const BadCase cases[] = {
      {"model: llama-3.1-8b\naccelerator: nvidia-h100-80gb\ntensor_parallel_size: two\n",
       "test.yaml: tensor_parallel_size: expected a 32-bit integer, got string \"two\""},
      {"model: llama-3.1-8b\naccelerator: nvidia-h100-80gb\nefficiency: {weight_bandwidth: 1.5}\n",
       "test.yaml: efficiency.weight_bandwidth: must be in (0, 1]"},
      {"model: llama-3.1-8b\naccelerator: nvidia-h100-80gb\nscheduler: {max_num_seqs: 0}\n",
       "test.yaml: scheduler.max_num_seqs: must be at least 1"},
      {"model: llama-3.1-8b\naccelerator: nvidia-h100-80gb\nscheduler: {max_num_seqz: 4}\n",
       "unknown field \"scheduler.max_num_seqz\""},
      {"model: llama-3.1-8b\naccelerator: nvidia-h100-80gb\nstartup: [{name: a, seconds: 1}, "
       "{name: b, seconds: -2}]\n",
       "test.yaml: startup[1].seconds: must not be negative"},
      {"model: llama-9\naccelerator: nvidia-h100-80gb\n", "model: \"llama-9\" not found"},
      {"accelerator: nvidia-h100-80gb\n", "test.yaml: model: required"},
      {"model: {name: m, num_hidden_layers: 2, hidden_size: x}\naccelerator: nvidia-h100-80gb\n",
       "test.yaml: model.hidden_size: expected a 32-bit integer, got string \"x\""},
      {"model: llama-3.1-8b\naccelerator: {name: a, kind: fpga, memory_gib: 1, "
       "memory_bandwidth_gb_per_s: 1, peak_bf16_tflops: 1}\n",
       "test.yaml: accelerator.kind: must be \"gpu\" or \"tpu\", got \"fpga\""},
      {"model: llama-3.1-70b\naccelerator: nvidia-h100-80gb\n",
       "no memory is left for the KV cache"},
      {"model: llama-3.1-70b\naccelerator: nvidia-h100-80gb\ntensor_parallel_size: 3\n",
       "tensor_parallel_size: 3 does not divide num_attention_heads (64)"},
      {"model: gemma-7b\naccelerator: nvidia-l4\n",
       "larger than the maximum number of tokens that can be stored in KV cache"},
      {"model: llama-3.1-8b\naccelerator: nvidia-h100-80gb\nscheduler: {max_model_len: 9000, "
       "enable_chunked_prefill: false}\n",
       "smaller than max_model_len (9000) with chunked prefill disabled"},
      {"- just\n- a list\n", "test.yaml: expected a mapping, got a list"},
      {"model: [\n", "test.yaml: yaml: line"},
  };
  for (const BadCase& c : cases) {
    auto p = parse(c.text);
    ASSERT_FALSE(p) << c.text;
    EXPECT_THAT(p.error().message, HasSubstr(c.message)) << c.text;
  }
}

TEST(ProfileTest, ErrorInAReferencedFileNamesThatFile) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / "llmscale_profile_test";
  fs::create_directories(dir / "models");
  fs::create_directories(dir / "accelerators");
  std::ofstream(dir / "models" / "broken.yaml") << "name: b\nnum_hidden_layers: -1\n";
  std::ofstream(dir / "accelerators" / "chip.yaml")
      << "name: chip\nmemory_gib: 80\nmemory_bandwidth_gb_per_s: 1000\npeak_bf16_tflops: 100\n";
  std::ofstream(dir / "dep.yaml") << "model: broken\naccelerator: chip\n";
  auto p = load_profile(disk(dir.string()), "dep");
  ASSERT_FALSE(p);
  EXPECT_THAT(p.error().message, HasSubstr("models/broken.yaml: num_hidden_layers: required"));
  auto missing = load_profile(disk(dir.string()), "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::ErrorCode::kNotFound);
  EXPECT_THAT(missing.error().message, HasSubstr("known profiles: dep, gemma-7b-l4"));
  fs::remove_all(dir);
}

TEST(ProfileTest, LoadsByPath) {
  auto p = load_profile(disk(""), profiles_dir() + "/gemma-7b-l4.yaml");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->name, "gemma-7b-l4");
}

// The built-in texts are exactly the repository's profiles/**/*.yaml.
TEST(ProfileLookupTest, BuiltinFilesAreTheRepositorysProfiles) {
  namespace fs = std::filesystem;
  std::vector<std::string> on_disk;
  for (const auto& entry : fs::recursive_directory_iterator(profiles_dir())) {
    if (entry.is_regular_file() && entry.path().extension() == ".yaml") {
      on_disk.push_back(fs::relative(entry.path(), profiles_dir()).string());
    }
  }
  std::sort(on_disk.begin(), on_disk.end());
  std::vector<std::string> built_in;
  for (const BuiltinProfileFile& file : builtin_profile_files()) {
    built_in.emplace_back(file.path);
    EXPECT_EQ(file.text,
              llmscale::testing::read_file(profiles_dir() + "/" + std::string(file.path)))
        << file.path;
  }
  EXPECT_EQ(built_in, on_disk);
  EXPECT_THAT(built_in, ::testing::Contains("models/llama-3.1-8b.yaml"));
}

// No directory at all (a binary run far from the repository): every shipped profile loads from
// the built-in texts, the same as from profiles/.
TEST(ProfileLookupTest, ShippedProfilesLoadWithoutAnyDirectory) {
  ProfileSearch nothing_on_disk;
  for (const auto& name : list_profiles(disk(profiles_dir(), false))) {
    auto built_in = load_profile(nothing_on_disk, name);
    ASSERT_TRUE(built_in) << built_in.error().message;
    Profile from_disk = shipped(name);
    EXPECT_EQ(built_in->description, from_disk.description) << name;
    EXPECT_EQ(memory_plan(*built_in).num_blocks, memory_plan(from_disk).num_blocks) << name;
  }
  EXPECT_EQ(list_profiles(nothing_on_disk), list_profiles(disk(profiles_dir(), false)));
}

// The engine reads no file itself: directories are read only through the ProfileFiles the
// caller gives (issue 13); without one, the message says the directory was not read.
TEST(ProfileLookupTest, DirectoriesAreReadOnlyThroughTheGivenFiles) {
  auto files = std::make_shared<testing::MemoryFiles>(std::map<std::string, std::string>{
      {"/mem/dep.yaml", "description: in memory\nmodel: llama-3.1-8b\naccelerator: chip\n"},
      {"/mem/accelerators/chip.yaml",
       "name: chip\nmemory_gib: 80\nmemory_bandwidth_gb_per_s: 1000\npeak_bf16_tflops: 100\n"}});
  ProfileSearch search;
  search.dirs.push_back({"/mem", "--profiles-dir"});
  search.files = files;
  auto dep = load_profile(search, "dep");
  ASSERT_TRUE(dep) << dep.error().message;
  EXPECT_EQ(dep->description, "in memory");
  EXPECT_EQ(dep->accelerator.name, "chip");
  EXPECT_THAT(list_profiles(search), ::testing::Contains("dep"));
  EXPECT_EQ(search.describe(), "--profiles-dir /mem, then the profiles built into llmscale");
  auto by_path = load_profile(search, "/mem/dep.yaml");
  ASSERT_TRUE(by_path) << by_path.error().message;
  EXPECT_EQ(by_path->name, "dep");

  search.files = nullptr;
  auto unread = load_profile(search, "dep");
  ASSERT_FALSE(unread);
  EXPECT_THAT(unread.error().message, HasSubstr("/mem/dep.yaml (not read: no file access given)"));
  // The built-in profiles need no file access.
  EXPECT_TRUE(load_profile(search, "gemma-7b-l4"));
  EXPECT_TRUE(load_builtin_profile("llama-3.1-8b-h100"));
}

// A user's directory comes first for deployments and for the models and accelerators they
// name; what it lacks comes from the built-in profiles.
TEST(ProfileLookupTest, UsersDirectoryShadowsBuiltinFileByFile) {
  llmscale::testing::TempDir dir;
  std::filesystem::create_directories(dir.path() + "/accelerators");
  dir.write("accelerators/chip.yaml",
            "name: chip\nmemory_gib: 80\nmemory_bandwidth_gb_per_s: 1000\npeak_bf16_tflops: 100\n");
  // Mine: a built-in model on my own accelerator.
  dir.write("mine.yaml", "description: mine\nmodel: llama-3.1-8b\naccelerator: chip\n");
  // Same name as a shipped profile: mine wins.
  dir.write("llama-3.1-8b-h100.yaml",
            "description: my h100\nmodel: llama-3.1-8b\naccelerator: nvidia-h100-80gb\n");
  ProfileSearch search = disk(dir.path());

  auto mine = load_profile(search, "mine");
  ASSERT_TRUE(mine) << mine.error().message;
  EXPECT_EQ(mine->model.name, "meta-llama/Llama-3.1-8B-Instruct");
  EXPECT_EQ(mine->accelerator.name, "chip");
  auto shadowed = load_profile(search, "llama-3.1-8b-h100");
  ASSERT_TRUE(shadowed) << shadowed.error().message;
  EXPECT_EQ(shadowed->description, "my h100");
  auto builtin = load_profile(search, "gemma-7b-l4");
  ASSERT_TRUE(builtin) << builtin.error().message;
  EXPECT_EQ(builtin->description, shipped("gemma-7b-l4").description);

  auto names = list_profiles(search);
  EXPECT_THAT(names, ::testing::Contains("mine"));
  EXPECT_THAT(names, ::testing::Contains("gemma-7b-tpu-v5e-8"));
  EXPECT_EQ(std::count(names.begin(), names.end(), "llama-3.1-8b-h100"), 1);

  // Built-in profiles off: only the directory.
  search.builtin = false;
  EXPECT_FALSE(load_profile(search, "gemma-7b-l4"));
  EXPECT_THAT(list_profiles(search), ::testing::ElementsAre("llama-3.1-8b-h100", "mine"));
}

// issue 11 item 14a: a missing profile says where it was looked for and which names exist
// (before, a replica started outside the repository only logged `profile "x" not found`).
TEST(ProfileLookupTest, MissingProfileSaysWhereItLookedAndWhatExists) {
  auto missing = load_profile(disk("/no/such/dir"), "llama-3.1-8b-h10");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::ErrorCode::kNotFound);
  const std::string& message = missing.error().message;
  EXPECT_THAT(message, HasSubstr("profile \"llama-3.1-8b-h10\" not found"));
  EXPECT_THAT(message, HasSubstr("/no/such/dir/llama-3.1-8b-h10.yaml (no such directory)"));
  EXPECT_THAT(message, HasSubstr("built-in profiles/llama-3.1-8b-h10.yaml"));
  EXPECT_THAT(message, HasSubstr("known profiles: gemma-7b-l4, gemma-7b-tpu-v5e-8, "));
  EXPECT_THAT(message, HasSubstr("llama-3.1-8b-h100"));

  llmscale::testing::TempDir dir;
  dir.write("dep.yaml", "model: no-such-model\naccelerator: nvidia-l4\n");
  auto bad_model = load_profile(disk(dir.path()), "dep");
  ASSERT_FALSE(bad_model);
  EXPECT_THAT(bad_model.error().message,
              HasSubstr("model: \"no-such-model\" not found (looked for " + dir.path() +
                        "/models/no-such-model.yaml, built-in profiles/models/no-such-model.yaml; "
                        "known: gemma-7b, llama-3.1-70b, llama-3.1-8b)"));
}

// Issue 15: H200, L4, A10G and TP2/TP8 profiles, each saying which engine release it models, and
// a profile chosen by model × accelerator × TP × dtype × engine version.
TEST(ProfileCatalogTest, NewHardwareProfilesSizeTheirKvCacheFromTheirMemory) {
  for (const char* name : {"llama-3.1-8b-h200", "llama-3.1-8b-l4", "llama-3.1-8b-a10g",
                           "llama-3.1-70b-2xh200", "llama-3.1-70b-8xh100"}) {
    Profile p = shipped(name);
    EXPECT_TRUE(validate_profile(p)) << name;
    EXPECT_EQ(p.scheduler.policy, SchedulerPolicy::kVllmV1) << name;
    EXPECT_FALSE(p.scheduler.engine_version.empty()) << name;
    EXPECT_GE(memory_plan(p).capacity_tokens(), p.max_model_len()) << name;
  }
  // The same weights and activations on a bigger card: the KV cache grows by exactly the extra
  // usable memory (139.8 vs 79.2 GiB at 90 %).
  MemoryPlan h100 = memory_plan(shipped("llama-3.1-8b-h100"));
  MemoryPlan h200 = memory_plan(shipped("llama-3.1-8b-h200"));
  EXPECT_NEAR(h200.kv_cache_bytes - h100.kv_cache_bytes, (139.8 - 79.2) * 0.9 * kGiB, 0.01 * kGiB);
  // L4 and A10G: the same 24 GB, so the same KV cache; the 8B weights leave ~3.5 GiB of it.
  MemoryPlan l4 = memory_plan(shipped("llama-3.1-8b-l4"));
  EXPECT_EQ(l4.num_blocks, memory_plan(shipped("llama-3.1-8b-a10g")).num_blocks);
  EXPECT_NEAR(l4.kv_cache_bytes / kGiB, 3.5, 0.5);
  // TP8: one of the 8 KV heads per GPU, a quarter of TP2's bytes per token per GPU.
  EXPECT_DOUBLE_EQ(memory_plan(shipped("llama-3.1-70b-8xh100")).kv_bytes_per_token * 4,
                   memory_plan(shipped("llama-3.1-70b-2xh200")).kv_bytes_per_token);
}

TEST(ProfileCatalogTest, SelectsByModelAcceleratorTpDtypeAndEngine) {
  ProfileSearch search = disk(profiles_dir());
  auto pick = [&](ProfileKey key) { return select_profile(search, key); };
  auto name = [&](ProfileKey key) {
    auto chosen = select_profile(search, key);
    return chosen ? *chosen : "error: " + chosen.error().message;
  };
  EXPECT_EQ(name({"meta-llama/Llama-3.1-8B-Instruct", "nvidia-h100-80gb", 1, "fp8", "vllm-v1", ""}),
            "llama-3.1-8b-h100-fp8");
  EXPECT_EQ(name({"Llama-3.1-8B-Instruct", "nvidia-h100-80gb", 1, "fp8", "trtllm", "NIM 1.8"}),
            "llama-3.1-8b-h100-fp8-nim");
  EXPECT_EQ(name({"llama-3.1-8b-instruct", "nvidia-h100-80gb", 1, "bfloat16", "vllm-v1", ""}),
            "llama-3.1-8b-h100");
  EXPECT_EQ(name({"Llama-3.1-70B-Instruct", "nvidia-h100-80gb", 8, "", "", ""}),
            "llama-3.1-70b-8xh100");
  EXPECT_EQ(name({"Llama-3.1-70B-Instruct", "nvidia-h200-141gb", 2, "bf16", "vllm-v1", "0.10"}),
            "llama-3.1-70b-2xh200");
  EXPECT_EQ(name({"Llama-3.1-8B-Instruct", "nvidia-a10g", 0, "", "", ""}), "llama-3.1-8b-a10g");
  // bf16 and FP8 on one H100 under vLLM V1: the dtype decides.
  auto both = pick({"Llama-3.1-8B-Instruct", "nvidia-h100-80gb", 1, "", "vllm-v1", ""});
  ASSERT_FALSE(both);
  EXPECT_EQ(both.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_THAT(both.error().message, HasSubstr("llama-3.1-8b-h100, llama-3.1-8b-h100-fp8"));
  // Nothing models SGLang yet: the message lists what exists, with its key.
  auto none = pick({"Llama-3.1-8B-Instruct", "", 0, "", "sglang", ""});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, core::ErrorCode::kNotFound);
  EXPECT_THAT(none.error().message, HasSubstr("no profile models Llama-3.1-8B-Instruct, sglang"));
  EXPECT_THAT(none.error().message,
              HasSubstr("llama-3.1-8b-l4 (meta-llama/Llama-3.1-8B-Instruct, nvidia-l4, TP1, bf16, "
                        "vllm-v1 0.10)"));
}

}  // namespace
}  // namespace llmscale::engine
