// prometheus-adapter's configuration format (rules, externalRules, resourceRules), loaded from
// YAML/JSON strictly: unknown keys are errors, and every error names the rule index and field
// (`rules[2].name.as: ...`), as prometheus-adapter refuses to start on a bad config.
//
// Immutable once loaded; share as std::shared_ptr<const AdapterConfig>.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace llmscale::adapter {

// A Kubernetes group-resource such as {"", "pods"} or {"apps", "deployments"}.
struct GroupResource {
  std::string group;
  std::string resource;  // plural, lower case
  bool operator<(const GroupResource& o) const {
    return group != o.group ? group < o.group : resource < o.resource;
  }
  bool operator==(const GroupResource& o) const = default;
  // "pods", "deployments.apps"
  std::string to_string() const { return group.empty() ? resource : resource + "." + group; }
};

struct SeriesFilter {
  std::string is;  // exactly one of is / is_not is set
  std::string is_not;
};

struct ResourceMapping {
  std::map<std::string, GroupResource> overrides;  // label -> resource (normalized)
  std::string template_text;                       // e.g. "<<.Resource>>", may be empty
  bool namespaced = true;                          // externalRules only
};

struct NameMapping {
  std::string matches = ".*";
  std::string as;  // default chosen from the number of capture groups
};

struct DiscoveryRule {
  std::string series_query;
  std::vector<SeriesFilter> series_filters;
  ResourceMapping resources;
  NameMapping name;
  std::string metrics_query;
};

struct ResourceRule {
  std::string container_query;
  std::string node_query;
  ResourceMapping resources;
  std::string container_label;
};

struct ResourceRules {
  std::optional<ResourceRule> cpu;
  std::optional<ResourceRule> memory;
  std::string window;  // Prometheus duration, e.g. "1m"
};

struct AdapterConfig {
  std::vector<DiscoveryRule> rules;           // custom.metrics.k8s.io
  std::vector<DiscoveryRule> external_rules;  // external.metrics.k8s.io
  std::optional<ResourceRules> resource_rules;
};

// Parses and validates a whole configuration (rules compile, templates parse, names resolve).
core::Result<AdapterConfig> parse_adapter_config(std::string_view text);

// Accepts singular or plural resource names ("pod", "pods", "deployment", "deployments.apps")
// and returns the canonical group-resource, from the built-in table of Kubernetes resources
// (the adapter has no REST mapper of a cluster). Unknown names keep the given group and are
// pluralized by Kubernetes' rules.
GroupResource normalize_resource(std::string_view group, std::string_view resource);

// The Kind of a group-resource ("Pod", "Deployment"), for describedObject.
std::string kind_of(const GroupResource& resource);
// The apiVersion prometheus-adapter writes in describedObject ("/v1" for the core group, quirk).
std::string described_api_version(const GroupResource& resource);
// Namespaced resources are everything but namespaces, nodes and persistentvolumes.
bool is_namespaced(const GroupResource& resource);

}  // namespace llmscale::adapter
