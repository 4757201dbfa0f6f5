// Profile files: YAML -> Profile, with the field path in every error, and the KV-cache sizing.
#include "engine/profile.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/json_reader.h"
#include "core/strings.h"

namespace llmscale::engine {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// "<dir>/<relative>" (plain string joining: the engine does not interpret paths).
std::string join_path(std::string_view dir, std::string_view relative) {
  std::string out(dir);
  if (!out.empty() && out.back() != '/') out += '/';
  return out + std::string(relative);
}

// "bfloat16" -> 2. Names as in Hugging Face torch_dtype and vLLM --kv-cache-dtype.
bool dtype_bytes(const std::string& name, int& bytes) {
  if (name == "bfloat16" || name == "float16" || name == "auto" || name == "bf16" ||
      name == "fp16") {
    bytes = 2;
  } else if (name == "float32" || name == "fp32") {
    bytes = 4;
  } else if (name == "fp8" || name == "float8" || name == "fp8_e4m3" || name == "fp8_e5m2" ||
             name == "int8") {
    bytes = 1;
  } else {
    return false;
  }
  return true;
}

void read_dtype(core::JsonReader& r, std::string_view key, int& bytes) {
  std::string name;
  r.read(key, name);
  if (!r.ok() || name.empty()) return;
  if (!dtype_bytes(name, bytes)) {
    r.fail(r.child(key),
           "unknown dtype \"" + name + "\" (want bfloat16, float16, float32, fp8 or int8)");
  }
}

void positive(core::JsonReader& r, std::string_view key, double value) {
  if (r.ok() && !(value > 0)) r.fail(r.child(key), "must be positive");
}

void decode_model(core::JsonReader& r, ModelConfig& m) {
  r.read("name", m.name);
  r.read("num_hidden_layers", m.num_hidden_layers);
  r.read("hidden_size", m.hidden_size);
  r.read("num_attention_heads", m.num_attention_heads);
  r.read("num_key_value_heads", m.num_key_value_heads);
  r.read("head_dim", m.head_dim);
  r.read("intermediate_size", m.intermediate_size);
  r.read("vocab_size", m.vocab_size);
  r.read("tie_word_embeddings", m.tie_word_embeddings);
  r.read("max_position_embeddings", m.max_position_embeddings);
  read_dtype(r, "torch_dtype", m.weight_bytes_per_param);
  m.kv_cache_bytes_per_element = m.weight_bytes_per_param;
  read_dtype(r, "kv_cache_dtype", m.kv_cache_bytes_per_element);
  r.read("quantization", m.quantization);
  r.read("chat_system_preamble_tokens", m.chat_system_preamble_tokens);
  r.ignore({"description", "source", "architecture"});
  if (!r.ok()) return;
  if (!m.quantization.empty() && m.quantization != "fp8" && m.quantization != "int8" &&
      m.quantization != "int8_weight_only" && m.quantization != "int4_weight_only") {
    return r.fail(r.child("quantization"),
                  "unknown quantization \"" + m.quantization +
                      "\" (want fp8, int8, int8_weight_only or int4_weight_only)");
  }
  if (m.name.empty()) return r.fail(r.child("name"), "required");
  if (m.chat_system_preamble_tokens < 0) {
    return r.fail(r.child("chat_system_preamble_tokens"), "must not be negative");
  }
  for (auto [key, value] :
       {std::pair<const char*, std::int64_t>{"num_hidden_layers", m.num_hidden_layers},
        {"hidden_size", m.hidden_size},
        {"num_attention_heads", m.num_attention_heads},
        {"intermediate_size", m.intermediate_size},
        {"vocab_size", m.vocab_size},
        {"max_position_embeddings", m.max_position_embeddings}}) {
    if (value <= 0) return r.fail(r.child(key), "required, must be a positive integer");
  }
  if (m.num_key_value_heads == 0) m.num_key_value_heads = m.num_attention_heads;
  if (m.num_key_value_heads < 0 || m.num_attention_heads % m.num_key_value_heads != 0) {
    return r.fail(r.child("num_key_value_heads"), "must divide num_attention_heads (" +
                                                      std::to_string(m.num_attention_heads) + ")");
  }
  if (m.head_dim == 0) m.head_dim = m.hidden_size / m.num_attention_heads;
  if (m.head_dim <= 0) return r.fail(r.child("head_dim"), "must be a positive integer");
}

void decode_accelerator(core::JsonReader& r, AcceleratorSpec& a) {
  double memory_gib = 0, bandwidth_gb = 0, tflops = 0, ar_latency_us = 0, ar_bandwidth_gb = 0;
  double fp8_tflops = 0, int8_tops = 0;
  r.read("peak_fp8_tflops", fp8_tflops);
  r.read("peak_int8_tops", int8_tops);
  r.read("name", a.name);
  r.read("kind", a.kind);
  r.read("memory_gib", memory_gib);
  r.read("memory_bandwidth_gb_per_s", bandwidth_gb);
  r.read("peak_bf16_tflops", tflops);
  r.read("allreduce_latency_us", ar_latency_us);
  r.read("allreduce_bandwidth_gb_per_s", ar_bandwidth_gb);
  r.read("source", a.source);
  r.ignore({"description"});
  if (!r.ok()) return;
  if (a.name.empty()) return r.fail(r.child("name"), "required");
  if (a.kind != "gpu" && a.kind != "tpu") {
    return r.fail(r.child("kind"), "must be \"gpu\" or \"tpu\", got \"" + a.kind + "\"");
  }
  positive(r, "memory_gib", memory_gib);
  positive(r, "memory_bandwidth_gb_per_s", bandwidth_gb);
  positive(r, "peak_bf16_tflops", tflops);
  if (ar_latency_us < 0) r.fail(r.child("allreduce_latency_us"), "must not be negative");
  if (ar_bandwidth_gb < 0) r.fail(r.child("allreduce_bandwidth_gb_per_s"), "must not be negative");
  a.memory_bytes = memory_gib * kGiB;
  a.memory_bandwidth = bandwidth_gb * 1e9;
  a.peak_flops = tflops * 1e12;
  if (fp8_tflops < 0) r.fail(r.child("peak_fp8_tflops"), "must not be negative");
  if (int8_tops < 0) r.fail(r.child("peak_int8_tops"), "must not be negative");
  a.peak_fp8_flops = fp8_tflops * 1e12;
  a.peak_int8_flops = int8_tops * 1e12;
  a.allreduce_latency_s = ar_latency_us * 1e-6;
  a.allreduce_bandwidth = ar_bandwidth_gb * 1e9;
}

void fraction(core::JsonReader& r, std::string_view key, double value) {
  if (r.ok() && !(value > 0 && value <= 1)) r.fail(r.child(key), "must be in (0, 1]");
}

void decode_efficiency(core::JsonReader& r, Efficiencies& e) {
  double cpu_ms = e.cpu_overhead_s * 1e3, cpu_per_seq_us = e.cpu_overhead_per_seq_s * 1e6;
  double detokenize_us = e.detokenize_per_token_s * 1e6;
  r.read("weight_bandwidth", e.weight_bandwidth);
  r.read("gemm_flops", e.gemm_flops);
  r.read("overlap_exponent", e.overlap_exponent);
  r.read("attention_bandwidth", e.attention_bandwidth);
  r.read("attention_flops", e.attention_flops);
  r.read("cpu_overhead_ms", cpu_ms);
  r.read("cpu_overhead_per_seq_us", cpu_per_seq_us);
  r.read("detokenize_per_token_us", detokenize_us);
  for (auto [key, flag] :
       {std::pair<const char*, std::optional<bool>*>{"host_overlap", &e.host_overlap},
        {"detokenize_in_frontend", &e.detokenize_in_frontend}}) {
    if (!r.has(key)) continue;
    bool value = false;
    r.read(key, value);
    *flag = value;
  }
  r.read("source", e.source);
  if (!r.ok()) return;
  fraction(r, "weight_bandwidth", e.weight_bandwidth);
  fraction(r, "gemm_flops", e.gemm_flops);
  fraction(r, "attention_bandwidth", e.attention_bandwidth);
  fraction(r, "attention_flops", e.attention_flops);
  if (r.ok() && !(e.overlap_exponent >= 1 && e.overlap_exponent <= 16)) {
    r.fail(r.child("overlap_exponent"), "must be in [1, 16]");
  }
  if (r.ok() && !(cpu_ms >= 0)) r.fail(r.child("cpu_overhead_ms"), "must not be negative");
  if (r.ok() && !(cpu_per_seq_us >= 0)) {
    r.fail(r.child("cpu_overhead_per_seq_us"), "must not be negative");
  }
  if (r.ok() && !(detokenize_us >= 0)) {
    r.fail(r.child("detokenize_per_token_us"), "must not be negative");
  }
  e.cpu_overhead_s = cpu_ms * 1e-3;
  e.cpu_overhead_per_seq_s = cpu_per_seq_us * 1e-6;
  e.detokenize_per_token_s = detokenize_us * 1e-6;
}

void decode_scheduler(core::JsonReader& r, SchedulerConfig& s) {
  std::optional<double> activation_gib;
  r.read("max_num_seqs", s.max_num_seqs);
  r.read("max_num_batched_tokens", s.max_num_batched_tokens);
  r.read("block_size", s.block_size);
  r.read("gpu_memory_utilization", s.gpu_memory_utilization);
  r.read("enable_prefix_caching", s.enable_prefix_caching);
  r.read("enable_chunked_prefill", s.enable_chunked_prefill);
  r.read("max_model_len", s.max_model_len);
  r.read("num_gpu_blocks_override", s.num_gpu_blocks_override);
  r.read("activation_reserve_gib", activation_gib);
  std::string engine;
  r.read("engine", engine);  // applied by decode_with before the other fields
  r.read("engine_version", s.engine_version);
  r.read("max_prefill_seqs", s.max_prefill_seqs);
  r.read("max_batch_total_tokens", s.max_batch_total_tokens);
  r.read("waiting_served_ratio", s.waiting_served_ratio);
  r.read("max_waiting_tokens", s.max_waiting_tokens);
  if (!r.ok()) return;
  if (!engine.empty() && !parse_scheduler_policy(engine)) {
    return r.fail(r.child("engine"), "unknown engine \"" + engine +
                                         "\" (want vllm-v1, vllm-v0, sglang, tgi, jetstream or "
                                         "trtllm)");
  }
  if (s.max_prefill_seqs < 0) return r.fail(r.child("max_prefill_seqs"), "must not be negative");
  if (s.max_batch_total_tokens < 0) {
    return r.fail(r.child("max_batch_total_tokens"), "must not be negative");
  }
  if (!(s.waiting_served_ratio >= 0)) {
    return r.fail(r.child("waiting_served_ratio"), "must not be negative");
  }
  if (s.max_waiting_tokens < 0) {
    return r.fail(r.child("max_waiting_tokens"), "must not be negative");
  }
  if (s.max_num_seqs < 1) return r.fail(r.child("max_num_seqs"), "must be at least 1");
  if (s.max_num_batched_tokens < 1) {
    return r.fail(r.child("max_num_batched_tokens"), "must be at least 1");
  }
  if (s.block_size < 1 || s.block_size > 1024) {
    return r.fail(r.child("block_size"), "must be in [1, 1024]");
  }
  fraction(r, "gpu_memory_utilization", s.gpu_memory_utilization);
  if (s.max_model_len < 0) return r.fail(r.child("max_model_len"), "must not be negative");
  if (s.num_gpu_blocks_override && *s.num_gpu_blocks_override < 1) {
    return r.fail(r.child("num_gpu_blocks_override"), "must be at least 1");
  }
  if (activation_gib) {
    if (!(*activation_gib >= 0))
      return r.fail(r.child("activation_reserve_gib"), "must not be negative");
    s.activation_reserve_bytes = *activation_gib * kGiB;
  }
}

void decode_phase(core::JsonReader& r, StartupPhase& p) {
  r.read("name", p.name);
  r.read("seconds", p.seconds);
  r.ignore({"source"});
  if (!r.ok()) return;
  if (p.name.empty()) return r.fail(r.child("name"), "required");
  if (!(p.seconds >= 0)) r.fail(r.child("seconds"), "must not be negative");
}

// One profile file found in a ProfileSearch: its text and a name for messages
// ("/x/models/m.yaml", "built-in profiles/models/m.yaml").
struct FoundFile {
  std::string text;
  std::string origin;
};

std::string builtin_origin(std::string_view relative) {
  return "built-in profiles/" + std::string(relative);
}

std::optional<std::string_view> builtin_text(std::string_view relative) {
  for (const BuiltinProfileFile& file : builtin_profile_files()) {
    if (file.path == relative) return file.text;
  }
  return std::nullopt;
}

// The first place of `search` holding `relative` ("models/m.yaml"); on failure, every place
// looked in, for the message.
core::Result<FoundFile> find_file(const ProfileSearch& search, std::string_view relative) {
  std::vector<std::string> looked;
  for (const auto& dir : search.dirs) {
    std::string path = join_path(dir.path, relative);
    if (search.files == nullptr) {
      looked.push_back(path + " (not read: no file access given)");
      continue;
    }
    auto text = search.files->read(path);
    if (text) return FoundFile{std::move(*text), path};
    if (text.error().code != core::ErrorCode::kNotFound) {
      looked.push_back(path + " (" + text.error().message + ")");
    } else {
      looked.push_back(path + (search.files->list(dir.path) ? "" : " (no such directory)"));
    }
  }
  if (search.builtin) {
    if (auto text = builtin_text(relative)) {
      return FoundFile{std::string(*text), builtin_origin(relative)};
    }
    looked.push_back(builtin_origin(relative));
  }
  std::string where;
  for (const auto& place : looked) where += (where.empty() ? "" : ", ") + place;
  if (where.empty()) where = "nowhere: no directory given and built-in profiles off";
  return core::make_error(core::ErrorCode::kNotFound, "looked for " + where);
}

// The *.yaml names in `sub` ("" or "models") of every place of `search`, sorted and unique.
std::vector<std::string> list_names(const ProfileSearch& search, std::string_view sub) {
  std::vector<std::string> names;
  if (search.files != nullptr) {
    for (const auto& dir : search.dirs) {
      auto entries = search.files->list(sub.empty() ? dir.path : join_path(dir.path, sub));
      if (!entries) continue;
      for (const auto& entry : *entries) {
        if (ends_with(entry, ".yaml") && entry.size() > 5) {
          names.push_back(entry.substr(0, entry.size() - 5));
        }
      }
    }
  }
  if (search.builtin) {
    std::string prefix = sub.empty() ? std::string() : std::string(sub) + "/";
    for (const BuiltinProfileFile& file : builtin_profile_files()) {
      std::string_view path = file.path;
      if (path.substr(0, prefix.size()) != prefix || !ends_with(path, ".yaml")) continue;
      path.remove_prefix(prefix.size());
      if (path.find('/') != std::string_view::npos) continue;
      names.emplace_back(path.substr(0, path.size() - 5));
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

// A field that is either a name (`<sub>/<name>.yaml`, found through `search`) or an inline
// object.
template <class T, class Decode>
void read_reference(core::JsonReader& r, std::string_view key, const ProfileSearch& search,
                    std::string_view sub, T& out, Decode decode) {
  const core::Json* node = r.get(key);
  if (!r.ok()) return;
  if (node == nullptr) return r.fail(r.child(key), "required");
  if (node->is_object()) {
    core::JsonReader sub_reader(*node, r.child(key), r.strict());
    decode(sub_reader, out);
    // Errors carry their own path ("model.hidden_size: ..."); decode_profile catches them.
    if (auto status = sub_reader.finish(); !status) throw status.error();
    return;
  }
  if (!node->is_string()) return r.type_error(r.child(key), "a name or an object", *node);
  std::string name = node->get<std::string>();
  if (name.empty() || name.find('/') != std::string::npos || name.find("..") != std::string::npos) {
    return r.fail(r.child(key), "invalid name \"" + name + "\"");
  }
  auto file = find_file(search, std::string(sub) + "/" + name + ".yaml");
  if (!file) {
    return r.fail(r.child(key), "\"" + name + "\" not found (" + file.error().message +
                                    "; known: " + join_names(list_names(search, sub)) + ")");
  }
  auto document = core::parse_document(file->text);
  if (!document)
    throw core::Error{document.error().code, file->origin + ": " + document.error().message};
  core::JsonReader file_reader(*document, "", r.strict());
  decode(file_reader, out);
  if (auto status = file_reader.finish(); !status) {
    throw core::Error{status.error().code, file->origin + ": " + status.error().message};
  }
}

core::Result<Profile> decode_with(const core::Json& document, std::string_view name,
                                  const ProfileSearch& search, std::string_view origin);

}  // namespace

double ModelConfig::block_parameters() const {
  double q = double(num_attention_heads) * head_dim;
  double kv = double(num_key_value_heads) * head_dim;
  double attention = double(hidden_size) * (q + 2 * kv) + q * hidden_size;
  double mlp = 3.0 * hidden_size * intermediate_size;
  return double(num_hidden_layers) * (attention + mlp);
}

double ModelConfig::block_weight_bytes_per_param() const {
  if (quantization == "fp8" || quantization == "int8" || quantization == "int8_weight_only") {
    return 1.0;
  }
  if (quantization == "int4_weight_only") return 0.5 + 2.0 / 128.0;
  return weight_bytes_per_param;
}

double gemm_peak_flops(const ModelConfig& model, const AcceleratorSpec& accelerator) {
  if (model.quantization == "fp8" && accelerator.peak_fp8_flops > 0) {
    return accelerator.peak_fp8_flops;
  }
  if (model.quantization == "int8" && accelerator.peak_int8_flops > 0) {
    return accelerator.peak_int8_flops;
  }
  return accelerator.peak_flops;
}

double ModelConfig::total_parameters() const {
  return block_parameters() + embedding_parameters() * (tie_word_embeddings ? 1 : 2);
}

double Profile::startup_seconds() const {
  double total = 0;
  for (const auto& phase : startup) total += phase.seconds;
  return total;
}

std::int64_t MemoryPlan::capacity_tokens() const {
  return num_blocks * block_size;
}

std::string_view scheduler_policy_name(SchedulerPolicy policy) {
  switch (policy) {
    case SchedulerPolicy::kVllmV1: return "vllm-v1";
    case SchedulerPolicy::kVllmV0: return "vllm-v0";
    case SchedulerPolicy::kSglang: return "sglang";
    case SchedulerPolicy::kTgi: return "tgi";
    case SchedulerPolicy::kJetStream: return "jetstream";
    case SchedulerPolicy::kTrtLlm: return "trtllm";
  }
  return "vllm-v1";
}

std::optional<SchedulerPolicy> parse_scheduler_policy(std::string_view name) {
  for (SchedulerPolicy p :
       {SchedulerPolicy::kVllmV1, SchedulerPolicy::kVllmV0, SchedulerPolicy::kSglang,
        SchedulerPolicy::kTgi, SchedulerPolicy::kJetStream, SchedulerPolicy::kTrtLlm}) {
    if (scheduler_policy_name(p) == name) return p;
  }
  return std::nullopt;
}

bool host_overlap_default(SchedulerPolicy policy) {
  // SGLang >= 0.4: "zero-overhead batch scheduler" (lmsys.org blog 2024-12-04), the scheduler
  // prepares batch n+1 while the GPU runs batch n. TensorRT-LLM: the overlap scheduler is on by
  // default (TensorRT-LLM docs, features/overlap-scheduler). vLLM V0/V1 (async scheduling off by
  // default), TGI and JetStream schedule between steps.
  return policy == SchedulerPolicy::kSglang || policy == SchedulerPolicy::kTrtLlm;
}

bool detokenize_in_frontend_default(SchedulerPolicy policy) {
  // vLLM V1: detokenization is in the API-server process (v1/engine/output_processor.py), apart
  // from EngineCore's busy loop. SGLang: DetokenizerManager, a process of its own. JetStream:
  // a detokenize thread of the orchestrator. NIM (TensorRT-LLM): the frontend streams text.
  // vLLM V0 (<= 0.5; 0.6's async output processor overlaps it): LLMEngine.step detokenizes
  // between steps. TGI: the Python shard decodes tokens in generate_token, inside the step.
  return policy != SchedulerPolicy::kVllmV0 && policy != SchedulerPolicy::kTgi;
}

void apply_engine_defaults(Profile& p, SchedulerPolicy policy) {
  SchedulerConfig& s = p.scheduler;
  s.policy = policy;
  s.max_prefill_seqs = 0;
  s.max_batch_total_tokens = 0;
  const bool big_gpu = p.accelerator.kind == "gpu" && p.accelerator.memory_bytes >= 70 * kGiB &&
                       p.accelerator.name.find("a100") == std::string::npos;
  switch (policy) {
    case SchedulerPolicy::kVllmV1:
      // vllm/engine/arg_utils.py get_batch_defaults (V1, OpenAI server): >= 70 GiB GPUs other
      // than A100: 1024 seqs / 8192 tokens; others 256 / 2048. Chunked prefill always on.
      s.max_num_seqs = big_gpu ? 1024 : 256;
      s.max_num_batched_tokens = big_gpu ? 8192 : 2048;
      s.enable_chunked_prefill = true;
      break;
    case SchedulerPolicy::kVllmV0:
      // vLLM <= 0.6 (V0 engine): max_num_seqs 256; no chunked prefill, so the budget is
      // max(max_model_len, 2048) (vllm/config.py SchedulerConfig, _DEFAULT_MAX_NUM_BATCHED_
      // TOKENS); prefills run in steps of their own, before decodes (core/scheduler.py
      // _schedule_default).
      s.max_num_seqs = 256;
      s.enable_chunked_prefill = false;
      s.max_num_batched_tokens = std::max<std::int64_t>(p.max_model_len(), 2048);
      break;
    case SchedulerPolicy::kSglang:
      // SGLang server_args.py: chunked_prefill_size 8192 on >= 80 GB GPUs, 2048 on smaller
      // (4096 on A100-class); prefill batches run alone and take priority over decoding
      // (scheduler.py get_next_batch_to_run: a new prefill batch first, else decode).
      s.max_num_batched_tokens =
          big_gpu ? 8192 : (p.accelerator.memory_bytes >= 70 * kGiB ? 4096 : 2048);
      s.enable_chunked_prefill = true;
      s.max_num_seqs = big_gpu ? 1024 : 256;
      break;
    case SchedulerPolicy::kTgi:
      // TGI launcher defaults: max_batch_prefill_tokens 4096, waiting_served_ratio 0.3,
      // max_waiting_tokens 20, max_concurrent_requests 128 (the server's own limit);
      // max_batch_total_tokens is what the KV cache holds (Engine sizes it when 0). No chunking:
      // a prompt is prefilled in one forward pass, in a step of its own.
      s.max_num_batched_tokens = std::max<std::int64_t>(4096, p.max_model_len());
      s.enable_chunked_prefill = false;
      s.waiting_served_ratio = 0.3;
      s.max_waiting_tokens = 20;
      s.max_num_seqs = 1024;
      break;
    case SchedulerPolicy::kJetStream:
      // JetStream orchestrator: a fixed number of decode slots (the profile's max_num_seqs);
      // prefill one request at a time, inserted into a free slot between generate steps.
      s.max_prefill_seqs = 1;
      s.enable_chunked_prefill = false;
      s.max_num_batched_tokens =
          std::max<std::int64_t>(s.max_num_batched_tokens, p.max_model_len());
      break;
    case SchedulerPolicy::kTrtLlm:
      // TensorRT-LLM (NIM) in-flight batching: max_batch_size 256, max_num_tokens 8192, chunked
      // context mixed with generation steps, like vLLM V1.
      s.max_num_seqs = 256;
      s.max_num_batched_tokens = 8192;
      s.enable_chunked_prefill = true;
      break;
  }
}

double kv_bytes_per_token_per_chip(const ModelConfig& model, int tensor_parallel) {
  double heads = std::max(1.0, std::ceil(double(model.num_key_value_heads) / tensor_parallel));
  return 2.0 * model.num_hidden_layers * heads * model.head_dim * model.kv_cache_bytes_per_element;
}

MemoryPlan memory_plan(const Profile& profile) {
  const ModelConfig& m = profile.model;
  const SchedulerConfig& s = profile.scheduler;
  const int tp = profile.tensor_parallel;
  MemoryPlan plan;
  plan.block_size = s.block_size;
  plan.usable_bytes = profile.accelerator.memory_bytes * s.gpu_memory_utilization;
  plan.weight_bytes = (m.block_parameters() * m.block_weight_bytes_per_param() +
                       (m.total_parameters() - m.block_parameters()) * m.weight_bytes_per_param) /
                      tp;
  if (s.activation_reserve_bytes) {
    plan.activation_bytes = *s.activation_reserve_bytes;
  } else {
    // vLLM profiles a dummy forward pass of max_num_batched_tokens: the widest activations are
    // the gate/up output (2 × FFN / TP) next to a few hidden-size buffers, plus fp32 logits for
    // max_num_seqs sampled rows, plus ~1.5 GiB of CUDA graphs, allocator slack and non-torch
    // memory (calibrated so 8B on an H100 holds ~436k tokens, traces-and-perf.md §2.7).
    double tokens = s.max_num_batched_tokens;
    double act = tokens * (2.0 * m.intermediate_size / tp + 4.0 * m.hidden_size) * 2.0;
    double logits = double(std::min<std::int64_t>(s.max_num_seqs, s.max_num_batched_tokens)) *
                    m.vocab_size / tp * 4.0;
    plan.activation_bytes = act + logits + 1.5 * kGiB;
  }
  plan.kv_bytes_per_token = kv_bytes_per_token_per_chip(m, tp);
  plan.kv_cache_bytes = plan.usable_bytes - plan.weight_bytes - plan.activation_bytes;
  if (s.num_gpu_blocks_override) {
    plan.num_blocks = *s.num_gpu_blocks_override;
    plan.kv_cache_bytes = double(plan.num_blocks) * s.block_size * plan.kv_bytes_per_token;
  } else {
    plan.num_blocks =
        plan.kv_cache_bytes <= 0
            ? 0
            : std::int64_t(plan.kv_cache_bytes / (plan.kv_bytes_per_token * s.block_size));
  }
  return plan;
}

core::Status validate_profile(const Profile& p) {
  auto fail = [&](const std::string& message) {
    return core::invalid_argument("profile " + p.name + ": " + message);
  };
  if (p.tensor_parallel < 1) return fail("tensor_parallel_size: must be at least 1");
  if (p.model.num_attention_heads % p.tensor_parallel != 0) {
    return fail("tensor_parallel_size: " + std::to_string(p.tensor_parallel) +
                " does not divide num_attention_heads (" +
                std::to_string(p.model.num_attention_heads) + ")");
  }
  if (p.max_model_len() > p.model.max_position_embeddings) {
    return fail("scheduler.max_model_len: " + std::to_string(p.max_model_len()) +
                " exceeds the model's max_position_embeddings (" +
                std::to_string(p.model.max_position_embeddings) + ")");
  }
  if (!p.scheduler.enable_chunked_prefill &&
      p.scheduler.max_num_batched_tokens < p.max_model_len()) {
    // vLLM: a prompt must fit in one step when prefills cannot be chunked.
    return fail("scheduler.max_num_batched_tokens (" +
                std::to_string(p.scheduler.max_num_batched_tokens) +
                ") is smaller than max_model_len (" + std::to_string(p.max_model_len()) +
                ") with chunked prefill disabled");
  }
  MemoryPlan plan = memory_plan(p);
  if (plan.weight_bytes + plan.activation_bytes >= plan.usable_bytes &&
      !p.scheduler.num_gpu_blocks_override) {
    std::ostringstream out;
    out.precision(3);
    out << "weights (" << plan.weight_bytes / kGiB << " GiB per chip) and activations ("
        << plan.activation_bytes / kGiB << " GiB) do not fit in " << plan.usable_bytes / kGiB
        << " GiB (memory × gpu_memory_utilization); no memory is left for the KV cache";
    return fail(out.str());
  }
  // The engine keeps one small record per block; beyond this a profile is surely a mistake
  // (an H200 with an 8B model has ~55k blocks of 16 tokens).
  constexpr std::int64_t kMaxBlocks = std::int64_t(1) << 24;
  if (plan.num_blocks > kMaxBlocks) {
    return fail("the KV cache would have " + std::to_string(plan.num_blocks) +
                " blocks, more than the engine's limit of " + std::to_string(kMaxBlocks) +
                "; check accelerator.memory_gib, scheduler.block_size and "
                "scheduler.num_gpu_blocks_override");
  }
  // vLLM refuses to start when one max_model_len request cannot fit in the KV cache.
  if (plan.capacity_tokens() < p.max_model_len()) {
    return fail("the model's max seq len (" + std::to_string(p.max_model_len()) +
                ") is larger than the maximum number of tokens that can be stored in KV cache (" +
                std::to_string(plan.capacity_tokens()) +
                "); increase scheduler.gpu_memory_utilization or decrease scheduler.max_model_len");
  }
  return {};
}

namespace {

core::Result<Profile> decode_with(const core::Json& document, std::string_view name,
                                  const ProfileSearch& search, std::string_view origin) {
  Profile p;
  p.name = std::string(name);
  std::string prefix = origin.empty() ? std::string() : std::string(origin) + ": ";
  try {
    core::JsonReader r(document, "");
    if (!document.is_object()) {
      return core::invalid_argument(prefix + "expected a mapping, got " +
                                    core::describe_json(document));
    }
    std::string declared_name;
    r.read("name", declared_name);
    if (!declared_name.empty()) p.name = declared_name;
    r.read("description", p.description);
    read_reference(r, "model", search, "models", p.model, decode_model);
    read_reference(r, "accelerator", search, "accelerators", p.accelerator, decode_accelerator);
    r.read("tensor_parallel_size", p.tensor_parallel);
    // A deployment may quantize a model it names (vLLM --quantization): `quantization: fp8`.
    if (r.ok() && r.get("quantization") != nullptr) {
      std::string q;
      r.read("quantization", q);
      if (r.ok() && !q.empty() && q != "fp8" && q != "int8" && q != "int8_weight_only" &&
          q != "int4_weight_only") {
        r.fail(r.child("quantization"),
               "unknown quantization \"" + q +
                   "\" (want fp8, int8, int8_weight_only or int4_weight_only)");
      }
      p.model.quantization = q;
    }
    // The engine's defaults (vLLM V1 unless scheduler.engine names another), then the
    // profile's own scheduler fields.
    if (r.ok()) {
      SchedulerPolicy policy = SchedulerPolicy::kVllmV1;
      const core::Json* scheduler = r.get("scheduler");
      if (r.ok() && scheduler != nullptr && scheduler->is_object() &&
          scheduler->contains("engine") && (*scheduler)["engine"].is_string()) {
        if (auto named = parse_scheduler_policy((*scheduler)["engine"].get<std::string>())) {
          policy = *named;
          p.scheduler.engine_explicit = true;
        }
      }
      // Budgets that follow max_model_len (vLLM V0, TGI) use the profile's.
      if (scheduler != nullptr && scheduler->is_object() && scheduler->contains("max_model_len") &&
          (*scheduler)["max_model_len"].is_number_integer()) {
        p.scheduler.max_model_len = (*scheduler)["max_model_len"].get<std::int64_t>();
      }
      apply_engine_defaults(p, policy);
    }
    r.read_object("efficiency", p.efficiency, decode_efficiency);
    r.read_object("scheduler", p.scheduler, decode_scheduler);
    r.read_list("startup", p.startup, decode_phase);
    r.ignore({"source", "notes"});
    if (auto status = r.finish(); !status) {
      return core::make_error(status.error().code, prefix + status.error().message);
    }
  } catch (const core::Error& error) {
    return core::make_error(error.code, prefix + error.message);
  }
  if (p.tensor_parallel < 1) {
    return core::invalid_argument(prefix + "tensor_parallel_size: must be at least 1");
  }
  if (auto status = validate_profile(p); !status) {
    return core::make_error(status.error().code, prefix + status.error().message);
  }
  return p;
}

core::Result<Profile> parse_with(std::string_view text, std::string_view name,
                                 const ProfileSearch& search, std::string_view origin) {
  auto document = core::parse_document(text);
  if (!document) {
    std::string prefix = origin.empty() ? std::string() : std::string(origin) + ": ";
    return core::make_error(document.error().code, prefix + document.error().message);
  }
  return decode_with(*document, name, search, origin);
}

}  // namespace

std::string ProfileSearch::describe() const {
  std::string out;
  for (const auto& dir : dirs) {
    out +=
        (out.empty() ? "" : ", then ") + (dir.from.empty() ? dir.path : dir.from + " " + dir.path);
  }
  if (builtin)
    out += (out.empty() ? "" : ", then ") + std::string("the profiles built into llmscale");
  return out.empty() ? "nowhere" : out;
}

core::Result<Profile> decode_profile(const core::Json& document, std::string_view name,
                                     const ProfileSearch& search, std::string_view origin) {
  return decode_with(document, name, search, origin);
}

core::Result<Profile> parse_profile(std::string_view text, std::string_view name,
                                    const ProfileSearch& search, std::string_view origin) {
  return parse_with(text, name, search, origin);
}

core::Result<Profile> parse_profile(std::string_view text, std::string_view name,
                                    std::string_view origin) {
  return parse_with(text, name, ProfileSearch{}, origin);
}

namespace {

// Stem of the last path component: "/x/y/dep.yaml" -> "dep"; its directory: "/x/y" ("." when
// none).
std::pair<std::string, std::string> split_path(std::string_view path) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string_view::npos ? "." : std::string(path.substr(0, slash));
  if (dir.empty()) dir = "/";
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  auto dot = base.rfind('.');
  return {dir, std::string(dot == std::string_view::npos ? base : base.substr(0, dot))};
}

}  // namespace

core::Result<Profile> load_profile(const ProfileSearch& search, std::string_view name_or_path) {
  if (ends_with(name_or_path, ".yaml") || ends_with(name_or_path, ".yml") ||
      ends_with(name_or_path, ".json")) {
    std::string path(name_or_path);
    if (search.files == nullptr) {
      return core::make_error(core::ErrorCode::kNotFound,
                              "profile " + path + ": cannot open (no file access given)");
    }
    auto text = search.files->read(path);
    if (!text) {
      return core::make_error(text.error().code,
                              "profile " + path + ": cannot open (" + text.error().message + ")");
    }
    // A file's models and accelerators are looked for next to it first.
    auto [dir, stem] = split_path(path);
    ProfileSearch next_to_it = search;
    next_to_it.dirs.insert(next_to_it.dirs.begin(), {dir, ""});
    return parse_with(*text, stem, next_to_it, path);
  }
  std::string name(name_or_path);
  if (name.empty() || name.find('/') != std::string::npos || name.find("..") != std::string::npos) {
    return core::invalid_argument("invalid profile name \"" + name + "\"");
  }
  auto file = find_file(search, name + ".yaml");
  if (!file) {
    return core::make_error(core::ErrorCode::kNotFound,
                            "profile \"" + name + "\" not found (" + file.error().message +
                                "); known profiles: " + join_names(list_profiles(search)));
  }
  return parse_with(file->text, name, search, file->origin);
}

std::vector<std::string> list_profiles(const ProfileSearch& search) {
  return list_names(search, "");
}

core::Result<Profile> load_builtin_profile(std::string_view name) {
  return load_profile(ProfileSearch{}, name);
}

std::string weight_dtype(const ModelConfig& model) {
  if (!model.quantization.empty()) return model.quantization;
  return model.weight_bytes_per_param == 4 ? "fp32" : "bf16";
}

ProfileKey profile_key(const Profile& profile) {
  ProfileKey key;
  key.model = profile.model.name;
  key.accelerator = profile.accelerator.name;
  key.tensor_parallel = profile.tensor_parallel;
  key.dtype = weight_dtype(profile.model);
  key.engine = std::string(scheduler_policy_name(profile.scheduler.policy));
  key.engine_version = profile.scheduler.engine_version;
  return key;
}

namespace {

bool model_matches(const std::string& have, const std::string& want) {
  std::string h = core::to_lower(have);
  std::string w = core::to_lower(want);
  auto slash = h.find('/');
  return h == w || (slash != std::string::npos && h.substr(slash + 1) == w);
}

bool key_matches(const ProfileKey& have, const ProfileKey& want) {
  std::string dtype = core::to_lower(want.dtype);
  if (dtype == "bfloat16" || dtype == "float16" || dtype == "fp16" || dtype == "auto") {
    dtype = "bf16";
  }
  return (want.model.empty() || model_matches(have.model, want.model)) &&
         (want.accelerator.empty() || have.accelerator == want.accelerator) &&
         (want.tensor_parallel == 0 || have.tensor_parallel == want.tensor_parallel) &&
         (dtype.empty() || have.dtype == dtype) &&
         (want.engine.empty() || have.engine == want.engine) &&
         (want.engine_version.empty() ||
          have.engine_version.substr(0, want.engine_version.size()) == want.engine_version);
}

// "meta-llama/Llama-3.1-8B-Instruct, nvidia-h100-80gb, TP1, bf16, vllm-v1 0.10" (fields a
// query leaves open are left out).
std::string describe_key(const ProfileKey& k) {
  std::vector<std::string> parts;
  for (const std::string* field : {&k.model, &k.accelerator}) {
    if (!field->empty()) parts.push_back(*field);
  }
  if (k.tensor_parallel > 0) parts.push_back("TP" + std::to_string(k.tensor_parallel));
  if (!k.dtype.empty()) parts.push_back(k.dtype);
  std::string engine = k.engine;
  if (!k.engine_version.empty()) engine += (engine.empty() ? "" : " ") + k.engine_version;
  if (!engine.empty()) parts.push_back(engine);
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : ", ") + part;
  return out.empty() ? "anything" : out;
}

}  // namespace

core::Result<std::string> select_profile(const ProfileSearch& search, const ProfileKey& want) {
  std::vector<std::string> matches;
  std::string known;
  for (const std::string& name : list_profiles(search)) {
    auto profile = load_profile(search, name);
    if (!profile) continue;
    ProfileKey key = profile_key(*profile);
    if (key_matches(key, want)) matches.push_back(name);
    known += (known.empty() ? "" : "; ") + name + " (" + describe_key(key) + ")";
  }
  if (matches.size() == 1) return matches.front();
  if (matches.empty()) {
    return core::make_error(core::ErrorCode::kNotFound,
                            "no profile models " + describe_key(want) + "; known: " + known);
  }
  return core::make_error(core::ErrorCode::kInvalidArgument,
                          "several profiles match (" + join_names(matches) +
                              "): name the dtype, tensor parallelism or engine");
}

}  // namespace llmscale::engine
