// How a fleet's pods are scraped (fleet_monitoring.h).
#include "up/fleet_monitoring.h"

#include <cctype>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/json_reader.h"
#include "kube/json_codec.h"
#include "kube/label_selector.h"

namespace llmscale::up {

std::string port_name(const fleet::ContainerPort& port) {
  return port.name.empty() ? "port-" + std::to_string(port.container_port) : port.name;
}

void map_port_numbers(prom::PodMonitoring& pm, const std::vector<fleet::FleetSpec>& fleets) {
  for (auto& endpoint : pm.endpoints) {
    if (!endpoint.port_name.empty() || endpoint.port_number == 0) continue;
    for (const auto& f : fleets) {
      for (const auto& port : f.template_.ports) {
        if (port.container_port == endpoint.port_number) endpoint.port_name = port_name(port);
      }
    }
    if (!endpoint.port_name.empty()) endpoint.port_number = 0;
  }
}

prom::PodMonitoring default_pod_monitoring(const fleet::FleetSpec& f) {
  prom::PodMonitoring pm;
  pm.name = f.name;
  pm.namespace_ = f.namespace_;
  pm.selector.match_labels = f.selector.match_labels;
  prom::PodMonitoringEndpoint endpoint;
  int index = f.metrics_port_index() >= 0 ? f.metrics_port_index() : f.api_port_index();
  if (index >= 0) endpoint.port_name = port_name(f.template_.ports[index]);
  endpoint.interval = "15s";
  pm.endpoints.push_back(endpoint);
  return pm;
}

}  // namespace llmscale::up

namespace llmscale::up {

namespace {

using core::Json;

constexpr const char* kOperatorDefaultInterval = "30s";  // Prometheus CR scrapeInterval default

std::string field(const std::string& kind, const Json& object, const std::string& path) {
  std::string ns, name;
  if (object.contains("metadata") && object["metadata"].is_object()) {
    ns = object["metadata"].value("namespace", "default");
    name = object["metadata"].value("name", "");
  }
  return kind + " " + ns + "/" + name + ": " + path;
}

// An operator endpoint at `path`: an object, without the fields a PodMonitoring cannot express.
core::Status check_endpoint(const std::string& kind, const Json& object, const Json& endpoint,
                            const std::string& path) {
  if (!endpoint.is_object()) {
    return core::invalid_argument(field(kind, object, path) + ": must be an object");
  }
  for (const char* key : {"relabelings", "bearerTokenSecret", "bearerTokenFile", "basicAuth",
                          "oauth2", "authorization", "proxyUrl"}) {
    if (endpoint.contains(key)) {
      return core::invalid_argument(field(kind, object, path + "." + key) +
                                    ": not supported by llmscale's direct scraping");
    }
  }
  return {};
}

core::Status check_namespace_selector(const std::string& kind, const Json& object) {
  const Json& spec = object["spec"];
  if (!spec.contains("namespaceSelector")) return {};
  const Json& selector = spec["namespaceSelector"];
  std::string own = object["metadata"].value("namespace", "default");
  bool any = selector.is_object() && selector.value("any", false);
  bool only_own = true;
  if (selector.is_object() && selector.contains("matchNames")) {
    for (const Json& name : selector["matchNames"]) {
      if (!name.is_string() || name.get<std::string>() != own) only_own = false;
    }
  }
  if (any || !only_own) {
    return core::invalid_argument(
        field(kind, object, "spec.namespaceSelector") +
        ": only the object's own namespace is supported (a PodMonitoring's scope)");
  }
  return {};
}

// An operator endpoint's common fields in PodMonitoring form; `port` already set by the caller.
Json endpoint_common(const Json& in) {
  Json out = Json::object();
  if (in.contains("path")) out["path"] = in["path"];
  if (in.contains("scheme") && in["scheme"].is_string()) {
    std::string scheme = in["scheme"];
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out["scheme"] = scheme;
  }
  if (in.contains("params")) out["params"] = in["params"];
  out["interval"] = in.contains("interval") ? in["interval"] : Json(kOperatorDefaultInterval);
  if (in.contains("scrapeTimeout")) out["timeout"] = in["scrapeTimeout"];
  if (in.contains("metricRelabelings") && in["metricRelabelings"].is_array()) {
    Json rules = in["metricRelabelings"];
    for (Json& rule : rules) {
      // The operator accepts actions in either case; Prometheus' names are lower-case.
      if (rule.is_object() && rule.contains("action") && rule["action"].is_string()) {
        std::string action = rule["action"];
        for (char& c : action) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        rule["action"] = action;
      }
    }
    out["metricRelabeling"] = rules;
  }
  if (in.contains("tlsConfig") && in["tlsConfig"].is_object() &&
      in["tlsConfig"].contains("insecureSkipVerify")) {
    out["tls"] = {{"insecureSkipVerify", in["tlsConfig"]["insecureSkipVerify"]}};
  }
  return out;
}

// The spec fields shared by PodMonitor and ServiceMonitor.
void spec_common(const Json& in, Json& spec, const char* target_labels_key) {
  if (in.contains(target_labels_key) && in[target_labels_key].is_array()) {
    Json from_pod = Json::array();
    for (const Json& label : in[target_labels_key]) from_pod.push_back({{"from", label}});
    spec["targetLabels"] = {{"fromPod", from_pod}};
  }
  Json limits = Json::object();
  for (auto [from, to] : {std::pair{"sampleLimit", "samples"}, std::pair{"labelLimit", "labels"},
                          std::pair{"labelNameLengthLimit", "labelNameLength"},
                          std::pair{"labelValueLengthLimit", "labelValueLength"}}) {
    if (in.contains(from)) limits[to] = in[from];
  }
  if (!limits.empty()) spec["limits"] = limits;
}

Json pod_monitoring_document(const Json& object, const std::string& name, Json spec) {
  Json metadata = {{"name", name}, {"namespace", object["metadata"].value("namespace", "default")}};
  if (object["metadata"].contains("labels")) metadata["labels"] = object["metadata"]["labels"];
  return {{"apiVersion", "monitoring.googleapis.com/v1"},
          {"kind", "PodMonitoring"},
          {"metadata", metadata},
          {"spec", std::move(spec)}};
}

core::Status check_shape(const std::string& kind, const Json& object) {
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object() ||
      !object.contains("spec") || !object["spec"].is_object()) {
    return core::invalid_argument(kind + ": metadata and spec must be objects");
  }
  if (object.value("apiVersion", "") != "monitoring.coreos.com/v1" ||
      object.value("kind", "") != kind) {
    return core::invalid_argument(kind + ": expected apiVersion monitoring.coreos.com/v1, kind " +
                                  kind);
  }
  return check_namespace_selector(kind, object);
}

}  // namespace

core::Result<prom::PodMonitoring> pod_monitoring_from_pod_monitor(const Json& pod_monitor) {
  const std::string kind = "PodMonitor";
  if (auto st = check_shape(kind, pod_monitor); !st) return tl::unexpected(st.error());
  const Json& in = pod_monitor["spec"];
  Json spec = Json::object();
  if (in.contains("selector")) spec["selector"] = in["selector"];
  spec["endpoints"] = Json::array();
  if (in.contains("podMetricsEndpoints") && in["podMetricsEndpoints"].is_array()) {
    std::size_t index = 0;
    for (const Json& endpoint : in["podMetricsEndpoints"]) {
      std::string path = "spec.podMetricsEndpoints[" + std::to_string(index++) + "]";
      if (auto st = check_endpoint(kind, pod_monitor, endpoint, path); !st) {
        return tl::unexpected(st.error());
      }
      Json out = endpoint_common(endpoint);
      if (endpoint.contains("port")) {
        out["port"] = endpoint["port"];
      } else if (endpoint.contains("portNumber")) {
        out["port"] = endpoint["portNumber"];
      } else if (endpoint.contains("targetPort")) {
        out["port"] = endpoint["targetPort"];
      }
      spec["endpoints"].push_back(std::move(out));
    }
  }
  if (in.contains("filterRunning")) spec["filterRunning"] = in["filterRunning"];
  spec_common(in, spec, "podTargetLabels");
  std::string name = pod_monitor["metadata"].value("name", "");
  return prom::decode_pod_monitoring(pod_monitoring_document(pod_monitor, name, std::move(spec)),
                                     kind);
}

core::Result<std::vector<prom::PodMonitoring>> pod_monitorings_from_service_monitor(
    const Json& service_monitor, const std::vector<Json>& services) {
  const std::string kind = "ServiceMonitor";
  if (auto st = check_shape(kind, service_monitor); !st) return tl::unexpected(st.error());
  const Json& in = service_monitor["spec"];
  std::string ns = service_monitor["metadata"].value("namespace", "default");
  kube::Selector selector;
  if (in.contains("selector")) {
    kube::LabelSelector label_selector;
    core::JsonReader reader(in["selector"], "spec.selector", /*strict=*/true);
    kube::decode_label_selector(reader, label_selector);
    if (auto read = reader.finish(); !read) {
      return core::invalid_argument(field(kind, service_monitor, "") + read.error().message);
    }
    auto decoded = kube::to_selector(label_selector);
    if (!decoded) {
      return core::invalid_argument(field(kind, service_monitor, "") + decoded.error().message);
    }
    selector = std::move(*decoded);
  }
  std::vector<prom::PodMonitoring> out;
  for (const Json& service : services) {
    if (!service.is_object() || !service.contains("metadata") || !service.contains("spec")) {
      continue;
    }
    const Json& meta = service["metadata"];
    if (meta.value("namespace", "default") != ns) continue;
    kube::Labels labels;
    if (meta.contains("labels") && meta["labels"].is_object()) {
      for (const auto& [key, value] : meta["labels"].items()) {
        if (value.is_string()) labels[key] = value.get<std::string>();
      }
    }
    if (!selector.matches(labels)) continue;
    const Json& service_spec = service["spec"];
    // A Service without a selector has no pods of its own to scrape directly.
    if (!service_spec.contains("selector") || !service_spec["selector"].is_object() ||
        service_spec["selector"].empty()) {
      continue;
    }
    Json spec = {{"selector", {{"matchLabels", service_spec["selector"]}}},
                 {"endpoints", Json::array()}};
    std::size_t index = 0;
    for (const Json& endpoint : in.value("endpoints", Json::array())) {
      std::string path = "spec.endpoints[" + std::to_string(index++) + "]";
      if (auto st = check_endpoint(kind, service_monitor, endpoint, path); !st) {
        return tl::unexpected(st.error());
      }
      Json ep = endpoint_common(endpoint);
      if (endpoint.contains("targetPort")) {
        ep["port"] = endpoint["targetPort"];
      } else if (endpoint.contains("port")) {
        // Kubernetes: a Service port's targetPort defaults to its port.
        for (const Json& port : service_spec.value("ports", Json::array())) {
          if (port.is_object() && port.value("name", "") == endpoint["port"]) {
            ep["port"] = port.contains("targetPort") ? port["targetPort"] : port["port"];
          }
        }
        if (!ep.contains("port")) continue;  // the operator skips a Service without that port
      }
      spec["endpoints"].push_back(std::move(ep));
    }
    if (spec["endpoints"].empty()) continue;
    spec_common(in, spec, "podTargetLabels");
    std::string name = service_monitor["metadata"].value("name", "") + "-" + meta.value("name", "");
    auto pm = prom::decode_pod_monitoring(
        pod_monitoring_document(service_monitor, name, std::move(spec)), kind);
    if (!pm) return tl::unexpected(pm.error());
    out.push_back(std::move(*pm));
  }
  return out;
}

}  // namespace llmscale::up
