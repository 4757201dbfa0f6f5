// deploy/grafana: the dashboard JSON uses Grafana's dashboard-model fields the way Grafana reads
// them (ids, gridPos on a 24-column grid without overlaps, data source references, targets with
// refIds, templating variables), every PromQL expression in it parses with src/prom's parser,
// and the provisioning files name the dashboard directory and a Prometheus data source.
// Grafana:
// https://grafana.com/docs/grafana/latest/dashboards/build-dashboards/view-dashboard-json-model/
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/json.h"
#include "prom/promql/parser.h"

namespace llmscale {
namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const std::string kDir = LLMSCALE_SOURCE_DIR "/deploy/grafana";

core::Json dashboard() {
  auto parsed = core::parse_json(read(kDir + "/dashboards/llmscale.json"));
  EXPECT_TRUE(parsed) << (parsed ? "" : parsed.error().message);
  return parsed ? *parsed : core::Json();
}

// Grafana replaces its variables before the query reaches the data source; the values are
// what "All" (allValue ".*") and the $__rate_interval of a 15 s scrape interval give.
std::string substitute(std::string expr) {
  static const std::vector<std::pair<std::string, std::string>> kVars = {
      {"$__rate_interval", "1m"}, {"$__interval", "15s"}, {"$__range", "30m"},
      {"$namespace", ".*"},       {"$hpa", ".*"},         {"$pod", ".*"}};
  for (const auto& [name, value] : kVars) {
    for (std::size_t at; (at = expr.find(name)) != std::string::npos;)
      expr.replace(at, name.size(), value);
  }
  return expr;
}

// Every PromQL expression in the dashboard: panel targets and annotation queries.
std::vector<std::string> expressions(const core::Json& d) {
  std::vector<std::string> out;
  for (const auto& panel : d["panels"]) {
    for (const auto& target : panel.value("targets", core::Json::array()))
      out.push_back(target.value("expr", ""));
  }
  for (const auto& a : d["annotations"]["list"]) {
    if (a.contains("expr")) out.push_back(a["expr"].get<std::string>());
  }
  return out;
}

TEST(Grafana, DashboardModelFields) {
  core::Json d = dashboard();
  ASSERT_TRUE(d.is_object());
  EXPECT_EQ(d.value("uid", ""), "llmscale-overview");
  EXPECT_FALSE(d.value("title", "").empty());
  ASSERT_TRUE(d["schemaVersion"].is_number_integer());
  EXPECT_GE(d["schemaVersion"].get<int>(), 36);  // panels' datasource as {type, uid}
  ASSERT_TRUE(d["panels"].is_array());
  ASSERT_FALSE(d["panels"].empty());
  EXPECT_TRUE(d["time"].contains("from"));

  std::set<int> ids;
  struct Rect {
    int x, y, w, h;
  };
  std::vector<std::pair<std::string, Rect>> rects;
  for (const auto& panel : d["panels"]) {
    std::string title = panel.value("title", "");
    SCOPED_TRACE(title);
    ASSERT_TRUE(panel["id"].is_number_integer());
    EXPECT_TRUE(ids.insert(panel["id"].get<int>()).second) << "duplicate id";
    std::string type = panel.value("type", "");
    EXPECT_TRUE(type == "row" || type == "timeseries" || type == "stat") << type;
    const auto& g = panel["gridPos"];
    for (const char* k : {"x", "y", "w", "h"}) ASSERT_TRUE(g[k].is_number_integer()) << k;
    Rect r{g["x"], g["y"], g["w"], g["h"]};
    EXPECT_GE(r.x, 0);
    EXPECT_LE(r.x + r.w, 24);  // Grafana's grid is 24 columns wide
    EXPECT_GT(r.w, 0);
    EXPECT_GT(r.h, 0);
    for (const auto& [other, o] : rects) {
      bool overlap = r.x < o.x + o.w && o.x < r.x + r.w && r.y < o.y + o.h && o.y < r.y + r.h;
      EXPECT_FALSE(overlap) << "overlaps " << other;
    }
    rects.push_back({title, r});
    if (type == "row") continue;
    EXPECT_EQ(panel["datasource"].value("type", ""), "prometheus");
    EXPECT_EQ(panel["datasource"].value("uid", ""), "${datasource}");
    ASSERT_TRUE(panel["targets"].is_array());
    ASSERT_FALSE(panel["targets"].empty());
    std::set<std::string> refs;
    for (const auto& t : panel["targets"]) {
      EXPECT_TRUE(refs.insert(t.value("refId", "")).second) << "duplicate refId";
      EXPECT_FALSE(t.value("expr", "").empty());
    }
    EXPECT_TRUE(panel["fieldConfig"].contains("defaults"));
  }

  // Variables: a Prometheus data source picker, then label_values() queries over it.
  const auto& vars = d["templating"]["list"];
  ASSERT_TRUE(vars.is_array());
  ASSERT_FALSE(vars.empty());
  EXPECT_EQ(vars[0].value("type", ""), "datasource");
  EXPECT_EQ(vars[0].value("query", ""), "prometheus");
  std::set<std::string> names;
  for (const auto& v : vars) names.insert(v.value("name", ""));
  EXPECT_EQ(names, (std::set<std::string>{"datasource", "namespace", "hpa", "pod"}));
}

TEST(Grafana, EveryExpressionParses) {
  core::Json d = dashboard();
  auto exprs = expressions(d);
  EXPECT_GT(exprs.size(), 30u);
  for (const std::string& expr : exprs) {
    auto parsed = prom::parse_promql(substitute(expr));
    EXPECT_TRUE(parsed) << expr << "\n" << (parsed ? "" : parsed.error().message);
  }
}

TEST(Grafana, VariableQueriesParse) {
  // label_values(<series selector>, <label>): the selector must parse as one.
  std::regex re(R"(^label_values\((.*), *([a-zA-Z_][a-zA-Z0-9_]*)\)$)");
  core::Json d = dashboard();  // a range-for over a temporary's member would dangle
  for (const auto& v : d["templating"]["list"]) {
    if (v.value("type", "") != "query") continue;
    std::string query = v["query"].value("query", "");
    std::smatch m;
    ASSERT_TRUE(std::regex_match(query, m, re)) << query;
    auto parsed = prom::parse_series_selector(substitute(m[1].str()));
    EXPECT_TRUE(parsed) << query << "\n" << (parsed ? "" : parsed.error().message);
  }
}

TEST(Grafana, ProvisioningFiles) {
  auto datasource = core::parse_documents(read(kDir + "/provisioning/datasources/llmscale.yaml"));
  ASSERT_TRUE(datasource) << datasource.error().message;
  ASSERT_EQ(datasource->size(), 1u);
  EXPECT_EQ((*datasource)[0]["apiVersion"], 1);
  const auto& ds = (*datasource)[0]["datasources"][0];
  EXPECT_EQ(ds["type"], "prometheus");
  EXPECT_EQ(ds["url"], "http://127.0.0.1:9190");  // up's default --control-listen
  auto provider = core::parse_documents(read(kDir + "/provisioning/dashboards/llmscale.yaml"));
  ASSERT_TRUE(provider) << provider.error().message;
  ASSERT_EQ(provider->size(), 1u);
  EXPECT_EQ((*provider)[0]["providers"][0]["type"], "file");
  EXPECT_FALSE((*provider)[0]["providers"][0]["options"].value("path", "").empty());
}

}  // namespace
}  // namespace llmscale
