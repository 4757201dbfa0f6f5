// FleetSpec: the Deployment-shaped configuration of a local fleet (apiVersion
// llmscale.io/v1alpha1, kind Fleet), and parse_fleet(), which reads it the way the API server
// reads a Deployment: strict decoding, defaults, then validation with field-path errors
// ("spec.template.spec: Required value: one of serveSim or command").
//
// A replica is either the built-in simulated server (`<exe> serve-sim ...`) or any command line
// with placeholders ({port}, {metrics_port}, {pod}, {namespace}) so that a real vLLM or TGI is
// launched the same way. Ports are allocated free on the loopback interface when a pod starts;
// containerPort is informational (it names the port, as in a manifest).
//
// Plain value types, immutable once parsed; share as std::shared_ptr<const FleetSpec>.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "kube/label_selector.h"

namespace llmscale::fleet {

inline constexpr const char* kFleetApiVersion = "llmscale.io/v1alpha1";
inline constexpr const char* kFleetKind = "Fleet";

struct ContainerPort {
  std::string name;
  std::int32_t container_port = 0;
};

struct EnvVar {
  std::string name;
  std::string value;  // placeholders are replaced per pod
};

// core/v1 Probe with an httpGet handler; defaults as the API server's (period 10 s, timeout
// 1 s, failureThreshold 3, successThreshold 1).
struct HttpProbe {
  std::string path = "/";
  std::string port;  // a port name or a containerPort number of spec.template.spec.ports
  std::int32_t initial_delay_seconds = 0;
  std::int32_t period_seconds = 10;
  std::int32_t timeout_seconds = 1;
  std::int32_t success_threshold = 1;
  std::int32_t failure_threshold = 3;
};

// The built-in replica: `<exe> serve-sim --flavor F --profile P --port {port}
// [--metrics-port {metrics_port}] <args...>`.
struct ServeSimSpec {
  std::string flavor;   // vllm-v1, vllm-v0, tgi, jetstream, nim or sglang
  std::string profile;  // a profile name (profiles/*.yaml) or a YAML path
  std::vector<std::string> args;
};

struct PodTemplateSpec {
  kube::Labels labels;
  std::map<std::string, std::string> annotations;
  std::optional<ServeSimSpec> serve_sim;
  std::vector<std::string> command;  // when serve_sim is not set
  std::vector<ContainerPort> ports;
  std::vector<EnvVar> env;
  std::optional<HttpProbe> readiness_probe;  // none: ready as soon as the process runs
  std::int64_t termination_grace_period_seconds = 30;
};

struct FleetSpec {
  std::string name;
  std::string namespace_ = "default";
  kube::Labels labels;
  std::int32_t replicas = 1;
  kube::LabelSelector selector;
  PodTemplateSpec template_;

  // status.selector of the scale subresource ("app=x").
  std::string selector_string() const;
  // Index in template_.ports of the API port (named "http", else the first), or -1 when the
  // template declares no port (one is still allocated for {port}).
  int api_port_index() const;
  // Index of a separate metrics port (named "metrics" and not the API port), or -1: metrics are
  // then served on the API port.
  int metrics_port_index() const;
  // Index of the port the readiness probe targets; -1 for the API port.
  int probe_port_index() const;
};

// Decodes, defaults and validates one Fleet document. Errors read like the API server's:
//   Fleet in version "v1alpha1" cannot be handled as a Fleet: strict decoding error: unknown
//     field "spec.templat"
//   The Fleet "x" is invalid: spec.template.spec: Required value: one of serveSim or command
core::Result<FleetSpec> parse_fleet(const core::Json& document);

// The argv of one pod before placeholder expansion (serveSim expanded to its serve-sim form).
std::vector<std::string> command_template(const FleetSpec& spec, const std::string& exe);

// Replaces {port}, {metrics_port}, {pod} and {namespace}; other braces are left as they are.
struct PlaceholderValues {
  std::uint16_t port = 0;
  std::uint16_t metrics_port = 0;
  std::string pod;
  std::string namespace_;
};
std::string expand_placeholders(const std::string& text, const PlaceholderValues& values);

}  // namespace llmscale::fleet
