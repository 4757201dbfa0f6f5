// The configuration `llmscale up DIR|FILE...` runs: every YAML/JSON document of the given files
// (a directory: its *.yaml, *.yml and *.json files, sorted), sorted by kind —
//   Fleet (llmscale.io/v1alpha1)                  the replicas (fleet/spec.h)
//   HorizontalPodAutoscaler (autoscaling/v2)      as the seeds write them; API-server decoding,
//                                                 defaulting and validation
//   PodMonitoring (monitoring.googleapis.com/v1)  what to scrape from the fleets' pods
//   prometheus-adapter configuration              a document with rules / externalRules /
//                                                 resourceRules, or a ConfigMap holding one
//                                                 under data."config.yaml"
//   Deployment (apps/v1)                          a seed's own manifest, run as simulated
//                                                 replicas of the image's server
//                                                 (seed_deployment.h); the manifest is what the
//                                                 API serves
// Documents of other kinds (Service, ...) are skipped with a note, so a seed's folder can be used
// as it is. Errors name the file, the document and the field.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "adapter/config.h"
#include "core/result.h"
#include "fleet/spec.h"
#include "kube/hpa_validation.h"
#include "kube/objects.h"
#include "prom/scrape/config.h"
#include "up/seed_deployment.h"

namespace llmscale::up {

struct UpConfig {
  std::vector<fleet::FleetSpec> fleets;
  std::vector<kube::HorizontalPodAutoscaler> hpas;
  std::vector<prom::PodMonitoring> pod_monitorings;
  std::shared_ptr<const adapter::AdapterConfig> adapter;  // null: no adapter rules given
  std::vector<std::string> files;                         // what was read
  std::vector<std::string> notes;                         // documents skipped, and why
  std::vector<std::string> warnings;  // a Deployment's profile is a fallback, and how
  // The Deployment documents fleets were made from, keyed "namespace/name" (what the API shows).
  std::map<std::string, std::shared_ptr<const core::Json>> deployment_manifests;
};

// What Deployment documents are turned into fleets with.
struct DeploymentOptions {
  engine::ProfileSearch profiles;  // where profiles are selected from (seed_deployment.h)
  std::vector<ImageCommand> image_commands;
};

// HPAs are admitted as kube-apiserver admits them under `gates` (feature_gates.h).
core::Result<UpConfig> load_up_config(const std::vector<std::string>& paths,
                                      const DeploymentOptions& deployments = {},
                                      const kube::ApiServerGates& gates = {});

// `llmscale up --max-replicas`: local replicas are processes on this machine, so their number is
// capped. A Fleet whose spec.replicas is above the cap is an error naming the field and the flag
// (it would start that many processes at once); an HPA whose spec.maxReplicas is above it is
// clamped to the cap with a warning in `warnings` (manifests copied from a cluster often allow
// more than a laptop holds; the HPA still works within the cap), and one whose minReplicas is
// above it is an error. REQUIRES: max_replicas >= 1.
core::Status apply_replica_limit(UpConfig& config, std::int32_t max_replicas,
                                 std::vector<std::string>& warnings);

}  // namespace llmscale::up
