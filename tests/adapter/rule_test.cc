// prometheus-adapter rules: config errors, naming, resource mapping, and the PromQL built for
// requests — golden against prometheus-adapter's documented examples and the seeds' configs.
#include "adapter/rule.h"

#include <gtest/gtest.h>
#include <re2/re2.h>

#include "adapter/config.h"
#include "core/strings.h"

namespace llmscale::adapter {
namespace {

CompiledRule compile(const std::string& yaml, bool external = false) {
  auto config = parse_adapter_config(yaml);
  EXPECT_TRUE(config) << (config ? "" : config.error().message);
  const auto& rules = external ? config->external_rules : config->rules;
  auto rule = CompiledRule::compile(rules.at(0), external, "rules[0]");
  EXPECT_TRUE(rule);
  return *rule;
}

std::string query(const CompiledRule& rule, const std::string& series, GroupResource resource,
                  const std::string& ns, std::vector<std::string> names,
                  const std::string& selector = "") {
  QueryRequest request;
  request.series_name = series;
  request.resource = resource;
  request.namespace_name = ns;
  request.names = std::move(names);
  request.metric_selector = *kube::Selector::parse(selector);
  auto q = rule.build_query(request);
  return q ? *q : "error: " + q.error().message;
}

const char* kDefaultRateRule = R"(
rules:
- seriesQuery: '{__name__=~"^.*_total$",kube_namespace!=""}'
  resources: {template: "kube_<<.Resource>>"}
  name: {matches: "^(.*)_total$", as: ""}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[1m])) by (<<.GroupBy>>)'
)";

TEST(AdapterQueryTest, DocumentedDefaultRuleExample) {
  CompiledRule rule = compile(kDefaultRateRule);
  EXPECT_EQ(query(rule, "ingress_hits_total", {"", "services"}, "somens", {"somesvc"}),
            "sum(rate(ingress_hits_total{kube_namespace=\"somens\",kube_service=\"somesvc\"}[1m])) "
            "by (kube_service)");
  EXPECT_EQ(
      query(rule, "ingress_hits_total", {"", "services"}, "somens", {"somesvc"}, "param1=value1"),
      "sum(rate(ingress_hits_total{param1=\"value1\",kube_namespace=\"somens\",kube_service="
      "\"somesvc\"}[1m])) by (kube_service)");
  EXPECT_EQ(*rule.metric_name("ingress_hits_total"), "ingress_hits");
}

TEST(AdapterQueryTest, ContainerRuleWithSeveralPods) {
  CompiledRule rule = compile(R"(
rules:
- seriesQuery: '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
  resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
  name: {matches: "^container_(.*)$"}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>,container!="POD"}) by (<<.GroupBy>>)'
)");
  EXPECT_EQ(query(rule, "container_some_usage", {"", "pods"}, "somens", {"somepod1", "somepod2"}),
            "sum(container_some_usage{namespace=\"somens\",pod=~\"somepod1|somepod2\",container!="
            "\"POD\"}) by (pod)");
  EXPECT_EQ(*rule.metric_name("container_some_usage"), "some_usage");
}

// prometheus-adapter's processQueryParts fills LabelValuesByName from every query part: the
// metric selector's requirements (values sorted, "|"-joined), the namespace and the objects.
TEST(AdapterQueryTest, LabelValuesByNameHoldsTheMetricSelectorsValues) {
  CompiledRule custom = compile(R"(
rules:
- seriesQuery: 'x{namespace!="",pod!=""}'
  resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
  metricsQuery: '<<.LabelValuesByName>> <<index .LabelValuesByName "model">> <<.GroupBySlice>>'
)");
  EXPECT_EQ(query(custom, "x", {"", "pods"}, "ns", {"p1", "p2"}, "model in (b,a),tier=gpu,!spot"),
            "map[model:a|b namespace:ns pod:p1|p2 spot: tier:gpu] a|b [pod]");
  // External rules: the selector and the namespace; GroupBy and GroupBySlice stay empty, as
  // upstream's QueryForExternalSeries passes "" and []string{}.
  CompiledRule external = compile(R"(
externalRules:
- seriesQuery: 'x{namespace!=""}'
  resources: {overrides: {namespace: {resource: namespace}}}
  metricsQuery: '<<.LabelValuesByName>> by (<<.GroupBy>>) <<.GroupBySlice>> <<len .GroupBySlice>>'
)",
                                  /*external=*/true);
  EXPECT_EQ(query(external, "x", {}, "ns", {}, "queue=q1"),
            "map[namespace:ns queue:q1] by () [] 0");
  EXPECT_EQ(query(external, "x", {}, "", {}, "queue in (q2,q1)"), "map[queue:q1|q2] by () [] 0");
}

TEST(AdapterQueryTest, RootScopedObjectsGetNoNamespaceMatcher) {
  CompiledRule rule = compile(R"(
rules:
- seriesQuery: '{__name__="node_gigawatts",kube_node!=""}'
  resources: {template: "kube_<<.Resource>>"}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
)");
  EXPECT_EQ(query(rule, "node_gigawatts", {"", "nodes"}, "", {"somenode"}),
            "sum(node_gigawatts{kube_node=\"somenode\"}) by (kube_node)");
}

TEST(AdapterQueryTest, VllmGaugeRuleWithColonNames) {
  CompiledRule rule = compile(R"(
rules:
- seriesQuery: 'vllm:gpu_cache_usage_perc{namespace!="",pod!=""}'
  resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
  name: {matches: "^vllm:(.*)$", as: "${1}"}
  metricsQuery: avg(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
)");
  EXPECT_EQ(
      query(rule, "vllm:gpu_cache_usage_perc", {"", "pods"}, "default", {"vllm-0", "vllm-1"}),
      "avg(vllm:gpu_cache_usage_perc{namespace=\"default\",pod=~\"vllm-0|vllm-1\"}) by (pod)");
  EXPECT_EQ(*rule.metric_name("vllm:gpu_cache_usage_perc"), "gpu_cache_usage_perc");
}

// Seed 000's externalRules (prometheus-adapter Helm values), verbatim.
const char* kJetStreamExternalRules = R"(
externalRules:
- seriesQuery: 'jetstream_prefill_backlog_size'
  resources:
    template: <<.Resource>>
  name:
    matches: ""
    as: "jetstream_prefill_backlog_size"
  metricsQuery: avg(<<.Series>>{<<.LabelMatchers>>,cluster="CLUSTER_NAME"})
- seriesQuery: 'memory_used'
  resources:
    template: <<.Resource>>
  name:
    matches: ""
    as: "memory_used_percentage"
  metricsQuery: avg(memory_used{cluster="CLUSTER_NAME",exported_namespace="default",container="jetstream-http"}) / avg(memory_total{cluster="CLUSTER_NAME",exported_namespace="default",container="jetstream-http"})
)";

TEST(AdapterQueryTest, SeedJetStreamExternalRules) {
  auto config = parse_adapter_config(kJetStreamExternalRules);
  ASSERT_TRUE(config) << config.error().message;
  auto backlog = *CompiledRule::compile(config->external_rules[0], true, "externalRules[0]");
  EXPECT_EQ(*backlog.metric_name("jetstream_prefill_backlog_size"),
            "jetstream_prefill_backlog_size");
  EXPECT_EQ(query(backlog, "jetstream_prefill_backlog_size", {}, "default", {}),
            "avg(jetstream_prefill_backlog_size{namespace=\"default\",cluster=\"CLUSTER_NAME\"})");
  auto memory = *CompiledRule::compile(config->external_rules[1], true, "externalRules[1]");
  EXPECT_EQ(*memory.metric_name("memory_used"), "memory_used_percentage");
  EXPECT_EQ(query(memory, "memory_used", {}, "default", {}),
            "avg(memory_used{cluster=\"CLUSTER_NAME\",exported_namespace=\"default\",container="
            "\"jetstream-http\"}) / "
            "avg(memory_total{cluster=\"CLUSTER_NAME\",exported_namespace=\"default\",container="
            "\"jetstream-http\"})");
}

TEST(AdapterQueryTest, ExternalRulesGroupByNothingAndHonourNamespacedFalse) {
  CompiledRule rule = compile(R"(
externalRules:
- seriesQuery: 'tgi_queue_size{namespace!=""}'
  resources: {overrides: {namespace: {resource: namespace}}}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
)",
                              true);
  EXPECT_EQ(query(rule, "tgi_queue_size", {}, "llm", {}, "service=tgi"),
            "sum(tgi_queue_size{service=\"tgi\",namespace=\"llm\"}) by ()");
  CompiledRule global = compile(R"(
externalRules:
- seriesQuery: 'queue_depth'
  resources: {namespaced: false}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>})
)",
                                true);
  EXPECT_EQ(query(global, "queue_depth", {}, "llm", {}, "queue=worker"),
            "sum(queue_depth{queue=\"worker\"})");
  CompiledRule missing = compile(R"(
externalRules:
- seriesQuery: 'queue_depth'
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>})
)",
                                 true);
  EXPECT_EQ(query(missing, "queue_depth", {}, "llm", {}),
            "error: unable to find label for namespaces in rule for series \"queue_depth\"");
}

TEST(AdapterQueryTest, SelectorsBecomeMatchersPerTheTable) {
  auto matchers = [](const std::string& text) {
    auto m = selector_matchers(*kube::Selector::parse(text));
    return m ? core::join(*m, ",") : "error: " + m.error().message;
  };
  EXPECT_EQ(matchers("k"), "k!=\"\"");
  EXPECT_EQ(matchers("!k"), "k=\"\"");
  EXPECT_EQ(matchers("k=v"), "k=\"v\"");
  EXPECT_EQ(matchers("k==v"), "k=\"v\"");
  EXPECT_EQ(matchers("k!=v"), "k!=\"v\"");
  EXPECT_EQ(matchers("k in (v)"), "k=~\"v\"");
  EXPECT_EQ(matchers("k notin (v)"), "k!~\"v\"");
  EXPECT_EQ(matchers("k in (b,a)"), "k=~\"a|b\"");
  EXPECT_EQ(matchers("k notin (b,a)"), "k!~\"a|b\"");
  EXPECT_EQ(matchers("b=1,a=2"), "a=\"2\",b=\"1\"");
  EXPECT_EQ(matchers("k>1"), "error: operator not supported by prometheus");
}

TEST(AdapterNamingTest, GoExpandSemantics) {
  auto name = [](const std::string& matches, const std::string& as, const std::string& series) {
    DiscoveryRule rule;
    rule.series_query = "x";
    rule.metrics_query = "x";
    rule.name = {matches, as};
    auto compiled = CompiledRule::compile(rule, false, "rules[0]");
    if (!compiled) return "error: " + compiled.error().message;
    auto n = compiled->metric_name(series);
    return n ? *n : "error: " + n.error().message;
  };
  EXPECT_EQ(name("^(.*)_total$", "${1}_per_second", "http_requests_total"),
            "http_requests_per_second");
  EXPECT_EQ(name("^(.*)_total$", "$1_per_second", "http_requests_total"),
            "");                                                   // group "1_per_second"
  EXPECT_EQ(name("^(.*)_total", "${1}", "foo_total_bar"), "foo");  // expansion only
  EXPECT_EQ(name("^(?P<base>.*)_seconds$", "${base}", "latency_seconds"), "latency");
  EXPECT_EQ(name("(.*)", "$$x${1}", "abc"), "$xabc");
  EXPECT_EQ(name("total", "", "foo_total"), "total");  // $0, unanchored
  EXPECT_EQ(name("^(a)(b)$", "", "ab"),
            "error: rules[0].name.as: must specify an 'as' value for name matcher \"^(a)(b)$\" "
            "associated with series query \"x\"");
  EXPECT_EQ(name("^abc$", "", "xyz"),
            "error: series name \"xyz\" did not match expected pattern \"^abc$\"");
}

TEST(AdapterRuleTest, SeriesFiltersAreUnanchoredSearches) {
  CompiledRule rule = compile(R"(
rules:
- seriesQuery: '{__name__=~"^container_.*"}'
  seriesFilters: [{isNot: "^container_.*_seconds_total$"}, {is: "my_"}]
  resources: {template: "<<.Resource>>"}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
)");
  EXPECT_TRUE(rule.accepts("container_my_usage"));
  EXPECT_TRUE(rule.accepts("xmy_label"));
  EXPECT_FALSE(rule.accepts("container_cpu_seconds_total"));
  EXPECT_FALSE(rule.accepts("container_usage"));
}

TEST(AdapterRuleTest, ResourcesFromOverridesAndTemplates) {
  CompiledRule rule = compile(R"(
rules:
- seriesQuery: 'x'
  resources:
    overrides: {microservice: {group: apps, resource: deployment}}
    template: "kube_<<.Group>>_<<.Resource>>"
  metricsQuery: x
)");
  auto resources = rule.resources_for(
      {"microservice", "kube__pod", "kube_apps_deployment", "kube__widget", "other"});
  std::vector<std::string> names;
  for (const auto& r : resources) names.push_back(r.to_string());
  // As upstream, the template becomes ^kube_(?P<group>.+?)_(?P<resource>.+?)$: the empty core
  // group cannot match, so kube__pod renders but never parses back.
  EXPECT_EQ(names, (std::vector<std::string>{"deployments.apps"}));
  EXPECT_EQ(*rule.label_for({"apps", "deployments"}), "microservice");
  EXPECT_EQ(*rule.label_for({"", "pods"}), "kube__pod");
  EXPECT_EQ(*rule.label_for({"networking.k8s.io", "ingresses"}), "kube_networking_k8s_io_ingress");
}

TEST(AdapterConfigTest, ErrorsNameTheRuleAndField) {
  auto error = [](const std::string& yaml) {
    auto c = parse_adapter_config(yaml);
    return c ? std::string("ok") : c.error().message;
  };
  EXPECT_EQ(error("rules: [{metricsQuery: x}]"), "rules[0].seriesQuery: Required value");
  EXPECT_EQ(error("rules: [{seriesQuery: x}]"), "rules[0].metricsQuery: Required value");
  EXPECT_EQ(error("rules: [{seriesQuery: x, metricsQuery: x, seriesFilters: [{is: a, isNot: b}]}]"),
            "rules[0].seriesFilters[0]: cannot have both an `is` (\"a\") and `isNot` (\"b\") "
            "expression in a single filter");
  EXPECT_EQ(
      error("rules: [{seriesQuery: x, metricsQuery: x, seriesFilters: [{}]}]"),
      "rules[0].seriesFilters[0]: must have either an `is` or `isNot` expression in a filter");
  EXPECT_EQ(error("externalRules: [{seriesQuery: x, metricsQuery: x, name: {matches: '('}}]"),
            "externalRules[0].name.matches: invalid regular expression \"(\": missing ): (");
  EXPECT_EQ(error("rules: [{seriesQuery: x, metricsQuery: '<<.Series'}]"),
            "rules[0].metricsQuery: unclosed action starting at offset 0");
  EXPECT_EQ(error("rules: [{seriesQuery: x, metricsQuery: '<<printf \"%s\" .Series>>'}]"),
            "rules[0].metricsQuery: unsupported template action <<printf \"%s\" .Series>> "
            "(function \"printf\" not available)");
  EXPECT_EQ(
      error("rules: [{seriesQuery: x, metricsQuery: x, resources: {template: '<<.Group>>'}}]"),
      "rules[0].resources.template: must reference .Resource");
  EXPECT_EQ(error("rules: [{seriesQuery: x, metricsQuery: x, metricQuery: y}]"),
            "strict decoding error: unknown field \"rules[0].metricQuery\"");
  EXPECT_EQ(
      error(
          "rules: [{seriesQuery: x, metricsQuery: x, resources: {overrides: {pod: {group: ''}}}}]"),
      "rules[0].resources.overrides[pod].resource: Required value");
}

TEST(AdapterResourceTest, NormalizesKnownAndUnknownResources) {
  EXPECT_EQ(normalize_resource("", "pod").to_string(), "pods");
  EXPECT_EQ(normalize_resource("", "Pods").to_string(), "pods");
  EXPECT_EQ(normalize_resource("", "deployment").to_string(), "deployments.apps");
  EXPECT_EQ(normalize_resource("apps", "deployments").to_string(), "deployments.apps");
  EXPECT_EQ(normalize_resource("", "deployments.apps").to_string(), "deployments.apps");
  EXPECT_EQ(normalize_resource("example.com", "widget").to_string(), "widgets.example.com");
  EXPECT_EQ(normalize_resource("", "policy").to_string(), "policies");
  EXPECT_EQ(kind_of({"apps", "deployments"}), "Deployment");
  EXPECT_EQ(described_api_version({"", "pods"}), "/v1");
  EXPECT_EQ(described_api_version({"apps", "deployments"}), "apps/v1");
  EXPECT_FALSE(is_namespaced({"", "nodes"}));
  EXPECT_TRUE(is_namespaced({"", "pods"}));
}

}  // namespace
}  // namespace llmscale::adapter
