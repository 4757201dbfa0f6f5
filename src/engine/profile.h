// Deployment profiles: one model on one accelerator type with a tensor-parallel degree, the
// roofline efficiencies fitted for that pair, the serving engine's scheduler settings and the
// cold-start phases. The step-time model (step_time.h), the KV-cache sizing and the scheduler
// (engine.h) read everything they need from a Profile; nothing about a model or a chip is
// hard-coded elsewhere.
//
// Profiles are YAML files (format and field list in docs/engine-model.md, "Profile files"). The
// repository's `profiles/` is built into the binary (cmake/embed_files.cmake), so llmscale finds
// its profiles from any working directory; users' own directories (--profiles-dir,
// $LLMSCALE_PROFILES) are searched first (ProfileSearch). The engine never touches the
// filesystem or the environment: directory access is injected (ProfileFiles), and
// server/profile_files.h builds the searches llmscale uses. A deployment file names its model and
// accelerator (`model: llama-3.1-8b` loads `models/llama-3.1-8b.yaml`, searched in the same
// order) or gives them inline. Every error names the file and the field path:
// `profiles/x.yaml: model.num_hidden_layers: expected an integer`; a missing profile says where
// it was looked for and which names exist.
//
// A Profile is an immutable value once loaded; share it as std::shared_ptr<const Profile>.
// Loading reads the built-in texts and whatever search.files gives; thread-compatible.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace llmscale::engine {

// A decoder-only transformer, in Hugging Face config.json terms.
struct ModelConfig {
  std::string name;  // served model name, e.g. "meta-llama/Llama-3.1-8B-Instruct"
  int num_hidden_layers = 0;
  int hidden_size = 0;
  int num_attention_heads = 0;
  int num_key_value_heads = 0;
  int head_dim = 0;           // defaults to hidden_size / num_attention_heads
  int intermediate_size = 0;  // FFN width (gated MLP: gate, up and down projections)
  int vocab_size = 0;
  bool tie_word_embeddings = false;  // LM head shares the embedding matrix (Gemma)
  std::int64_t max_position_embeddings = 0;
  int weight_bytes_per_param = 2;      // bf16
  int kv_cache_bytes_per_element = 2;  // bf16 KV cache
  // Weight quantization of the transformer blocks (vLLM --quantization; the embedding and LM
  // head stay in torch_dtype): "" none; "fp8" W8A8 on FP8 tensor cores; "int8" W8A8 on INT8
  // tensor cores; "int8_weight_only" / "int4_weight_only" (W8A16 / W4A16, Marlin-style: weights
  // dequantized in the GEMM, compute at 16-bit). Accelerators without the low-precision tensor
  // cores compute at their bf16 rate (vLLM runs FP8 checkpoints on A100 as W8A16).
  std::string quantization;
  // Tokens the model's chat template adds to every conversation besides the per-message headers
  // (Llama 3.1/3.3: the system block's fixed "Cutting Knowledge Date: December 2023\nToday Date:
  // 26 Jul 2024\n\n" preamble, emitted even without a system message). 0: none.
  int chat_system_preamble_tokens = 0;
  // Bytes per block parameter: torch_dtype's without quantization; 1 for the 8-bit schemes;
  // 0.5 + a bf16 scale per group of 128 for INT4.
  double block_weight_bytes_per_param() const;

  // Parameters of the transformer blocks (attention and MLP projections, norms excluded).
  double block_parameters() const;
  double embedding_parameters() const { return double(vocab_size) * hidden_size; }
  // All parameters, embedding and LM head included (the LM head once when tied).
  double total_parameters() const;
};

// One accelerator chip (a GPU or a TPU chip) and the interconnect of its tensor-parallel group.
struct AcceleratorSpec {
  std::string name;                // "nvidia-h100-80gb"
  std::string kind = "gpu";        // "gpu" or "tpu": selects DCGM-style or TPU-style metrics
  double memory_bytes = 0;         // memory the serving engine sees per chip
  double memory_bandwidth = 0;     // bytes/s, per chip (datasheet)
  double peak_flops = 0;           // dense bf16 FLOP/s, per chip (datasheet)
  double peak_fp8_flops = 0;       // dense FP8 FLOP/s; 0: no FP8 tensor cores (A100, TPU v5e)
  double peak_int8_flops = 0;      // dense INT8 OP/s; 0: none
  double allreduce_latency_s = 0;  // per all-reduce call in a tensor-parallel group
  double allreduce_bandwidth = 0;  // bytes/s of all-reduce payload (algorithm bandwidth)
  std::string source;              // where the numbers come from
};

// Fractions of the datasheet roofline that kernels reach, and the host overhead of a step.
struct Efficiencies {
  double weight_bandwidth = 0.7;      // weight streaming in GEMMs (memory-bound side)
  double gemm_flops = 0.65;           // GEMM compute (compute-bound side)
  double overlap_exponent = 1.5;      // p of the smooth roofline (m^p + c^p)^(1/p)
  double attention_bandwidth = 0.8;   // KV reads by decode attention
  double attention_flops = 0.5;       // prefill attention (causal, FlashAttention-style)
  double cpu_overhead_s = 0.001;      // per step: scheduling, input prep, sampling, output
  double cpu_overhead_per_seq_s = 0;  // per sequence in the batch (scheduler, sampler)
  // Detokenization of each sampled token (incremental detokenizer, stop-string check, output
  // object). Where it runs depends on the engine (detokenize_in_frontend).
  double detokenize_per_token_s = 0;
  // Host-work placement; absent: the engine's (host_overlap_default(), detokenize_in_frontend_
  // default()). host_overlap: the scheduler runs one batch ahead and the per-step host work
  // (cpu_overhead + per seq) hides behind the GPU (SGLang >= 0.4 overlap scheduler, TensorRT-LLM
  // overlap scheduler); else it adds to every step. detokenize_in_frontend: the detokenizer is a
  // process of its own (vLLM V1 AsyncLLM OutputProcessor, SGLang DetokenizerManager, JetStream's
  // detokenize thread), so it only bounds the step rate; else it runs in the step loop (vLLM V0
  // before the async output processor, TGI's Python shard).
  std::optional<bool> host_overlap;
  std::optional<bool> detokenize_in_frontend;
  std::string source;
};

// Which serving engine's scheduler the Engine follows (the rules of each are listed in
// engine.h; the defaults in apply_engine_defaults()).
enum class SchedulerPolicy : std::uint8_t { kVllmV1, kVllmV0, kSglang, kTgi, kJetStream, kTrtLlm };
// "vllm-v1", "vllm-v0", "sglang", "tgi", "jetstream", "trtllm".
std::string_view scheduler_policy_name(SchedulerPolicy policy);
std::optional<SchedulerPolicy> parse_scheduler_policy(std::string_view name);

// Serving-engine settings, named after vLLM's engine arguments.
struct SchedulerConfig {
  int max_num_seqs = 256;
  int max_num_batched_tokens = 2048;
  int block_size = 16;
  double gpu_memory_utilization = 0.9;
  bool enable_prefix_caching = true;
  bool enable_chunked_prefill = true;
  std::int64_t max_model_len = 0;  // 0: the model's max_position_embeddings
  std::optional<std::int64_t> num_gpu_blocks_override;
  // Memory held back from the KV cache per chip besides weights: peak activations, CUDA graphs,
  // non-torch allocations. Absent: estimated from max_num_batched_tokens (see memory_plan()).
  std::optional<double> activation_reserve_bytes;
  // The serving engine whose scheduler rules apply (scheduler.engine), the release its defaults
  // come from (scheduler.engine_version), and whether the profile named it (when not, the
  // serving flavor's engine may be applied: server/profile_files.h).
  SchedulerPolicy policy = SchedulerPolicy::kVllmV1;
  std::string engine_version;
  bool engine_explicit = false;
  // Prefill-first engines: at most this many new requests per prefill step (0: no limit;
  // JetStream prefills one request at a time).
  int max_prefill_seqs = 0;
  // TGI's router: Σ (prompt + max_new_tokens) over the batch (0: no limit), and when to pause
  // decoding for a prefill: the queue holds >= waiting_served_ratio × batch size requests, or
  // max_waiting_tokens decode steps ran since the last prefill.
  std::int64_t max_batch_total_tokens = 0;
  double waiting_served_ratio = 0.3;
  int max_waiting_tokens = 20;
};

// One cold-start phase the simulated server goes through before it is ready.
struct StartupPhase {
  std::string name;  // "container_start", "weights_load", "compile", "cuda_graph_capture"
  double seconds = 0;
};

struct Profile {
  std::string name;  // file stem, e.g. "llama-3.1-8b-h100"
  std::string description;
  ModelConfig model;
  AcceleratorSpec accelerator;
  int tensor_parallel = 1;  // chips per replica
  Efficiencies efficiency;
  SchedulerConfig scheduler;
  std::vector<StartupPhase> startup;

  std::int64_t max_model_len() const {
    return scheduler.max_model_len > 0 ? scheduler.max_model_len : model.max_position_embeddings;
  }
  double startup_seconds() const;
};

// Memory of one chip, as vLLM sizes its KV cache:
//   kv = memory × gpu_memory_utilization − weights − activations.
struct MemoryPlan {
  double usable_bytes = 0;        // memory × gpu_memory_utilization
  double weight_bytes = 0;        // per chip
  double activation_bytes = 0;    // per chip
  double kv_cache_bytes = 0;      // per chip, before rounding to blocks
  double kv_bytes_per_token = 0;  // per chip
  std::int64_t num_blocks = 0;    // KV blocks (the same on every chip of the replica)
  std::int64_t capacity_tokens() const;
  int block_size = 16;
};

// Sets `policy` and the scheduler defaults of that engine (sources in the definition): batch
// limits, token budget, chunked prefill. Called before a profile's own scheduler fields apply.
void apply_engine_defaults(Profile& profile, SchedulerPolicy policy);
// Where each engine does its host work (sources at the definitions); Efficiencies may override.
bool host_overlap_default(SchedulerPolicy policy);
bool detokenize_in_frontend_default(SchedulerPolicy policy);

// FLOP/s of the block GEMMs at the model's quantization on this accelerator (dense, datasheet).
double gemm_peak_flops(const ModelConfig& model, const AcceleratorSpec& accelerator);

// Per chip: KV heads are split across the tensor-parallel group, replicated when fewer.
double kv_bytes_per_token_per_chip(const ModelConfig& model, int tensor_parallel);
MemoryPlan memory_plan(const Profile& profile);

// Checks ranges and consistency (heads divisible by TP, weights fit, KV holds max_model_len).
core::Status validate_profile(const Profile& profile);

// Read access to profile files, given to the engine by its caller: the engine itself reads no
// file and no environment variable (issue 13). The filesystem implementation lives with the
// serving layer (server/profile_files.h); tests pass in-memory ones. Implementations must be
// thread-compatible and const-callable.
class ProfileFiles {
 public:
  virtual ~ProfileFiles() = default;
  // The text of the file at `path` ("<dir>/models/m.yaml"); kNotFound when there is none.
  virtual core::Result<std::string> read(const std::string& path) const = 0;
  // Names (not paths) of the regular files directly in directory `dir`; nullopt when `dir` is
  // not a directory.
  virtual std::optional<std::vector<std::string>> list(const std::string& dir) const = 0;
};

// Where profile files are looked up, in order: `dirs` (users' own profiles, read through
// `files`), then, unless `builtin` is false, the profiles built into the binary. The same order
// applies to the model and accelerator files a deployment names, so a user's directory can also
// override one model. Without `files` the directories cannot be read (messages say so).
struct ProfileSearch {
  struct Dir {
    std::string path;
    std::string from;  // why it is searched, for messages: "--profiles-dir", "$LLMSCALE_PROFILES"
  };
  std::vector<Dir> dirs;
  bool builtin = true;
  std::shared_ptr<const ProfileFiles> files;

  // "--profiles-dir /x, then the profiles built into llmscale".
  std::string describe() const;
};

// Decodes a deployment document. `model`/`accelerator` given by name are loaded from
// `models/<name>.yaml` and `accelerators/<name>.yaml` of the places of `search`. `origin`
// prefixes error messages (usually the file path).
core::Result<Profile> decode_profile(const core::Json& document, std::string_view name,
                                     const ProfileSearch& search, std::string_view origin);
// Parses YAML/JSON text and decodes it.
core::Result<Profile> parse_profile(std::string_view text, std::string_view name,
                                    const ProfileSearch& search, std::string_view origin);
// Same, with the built-in profiles only for the references.
core::Result<Profile> parse_profile(std::string_view text, std::string_view name,
                                    std::string_view origin = {});

// Loads the deployment profile `<name>.yaml` from the first place of `search` that has it, or a
// file when `name_or_path` ends in .yaml/.yml/.json (read through search.files; its references
// are looked up next to it first). Not found: kNotFound naming every place looked in and the
// names that exist.
core::Result<Profile> load_profile(const ProfileSearch& search, std::string_view name_or_path);
// Names of the deployment profiles in every place of `search`, sorted, without duplicates.
std::vector<std::string> list_profiles(const ProfileSearch& search);

// A profile built into the binary (load_profile with no directory).
core::Result<Profile> load_builtin_profile(std::string_view name);

// What a deployment profile models, for choosing one (issue 15): model × accelerator × tensor
// parallelism × weight dtype × serving engine and its version. In a query, empty strings and a
// zero tensor_parallel match anything.
struct ProfileKey {
  std::string model;        // ModelConfig::name, or its part after '/'; case-insensitive
  std::string accelerator;  // AcceleratorSpec::name ("nvidia-h100-80gb")
  int tensor_parallel = 0;
  std::string dtype;           // weights: "bf16" (any 16-bit), "fp32", or the quantization name
  std::string engine;          // scheduler_policy_name(): "vllm-v1", "sglang", ...
  std::string engine_version;  // a query matches a version it prefixes ("0.10" ~ "0.10.1")
};
ProfileKey profile_key(const Profile& profile);
// The weights' dtype as ProfileKey names it ("bf16", "fp8", "int4_weight_only").
std::string weight_dtype(const ModelConfig& model);
// The one profile of `search` that matches `want`. Fails with kNotFound (listing every profile
// with its key) when none does, and kInvalidArgument naming the candidates when several do.
core::Result<std::string> select_profile(const ProfileSearch& search, const ProfileKey& want);

// One file of the repository's profiles/ as built into the binary: `path` relative to profiles/
// ("llama-3.1-8b-h100.yaml", "models/llama-3.1-8b.yaml"), sorted by path.
struct BuiltinProfileFile {
  std::string_view path;
  std::string_view text;
};
// Defined in the generated builtin_profiles.cc.
std::span<const BuiltinProfileFile> builtin_profile_files();

}  // namespace llmscale::engine
