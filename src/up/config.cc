// Loading the documents `llmscale up` runs, sorted by kind.
#include "up/config.h"

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/file.h"
#include "core/strings.h"
#include "kube/hpa_manifest.h"
#include "up/fleet_monitoring.h"

namespace llmscale::up {
namespace {

namespace fs = std::filesystem;

bool is_manifest(const fs::path& path) {
  std::string ext = path.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}

core::Result<std::vector<std::string>> expand_paths(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> found;
      for (const auto& entry : fs::directory_iterator(path, ec)) {
        if (entry.is_regular_file() && is_manifest(entry.path()))
          found.push_back(entry.path().string());
      }
      if (ec) return core::invalid_argument(path + ": " + ec.message());
      std::sort(found.begin(), found.end());
      if (found.empty())
        return core::invalid_argument(path + ": no *.yaml, *.yml or *.json files in the directory");
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::exists(path, ec)) {
      files.push_back(path);
    } else {
      return core::invalid_argument(path + ": no such file or directory");
    }
  }
  return files;
}

bool is_adapter_config(const core::Json& doc) {
  return doc.is_object() && !doc.contains("kind") &&
         (doc.contains("rules") || doc.contains("externalRules") || doc.contains("resourceRules") ||
          doc.contains("seriesQuery"));
}

std::string describe(const core::Json& doc, std::size_t index) {
  std::string text = "document " + std::to_string(index + 1);
  if (doc.is_object() && doc.contains("kind") && doc["kind"].is_string()) {
    text += " (" + doc["kind"].get<std::string>();
    if (doc.contains("metadata") && doc["metadata"].is_object() &&
        doc["metadata"].contains("name") && doc["metadata"]["name"].is_string())
      text += " \"" + doc["metadata"]["name"].get<std::string>() + "\"";
    text += ")";
  }
  return text;
}

}  // namespace

core::Result<UpConfig> load_up_config(const std::vector<std::string>& paths,
                                      const DeploymentOptions& deployments,
                                      const kube::ApiServerGates& gates) {
  kube::HpaLoadOptions hpa_options;
  hpa_options.gates = gates;
  if (paths.empty()) return core::invalid_argument("no configuration given (a directory or files)");
  auto files = expand_paths(paths);
  if (!files) return tl::unexpected(files.error());
  UpConfig config;
  std::string adapter_source;
  std::vector<std::pair<std::string, core::Json>> service_monitors;  // (where, document)
  std::vector<core::Json> services;
  for (const std::string& file : *files) {
    auto text = core::read_file(file);
    if (!text) return core::invalid_argument(text.error().message);
    auto docs = core::parse_documents(*text);
    if (!docs) return core::invalid_argument(file + ": " + docs.error().message);
    config.files.push_back(file);
    for (std::size_t i = 0; i < docs->size(); ++i) {
      const core::Json& doc = (*docs)[i];
      if (doc.is_null()) continue;
      std::string where = file + ": " + describe(doc, i);
      auto fail = [&](const std::string& message) {
        return core::invalid_argument(where + ": " + message);
      };
      std::string kind = doc.is_object() && doc.contains("kind") && doc["kind"].is_string()
                             ? doc["kind"].get<std::string>()
                             : "";
      const core::Json* adapter_doc = nullptr;
      core::Json configmap_doc;
      if (kind == "Fleet" || is_deployment(doc)) {
        core::Result<fleet::FleetSpec> spec = tl::unexpected(core::Error{});
        if (kind == "Fleet") {
          spec = fleet::parse_fleet(doc);
        } else {
          auto made = fleet_from_deployment(doc, deployments.profiles, deployments.image_commands);
          if (made) {
            config.notes.push_back(made->explanation);
            config.warnings.insert(config.warnings.end(), made->warnings.begin(),
                                   made->warnings.end());
            spec = std::move(made->spec);
          } else {
            spec = tl::unexpected(made.error());
          }
        }
        if (!spec) return fail(spec.error().message);
        for (const auto& other : config.fleets) {
          if (other.name == spec->name && other.namespace_ == spec->namespace_)
            return fail("a Fleet or Deployment named \"" + spec->name + "\" is already defined");
        }
        if (kind != "Fleet")
          config.deployment_manifests[spec->namespace_ + "/" + spec->name] =
              std::make_shared<const core::Json>(doc);
        config.fleets.push_back(std::move(*spec));
      } else if (kind == "HorizontalPodAutoscaler") {
        auto hpa = kube::load_hpa(doc, hpa_options);
        if (!hpa) return fail(hpa.error().message);
        config.hpas.push_back(std::move(*hpa));
      } else if (kind == "PodMonitoring") {
        auto pm = prom::decode_pod_monitoring(doc, "");
        if (!pm) return fail(pm.error().message);
        config.pod_monitorings.push_back(std::move(*pm));
      } else if (kind == "PodMonitor") {
        auto pm = pod_monitoring_from_pod_monitor(doc);
        if (!pm) return fail(pm.error().message);
        config.pod_monitorings.push_back(std::move(*pm));
      } else if (kind == "ServiceMonitor") {
        service_monitors.emplace_back(where, doc);  // resolved against the Services below
      } else if (kind == "ConfigMap" && doc.contains("data") && doc["data"].is_object() &&
                 doc["data"].contains("config.yaml")) {
        if (!doc["data"]["config.yaml"].is_string())
          return fail("data.config.yaml: Invalid value: expected a string");
        auto inner = core::parse_documents(doc["data"]["config.yaml"].get<std::string>());
        if (!inner || inner->size() != 1 || !is_adapter_config((*inner)[0]))
          return fail("data.config.yaml: not a prometheus-adapter configuration");
        configmap_doc = (*inner)[0];
        adapter_doc = &configmap_doc;
      } else if (kind.empty() && is_adapter_config(doc)) {
        adapter_doc = &doc;
      } else {
        if (kind == "Service") services.push_back(doc);  // for ServiceMonitors
        config.notes.push_back(where + ": skipped (not used by llmscale up)");
        continue;
      }
      if (adapter_doc != nullptr) {
        if (config.adapter)
          return fail("a second prometheus-adapter configuration (the first is in " +
                      adapter_source + ")");
        auto parsed = adapter::parse_adapter_config(core::to_compact_json(*adapter_doc));
        if (!parsed) return fail(parsed.error().message);
        config.adapter = std::make_shared<const adapter::AdapterConfig>(std::move(*parsed));
        adapter_source = where;
      }
    }
  }
  for (const auto& [where, doc] : service_monitors) {
    auto pms = pod_monitorings_from_service_monitor(doc, services);
    if (!pms) return core::invalid_argument(where + ": " + pms.error().message);
    for (auto& pm : *pms) config.pod_monitorings.push_back(std::move(pm));
  }
  if (config.fleets.empty())
    return core::invalid_argument("no Fleet or Deployment document in " + core::join(paths, ", "));
  return config;
}

core::Status apply_replica_limit(UpConfig& config, std::int32_t max_replicas,
                                 std::vector<std::string>& warnings) {
  std::string limit = "must be less than or equal to " + std::to_string(max_replicas) +
                      " (llmscale up --max-replicas)";
  for (const fleet::FleetSpec& spec : config.fleets) {
    if (spec.replicas > max_replicas)
      return core::invalid_argument("The Fleet \"" + spec.name +
                                    "\" is invalid: spec.replicas: Invalid value: " +
                                    std::to_string(spec.replicas) + ": " + limit);
  }
  for (kube::HorizontalPodAutoscaler& hpa : config.hpas) {
    const std::string& name = hpa.metadata.name;
    std::int32_t min = hpa.spec.min_replicas.value_or(1);
    if (min > max_replicas)
      return core::invalid_argument(
          "The HorizontalPodAutoscaler \"" + name +
          "\" is invalid: spec.minReplicas: Invalid value: " + std::to_string(min) + ": " + limit);
    if (hpa.spec.max_replicas > max_replicas) {
      warnings.push_back("HorizontalPodAutoscaler \"" + name + "\": spec.maxReplicas " +
                         std::to_string(hpa.spec.max_replicas) + " is above --max-replicas " +
                         std::to_string(max_replicas) + "; using " + std::to_string(max_replicas));
      hpa.spec.max_replicas = max_replicas;
    }
  }
  return {};
}

}  // namespace llmscale::up
