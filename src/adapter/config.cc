// prometheus-adapter configuration: strict decoding, validation, Kubernetes resource names.
#include "adapter/config.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "adapter/rule.h"
#include "core/duration.h"
#include "core/json.h"
#include "core/json_reader.h"
#include "core/strings.h"

namespace llmscale::adapter {
namespace {

struct KnownResource {
  const char* group;
  const char* plural;
  const char* singular;
  const char* kind;
  bool namespaced;
  const char* version;
};

// The built-in kinds of a Kubernetes cluster that metrics commonly describe.
constexpr KnownResource kKnownResources[] = {
    {"", "pods", "pod", "Pod", true, "v1"},
    {"", "namespaces", "namespace", "Namespace", false, "v1"},
    {"", "nodes", "node", "Node", false, "v1"},
    {"", "services", "service", "Service", true, "v1"},
    {"", "endpoints", "endpoints", "Endpoints", true, "v1"},
    {"", "persistentvolumes", "persistentvolume", "PersistentVolume", false, "v1"},
    {"", "persistentvolumeclaims", "persistentvolumeclaim", "PersistentVolumeClaim", true, "v1"},
    {"", "replicationcontrollers", "replicationcontroller", "ReplicationController", true, "v1"},
    {"apps", "deployments", "deployment", "Deployment", true, "v1"},
    {"apps", "statefulsets", "statefulset", "StatefulSet", true, "v1"},
    {"apps", "daemonsets", "daemonset", "DaemonSet", true, "v1"},
    {"apps", "replicasets", "replicaset", "ReplicaSet", true, "v1"},
    {"batch", "jobs", "job", "Job", true, "v1"},
    {"batch", "cronjobs", "cronjob", "CronJob", true, "v1"},
    {"networking.k8s.io", "ingresses", "ingress", "Ingress", true, "v1"},
};

const KnownResource* find_known(const GroupResource& gr) {
  for (const auto& k : kKnownResources) {
    if (gr.group == k.group && gr.resource == k.plural) return &k;
  }
  return nullptr;
}

void decode_group_resource(core::JsonReader& r, GroupResource& out) {
  std::string group, resource;
  r.read("group", group);
  r.read("resource", resource);
  if (r.ok() && resource.empty()) r.fail(r.child("resource"), "Required value");
  out = normalize_resource(group, resource);
}

void decode_resources(core::JsonReader& r, ResourceMapping& out) {
  r.read_map("overrides", out.overrides, decode_group_resource);
  r.read("template", out.template_text);
  r.read("namespaced", out.namespaced);
}

void decode_rule(core::JsonReader& r, DiscoveryRule& out) {
  r.read("seriesQuery", out.series_query);
  r.read_list("seriesFilters", out.series_filters, [](core::JsonReader& f, SeriesFilter& filter) {
    f.read("is", filter.is);
    f.read("isNot", filter.is_not);
    // prometheus-adapter (pkg/naming/metric_namer.go, NewReMatcher) words both errors so.
    if (f.ok() && !filter.is.empty() && !filter.is_not.empty()) {
      f.fail(f.path(), "cannot have both an `is` (" + core::go_quote(filter.is) +
                           ") and `isNot` (" + core::go_quote(filter.is_not) +
                           ") expression in a single filter");
    } else if (f.ok() && filter.is.empty() && filter.is_not.empty()) {
      f.fail(f.path(), "must have either an `is` or `isNot` expression in a filter");
    }
  });
  r.read_object("resources", out.resources, decode_resources);
  r.read_object("name", out.name, [](core::JsonReader& n, NameMapping& name) {
    n.read("matches", name.matches);
    n.read("as", name.as);
  });
  r.read("metricsQuery", out.metrics_query);
  if (!r.ok()) return;
  if (out.series_query.empty())
    r.fail(r.child("seriesQuery"), "Required value");
  else if (out.metrics_query.empty())
    r.fail(r.child("metricsQuery"), "Required value");
}

void decode_resource_rule(core::JsonReader& r, ResourceRule& out) {
  r.read("containerQuery", out.container_query);
  r.read("nodeQuery", out.node_query);
  r.read_object("resources", out.resources, decode_resources);
  r.read("containerLabel", out.container_label);
}

}  // namespace

GroupResource normalize_resource(std::string_view group, std::string_view resource) {
  std::string g = core::to_lower(group), r = core::to_lower(resource);
  // "deployments.apps" style.
  if (g.empty()) {
    if (auto dot = r.find('.'); dot != std::string::npos) {
      g = r.substr(dot + 1);
      r = r.substr(0, dot);
    }
  }
  // A bare name prefers the core group ("pods"), then any group that has it ("deployment").
  for (bool core_pass : {true, false}) {
    for (const auto& k : kKnownResources) {
      bool group_matches =
          g.empty() ? (std::string_view(k.group).empty() == core_pass) : g == k.group;
      if (group_matches && (r == k.plural || r == k.singular))
        return GroupResource{k.group, k.plural};
    }
    if (!g.empty()) break;
  }
  // Kubernetes' pluralization of unknown kinds.
  if (!r.empty() && r.back() != 's') {
    if (r.back() == 'y' && r.size() > 1 &&
        std::string_view("aeiou").find(r[r.size() - 2]) == std::string_view::npos) {
      r = r.substr(0, r.size() - 1) + "ies";
    } else if (r.back() == 'x' || (r.size() > 1 && (r.substr(r.size() - 2) == "ch" ||
                                                    r.substr(r.size() - 2) == "sh"))) {
      r += "es";
    } else {
      r += "s";
    }
  }
  return GroupResource{g, r};
}

std::string kind_of(const GroupResource& resource) {
  const KnownResource* k = find_known(resource);
  return k ? k->kind : "";
}

std::string described_api_version(const GroupResource& resource) {
  const KnownResource* k = find_known(resource);
  std::string version = k ? k->version : "v1";
  return resource.group + "/" + version;
}

bool is_namespaced(const GroupResource& resource) {
  return !(resource.group.empty() &&
           (resource.resource == "namespaces" || resource.resource == "nodes" ||
            resource.resource == "persistentvolumes"));
}

core::Result<AdapterConfig> parse_adapter_config(std::string_view text) {
  auto doc = core::parse_document(text);
  if (!doc) return tl::unexpected(doc.error());
  if (!doc->is_object())
    return core::invalid_argument("expected a mapping with rules, externalRules or resourceRules");
  AdapterConfig config;
  core::JsonReader r(*doc, "");
  r.read_list("rules", config.rules, decode_rule);
  r.read_list("externalRules", config.external_rules, decode_rule);
  r.read_object("resourceRules", config.resource_rules,
                [](core::JsonReader& rr, ResourceRules& rules) {
                  rr.read_object("cpu", rules.cpu, decode_resource_rule);
                  rr.read_object("memory", rules.memory, decode_resource_rule);
                  rr.read("window", rules.window);
                });
  if (auto status = r.finish(); !status) return tl::unexpected(status.error());
  // Compile every rule now: a bad regex or template is a start-up error, as upstream.
  for (std::size_t i = 0; i < config.rules.size(); ++i) {
    auto compiled =
        CompiledRule::compile(config.rules[i], false, "rules[" + std::to_string(i) + "]");
    if (!compiled) return tl::unexpected(compiled.error());
  }
  for (std::size_t i = 0; i < config.external_rules.size(); ++i) {
    auto compiled = CompiledRule::compile(config.external_rules[i], true,
                                          "externalRules[" + std::to_string(i) + "]");
    if (!compiled) return tl::unexpected(compiled.error());
  }
  // resourceRules: upstream's NewProvider refuses bad templates and resource mappings at start.
  if (config.resource_rules) {
    const auto& rules = *config.resource_rules;
    for (const auto& [rule, path] : {std::pair{&rules.cpu, "resourceRules.cpu"},
                                     std::pair{&rules.memory, "resourceRules.memory"}}) {
      if (!rule->has_value()) continue;
      for (const auto& [query, field] : {std::pair{&(*rule)->container_query, ".containerQuery"},
                                         std::pair{&(*rule)->node_query, ".nodeQuery"}}) {
        auto parsed = GoTemplate::parse(*query);
        if (!parsed)
          return core::invalid_argument(std::string(path) + field + ": " + parsed.error().message);
      }
      DiscoveryRule as_discovery;
      as_discovery.resources = (*rule)->resources;
      auto compiled = CompiledRule::compile(as_discovery, false, path);
      if (!compiled) return tl::unexpected(compiled.error());
    }
    if (!rules.window.empty()) {
      auto window = core::parse_prometheus_duration(rules.window);
      if (!window) return core::invalid_argument("resourceRules.window: " + window.error().message);
    }
  }
  return config;
}

}  // namespace llmscale::adapter
