// llmscale's /metrics endpoints as Prometheus' own linter sees them, and the Grafana dashboard
// against real scrapes (integration: processes, real time, about 40 s):
//  - `promtool check metrics` (Debian's prometheus package) passes on up's control address,
//    up's router, `llmscale adapter` (querying up's Prometheus API, as prometheus-adapter would
//    query a Prometheus), and serve-sim of every flavor (vLLM V1/V0, TGI, JetStream, NIM, SGLang);
//  - every panel of deploy/grafana/dashboards/llmscale.json returns data when its queries run on
//    src/prom's engine over those scrapes (two scrapes 30 s apart, so rate() has two points);
//  - every expression also passes `promtool check rules` (upstream's parser);
//  - every expression is answered by up's own Prometheus API (the control address, as Grafana's
//    data source would use it), and every panel of the "Servers" rows returns data there (up
//    scrapes the NIM seed's replica).
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "core/json.h"
#include "prom/exposition/labels.h"
#include "prom/exposition/parser.h"
#include "prom/promql/engine.h"
#include "prom/tsdb/storage.h"
#include "support/process.h"

namespace llmscale {
namespace {

using namespace std::chrono_literals;
using llmscale::testing::Process;
using llmscale::testing::run_process;
using llmscale::testing::TempDir;

std::string field(const std::string& text, const std::string& prefix) {
  std::size_t at = text.find(prefix);
  if (at == std::string::npos) return "";
  at += prefix.size();
  return text.substr(at, text.find_first_of(" \n", at) - at);
}

std::string fetch(const std::string& url) {
  auto r = run_process({"curl", "-sf", "--max-time", "5", url}, "", 10s);
  return r.exit_code == 0 ? r.output : "";
}

std::string substitute(std::string expr) {
  static const std::vector<std::pair<std::string, std::string>> kVars = {
      {"$__rate_interval", "1m"}, {"$namespace", ".*"}, {"$hpa", ".*"}, {"$pod", ".*"}};
  for (const auto& [name, value] : kVars) {
    for (std::size_t at; (at = expr.find(name)) != std::string::npos;)
      expr.replace(at, name.size(), value);
  }
  return expr;
}

// promtool's findings that are the servers' own exposition, which serve-sim reproduces on
// purpose (src/server/flavor_metrics.cc): vLLM and SGLang name their metrics "vllm:..." and
// "sglang:..." (Prometheus reserves ':' for recording rules, but every vLLM dashboard queries these
// names); vLLM's vllm:iteration_tokens_total is a histogram; TGI's tgi_batch_max_total_tokens has
// no HELP (upstream describes it under another name); vLLM V0's interval throughput gauges are
// named "..._toks_per_s" upstream. llmscale's own endpoints get no pass.
bool upstream_finding(const std::string& line) {
  if ((line.rfind("vllm:", 0) == 0 || line.rfind("sglang:", 0) == 0) &&
      line.find(" metric names should not contain ':'") != std::string::npos)
    return true;
  return line ==
             "vllm:iteration_tokens_total non-counter metrics should not have \"_total\" suffix" ||
         line == "tgi_batch_max_total_tokens no help text" ||
         line ==
             "vllm:avg_generation_throughput_toks_per_s metric names should not contain "
             "abbreviated units" ||
         line ==
             "vllm:avg_prompt_throughput_toks_per_s metric names should not contain "
             "abbreviated units";
}

struct Scrape;
std::vector<std::string> unexpected_problems(const Scrape& s, const std::string& output);

struct Scrape {
  std::string what;
  std::string url;
  std::string pod;  // "" for llmscale's own endpoints (a Prometheus would not add one either)
};

std::vector<std::string> unexpected_problems(const Scrape& s, const std::string& output) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < output.size()) {
    std::size_t end = output.find('\n', start);
    if (end == std::string::npos) end = output.size();
    std::string line = output.substr(start, end - start);
    start = end + 1;
    if (line.empty() || (!s.pod.empty() && upstream_finding(line))) continue;
    out.push_back(line);
  }
  return out;
}

class MetricsCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!llmscale::testing::program_on_path("promtool"))
      GTEST_SKIP() << "promtool not installed (scripts/install-deps.sh: prometheus)";
    // up on the NIM seed with a short load, so the router and the HPA have series.
    up_ = Process::start(
        {LLMSCALE_BINARY, "up", LLMSCALE_SOURCE_DIR "/examples/nim-gpu", "--serve-sim-startup",
         "1s", "--scrape-interval", "1s", "--router-listen", "127.0.0.1:0", "--control-listen",
         "127.0.0.1:0", "--state-dir", dir_.path() + "/state", "--stop-after", "120s", "--load",
         "--url {router} --api openai-chat --streaming -m meta/llama-3.1-8b-instruct "
         "--synthetic-input-tokens-mean 100 --output-tokens-mean 20 --concurrency 20 "
         "--duration 60s"},
        dir_);
    ASSERT_TRUE(up_);
    ASSERT_TRUE(up_->wait_for_output(
        [](const std::string& out) { return out.find("load: load") != std::string::npos; }, 60s))
        << up_->output() << up_->errors();
    std::string out = up_->output();
    std::string control = field(out, "control API on ");
    std::string router = field(out, ": router on ");
    ASSERT_FALSE(control.empty());
    control_ = control;
    ASSERT_FALSE(router.empty());
    scrapes_.push_back({"up", control + "/metrics", ""});
    scrapes_.push_back({"router", router + "/metrics", ""});
    // The adapter with the NIM seed's rules, its Prometheus being up's control address.
    auto adapter = Process::start({LLMSCALE_BINARY, "adapter", "--insecure-loopback",
                                   "--secure-port", "0", "--prometheus-url", control, "--config",
                                   LLMSCALE_SOURCE_DIR "/examples/nim-gpu/adapter-config.yaml"},
                                  dir_);
    ASSERT_TRUE(adapter);
    ASSERT_TRUE(adapter->wait_for_output(
        [](const std::string& o) { return o.find("adapter: serving on ") != std::string::npos; },
        20s))
        << adapter->output() << adapter->errors();
    adapter_url_ = field(adapter->output(), "adapter: serving on ");
    adapter_ = std::move(*adapter);
    scrapes_.push_back({"adapter", adapter_url_ + "/metrics", ""});
    for (std::string flavor : {"vllm-v1", "vllm-v0", "tgi", "jetstream", "nim", "sglang"}) {
      auto server = Process::start({LLMSCALE_BINARY, "serve-sim", "--port", "0", "--flavor", flavor,
                                    "--startup-seconds", "0"},
                                   dir_);
      ASSERT_TRUE(server);
      ASSERT_TRUE(server->wait_for_output(
          [](const std::string& o) { return o.find("\"metrics_port\":") != std::string::npos; },
          20s));
      std::string port = field(server->output(), "\"metrics_port\":");
      port = port.substr(0, port.find(','));
      scrapes_.push_back(
          {"serve-sim " + flavor, "http://127.0.0.1:" + port + "/metrics", flavor + "-0"});
      servers_.push_back(std::move(*server));
    }
  }
  void TearDown() override {
    for (auto& s : servers_) s.stop(SIGTERM, 10s);
    if (adapter_) adapter_->stop(SIGTERM, 10s);
    if (up_) up_->stop(SIGTERM, 30s);
  }

  TempDir dir_;
  std::optional<Process> up_;
  std::optional<Process> adapter_;
  std::string adapter_url_;
  std::vector<Process> servers_;
  std::vector<Scrape> scrapes_;
  std::string control_;
};

// An instant query through a Prometheus HTTP API, as Grafana's data source sends it:
// {success, has data}.
std::pair<bool, bool> query_api(const std::string& base, const std::string& expr) {
  auto r = run_process({"curl", "-sf", "--max-time", "5", "-G", "--data-urlencode", "query=" + expr,
                        base + "/api/v1/query"},
                       "", 10s);
  auto doc = core::parse_json(r.output);
  if (r.exit_code != 0 || !doc || !doc->is_object()) return {false, false};
  bool success = doc->value("status", "") == "success";
  const auto& data = (*doc)["data"];
  bool any = success && data.is_object() && data.value("resultType", "") == "vector" &&
             data.contains("result") && !data["result"].empty();
  return {success, any};
}

TEST_F(MetricsCheck, PromtoolAndGrafanaPanels) {
  // Let the load run so histograms and the HPA's metric have values (a KV-cache use in milli
  // units in the table); go on after 20 s regardless, every panel has series without it.
  (void)up_->wait_for_output(
      [](const std::string& out) { return out.find("m/100m") != std::string::npos; }, 20s);
  ASSERT_FALSE(up_->poll()) << up_->output() << up_->errors();
  // Requests to the adapter, so its request and query families have series: a named pod (one
  // query to up's Prometheus API; 404 when the pod has no such series) and the HPA's wildcard.
  for (std::string pod : {"no-such-pod", "*"}) {
    (void)run_process(
        {"curl", "-s", "--max-time", "5",
         adapter_url_ + "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/" + pod +
             "/gpu_cache_usage_perc"},
        "", 10s);
  }
  prom::Storage storage;
  std::int64_t t0 = core::to_unix_millis(core::wall_now());
  for (int round = 0; round < 2; ++round) {
    for (const Scrape& s : scrapes_) {
      SCOPED_TRACE(s.what);
      std::string body = fetch(s.url);
      ASSERT_FALSE(body.empty()) << s.url;
      if (round == 0) {
        auto lint = run_process({"promtool", "check", "metrics"}, body, 30s);
        std::vector<std::string> problems = unexpected_problems(s, lint.output);
        EXPECT_TRUE(problems.empty()) << s.what << ":\n" << ::testing::PrintToString(problems);
        if (s.pod.empty()) {
          EXPECT_EQ(lint.exit_code, 0) << s.what << ":\n" << lint.output;
        }
        if (s.what == "up") {
          // The controller's pass and metric durations, kube-controller-manager's histograms.
          EXPECT_NE(body.find("horizontal_pod_autoscaler_controller_reconciliation_duration_"
                              "seconds_bucket{action=\"none\",error=\"none\",le=\"0.001\"}"),
                    std::string::npos)
              << body;
          EXPECT_NE(body.find("horizontal_pod_autoscaler_controller_metric_computation_duration_"
                              "seconds_bucket{action="),
                    std::string::npos)
              << body;
        }
        if (s.what == "adapter") {
          // k8s.io/apiserver's request families and prometheus-adapter's query latency.
          EXPECT_NE(body.find("apiserver_request_total{verb=\"GET\",dry_run=\"\",group=\"custom."
                              "metrics.k8s.io\",version=\"v1beta1\",resource=\"*\",subresource="
                              "\"*\",scope=\"resource\",component=\"custom-metrics\",code="),
                    std::string::npos)
              << body;
          EXPECT_NE(body.find("prometheus_adapter_prometheus_client_request_duration_seconds_"
                              "bucket{path=\"/api/v1/series\""),
                    std::string::npos)
              << body;
        }
      }
      auto parsed = prom::parse_exposition(body, prom::ExpositionFormat::kPrometheusText);
      ASSERT_TRUE(parsed) << parsed.error().message;
      // Round 1 is stored 30 s after round 0, as a 30 s scrape interval would.
      std::int64_t t = t0 + round * 30000;
      for (const auto& family : parsed->families) {
        for (const auto& sample : family.samples) {
          prom::LabelsBuilder b(sample.labels);
          b.set("__name__", sample.name);
          if (!s.pod.empty()) {
            b.set("namespace", "default");
            b.set("pod", s.pod);
          }
          ASSERT_TRUE(storage.append(b.labels(), t, sample.value));
        }
      }
      if (!s.pod.empty()) {
        ASSERT_TRUE(
            storage.append({{"__name__", "up"}, {"namespace", "default"}, {"pod", s.pod}}, t, 1));
      }
    }
  }

  std::ifstream in(LLMSCALE_SOURCE_DIR "/deploy/grafana/dashboards/llmscale.json");
  std::stringstream text;
  text << in.rdbuf();
  auto dashboard = core::parse_json(text.str());
  ASSERT_TRUE(dashboard);
  prom::LocalQueryEngine engine(storage);
  core::Time at = core::from_unix_millis(t0 + 30000);
  std::string rules = "groups:\n- name: grafana\n  rules:\n";
  int n = 0;
  std::string row;
  for (const auto& panel : (*dashboard)["panels"]) {
    if (panel.value("type", "") == "row") {
      row = panel.value("title", "");
      continue;
    }
    std::string title = panel.value("title", "");
    std::vector<std::string> empty;
    bool any = false;
    bool any_from_up = false;
    for (const auto& target : panel["targets"]) {
      std::string expr = substitute(target.value("expr", ""));
      auto [success, data_from_up] = query_api(control_, expr);
      EXPECT_TRUE(success) << "up's /api/v1/query refused " << expr;
      any_from_up = any_from_up || data_from_up;
      rules += "  - record: grafana:expr" + std::to_string(n++) + "\n    expr: '" + expr + "'\n";
      auto result = engine.instant_query(expr, at);
      ASSERT_TRUE(result) << title << ": " << expr << ": " << result.error().message;
      bool data = result->type() == prom::ResultType::kVector && !result->vector().empty();
      any = any || data;
      if (!data) empty.push_back(expr);
    }
    // A panel shows something; a target may be empty when its server flavor or event is absent
    // (no error has happened, say), so each panel is asked for data, not each target.
    EXPECT_TRUE(any) << "panel \"" << title
                     << "\" has no data; empty: " << ::testing::PrintToString(empty);
    if (row.rfind("Servers", 0) == 0) {
      EXPECT_TRUE(any_from_up) << "panel \"" << title << "\" has no data from up's query API";
    }
  }
  std::string rules_path = dir_.path() + "/grafana-rules.yaml";
  std::ofstream(rules_path) << rules;
  auto check = run_process({"promtool", "check", "rules", rules_path}, "", 30s);
  EXPECT_EQ(check.exit_code, 0) << check.output;
}

}  // namespace
}  // namespace llmscale
