// A prometheus-adapter discovery rule, compiled: series filters, the metric namer, the
// label <-> resource mapping, and the PromQL builder (pkg/naming and pkg/custom-provider of
// prometheus-adapter, reproduced rule for rule; see adapter-and-peers.md §1.2-§1.5).
//
// Immutable after compile(); safe to share between threads.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapter/config.h"
#include "adapter/go_template.h"
#include "core/result.h"
#include "kube/label_selector.h"

namespace re2 {
class RE2;
}

namespace llmscale::adapter {

// What a request asks the rule for.
struct QueryRequest {
  std::string series_name;
  GroupResource resource;          // custom API: the object kind; ignored for external
  std::string namespace_name;      // empty for root-scoped requests
  std::vector<std::string> names;  // object names (custom API)
  kube::Selector metric_selector;  // metricLabelSelector (custom) / labelSelector (external)
  std::vector<std::string> extra_group_by;
};

class CompiledRule {
 public:
  // `path` names the rule in errors ("rules[2]").
  static core::Result<CompiledRule> compile(const DiscoveryRule& rule, bool external,
                                            const std::string& path);

  const DiscoveryRule& rule() const { return *rule_; }
  bool external() const { return external_; }

  // Series filters (is / isNot, unanchored) and the implicit name.matches filter.
  bool accepts(const std::string& series_name) const;
  // name.matches expanded with name.as (Go's regexp.ExpandString). Fails when it does not match.
  core::Result<std::string> metric_name(const std::string& series_name) const;
  // The resources a series with these label names can describe (overrides, then the template).
  std::vector<GroupResource> resources_for(const std::vector<std::string>& label_names) const;
  // The label holding names of `resource` objects, if the rule maps one.
  std::optional<std::string> label_for(const GroupResource& resource) const;

  // The PromQL for a request: LabelMatchers (metric selector, namespace, object names),
  // GroupBy, GroupBySlice and LabelValuesByName rendered into metricsQuery.
  core::Result<std::string> build_query(const QueryRequest& request) const;

 private:
  std::shared_ptr<const DiscoveryRule> rule_;
  bool external_ = false;
  std::vector<std::pair<bool, std::shared_ptr<re2::RE2>>> filters_;  // (is, regex)
  std::shared_ptr<re2::RE2> name_matches_;
  std::string name_as_;
  std::shared_ptr<const GoTemplate> metrics_query_;
  std::shared_ptr<const GoTemplate> resource_template_;
  std::shared_ptr<re2::RE2> resource_label_regex_;  // the template as ^...$ with named groups
};

// Go's regexp.Expand: $1, ${1}, $name, ${name}, $$ (longest name; unknown names expand empty).
std::string go_expand(const std::string& tmpl, const re2::RE2& regex, const std::string& input,
                      const std::vector<std::pair<std::size_t, std::size_t>>& groups);

// PromQL matchers for a Kubernetes selector (adapter-and-peers.md §1.5 table), comma-joined in
// the selector's (key-sorted) order. Gt/Lt fail with "operator not supported by prometheus".
core::Result<std::vector<std::string>> selector_matchers(const kube::Selector& selector);

}  // namespace llmscale::adapter
