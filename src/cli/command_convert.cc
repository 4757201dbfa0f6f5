// `llmscale convert`: HorizontalPodAutoscaler manifests (autoscaling/v2, v2beta2, v1) as
// llmscale's LLMAutoscaler objects (autoscaling.llmscale.io/v1alpha1) for `llmscale controller`.
//
// The spec is the HPA's spec verbatim (autoscaling/v1 first converted to v2 as kube-apiserver
// converts it, the annotations autoscaling.alpha.kubernetes.io/* included); the HPA is checked
// as the API server would admit it, and an invalid one fails the command (exit 2) with the API
// server's message. Name, namespace, labels and annotations are kept, minus kubectl's
// last-applied-configuration and the v1 conversion annotations; status and server-set metadata
// are dropped. Other documents pass through unchanged, so a whole manifest converts in place.
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "apiserver/hpa_v1.h"
#include "cli/commands.h"
#include "cli/io.h"
#include "core/json.h"
#include "kube/hpa_manifest.h"
#include "kube/printers.h"

namespace llmscale::cli {

namespace {

using core::Json;

constexpr const char* kAutoscalerApiVersion = "autoscaling.llmscale.io/v1alpha1";

bool is_hpa(const Json& document) {
  return document.is_object() && document.value("kind", "") == "HorizontalPodAutoscaler" &&
         document.value("apiVersion", "").starts_with("autoscaling/");
}

// The metadata a user writes: name, generateName, namespace, labels, annotations.
Json user_metadata(const Json& metadata) {
  Json out = Json::object();
  if (!metadata.is_object()) return out;
  for (const char* key : {"name", "generateName", "namespace", "labels"}) {
    if (metadata.contains(key)) out[key] = metadata[key];
  }
  if (metadata.contains("annotations") && metadata["annotations"].is_object()) {
    Json annotations = Json::object();
    for (const auto& [key, value] : metadata["annotations"].items()) {
      if (key == "kubectl.kubernetes.io/last-applied-configuration" ||
          key.starts_with("autoscaling.alpha.kubernetes.io/")) {
        continue;
      }
      annotations[key] = value;
    }
    if (!annotations.empty()) out["annotations"] = annotations;
  }
  return out;
}

core::Result<Json> convert_hpa(const Json& document, std::size_t index) {
  Json v2 = document;
  if (document.value("apiVersion", "") == "autoscaling/v1") {
    auto converted = apiserver::hpa_v1_to_v2(document);
    if (!converted) {
      return core::invalid_argument("document " + std::to_string(index) + ": " +
                                    converted.error().message);
    }
    v2 = std::move(*converted);
  } else if (document.value("apiVersion", "") == "autoscaling/v2beta2") {
    v2["apiVersion"] = "autoscaling/v2";  // the same schema
  } else if (document.value("apiVersion", "") != "autoscaling/v2") {
    return core::invalid_argument("document " + std::to_string(index) + ": apiVersion " +
                                  document.value("apiVersion", "") +
                                  " is not autoscaling/v1, v2beta2 or v2");
  }
  // Checked as the API server would admit it (status is not the user's; it is dropped).
  Json checked = v2;
  checked.erase("status");
  kube::HpaLoadOptions options;
  if (auto hpa = kube::load_hpa(checked, options); !hpa) {
    return core::invalid_argument("document " + std::to_string(index) + ": " + hpa.error().message);
  }
  Json out = {{"apiVersion", kAutoscalerApiVersion},
              {"kind", "LLMAutoscaler"},
              {"metadata", user_metadata(v2.value("metadata", Json::object()))},
              {"spec", v2.value("spec", Json::object())}};
  return out;
}

int run_convert(const std::string& path, const std::string& output) {
  if (output != "yaml" && output != "json") {
    return fail("--output must be yaml or json, not " + output);
  }
  auto text = read_input(path);
  if (!text) return fail(text.error().message);
  auto documents = core::parse_documents(*text);
  if (!documents) return fail(documents.error().message);
  std::vector<Json> out;
  std::size_t converted = 0;
  std::size_t index = 0;
  for (const Json& document : *documents) {
    ++index;
    if (document.is_null()) continue;  // an empty document between separators
    // `kubectl get hpa -o yaml` prints a List.
    if (document.is_object() && document.value("kind", "").ends_with("List") &&
        document.contains("items") && document["items"].is_array()) {
      Json list = document;
      list["items"] = Json::array();
      for (const Json& item : document["items"]) {
        if (!is_hpa(item)) {
          list["items"].push_back(item);
          continue;
        }
        auto object = convert_hpa(item, index);
        if (!object) return fail(object.error().message);
        list["items"].push_back(std::move(*object));
        ++converted;
      }
      out.push_back(std::move(list));
      continue;
    }
    if (!is_hpa(document)) {
      out.push_back(document);
      continue;
    }
    auto object = convert_hpa(document, index);
    if (!object) return fail(object.error().message);
    out.push_back(std::move(*object));
    ++converted;
  }
  if (converted == 0) return fail("no HorizontalPodAutoscaler in the input");
  if (output == "json") {
    // One object as itself, several as a v1 List (what kubectl prints).
    Json value = out.size() == 1 ? out.front()
                                 : Json{{"apiVersion", "v1"},
                                        {"kind", "List"},
                                        {"items", out},
                                        {"metadata", {{"resourceVersion", ""}}}};
    std::cout << kube::kubectl_json(value);
    return 0;
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (i > 0) std::cout << "---\n";
    std::cout << kube::kubectl_yaml(out[i]);
  }
  return 0;
}

}  // namespace

void add_convert_command(CLI::App& app, int& exit_code) {
  auto* convert = app.add_subcommand(
      "convert",
      "Turn HorizontalPodAutoscaler manifests (autoscaling/v2, v1) into LLMAutoscaler objects");
  static std::string path = "-";
  static std::string output = "yaml";
  convert->add_option("file,-f,--filename", path, "manifest (FILE, or - for stdin; default -)");
  convert->add_option("-o,--output", output, "yaml (default) or json");
  convert->callback([&] { exit_code = run_convert(path, output); });
}

}  // namespace llmscale::cli
