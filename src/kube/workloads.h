// apps/v1 Deployment and core/v1 Event in the shapes `llmscale get deploy` / `get events` read
// and the control API of `llmscale up` serves: the fields kubectl's table printers show
// (pkg/printers/internalversion/printers.go: printDeployment, printEvent), with their JSON
// decoders (typed, field path in every error, never throwing) and encoders (Go's field order,
// omitempty as upstream). Plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "kube/objects.h"

namespace llmscale::kube {

struct DeploymentContainer {
  std::string name;
  std::string image;
};

struct Deployment {
  ObjectMeta metadata;
  // spec.replicas; the API server defaults a missing value to 1.
  std::optional<std::int32_t> replicas;
  std::optional<LabelSelector> selector;
  Labels template_labels;                       // spec.template.metadata.labels
  std::vector<DeploymentContainer> containers;  // spec.template.spec.containers
  std::int64_t observed_generation = 0;
  std::int32_t status_replicas = 0;
  std::int32_t updated_replicas = 0;
  std::int32_t ready_replicas = 0;
  std::int32_t available_replicas = 0;
};

struct ObjectReference {
  std::string kind;
  std::string namespace_;
  std::string name;
  std::string api_version;
  std::string field_path;
};

struct Event {
  ObjectMeta metadata;
  ObjectReference involved_object;
  std::string reason;
  std::string message;
  std::string source_component;
  std::string source_host;
  std::optional<core::Time> first_timestamp;
  std::optional<core::Time> last_timestamp;
  std::int32_t count = 0;
  std::string type;  // Normal or Warning
};

// `path` prefixes field paths in errors ("items[2]").
core::Result<Deployment> decode_deployment(const core::Json& node, const std::string& path);
core::Result<Event> decode_event(const core::Json& node, const std::string& path);

core::Json encode_deployment(const Deployment& deployment);
core::Json encode_event(const Event& event);

}  // namespace llmscale::kube
