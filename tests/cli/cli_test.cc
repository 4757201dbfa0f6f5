// The llmscale binary as users run it: golden outputs for `hpa reconcile` and `hpa describe`
// on the shipped examples, and the error contract (exit 2, one line naming the field).
// Set LLMSCALE_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace {

struct Outcome {
  int exit_code;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs the binary with `args`, feeding `stdin_text` when given. Files are unique per call so
// CTest may run these tests in parallel.
Outcome run(const std::string& args, const std::string& stdin_text = "") {
  static int calls = 0;
  std::string dir = ::testing::TempDir() + "/llmscale_cli_" + std::to_string(getpid()) + "_" +
                    std::to_string(calls++);
  std::string in = dir + ".in", out = dir + ".out", err = dir + ".err";
  std::ofstream(in) << stdin_text;
  std::string command = "cd " LLMSCALE_SOURCE_DIR " && timeout 60 " LLMSCALE_BINARY " " + args +
                        " <" + in + " >" + out + " 2>" + err;
  int status = std::system(command.c_str());
  Outcome outcome{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
  std::remove(in.c_str());
  std::remove(out.c_str());
  std::remove(err.c_str());
  return outcome;
}

void expect_golden(const std::string& name, const std::string& actual) {
  std::string path = std::string(LLMSCALE_SOURCE_DIR) + "/tests/cli/golden/" + name;
  if (std::getenv("LLMSCALE_UPDATE_GOLDEN") != nullptr) std::ofstream(path) << actual;
  EXPECT_EQ(actual, slurp(path)) << "golden " << name
                                 << " differs (LLMSCALE_UPDATE_GOLDEN=1 rewrites it)";
}

class ExampleGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(ExampleGolden, ReconcileAndDescribeMatchGolden) {
  std::string example = GetParam();
  Outcome reconcile = run("hpa reconcile --input examples/hpa/" + example + ".yaml");
  ASSERT_EQ(reconcile.exit_code, 0) << reconcile.err;
  expect_golden(example + ".json", reconcile.out);
  Outcome describe = run("hpa describe --input examples/hpa/" + example + ".yaml");
  ASSERT_EQ(describe.exit_code, 0) << describe.err;
  expect_golden(example + ".describe.txt", describe.out);
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleGolden,
                         ::testing::Values("nim-gpu-cache-scale-up", "vllm-queue-max-replicas",
                                           "behavior-scale-down-rate-limited",
                                           "external-metric-fetch-failure"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

TEST(CliContract, ReadsStdinAndJson) {
  std::string json = R"({"now": "2026-01-01T00:00:00Z", "hpa": {"apiVersion": "autoscaling/v2",
    "kind": "HorizontalPodAutoscaler", "metadata": {"name": "h"}, "spec": {"scaleTargetRef":
    {"kind": "Deployment", "name": "d"}, "maxReplicas": 3}}, "scale": {"specReplicas": 0}})";
  Outcome r = run("hpa reconcile --compact --input -", json);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"desiredReplicas\":0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ScalingDisabled"), std::string::npos);
}

struct BadInput {
  const char* name;
  const char* document;
  const char* message;
};

void PrintTo(const BadInput& input, std::ostream* os) {
  *os << input.name;
}

class MalformedInput : public ::testing::TestWithParam<BadInput> {};

TEST_P(MalformedInput, ExitsTwoWithOneLineNamingTheField) {
  Outcome r = run("hpa reconcile --input -", GetParam().document);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(r.err, std::string("error: ") + GetParam().message + "\n");
}

INSTANTIATE_TEST_SUITE_P(
    Cli, MalformedInput,
    ::testing::Values(
        BadInput{"NotAnObject", "[1, 2]",
                 "expected an object with now, hpa, scale, pods and metrics"},
        BadInput{"MissingNow", "{}", "now: Required value"},
        BadInput{
            "BadNow", "now: yesterday\n",
            "now: cannot parse \"yesterday\" as RFC 3339 time (want 2006-01-02T15:04:05Z07:00)"},
        BadInput{"MissingHpa", "now: 2026-01-01T00:00:00Z\n", "hpa: Required value"},
        BadInput{"BadReplicasType",
                 "now: 2026-01-01T00:00:00Z\nhpa: {apiVersion: autoscaling/v2, kind: "
                 "HorizontalPodAutoscaler, "
                 "spec: {maxReplicas: two}}\n",
                 "hpa.spec.maxReplicas: expected a 32-bit integer, got string \"two\""},
        BadInput{"UnknownHpaField",
                 "now: 2026-01-01T00:00:00Z\nhpa: {apiVersion: autoscaling/v2, kind: "
                 "HorizontalPodAutoscaler, "
                 "spec: {maxReplica: 2}}\n",
                 "strict decoding error: unknown field \"hpa.spec.maxReplica\""},
        BadInput{
            "BadQuantity",
            "now: 2026-01-01T00:00:00Z\nhpa: {apiVersion: autoscaling/v2, kind: "
            "HorizontalPodAutoscaler, "
            "spec: {maxReplicas: 2, metrics: [{type: Pods, pods: {metric: {name: q}, target: "
            "{type: AverageValue, averageValue: 1x}}}]}}\n",
            "hpa.spec.metrics[0].pods.target.averageValue: Invalid value: \"1x\": quantities must "
            "match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"},
        BadInput{"UnknownGate",
                 "now: 2026-01-01T00:00:00Z\ncontroller: {featureGates: {HPAMagic: true}}\n",
                 "controller.featureGates.HPAMagic: unknown feature gate (supported: "
                 "HPAConfigurableTolerance, HPAGeneration, HPAScaleToZero, PodLevelResources)"},
        BadInput{"NegativeTolerance", "now: 2026-01-01T00:00:00Z\ncontroller: {tolerance: -1}\n",
                 "controller.tolerance: must be greater than or equal to 0"},
        BadInput{
            "BadPod",
            "now: 2026-01-01T00:00:00Z\nhpa: {apiVersion: autoscaling/v2, kind: "
            "HorizontalPodAutoscaler, "
            "spec: {maxReplicas: 2}}\nscale: {specReplicas: 1}\npods: [{status: {phase: 3}}]\n",
            "pods[0].status.phase: expected a string, got number 3"},
        BadInput{
            "BadMetricList",
            "now: 2026-01-01T00:00:00Z\nhpa: {apiVersion: autoscaling/v2, kind: "
            "HorizontalPodAutoscaler, "
            "spec: {maxReplicas: 2}}\nscale: {specReplicas: 1}\nmetrics: {pods: {q: {items: "
            "[{value: abc}]}}}\n",
            "metrics.pods[q].items[0].value: Invalid value: \"abc\": quantities "
            "must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"},
        BadInput{"BadYaml", "now: [unclosed\n", "yaml: line 2: did not find expected ',' or ']'"},
        BadInput{"BadHistory",
                 "now: 2026-01-01T00:00:00Z\nhpa: {apiVersion: autoscaling/v2, kind: "
                 "HorizontalPodAutoscaler, "
                 "spec: {maxReplicas: 2}}\nscale: {specReplicas: 1}\nhistory: {recommendations: "
                 "[{replicas: 1}]}\n",
                 "history.recommendations[0].timestamp: Required value"},
        BadInput{"ScaleErrorNotString",
                 "now: 2026-01-01T00:00:00Z\nhpa: {apiVersion: autoscaling/v2, kind: "
                 "HorizontalPodAutoscaler, "
                 "spec: {maxReplicas: 2}}\nscale: {error: 5}\n",
                 "scale.error: expected a string, got number 5"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CliContract, MissingFileAndUsage) {
  Outcome missing = run("hpa reconcile --input /nonexistent.yaml");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, "error: open /nonexistent.yaml: no such file or directory\n");
  Outcome usage = run("hpa reconcile");
  EXPECT_EQ(usage.exit_code, 2);
  Outcome help = run("--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("hpa"), std::string::npos);
}

TEST(CliContract, ValidateLikeTheApiServer) {
  Outcome ok = run("hpa validate tests/testdata/seeds/001-nim-gpu-cache.yaml");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "horizontalpodautoscaler.autoscaling/gpu-hpa-cache valid\n");
  std::string text = slurp(std::string(LLMSCALE_SOURCE_DIR) +
                           "/tests/testdata/seeds/000-jetstream-multiple-metrics.yaml");
  for (auto [k, v] : {std::pair<std::string, std::string>{"JETSTREAM_METRIC_TARGET", "10"},
                      {"EXTERNAL_METRIC_TARGET", "800m"},
                      {"MIN_REPLICAS", "1"},
                      {"MAX_REPLICAS", "2"},
                      {"jetstream_METRIC", "jetstream_prefill_backlog_size"}}) {
    for (std::size_t p; (p = text.find(k)) != std::string::npos;) text.replace(p, k.size(), v);
  }
  Outcome seed = run("hpa validate -", text);
  EXPECT_EQ(seed.exit_code, 2);
  EXPECT_EQ(seed.err,
            "error: HorizontalPodAutoscaler in version \"v2\" cannot be handled as a "
            "HorizontalPodAutoscaler: strict decoding error: unknown field "
            "\"spec.metrics[0].pods.averageValue\"\n");
  Outcome lenient = run("hpa validate --lenient -", text);
  EXPECT_EQ(lenient.exit_code, 2);
  EXPECT_NE(lenient.err.find("spec.metrics[0].pods.target.averageValue: Required value"),
            std::string::npos);
}

}  // namespace

// `adapter explain` on seed 001's data: the chart's default rules, the seed's query (whose
// `selector=` parameter the API ignores, so both pods come back with 1m and 14m).
TEST(AdapterExplain, SeedQueryOnTheChartDefaults) {
  const std::string files =
      "adapter explain --config examples/adapter/prometheus-adapter-default.yaml "
      "--metrics examples/adapter/nim-metrics.prom --objects examples/adapter/nim-pods.yaml "
      "--time 2025-01-02T20:13:15Z ";
  Outcome seed = run(files +
                     "'/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/*/"
                     "gpu_cache_usage_perc?selector=app%3Dmeta-llama3-8b'");
  ASSERT_EQ(seed.exit_code, 0) << seed.err;
  expect_golden("adapter-explain-seed-001.txt", seed.out);

  // The right parameter selects the 8b pod only.
  Outcome selected = run(files +
                         "'/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/"
                         "gpu_cache_usage_perc?labelSelector=app%3Dmeta-llama3-8b'");
  ASSERT_EQ(selected.exit_code, 0) << selected.err;
  EXPECT_NE(selected.out.find("listed:    1 object(s): meta-llama3-8b-5c6ddbbfb5-dp2mv"),
            std::string::npos)
      << selected.out;

  // An unknown metric exits 1 with the Status and what is known.
  Outcome unknown =
      run(files + "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/x/kv_cache");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.out.find("metric:    not discovered"), std::string::npos) << unknown.out;
  EXPECT_NE(unknown.out.find("pods/gpu_cache_usage_perc"), std::string::npos) << unknown.out;
  EXPECT_NE(
      unknown.out.find("\"message\":\"the server could not find the metric kv_cache for pods\""),
      std::string::npos)
      << unknown.out;

  // Bad input names the file and field.
  Outcome bad =
      run("adapter explain --config - /apis/custom.metrics.k8s.io/v1beta2/namespaces/d/pods/x/m",
          "rules: [{seriesQuery: x}]");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err, "error: -: rules[0].metricsQuery: Required value\n");
  Outcome wildcard =
      run("adapter explain --config examples/adapter/prometheus-adapter-default.yaml "
          "/apis/custom.metrics.k8s.io/v1beta2/namespaces/d/pods/*/m");
  EXPECT_EQ(wildcard.exit_code, 2);
  EXPECT_NE(wildcard.err.find("--objects"), std::string::npos);
}
