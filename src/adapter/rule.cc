// Compiled prometheus-adapter rules: filters, naming, resource mapping, PromQL construction.
#include "adapter/rule.h"

#include <algorithm>
#include <cctype>

#include <re2/re2.h>

#include "core/strings.h"

namespace llmscale::adapter {
namespace {

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Go's %q for a matcher value.
std::string quote(const std::string& value) {
  return core::go_quote(value);
}

// Singular form of a known resource, for rendering resource templates.
std::string singular(const GroupResource& gr) {
  const std::string& r = gr.resource;
  if (r == "endpoints") return "endpoints";
  if (r.size() > 3 && r.substr(r.size() - 3) == "ies") return r.substr(0, r.size() - 3) + "y";
  if (r.size() > 4 && (r.substr(r.size() - 4) == "sses" || r.substr(r.size() - 4) == "ches" ||
                       r.substr(r.size() - 4) == "shes" || r.substr(r.size() - 4) == "xes")) {
    return r.substr(0, r.size() - 2);
  }
  if (!r.empty() && r.back() == 's') return r.substr(0, r.size() - 1);
  return r;
}

// A group as prometheus-adapter renders it into label templates: '.' and '-' become '_'.
std::string template_group(const std::string& group) {
  std::string out = group;
  for (char& c : out) {
    if (c == '.' || c == '-') c = '_';
  }
  return out;
}

}  // namespace

std::string go_expand(const std::string& tmpl, const re2::RE2& regex, const std::string& input,
                      const std::vector<std::pair<std::size_t, std::size_t>>& groups) {
  std::string out;
  const auto& named = regex.NamedCapturingGroups();
  for (std::size_t i = 0; i < tmpl.size();) {
    if (tmpl[i] != '$') {
      out += tmpl[i++];
      continue;
    }
    if (i + 1 < tmpl.size() && tmpl[i + 1] == '$') {
      out += '$';
      i += 2;
      continue;
    }
    std::string name;
    std::size_t next;
    if (i + 1 < tmpl.size() && tmpl[i + 1] == '{') {
      std::size_t close = i + 2;
      while (close < tmpl.size() && is_name_char(tmpl[close])) ++close;
      if (close >= tmpl.size() || tmpl[close] != '}' || close == i + 2) {
        out += '$';  // malformed: Go keeps the $ as text
        ++i;
        continue;
      }
      name = tmpl.substr(i + 2, close - i - 2);
      next = close + 1;
    } else {
      std::size_t end = i + 1;
      while (end < tmpl.size() && is_name_char(tmpl[end])) ++end;
      if (end == i + 1) {
        out += '$';
        ++i;
        continue;
      }
      name = tmpl.substr(i + 1, end - i - 1);
      next = end;
    }
    int index = -1;
    bool numeric = std::all_of(name.begin(), name.end(),
                               [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    if (numeric) {
      if (name.size() < 9) index = std::stoi(name);
    } else if (auto it = named.find(name); it != named.end()) {
      index = it->second;
    }
    if (index >= 0 && std::size_t(index) < groups.size() &&
        groups[index].first != std::string::npos) {
      out += input.substr(groups[index].first, groups[index].second - groups[index].first);
    }
    i = next;
  }
  return out;
}

core::Result<std::vector<std::string>> selector_matchers(const kube::Selector& selector) {
  std::vector<std::string> out;
  for (const auto& r : selector.requirements()) {
    std::vector<std::string> values = r.values;
    std::sort(values.begin(), values.end());
    std::string joined = core::join(values, "|");
    using Op = kube::SelectorOperator;
    switch (r.op) {
      case Op::kExists: out.push_back(r.key + "!=\"\""); break;
      case Op::kDoesNotExist: out.push_back(r.key + "=\"\""); break;
      case Op::kEquals:
      case Op::kDoubleEquals:
        out.push_back(r.key + (values.size() > 1 ? "=~" : "=") + quote(joined));
        break;
      case Op::kNotEquals:
        out.push_back(r.key + (values.size() > 1 ? "!~" : "!=") + quote(joined));
        break;
      case Op::kIn: out.push_back(r.key + "=~" + quote(joined)); break;
      case Op::kNotIn: out.push_back(r.key + "!~" + quote(joined)); break;
      case Op::kGreaterThan:
      case Op::kLessThan: return core::invalid_argument("operator not supported by prometheus");
    }
  }
  return out;
}

core::Result<CompiledRule> CompiledRule::compile(const DiscoveryRule& rule, bool external,
                                                 const std::string& path) {
  CompiledRule c;
  c.rule_ = std::make_shared<const DiscoveryRule>(rule);
  c.external_ = external;
  auto compile_regex = [](const std::string& pattern,
                          const std::string& field) -> core::Result<std::shared_ptr<re2::RE2>> {
    auto re = std::make_shared<re2::RE2>(pattern, re2::RE2::Quiet);
    if (!re->ok())
      return core::invalid_argument(field + ": invalid regular expression " +
                                    core::go_quote(pattern) + ": " + re->error());
    return re;
  };
  for (std::size_t i = 0; i < rule.series_filters.size(); ++i) {
    const auto& f = rule.series_filters[i];
    std::string field = path + ".seriesFilters[" + std::to_string(i) + "]";
    bool is = !f.is.empty();
    auto re = compile_regex(is ? f.is : f.is_not, field + (is ? ".is" : ".isNot"));
    if (!re) return tl::unexpected(re.error());
    c.filters_.emplace_back(is, *re);
  }
  auto matches =
      compile_regex(rule.name.matches.empty() ? ".*" : rule.name.matches, path + ".name.matches");
  if (!matches) return tl::unexpected(matches.error());
  c.name_matches_ = *matches;
  c.name_as_ = rule.name.as;
  if (c.name_as_.empty()) {
    int groups = c.name_matches_->NumberOfCapturingGroups();
    if (groups > 1) {
      return core::invalid_argument(
          path + ".name.as: must specify an 'as' value for name matcher " +
          core::go_quote(rule.name.matches) + " associated with series query " +
          core::go_quote(rule.series_query));
    }
    c.name_as_ = groups == 1 ? "$1" : "$0";
  }
  auto query = GoTemplate::parse(rule.metrics_query);
  if (!query) return core::invalid_argument(path + ".metricsQuery: " + query.error().message);
  c.metrics_query_ = std::make_shared<const GoTemplate>(std::move(*query));
  if (!rule.resources.template_text.empty()) {
    auto tmpl = GoTemplate::parse(rule.resources.template_text);
    if (!tmpl) return core::invalid_argument(path + ".resources.template: " + tmpl.error().message);
    auto fields = tmpl->fields();
    if (std::find(fields.begin(), fields.end(), "Resource") == fields.end()) {
      return core::invalid_argument(path + ".resources.template: must reference .Resource");
    }
    // Upstream turns the template into a regex by rendering it with capture groups.
    auto pattern = tmpl->render(
        {{"Group", std::string("(?P<group>.+?)")}, {"Resource", std::string("(?P<resource>.+?)")}});
    if (!pattern)
      return core::invalid_argument(path + ".resources.template: " + pattern.error().message);
    auto re = compile_regex("^" + *pattern + "$", path + ".resources.template");
    if (!re) return tl::unexpected(re.error());
    c.resource_template_ = std::make_shared<const GoTemplate>(std::move(*tmpl));
    c.resource_label_regex_ = *re;
  }
  return c;
}

bool CompiledRule::accepts(const std::string& series_name) const {
  for (const auto& [is, re] : filters_) {
    bool found = re2::RE2::PartialMatch(series_name, *re);
    if (found != is) return false;
  }
  return re2::RE2::PartialMatch(series_name, *name_matches_);
}

core::Result<std::string> CompiledRule::metric_name(const std::string& series_name) const {
  int n = name_matches_->NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> pieces(n);
  if (!name_matches_->Match(series_name, 0, series_name.size(), re2::RE2::UNANCHORED, pieces.data(),
                            n)) {
    return core::invalid_argument("series name " + core::go_quote(series_name) +
                                  " did not match expected pattern " +
                                  core::go_quote(rule_->name.matches));
  }
  std::vector<std::pair<std::size_t, std::size_t>> groups;
  for (const auto& p : pieces) {
    if (p.data() == nullptr) {
      groups.emplace_back(std::string::npos, std::string::npos);
    } else {
      std::size_t begin = std::size_t(p.data() - series_name.data());
      groups.emplace_back(begin, begin + p.size());
    }
  }
  return go_expand(name_as_, *name_matches_, series_name, groups);
}

std::vector<GroupResource> CompiledRule::resources_for(
    const std::vector<std::string>& label_names) const {
  std::vector<GroupResource> out;
  for (const auto& label : label_names) {
    if (auto it = rule_->resources.overrides.find(label); it != rule_->resources.overrides.end()) {
      out.push_back(it->second);
      continue;
    }
    if (!resource_label_regex_) continue;
    std::string group, resource;
    const auto& named = resource_label_regex_->NamedCapturingGroups();
    int n = resource_label_regex_->NumberOfCapturingGroups() + 1;
    std::vector<re2::StringPiece> pieces(n);
    if (!resource_label_regex_->Match(label, 0, label.size(), re2::RE2::ANCHOR_BOTH, pieces.data(),
                                      n))
      continue;
    if (auto g = named.find("group"); g != named.end() && pieces[g->second].data())
      group = std::string(pieces[g->second]);
    if (auto r = named.find("resource"); r != named.end() && pieces[r->second].data())
      resource = std::string(pieces[r->second]);
    if (resource.empty()) continue;
    GroupResource gr = normalize_resource(group, resource);
    // Labels naming resources unknown to the cluster are ignored upstream; only known kinds
    // (or any kind named by an explicit group) describe objects here.
    if (kind_of(gr).empty()) continue;
    out.push_back(gr);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::optional<std::string> CompiledRule::label_for(const GroupResource& resource) const {
  for (const auto& [label, gr] : rule_->resources.overrides) {
    if (gr == resource) return label;
  }
  if (!resource_template_) return std::nullopt;
  auto label = resource_template_->render(
      {{"Group", template_group(resource.group)}, {"Resource", singular(resource)}});
  if (!label) return std::nullopt;
  return *label;
}

core::Result<std::string> CompiledRule::build_query(const QueryRequest& request) const {
  auto matchers = selector_matchers(request.metric_selector);
  if (!matchers) return tl::unexpected(matchers.error());
  std::vector<std::string> label_matchers = *matchers;
  // prometheus-adapter (pkg/naming/metrics_query.go, processQueryParts): every query part —
  // the metric selector's requirements, then the namespace, then the objects — fills
  // LabelValuesByName with its values joined by "|" (sorted, as Requirement.Values().List()).
  std::map<std::string, std::string> values_by_name;
  for (const auto& r : request.metric_selector.requirements()) {
    std::vector<std::string> values = r.values;
    std::sort(values.begin(), values.end());
    values_by_name[r.key] = core::join(values, "|");
  }
  std::vector<std::string> group_by;
  bool namespaced = !external_ || rule_->resources.namespaced;
  if (!request.namespace_name.empty() && namespaced) {
    auto ns_label = label_for(GroupResource{"", "namespaces"});
    if (!ns_label) {
      return core::invalid_argument("unable to find label for namespaces in rule for series " +
                                    core::go_quote(request.series_name));
    }
    label_matchers.push_back(*ns_label + "=" + quote(request.namespace_name));
    values_by_name[*ns_label] = request.namespace_name;
  }
  if (!external_) {
    auto res_label = label_for(request.resource);
    if (!res_label) {
      return core::invalid_argument("unable to find label for " + request.resource.to_string() +
                                    " in rule for series " + core::go_quote(request.series_name));
    }
    std::string joined = core::join(request.names, "|");
    label_matchers.push_back(*res_label + (request.names.size() == 1 ? "=" : "=~") + quote(joined));
    values_by_name[*res_label] = joined;
    group_by.push_back(*res_label);
  }
  for (const auto& extra : request.extra_group_by) group_by.push_back(extra);
  TemplateData data = {{"Series", request.series_name},
                       {"LabelMatchers", core::join(label_matchers, ",")},
                       {"GroupBy", core::join(group_by, ",")},
                       {"GroupBySlice", group_by},
                       {"LabelValuesByName", values_by_name}};
  return metrics_query_->render(data);
}

}  // namespace llmscale::adapter
