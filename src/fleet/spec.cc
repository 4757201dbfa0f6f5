// Fleet documents through the API server's decode -> default -> validate pipeline, with the
// Deployment's validation rules (apps/v1 ValidateDeploymentSpec, core/v1 probe and port rules).
#include "fleet/spec.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "core/json_reader.h"
#include "core/strings.h"
#include "kube/field_error.h"
#include "kube/json_codec.h"
#include "kube/names.h"

namespace llmscale::fleet {
namespace {

using core::JsonReader;
using kube::FieldErrors;

const std::vector<std::string> kFlavors = {"vllm-v1",   "vllm-v0", "tgi",
                                           "jetstream", "nim",     "sglang"};

void decode_port(JsonReader& r, ContainerPort& out) {
  r.read("name", out.name);
  r.read("containerPort", out.container_port);
  r.ignore({"protocol", "hostPort", "hostIP"});
}

void decode_env(JsonReader& r, EnvVar& out) {
  r.read("name", out.name);
  r.read("value", out.value);
}

// httpGet.port is an IntOrString.
void decode_http_get(JsonReader& r, HttpProbe& out) {
  r.read("path", out.path);
  if (const core::Json* port = r.get("port")) {
    if (port->is_string()) {
      out.port = port->get<std::string>();
    } else if (port->is_number_integer()) {
      out.port = std::to_string(port->get<std::int64_t>());
    } else {
      r.type_error(r.child("port"), "a string or an integer", *port);
    }
  }
  std::string scheme = "HTTP";
  r.read("scheme", scheme);
  if (scheme != "HTTP") {
    r.fail(r.child("scheme"),
           "Unsupported value: " + core::go_quote(scheme) + ": supported values: \"HTTP\"");
  }
  r.ignore({"host", "httpHeaders"});
}

void decode_probe(JsonReader& r, HttpProbe& out) {
  r.read_object("httpGet", out, decode_http_get);
  r.read("initialDelaySeconds", out.initial_delay_seconds);
  r.read("periodSeconds", out.period_seconds);
  r.read("timeoutSeconds", out.timeout_seconds);
  r.read("successThreshold", out.success_threshold);
  r.read("failureThreshold", out.failure_threshold);
}

void decode_serve_sim(JsonReader& r, ServeSimSpec& out) {
  r.read("flavor", out.flavor);
  r.read("profile", out.profile);
  r.read("args", out.args);
}

void decode_pod_spec(JsonReader& r, PodTemplateSpec& out) {
  r.read_object("serveSim", out.serve_sim, decode_serve_sim);
  r.read("command", out.command);
  r.read_list("ports", out.ports, decode_port);
  r.read_list("env", out.env, decode_env);
  r.read_object("readinessProbe", out.readiness_probe, decode_probe);
  r.read("terminationGracePeriodSeconds", out.termination_grace_period_seconds);
}

void decode_template(JsonReader& r, PodTemplateSpec& out) {
  kube::ObjectMeta meta;
  r.read_object("metadata", meta, kube::decode_object_meta);
  out.labels = meta.labels;
  out.annotations = meta.annotations;
  r.read_object("spec", out, decode_pod_spec);
}

struct Decoded {
  std::string api_version;
  std::string kind;
  kube::ObjectMeta metadata;
  std::optional<std::int32_t> replicas;
  std::optional<kube::LabelSelector> selector;
  bool has_template = false;
  PodTemplateSpec template_;
};

void decode_fleet_spec(JsonReader& r, Decoded& out) {
  r.read("replicas", out.replicas);
  r.read_object("selector", out.selector, kube::decode_label_selector);
  out.has_template = r.has("template");
  r.read_object("template", out.template_, decode_template);
  // Deployment fields that mean nothing for local processes but appear in copied manifests.
  r.ignore(
      {"strategy", "minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds", "paused"});
}

// Go's %#v of a map[string]string, as field.Invalid prints a map value.
std::string go_map_literal(const kube::Labels& labels) {
  std::string out = "map[string]string{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ", ";
    first = false;
    out += core::go_quote(k) + ":" + core::go_quote(v);
  }
  return out + "}";
}

void validate_labels(const kube::Labels& labels, const std::string& path, FieldErrors& errors) {
  for (const auto& [key, value] : labels) {
    for (const auto& m : kube::is_qualified_name(key)) {
      errors.push_back(kube::invalid(path, kube::quoted_value(key), m));
    }
    for (const auto& m : kube::is_valid_label_value(value)) {
      errors.push_back(kube::invalid(path, kube::quoted_value(value), m));
    }
  }
}

void validate_non_negative(std::int64_t value, const std::string& path, FieldErrors& errors) {
  if (value < 0) {
    errors.push_back(
        kube::invalid(path, std::to_string(value), "must be greater than or equal to 0"));
  }
}

void validate_positive(std::int64_t value, const std::string& path, FieldErrors& errors) {
  if (value < 1) {
    errors.push_back(
        kube::invalid(path, std::to_string(value), "must be greater than or equal to 1"));
  }
}

// Index of the port a probe names (by name or containerPort), or -1.
int find_port(const std::vector<ContainerPort>& ports, const std::string& ref) {
  for (std::size_t i = 0; i < ports.size(); ++i) {
    if (ports[i].name == ref || std::to_string(ports[i].container_port) == ref) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

void validate_pod_spec(const PodTemplateSpec& t, FieldErrors& errors) {
  const std::string path = "spec.template.spec";
  if (!t.serve_sim && t.command.empty()) {
    errors.push_back(kube::required(path, "one of serveSim or command"));
  }
  if (t.serve_sim && !t.command.empty()) {
    errors.push_back(kube::forbidden(path + ".command", "may not be set together with serveSim"));
  }
  if (t.serve_sim) {
    const std::string sim = path + ".serveSim";
    if (t.serve_sim->flavor.empty()) {
      errors.push_back(kube::required(sim + ".flavor", ""));
    } else if (std::find(kFlavors.begin(), kFlavors.end(), t.serve_sim->flavor) == kFlavors.end()) {
      errors.push_back(
          kube::not_supported(sim + ".flavor", kube::quoted_value(t.serve_sim->flavor), kFlavors));
    }
    if (t.serve_sim->profile.empty()) errors.push_back(kube::required(sim + ".profile", ""));
  }
  if (!t.command.empty() && t.command[0].empty()) {
    errors.push_back(kube::required(path + ".command[0]", "the program to run"));
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < t.ports.size(); ++i) {
    const auto& p = t.ports[i];
    std::string at = path + ".ports[" + std::to_string(i) + "]";
    if (!p.name.empty() && !names.insert(p.name).second) {
      errors.push_back(
          {kube::FieldError::Type::kDuplicate, at + ".name", kube::quoted_value(p.name), ""});
    }
    if (p.container_port < 1 || p.container_port > 65535) {
      errors.push_back(kube::invalid(at + ".containerPort", std::to_string(p.container_port),
                                     "must be between 1 and 65535, inclusive"));
    }
  }
  for (std::size_t i = 0; i < t.env.size(); ++i) {
    if (t.env[i].name.empty()) {
      errors.push_back(kube::required(path + ".env[" + std::to_string(i) + "].name", ""));
    }
  }
  if (t.readiness_probe) {
    const auto& p = *t.readiness_probe;
    const std::string at = path + ".readinessProbe";
    validate_non_negative(p.initial_delay_seconds, at + ".initialDelaySeconds", errors);
    validate_positive(p.period_seconds, at + ".periodSeconds", errors);
    validate_positive(p.timeout_seconds, at + ".timeoutSeconds", errors);
    validate_positive(p.success_threshold, at + ".successThreshold", errors);
    validate_positive(p.failure_threshold, at + ".failureThreshold", errors);
    if (p.port.empty()) {
      errors.push_back(kube::required(at + ".httpGet.port", "the probe's handler is an httpGet"));
    } else if (find_port(t.ports, p.port) < 0) {
      // Ports are allocated per pod, so a probe can only reach a declared port.
      errors.push_back(kube::invalid(at + ".httpGet.port", kube::quoted_value(p.port),
                                     "must name a port of spec.template.spec.ports"));
    }
  }
  validate_non_negative(t.termination_grace_period_seconds, path + ".terminationGracePeriodSeconds",
                        errors);
}

FieldErrors validate(const Decoded& d, const FleetSpec& spec) {
  FieldErrors errors;
  if (spec.name.empty()) {
    errors.push_back(kube::required("metadata.name", "name or generateName is required"));
  } else {
    for (const auto& m : kube::is_dns1123_subdomain(spec.name)) {
      errors.push_back(kube::invalid("metadata.name", kube::quoted_value(spec.name), m));
    }
  }
  for (const auto& m : kube::is_dns1123_label(spec.namespace_)) {
    errors.push_back(kube::invalid("metadata.namespace", kube::quoted_value(spec.namespace_), m));
  }
  validate_labels(spec.labels, "metadata.labels", errors);
  validate_non_negative(spec.replicas, "spec.replicas", errors);
  if (!d.selector) {
    errors.push_back(kube::required("spec.selector", ""));
  } else if (d.selector->match_labels.empty() && d.selector->match_expressions.empty()) {
    errors.push_back(
        kube::invalid("spec.selector", "null", "empty selector is invalid for deployment"));
  } else {
    validate_labels(d.selector->match_labels, "spec.selector.matchLabels", errors);
    auto selector = kube::to_selector(d.selector);
    if (!selector) {
      errors.push_back(kube::invalid("spec.selector", "null", selector.error().message));
    } else if (!d.has_template) {
      errors.push_back(kube::required("spec.template", ""));
    } else if (!selector->matches(spec.template_.labels)) {
      // Kubernetes: ValidateDeploymentSpec refuses a selector that does not match its template.
      errors.push_back(kube::invalid("spec.template.metadata.labels",
                                     go_map_literal(spec.template_.labels),
                                     "`selector` does not match template `labels`"));
    }
  }
  validate_labels(spec.template_.labels, "spec.template.metadata.labels", errors);
  if (d.has_template) validate_pod_spec(spec.template_, errors);
  return errors;
}

}  // namespace

std::string FleetSpec::selector_string() const {
  auto parsed = kube::to_selector(selector);
  return parsed ? parsed->to_string() : std::string();
}

int FleetSpec::api_port_index() const {
  if (template_.ports.empty()) return -1;
  for (std::size_t i = 0; i < template_.ports.size(); ++i) {
    if (template_.ports[i].name == "http") return static_cast<int>(i);
  }
  return 0;
}

int FleetSpec::metrics_port_index() const {
  int api = api_port_index();
  for (std::size_t i = 0; i < template_.ports.size(); ++i) {
    if (template_.ports[i].name == "metrics" && static_cast<int>(i) != api) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

int FleetSpec::probe_port_index() const {
  if (!template_.readiness_probe) return -1;
  int index = find_port(template_.ports, template_.readiness_probe->port);
  return index == api_port_index() ? -1 : index;
}

core::Result<FleetSpec> parse_fleet(const core::Json& document) {
  const std::string cannot = "Fleet in version \"v1alpha1\" cannot be handled as a Fleet: ";
  if (!document.is_object()) {
    return core::invalid_argument(cannot + "expected an object, got " +
                                  core::describe_json(document));
  }
  Decoded d;
  JsonReader r(document, "", /*strict=*/true);
  r.read("apiVersion", d.api_version);
  r.read("kind", d.kind);
  r.read_object("metadata", d.metadata, kube::decode_object_meta);
  r.read_object("spec", d, decode_fleet_spec);
  r.ignore({"status"});
  if (auto status = r.finish(); !status) {
    std::string message = status.error().message;
    if (message.rfind("unknown field", 0) == 0) message = "strict decoding error: " + message;
    return core::invalid_argument(cannot + message);
  }
  if (d.kind != kFleetKind) {
    return core::invalid_argument("kind: want \"" + std::string(kFleetKind) + "\", got " +
                                  core::go_quote(d.kind));
  }
  if (d.api_version != kFleetApiVersion) {
    return core::invalid_argument("no matches for kind \"Fleet\" in version " +
                                  core::go_quote(d.api_version) + " (want " + kFleetApiVersion +
                                  ")");
  }
  FleetSpec spec;
  spec.name = d.metadata.name;
  if (!d.metadata.namespace_.empty()) spec.namespace_ = d.metadata.namespace_;
  spec.labels = d.metadata.labels;
  spec.replicas = d.replicas.value_or(1);  // Kubernetes: Deployment replicas default to 1
  if (d.selector) spec.selector = *d.selector;
  spec.template_ = d.template_;
  FieldErrors errors = validate(d, spec);
  if (!errors.empty()) {
    return core::invalid_argument(kube::invalid_object_message("Fleet", spec.name, errors));
  }
  return spec;
}

std::vector<std::string> command_template(const FleetSpec& spec, const std::string& exe) {
  const PodTemplateSpec& t = spec.template_;
  if (!t.serve_sim) return t.command;
  std::vector<std::string> argv = {
      exe,         "serve-sim",          "--flavor", t.serve_sim->flavor,
      "--profile", t.serve_sim->profile, "--port",   "{port}"};
  if (spec.metrics_port_index() >= 0) {
    argv.push_back("--metrics-port");
    argv.push_back("{metrics_port}");
  }
  argv.insert(argv.end(), t.serve_sim->args.begin(), t.serve_sim->args.end());
  return argv;
}

std::string expand_placeholders(const std::string& text, const PlaceholderValues& values) {
  if (text.find('{') == std::string::npos) return text;
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t open = text.find('{', i);
    if (open == std::string::npos) break;
    std::size_t close = text.find('}', open);
    if (close == std::string::npos) break;
    std::string_view key(text.data() + open + 1, close - open - 1);
    out.append(text, i, open - i);
    if (key == "port") {
      out += std::to_string(values.port);
    } else if (key == "metrics_port") {
      out += std::to_string(values.metrics_port);
    } else if (key == "pod") {
      out += values.pod;
    } else if (key == "namespace") {
      out += values.namespace_;
    } else {
      out.append(text, open, close - open + 1);
    }
    i = close + 1;
  }
  out.append(text, i, std::string::npos);
  return out;
}

}  // namespace llmscale::fleet
