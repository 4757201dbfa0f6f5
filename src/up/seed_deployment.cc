// A seed's Deployment manifest as a local fleet of simulated replicas (seed_deployment.h).
#include "up/seed_deployment.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/json_reader.h"
#include "core/strings.h"
#include "kube/json_codec.h"

namespace llmscale::up {
namespace {

using core::Json;

const Json* at(const Json& node, std::initializer_list<const char*> path) {
  const Json* cur = &node;
  for (const char* key : path) {
    if (!cur->is_object() || !cur->contains(key)) return nullptr;
    cur = &(*cur)[key];
  }
  return cur;
}

std::string string_at(const Json& node, std::initializer_list<const char*> path) {
  const Json* v = at(node, path);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

// The inference server an image runs, and for vLLM which engine its version defaults to.
struct ImageFlavor {
  std::string flavor;
  std::string why;
};

// "v0.6.3", "0.8.0-rc1", "latest" -> (major, minor) when numeric.
std::optional<std::pair<int, int>> tag_version(const std::string& image) {
  std::size_t colon = image.rfind(':');
  if (colon == std::string::npos || image.find('/', colon) != std::string::npos) return {};
  std::string tag = image.substr(colon + 1);
  if (!tag.empty() && (tag[0] == 'v' || tag[0] == 'V')) tag.erase(0, 1);
  int major = 0;
  int minor = 0;
  std::size_t i = 0;
  if (i >= tag.size() || !std::isdigit(static_cast<unsigned char>(tag[i]))) return {};
  while (i < tag.size() && std::isdigit(static_cast<unsigned char>(tag[i])))
    major = major * 10 + (tag[i++] - '0');
  if (i >= tag.size() || tag[i] != '.') return {};
  ++i;
  if (i >= tag.size() || !std::isdigit(static_cast<unsigned char>(tag[i]))) return {};
  while (i < tag.size() && std::isdigit(static_cast<unsigned char>(tag[i])) && minor < 1000)
    minor = minor * 10 + (tag[i++] - '0');
  return std::make_pair(major, minor);
}

std::optional<ImageFlavor> flavor_of(const std::string& image) {
  std::string lower = core::to_lower(image);
  auto has = [&](const char* what) { return lower.find(what) != std::string::npos; };
  if (has("nvcr.io/nim/")) return ImageFlavor{"nim", "an NVIDIA NIM image"};
  if (has("text-generation-inference") || has("/tgi"))
    return ImageFlavor{"tgi", "a Text Generation Inference image"};
  if (has("jetstream") || has("maxengine")) return ImageFlavor{"jetstream", "a JetStream image"};
  if (has("sglang")) return ImageFlavor{"sglang", "an SGLang image"};
  if (has("vllm")) {
    // vLLM made the V1 engine the default in 0.8.0 (VLLM_USE_V1=1).
    auto version = tag_version(image);
    if (version && (version->first == 0 && version->second < 8))
      return ImageFlavor{"vllm-v0", "vLLM " + std::to_string(version->first) + "." +
                                        std::to_string(version->second) +
                                        " (before 0.8: the V0 engine)"};
    return ImageFlavor{"vllm-v1", version ? "vLLM 0.8 or later (the V1 engine)"
                                          : "a vLLM image without a version tag (V1 engine)"};
  }
  return std::nullopt;
}

// $(VAR) references expanded from the container's env, as the kubelet does for command/args.
std::string expand_env(const std::string& text, const std::map<std::string, std::string>& env) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (text.compare(i, 2, "$(") == 0) {
      std::size_t end = text.find(')', i + 2);
      if (end != std::string::npos) {
        auto it = env.find(text.substr(i + 2, end - i - 2));
        if (it != env.end()) {
          out += it->second;
          i = end + 1;
          continue;
        }
      }
    }
    out += text[i++];
  }
  return out;
}

// The value of `--name value` or `--name=value` (the last one wins, as argparse does).
std::optional<std::string> flag_value(const std::vector<std::string>& args,
                                      std::initializer_list<const char*> names) {
  std::optional<std::string> found;
  for (std::size_t i = 0; i < args.size(); ++i) {
    for (const char* name : names) {
      std::string n(name);
      if (args[i] == n && i + 1 < args.size()) found = args[i + 1];
      if (args[i].rfind(n + "=", 0) == 0) found = args[i].substr(n.size() + 1);
    }
  }
  return found;
}

// A model name reduced to what a profile is chosen by: family and size in billions
// ("meta-llama/Meta-Llama-3.1-8B-Instruct" -> llama, 8b).
struct ModelKey {
  std::string family;
  std::string size;
};

ModelKey model_key(const std::string& model) {
  std::string s = core::to_lower(model);
  ModelKey key;
  for (const char* family :
       {"mixtral", "mistral", "llama", "gemma", "qwen", "phi", "deepseek", "falcon", "granite"}) {
    if (s.find(family) != std::string::npos) {
      key.family = family;
      break;
    }
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) continue;
    std::size_t j = i;
    while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
    if (j < s.size() && s[j] == 'b' &&
        (j + 1 == s.size() || !std::isalnum(static_cast<unsigned char>(s[j + 1])))) {
      key.size = s.substr(i, j - i) + "b";
      break;
    }
    i = j;
  }
  return key;
}

// An accelerator name reduced to its chip: "nvidia-h100-80gb" -> h100, "tpu-v5-lite-podslice"
// -> tpu-v5e.
std::string accelerator_key(const std::string& text) {
  std::string s = core::to_lower(text);
  for (const char* chip : {"h200", "h100", "a100", "a10g", "l40s", "l4", "t4", "v100"})
    if (s.find(chip) != std::string::npos) return chip;
  if (s.find("v6e") != std::string::npos) return "tpu-v6e";
  if (s.find("v5-lite") != std::string::npos || s.find("v5e") != std::string::npos)
    return "tpu-v5e";
  if (s.find("v5p") != std::string::npos) return "tpu-v5p";
  if (s.find("v4") != std::string::npos && s.find("tpu") != std::string::npos) return "tpu-v4";
  return s;
}

int int_of(const Json* node) {
  if (node == nullptr) return 0;
  if (node->is_number_integer()) return node->get<int>();
  if (node->is_string()) {
    const std::string& s = node->get_ref<const std::string&>();
    int v = 0;
    for (char c : s) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || v > 100000) return 0;
      v = v * 10 + (c - '0');
    }
    return v;
  }
  return 0;
}

// What one available profile models (engine::profile_key), and whether it names its engine (a
// profile that does not follows the serving flavor's).
struct ProfileFacts {
  std::string name;
  engine::ProfileKey key;
  bool engine_explicit = false;
};

std::vector<ProfileFacts> profile_facts(const engine::ProfileSearch& search) {
  std::vector<ProfileFacts> facts;
  for (const std::string& name : engine::list_profiles(search)) {
    auto profile = engine::load_profile(search, name);
    if (!profile) continue;
    facts.push_back({name, engine::profile_key(*profile), profile->scheduler.engine_explicit});
  }
  return facts;
}

// "llama-3.1-8b, nvidia-h100-80gb, TP1, bf16, vllm-v1 0.10"; fields left open are left out.
std::string describe(const engine::ProfileKey& k) {
  std::vector<std::string> parts;
  if (!k.model.empty()) parts.push_back(k.model);
  if (!k.accelerator.empty()) parts.push_back(k.accelerator);
  if (k.tensor_parallel > 0) parts.push_back("TP" + std::to_string(k.tensor_parallel));
  if (!k.dtype.empty()) parts.push_back(k.dtype);
  std::string engine = k.engine;
  if (!k.engine_version.empty()) engine += (engine.empty() ? "" : " ") + k.engine_version;
  if (!engine.empty()) parts.push_back(engine);
  return parts.empty() ? "anything" : core::join(parts, ", ");
}

// The profile engine::select_profile() picks for `want`, relaxing it field by field when none
// models it all; the closest by model, chip, TP and dtype when even that leaves none or several.
struct Choice {
  const ProfileFacts* profile = nullptr;
  std::vector<std::string> fallbacks;  // what differs from the manifest, for the warning
};

Choice choose_profile(const engine::ProfileSearch& search, const std::vector<ProfileFacts>& facts,
                      const engine::ProfileKey& want, const std::string& model_text) {
  Choice choice;
  auto named = [&](const std::string& name) -> const ProfileFacts* {
    for (const ProfileFacts& p : facts)
      if (p.name == name) return &p;
    return nullptr;
  };
  engine::ProfileKey query = want;
  std::string last_error;
  std::string tried;
  // Least telling first: a profile of the engine's other release, of another engine (a profile
  // that names none follows the flavor), another TP, another chip.
  for (int step = 0; step < 5 && choice.profile == nullptr; ++step) {
    if (step == 1) query.engine_version.clear();
    if (step == 2) query.engine.clear();
    if (step == 3) query.tensor_parallel = 0;
    if (step == 4) query.accelerator.clear();
    if (describe(query) == tried) continue;  // that field was open already
    tried = describe(query);
    auto selected = engine::select_profile(search, query);
    if (selected) {
      choice.profile = named(*selected);
    } else {
      last_error = selected.error().message;
    }
  }
  if (choice.profile == nullptr) {
    // Closest by model family and size, chip, TP, dtype.
    ModelKey wanted = model_key(model_text.empty() ? want.model : model_text);
    std::string chip = accelerator_key(want.accelerator);
    int best_score = -1;
    for (const ProfileFacts& p : facts) {
      ModelKey have = model_key(p.key.model);
      int score = 0;
      if (!wanted.family.empty() && have.family == wanted.family) score += 100;
      if (!wanted.size.empty() && have.size == wanted.size) score += 60;
      if (!chip.empty() && accelerator_key(p.key.accelerator) == chip) score += 30;
      if (p.key.tensor_parallel == want.tensor_parallel) score += 10;
      if (p.key.dtype == want.dtype) score += 5;
      if (score > best_score) {
        best_score = score;
        choice.profile = &p;
      }
    }
    if (choice.profile == nullptr) return choice;
    choice.fallbacks.push_back(
        "no profile matches it, nor with the engine, TP and accelerator "
        "left open (" +
        last_error + "); the closest is " + choice.profile->name);
  }
  const engine::ProfileKey& have = choice.profile->key;
  ModelKey wanted = model_key(model_text.empty() ? want.model : model_text);
  ModelKey got = model_key(have.model);
  if (wanted.family.empty() || got.family != wanted.family || got.size != wanted.size)
    choice.fallbacks.push_back("no profile models " +
                               (model_text.empty() ? std::string("this model") : model_text) +
                               "; using " + have.model);
  if (!want.accelerator.empty() && have.accelerator != want.accelerator)
    choice.fallbacks.push_back("no " + have.model + " profile on " + want.accelerator + "; using " +
                               have.accelerator);
  if (want.tensor_parallel > 0 && have.tensor_parallel != want.tensor_parallel)
    choice.fallbacks.push_back("tensor parallelism " + std::to_string(want.tensor_parallel) +
                               " asked, the profile has " + std::to_string(have.tensor_parallel));
  if (!want.dtype.empty() && have.dtype != want.dtype)
    choice.fallbacks.push_back("weights " + want.dtype + " asked, the profile has " + have.dtype);
  if (!want.engine.empty() && choice.profile->engine_explicit &&
      (have.engine != want.engine ||
       have.engine_version.compare(0, want.engine_version.size(), want.engine_version) != 0))
    choice.fallbacks.push_back(
        "engine " + describe(engine::ProfileKey{{}, {}, 0, {}, want.engine, want.engine_version}) +
        " asked, the profile models " +
        describe(engine::ProfileKey{{}, {}, 0, {}, have.engine, have.engine_version}));
  return choice;
}

// The name a profile knows for what the manifest names: the model of the same family and size,
// the accelerator of the same chip; else the manifest's own text (it then matches nothing).
std::string known_model(const std::vector<ProfileFacts>& facts, const std::string& model) {
  ModelKey want = model_key(model);
  if (want.family.empty() || want.size.empty()) return model;
  for (const ProfileFacts& p : facts) {
    ModelKey have = model_key(p.key.model);
    if (have.family == want.family && have.size == want.size) return p.key.model;
  }
  return model;
}

std::string known_accelerator(const std::vector<ProfileFacts>& facts, const std::string& text) {
  if (text.empty()) return text;
  std::string chip = accelerator_key(text);
  for (const ProfileFacts& p : facts)
    if (accelerator_key(p.key.accelerator) == chip) return p.key.accelerator;
  return text;
}

// The engine a flavor's server runs, for the profile query (NIM runs TensorRT-LLM or vLLM: open).
std::string flavor_engine(const std::string& flavor) {
  if (flavor == "nim") return "";
  return flavor;  // "vllm-v1", "vllm-v0", "sglang", "tgi", "jetstream"
}

// The serving port a flavor listens on when the container declares none.
std::int32_t default_port(const std::string& flavor) {
  if (flavor == "tgi") return 80;
  if (flavor == "jetstream") return 9000;
  if (flavor == "sglang") return 30000;
  return 8000;
}

}  // namespace

bool is_deployment(const Json& document) {
  return document.is_object() && document.value("kind", Json()).is_string() &&
         document["kind"] == "Deployment" && document.value("apiVersion", Json()).is_string() &&
         document["apiVersion"] == "apps/v1";
}

core::Result<ImageCommand> parse_image_command(const std::string& text) {
  std::size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 >= text.size())
    return core::invalid_argument("--image-command: expected IMAGE_PREFIX=COMMAND, got \"" + text +
                                  "\"");
  ImageCommand out;
  out.image_prefix = text.substr(0, eq);
  std::string command = text.substr(eq + 1);
  for (auto word : core::split(command, ' '))
    if (!word.empty()) out.command.emplace_back(word);
  if (out.command.empty()) return core::invalid_argument("--image-command: empty command");
  return out;
}

core::Result<DeploymentFleet> fleet_from_deployment(const Json& doc,
                                                    const engine::ProfileSearch& profiles,
                                                    const std::vector<ImageCommand>& overrides) {
  DeploymentFleet out;
  fleet::FleetSpec& spec = out.spec;
  spec.name = string_at(doc, {"metadata", "name"});
  if (spec.name.empty()) return core::invalid_argument("metadata.name: Required value");
  std::string ns = string_at(doc, {"metadata", "namespace"});
  if (!ns.empty()) spec.namespace_ = ns;
  if (const Json* labels = at(doc, {"metadata", "labels"}); labels && labels->is_object())
    for (auto it = labels->begin(); it != labels->end(); ++it)
      if (it->is_string()) spec.labels[it.key()] = it->get<std::string>();
  const Json* replicas = at(doc, {"spec", "replicas"});
  spec.replicas = replicas == nullptr || replicas->is_null() ? 1 : int_of(replicas);
  if (replicas != nullptr && !replicas->is_null() && !replicas->is_number_integer())
    return core::invalid_argument("spec.replicas: Invalid value: must be an integer");
  const Json* selector = at(doc, {"spec", "selector"});
  if (selector == nullptr || !selector->is_object())
    return core::invalid_argument("spec.selector: Required value");
  core::JsonReader reader(*selector, "spec.selector", /*strict=*/false);
  kube::decode_label_selector(reader, spec.selector);
  if (auto ok = reader.finish(); !ok) return tl::unexpected(ok.error());
  if (const Json* labels = at(doc, {"spec", "template", "metadata", "labels"});
      labels && labels->is_object())
    for (auto it = labels->begin(); it != labels->end(); ++it)
      if (it->is_string()) spec.template_.labels[it.key()] = it->get<std::string>();
  const Json* pod = at(doc, {"spec", "template", "spec"});
  const Json* containers = pod == nullptr ? nullptr : at(*pod, {"containers"});
  if (containers == nullptr || !containers->is_array() || containers->empty())
    return core::invalid_argument("spec.template.spec.containers: Required value");
  if (const Json* grace = at(*pod, {"terminationGracePeriodSeconds"});
      grace != nullptr && grace->is_number_integer())
    spec.template_.termination_grace_period_seconds = grace->get<std::int64_t>();

  // The serving container: the first whose image is an inference server (sidecars are skipped).
  const Json* container = nullptr;
  std::optional<ImageFlavor> flavor;
  const ImageCommand* override_command = nullptr;
  std::size_t index = 0;
  for (std::size_t i = 0; i < containers->size() && container == nullptr; ++i) {
    std::string image = string_at((*containers)[i], {"image"});
    for (const ImageCommand& o : overrides)
      if (!image.empty() && image.rfind(o.image_prefix, 0) == 0) override_command = &o;
    flavor = flavor_of(image);
    if (override_command != nullptr || flavor) {
      container = &(*containers)[i];
      index = i;
    }
  }
  if (container == nullptr)
    return core::invalid_argument(
        "spec.template.spec.containers[0].image: \"" + string_at((*containers)[0], {"image"}) +
        "\" is not an inference server llmscale up simulates (vLLM, TGI, JetStream, NIM, "
        "SGLang); map it to a command with --image-command PREFIX=COMMAND");
  std::string field = "spec.template.spec.containers[" + std::to_string(index) + "]";
  std::string image = string_at(*container, {"image"});

  std::map<std::string, std::string> env;
  if (const Json* list = at(*container, {"env"}); list && list->is_array())
    for (const Json& e : *list)
      if (e.is_object() && e.value("name", Json()).is_string() &&
          e.value("value", Json()).is_string())
        env[e["name"].get<std::string>()] = e["value"].get<std::string>();
  std::vector<std::string> args;
  for (const char* key : {"command", "args"})
    if (const Json* list = at(*container, {key}); list && list->is_array())
      for (const Json& a : *list)
        if (a.is_string()) args.push_back(expand_env(a.get<std::string>(), env));

  // Ports and readiness.
  if (const Json* ports = at(*container, {"ports"}); ports && ports->is_array()) {
    for (const Json& p : *ports) {
      fleet::ContainerPort port;
      port.container_port = int_of(at(p, {"containerPort"}));
      port.name = string_at(p, {"name"});
      if (port.container_port > 0) spec.template_.ports.push_back(port);
    }
  }
  std::string flavor_name = flavor ? flavor->flavor : "";
  if (spec.template_.ports.empty())
    spec.template_.ports.push_back({"http", default_port(flavor_name)});
  fleet::HttpProbe probe;
  probe.path = "/health";
  probe.period_seconds = 1;
  if (const Json* get = at(*container, {"readinessProbe", "httpGet"}); get && get->is_object()) {
    if (!string_at(*get, {"path"}).empty()) probe.path = string_at(*get, {"path"});
    const Json* port = at(*get, {"port"});
    if (port != nullptr && port->is_string()) probe.port = port->get<std::string>();
    if (port != nullptr && port->is_number_integer()) probe.port = std::to_string(int_of(port));
    if (int period = int_of(at(*container, {"readinessProbe", "periodSeconds"})); period > 0)
      probe.period_seconds = period;
  }
  spec.template_.readiness_probe = probe;

  if (override_command != nullptr) {
    spec.template_.command = override_command->command;
    spec.template_.command.insert(spec.template_.command.end(), args.begin(), args.end());
    out.explanation = spec.name + ": image " + image + " runs `" +
                      core::join(override_command->command, " ") + "` (--image-command)";
    return out;
  }

  // The model: the server's own flag, an env the tutorial sets, or a NIM image's name.
  std::optional<std::string> model =
      flag_value(args, {"--model", "--model-id", "--model_id", "--model_name", "--model-path",
                        "model_name"});  // MaxText/JetStream: model_name=gemma-7b
  for (const char* name : {"MODEL_ID", "MODEL_NAME", "MODEL"})
    if (!model && env.count(name) != 0) model = env[name];
  if (!model && flavor_name == "nim") {
    std::string path =
        image.substr(image.find("nvcr.io/nim/") + std::string("nvcr.io/nim/").size());
    model = path.substr(0, path.find(':'));
  }
  // The accelerator, the tensor parallelism, the weights' dtype and the engine's version.
  std::string accelerator = string_at(*pod, {"nodeSelector", "cloud.google.com/gke-accelerator"});
  if (accelerator.empty())
    accelerator = string_at(*pod, {"nodeSelector", "cloud.google.com/gke-tpu-accelerator"});
  if (accelerator.empty())  // NVIDIA GPU feature discovery: "NVIDIA-H100-80GB-HBM3"
    accelerator = string_at(*pod, {"nodeSelector", "nvidia.com/gpu.product"});
  int gpus = 0;
  int tpus = 0;
  for (const char* kind : {"limits", "requests"}) {
    gpus = std::max(gpus, int_of(at(*container, {"resources", kind, "nvidia.com/gpu"})));
    tpus = std::max(tpus, int_of(at(*container, {"resources", kind, "google.com/tpu"})));
  }
  int tp = 1;
  std::optional<std::string> tp_text =
      flag_value(args, {"--tensor-parallel-size", "--tensor_parallel_size", "-tp", "--num-shard",
                        "--tp", "--tp-size"});
  if (!tp_text && env.count("NUM_SHARD") != 0) tp_text = env["NUM_SHARD"];  // TGI's
  if (tp_text) {
    Json value(*tp_text);
    tp = std::max(1, int_of(&value));
  } else if (gpus > 0) {
    tp = gpus;
  } else if (tpus > 0) {
    tp = tpus;
  }
  std::optional<std::string> dtype = flag_value(args, {"--quantization", "-q", "--quantize"});
  if (!dtype && env.count("QUANTIZE") != 0) dtype = env["QUANTIZE"];  // TGI's
  if (!dtype) dtype = flag_value(args, {"--dtype"});
  std::vector<ProfileFacts> facts = profile_facts(profiles);
  engine::ProfileKey want;
  want.model = known_model(facts, model.value_or(""));
  want.accelerator = known_accelerator(facts, accelerator);
  want.tensor_parallel = tp;
  want.dtype = core::to_lower(dtype.value_or("bf16"));
  // vLLM's --dtype: 16-bit weights whatever their format (select_profile reads them so too).
  for (const char* sixteen : {"auto", "bfloat16", "float16", "fp16", "half"})
    if (want.dtype == sixteen) want.dtype = "bf16";
  want.engine = flavor_engine(flavor_name);
  if (auto version = tag_version(image); version && !want.engine.empty())
    want.engine_version = std::to_string(version->first) + "." + std::to_string(version->second);
  Choice choice = choose_profile(profiles, facts, want, model.value_or(""));
  if (choice.profile == nullptr)
    return core::invalid_argument(field + ": no engine profile is available to simulate it (" +
                                  profiles.describe() + ")");
  for (const std::string& fallback : choice.fallbacks)
    out.warnings.push_back(spec.name + ": the manifest asks for " + describe(want) + "; " +
                           fallback);
  spec.template_.serve_sim = fleet::ServeSimSpec{flavor_name, choice.profile->name, {}};
  if (model) spec.template_.serve_sim->args = {"--model", *model};
  engine::ProfileKey chosen = choice.profile->key;
  if (!choice.profile->engine_explicit) chosen.engine = "the flavor's engine";
  out.explanation = spec.name + ": image " + image + " is " + flavor->why + " -> flavor " +
                    flavor_name + "; profile " + choice.profile->name + " (" + describe(chosen) +
                    ") for " + describe(want) +
                    (accelerator.empty() ? " (no accelerator label: any chip)" : "");
  return out;
}

}  // namespace llmscale::up
