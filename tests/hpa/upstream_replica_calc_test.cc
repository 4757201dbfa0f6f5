// Upstream's replica calculator test cases
// (pkg/controller/podautoscaler/replica_calculator_test.go), ported case by case with the same
// inputs and expectations, and run through the whole reconcile pass. Upstream's harness: two
// containers per pod, each with the listed request and usage level; Ready conditions without a
// transition time; pods started at Go's zero time unless "hot" (started now, within the 2-minute
// CPU initialization period) or "cool" (3 minutes ago).
#include <gtest/gtest.h>

#include "test_support.h"

namespace llmscale::hpa::testing {
namespace {

enum class Start { kZero, kHot, kCool };

struct ResourceCase {
  const char* name;
  int current;
  int expected;
  std::vector<std::string> readiness;
  std::vector<Start> start;
  std::vector<std::string> phase;
  std::vector<bool> deleting;
  std::vector<std::string> requests;
  std::vector<std::int64_t> levels;
  std::vector<std::string> metric_pod_names;
  int target_utilization;
  int expected_utilization;
  std::int64_t expected_value;
  std::string expected_error;
};

core::Time start_time(Start s) {
  switch (s) {
    case Start::kHot: return t0();
    case Start::kCool: return t0() - std::chrono::minutes(3);
    case Start::kZero: break;
  }
  return core::Time{};
}

void build_pods(Scenario& s, int current, const std::vector<std::string>& readiness,
                const std::vector<Start>& start, const std::vector<std::string>& phase,
                const std::vector<bool>& deleting, const std::vector<std::string>& requests,
                const std::string& resource) {
  int count = std::max<int>(current, int(phase.size()));
  for (int i = 0; i < count; ++i) {
    kube::Pod& pod = s.add_pod(i < int(phase.size()) ? phase[i] : "Running",
                               i < int(readiness.size()) ? readiness[i] : "True");
    if (i < int(start.size())) pod.start_time = start_time(start[i]);
    if (i < int(deleting.size()) && deleting[i]) pod.metadata.deletion_timestamp = t0();
    kube::Container c0, c1;
    c0.name = "container0";
    c1.name = "container1";
    if (i < int(requests.size())) {
      c0.requests[resource] = *kube::Quantity::parse(requests[i]);
      c1.requests[resource] = *kube::Quantity::parse(requests[i]);
    }
    pod.containers = {c0, c1};
  }
}

class UpstreamResourceCase : public ::testing::TestWithParam<ResourceCase> {};

TEST_P(UpstreamResourceCase, MatchesUpstream) {
  const ResourceCase& tc = GetParam();
  Scenario s;
  s.replicas(tc.current).bounds(1, 1000).metric(resource_utilization("cpu", tc.target_utilization));
  build_pods(s, tc.current, tc.readiness, tc.start, tc.phase, tc.deleting, tc.requests, "cpu");
  std::vector<kube::PodMetrics> usage;
  for (std::size_t i = 0; i < tc.levels.size(); ++i) {
    std::string pod =
        i < tc.metric_pod_names.size() ? tc.metric_pod_names[i] : "test-pod-" + std::to_string(i);
    usage.push_back(pod_usage(pod, "cpu", {tc.levels[i], tc.levels[i]}, core::Time{}));
  }
  s.metrics.resource = usage;
  Decision d = s.run();
  ASSERT_EQ(d.metrics.size(), 1u);
  const MetricResult& m = d.metrics[0];
  if (!tc.expected_error.empty()) {
    ASSERT_TRUE(m.error.has_value()) << tc.name;
    EXPECT_NE(m.error->find(tc.expected_error), std::string::npos) << *m.error;
    return;
  }
  ASSERT_FALSE(m.error.has_value()) << tc.name << ": " << *m.error;
  EXPECT_EQ(*m.proposed_replicas, tc.expected) << tc.name;
  EXPECT_EQ(*m.utilization_percent, tc.expected_utilization) << tc.name;
  EXPECT_EQ(*m.usage_milli, tc.expected_value) << tc.name;
}

constexpr int kContainers = 2;

INSTANTIATE_TEST_SUITE_P(
    ReplicaCalc, UpstreamResourceCase,
    ::testing::Values(
        ResourceCase{"DisjointResourcesMetrics",
                     1,
                     0,
                     {},
                     {},
                     {},
                     {},
                     {"1.0"},
                     {100},
                     {"an-older-pod-name"},
                     100,
                     0,
                     0,
                     "no metrics returned matched known pods"},
        ResourceCase{"ScaleUp",
                     3,
                     5,
                     {},
                     {},
                     {},
                     {},
                     {"1.0", "1.0", "1.0"},
                     {300, 500, 700},
                     {},
                     30,
                     50,
                     kContainers * 500,
                     ""},
        ResourceCase{"ScaleUpUnreadyLessScale",
                     3,
                     4,
                     {"False", "True", "True"},
                     {},
                     {},
                     {},
                     {"1.0", "1.0", "1.0"},
                     {300, 500, 700},
                     {},
                     30,
                     60,
                     kContainers * 600,
                     ""},
        ResourceCase{"ScaleUpHotCpuLessScale",
                     3,
                     4,
                     {},
                     {Start::kHot, Start::kCool, Start::kCool},
                     {},
                     {},
                     {"1.0", "1.0", "1.0"},
                     {300, 500, 700},
                     {},
                     30,
                     60,
                     kContainers * 600,
                     ""},
        ResourceCase{"ScaleUpUnreadyNoScale",
                     3,
                     3,
                     {"True", "False", "False"},
                     {},
                     {},
                     {},
                     {"1.0", "1.0", "1.0"},
                     {400, 500, 700},
                     {},
                     30,
                     40,
                     kContainers * 400,
                     ""},
        ResourceCase{"ScaleHotCpuNoScale",
                     3,
                     3,
                     {"True", "False", "False"},
                     {Start::kCool, Start::kHot, Start::kHot},
                     {},
                     {},
                     {"1.0", "1.0", "1.0"},
                     {400, 500, 700},
                     {},
                     30,
                     40,
                     kContainers * 400,
                     ""},
        ResourceCase{"ScaleUpIgnoresFailedPods",
                     2,
                     4,
                     {"True", "True", "False", "False"},
                     {},
                     {"Running", "Running", "Failed", "Failed"},
                     {},
                     {"1.0", "1.0", "1.0", "1.0"},
                     {500, 700},
                     {},
                     30,
                     60,
                     kContainers * 600,
                     ""},
        ResourceCase{"ScaleUpIgnoresDeletionPods",
                     2,
                     4,
                     {"True", "True", "False", "False"},
                     {},
                     {"Running", "Running", "Running", "Running"},
                     {false, false, true, true},
                     {"1.0", "1.0", "1.0", "1.0"},
                     {500, 700},
                     {},
                     30,
                     60,
                     kContainers * 600,
                     ""},
        ResourceCase{"ScaleDown",
                     5,
                     3,
                     {},
                     {},
                     {},
                     {},
                     {"1.0", "1.0", "1.0", "1.0", "1.0"},
                     {100, 300, 500, 250, 250},
                     {},
                     50,
                     28,
                     kContainers * 280,
                     ""},
        ResourceCase{"ScaleDownIncludeUnreadyPods",
                     5,
                     2,
                     {"True", "True", "True", "False", "False"},
                     {},
                     {},
                     {},
                     {"1.0", "1.0", "1.0", "1.0", "1.0"},
                     {100, 300, 500, 250, 250},
                     {},
                     50,
                     30,
                     kContainers * 300,
                     ""},
        ResourceCase{"ScaleDownExcludeUnscheduledPods",
                     5,
                     1,
                     {"True", "False", "False", "False", "False"},
                     {},
                     {"Running", "Pending", "Pending", "Pending", "Pending"},
                     {},
                     {"1.0", "1.0", "1.0", "1.0", "1.0"},
                     {100},
                     {},
                     50,
                     10,
                     kContainers * 100,
                     ""},
        ResourceCase{"ScaleDownIgnoreHotCpuPods",
                     5,
                     2,
                     {},
                     {Start::kCool, Start::kCool, Start::kCool, Start::kHot, Start::kHot},
                     {},
                     {},
                     {"1.0", "1.0", "1.0", "1.0", "1.0"},
                     {100, 300, 500, 250, 250},
                     {},
                     50,
                     30,
                     kContainers * 300,
                     ""},
        ResourceCase{"ScaleDownIgnoresFailedPods",
                     5,
                     3,
                     {"True", "True", "True", "True", "True", "False", "False"},
                     {},
                     {"Running", "Running", "Running", "Running", "Running", "Failed", "Failed"},
                     {},
                     {"1.0", "1.0", "1.0", "1.0", "1.0", "1.0", "1.0"},
                     {100, 300, 500, 250, 250},
                     {},
                     50,
                     28,
                     kContainers * 280,
                     ""},
        ResourceCase{"ScaleDownIgnoresDeletionPods",
                     5,
                     3,
                     {"True", "True", "True", "True", "True", "False", "False"},
                     {},
                     {"Running", "Running", "Running", "Running", "Running", "Running", "Running"},
                     {false, false, false, false, false, true, true},
                     {"1.0", "1.0", "1.0", "1.0", "1.0", "1.0", "1.0"},
                     {100, 300, 500, 250, 250},
                     {},
                     50,
                     28,
                     kContainers * 280,
                     ""},
        ResourceCase{"Tolerance",
                     3,
                     3,
                     {},
                     {},
                     {},
                     {},
                     {"0.9", "1.0", "1.1"},
                     {1010, 1030, 1020},
                     {},
                     100,
                     102,
                     kContainers * 1020,
                     ""},
        ResourceCase{"SuperfluousMetrics",
                     4,
                     24,
                     {},
                     {},
                     {},
                     {},
                     {"1.0", "1.0", "1.0", "1.0"},
                     {4000, 9500, 3000, 7000, 3200, 2000},
                     {},
                     100,
                     587,
                     kContainers * 5875,
                     ""},
        ResourceCase{"MissingMetrics",
                     4,
                     3,
                     {},
                     {},
                     {},
                     {},
                     {"1.0", "1.0", "1.0", "1.0"},
                     {400, 95},
                     {},
                     100,
                     24,
                     495,
                     ""},
        ResourceCase{"EmptyMetrics",
                     4,
                     0,
                     {},
                     {},
                     {},
                     {},
                     {"1.0", "1.0", "1.0"},
                     {},
                     {},
                     100,
                     0,
                     0,
                     "unable to get metrics for resource cpu: no metrics returned from resource "
                     "metrics API"},
        ResourceCase{"EmptyCPURequest",
                     1,
                     0,
                     {},
                     {},
                     {},
                     {},
                     {},
                     {200},
                     {},
                     100,
                     0,
                     0,
                     "missing request for"},
        ResourceCase{"MissingMetricsNoChangeEq",
                     2,
                     2,
                     {},
                     {},
                     {},
                     {},
                     {"1.0", "1.0"},
                     {1000},
                     {},
                     100,
                     100,
                     kContainers * 1000,
                     ""},
        ResourceCase{"MissingMetricsNoChangeGt",
                     2,
                     2,
                     {},
                     {},
                     {},
                     {},
                     {"1.0", "1.0"},
                     {1900},
                     {},
                     100,
                     190,
                     kContainers * 1900,
                     ""},
        ResourceCase{"MissingMetricsNoChangeLt",
                     2,
                     2,
                     {},
                     {},
                     {},
                     {},
                     {"1.0", "1.0"},
                     {600},
                     {},
                     100,
                     60,
                     kContainers * 600,
                     ""},
        ResourceCase{"MissingMetricsUnreadyChange",
                     3,
                     3,
                     {"False", "True", "True"},
                     {},
                     {},
                     {},
                     {"1.0", "1.0", "1.0"},
                     {100, 450},
                     {},
                     50,
                     45,
                     kContainers * 450,
                     ""},
        ResourceCase{"MissingMetricsHotCpuNoChange",
                     3,
                     3,
                     {},
                     {Start::kHot, Start::kCool, Start::kCool},
                     {},
                     {},
                     {"1.0", "1.0", "1.0"},
                     {100, 450},
                     {},
                     50,
                     45,
                     kContainers * 450,
                     ""},
        ResourceCase{"MissingMetricsUnreadyScaleUp",
                     3,
                     4,
                     {"False", "True", "True"},
                     {},
                     {},
                     {},
                     {"1.0", "1.0", "1.0"},
                     {100, 2000},
                     {},
                     50,
                     200,
                     kContainers * 2000,
                     ""},
        ResourceCase{"MissingMetricsHotCpuScaleUp",
                     3,
                     4,
                     {"False", "True", "True"},
                     {Start::kHot, Start::kCool, Start::kCool},
                     {},
                     {},
                     {"1.0", "1.0", "1.0"},
                     {100, 2000},
                     {},
                     50,
                     200,
                     kContainers * 2000,
                     ""},
        ResourceCase{"MissingMetricsUnreadyScaleDown",
                     4,
                     3,
                     {"False", "True", "True", "True"},
                     {},
                     {},
                     {},
                     {"1.0", "1.0", "1.0", "1.0"},
                     {100, 100, 100},
                     {},
                     50,
                     10,
                     kContainers * 100,
                     ""}),
    [](const ::testing::TestParamInfo<ResourceCase>& info) {
      return std::string(info.param.name);
    });

// TestReplicaCalcComputedToleranceAlgImplementation: a utilization just outside the tolerance
// scales, one just inside does not.
TEST(UpstreamReplicaCalc, ComputedToleranceAlgImplementation) {
  for (auto [target, expected] : {std::pair{56, 9}, std::pair{55, 10}}) {
    Scenario s;
    s.replicas(10).bounds(1, 1000).metric(resource_utilization("cpu", target));
    std::vector<std::string> requests;
    for (int delta : {100, -100, 10, -10, 2, -2, 1, -1, 0, 0}) {
      requests.push_back(std::to_string(300 + delta) + "m");
    }
    build_pods(s, 10, {}, {}, {}, {}, requests, "cpu");
    std::vector<kube::PodMetrics> usage;
    for (int i = 0; i < 10; ++i)
      usage.push_back(pod_usage("test-pod-" + std::to_string(i), "cpu", {150, 150}, core::Time{}));
    s.metrics.resource = usage;
    Decision d = s.run();
    EXPECT_EQ(*d.metrics[0].proposed_replicas, expected) << "target " << target;
    EXPECT_EQ(*d.metrics[0].utilization_percent, 50);
  }
}

enum class Kind { kPods, kObject, kObjectPerPod, kExternal, kExternalPerPod };

struct MetricCase {
  const char* name;
  int current;
  int expected;
  std::vector<std::string> readiness;
  std::vector<Start> start;
  Kind kind;
  std::vector<std::int64_t> levels;
  std::int64_t target;
  std::int64_t expected_usage;
};

class UpstreamMetricCase : public ::testing::TestWithParam<MetricCase> {};

TEST_P(UpstreamMetricCase, MatchesUpstream) {
  const MetricCase& tc = GetParam();
  Scenario s;
  s.replicas(tc.current).bounds(1, 1000);
  build_pods(s, tc.current, tc.readiness, tc.start, {}, {}, {}, "cpu");
  std::string target = std::to_string(tc.target) + "m";
  switch (tc.kind) {
    case Kind::kPods: {
      s.metric(pods_metric("qps", target));
      std::vector<kube::MetricValue> values;
      for (std::size_t i = 0; i < tc.levels.size(); ++i) {
        values.push_back(pod_value("test-pod-" + std::to_string(i), tc.levels[i], core::Time{}));
      }
      s.metrics.pods["qps"] = values;
      break;
    }
    case Kind::kObject:
    case Kind::kObjectPerPod: {
      s.metric(tc.kind == Kind::kObject ? object_value("qps", target)
                                        : object_average("qps", target));
      kube::MetricValue v = pod_value("some-deployment", tc.levels[0]);
      v.described_object.kind = "Deployment";
      s.metrics.object["qps"] = std::vector<kube::MetricValue>{v};
      break;
    }
    case Kind::kExternal:
    case Kind::kExternalPerPod: {
      s.metric(tc.kind == Kind::kExternal ? external_value("qps", target)
                                          : external_average("qps", target));
      std::vector<kube::ExternalMetricValue> values;
      for (auto level : tc.levels) values.push_back(external_sample(level));
      s.metrics.external["qps"] = values;
      break;
    }
  }
  Decision d = s.run();
  const MetricResult& m = d.metrics[0];
  ASSERT_FALSE(m.error.has_value()) << tc.name << ": " << *m.error;
  EXPECT_EQ(*m.proposed_replicas, tc.expected) << tc.name;
  EXPECT_EQ(*m.usage_milli, tc.expected_usage) << tc.name;
}

INSTANTIATE_TEST_SUITE_P(
    ReplicaCalc, UpstreamMetricCase,
    ::testing::Values(
        MetricCase{"ScaleUpCM", 3, 4, {}, {}, Kind::kPods, {20000, 10000, 30000}, 15000, 20000},
        MetricCase{"ScaleUpCMUnreadyHotCpuNoLessScale",
                   3,
                   6,
                   {"True", "True", "False"},
                   {Start::kCool, Start::kCool, Start::kHot},
                   Kind::kPods,
                   {50000, 10000, 30000},
                   15000,
                   30000},
        MetricCase{"ScaleUpCMUnreadyHotCpuScaleWouldScaleDown",
                   3,
                   7,
                   {"False", "True", "False"},
                   {Start::kHot, Start::kCool, Start::kHot},
                   Kind::kPods,
                   {50000, 15000, 30000},
                   15000,
                   31666},
        MetricCase{"ScaleUpCMObject", 3, 4, {}, {}, Kind::kObject, {20000}, 15000, 20000},
        MetricCase{"ScaleUpCMPerPodObject", 3, 4, {}, {}, Kind::kObjectPerPod, {20000}, 5000, 6667},
        MetricCase{"ScaleUpCMObjectIgnoresUnreadyPods",
                   3,
                   5,
                   {"False", "True", "False"},
                   {},
                   Kind::kObject,
                   {50000},
                   10000,
                   50000},
        MetricCase{"ScaleUpCMExternal", 1, 2, {}, {}, Kind::kPods, {8600}, 4400, 8600},
        MetricCase{"ScaleUpCMExternalIgnoresUnreadyPods",
                   3,
                   2,
                   {"False", "True", "False"},
                   {},
                   Kind::kExternal,
                   {8600},
                   4400,
                   8600},
        MetricCase{
            "ScaleUpPerPodCMExternal", 3, 4, {}, {}, Kind::kExternalPerPod, {8600}, 2150, 2867},
        MetricCase{"ScaleDownCM",
                   5,
                   3,
                   {},
                   {},
                   Kind::kPods,
                   {12000, 12000, 12000, 12000, 12000},
                   20000,
                   12000},
        MetricCase{
            "ScaleDownPerPodCMObject", 5, 3, {}, {}, Kind::kObjectPerPod, {6000}, 2000, 1200},
        MetricCase{"ScaleDownCMObject", 5, 3, {}, {}, Kind::kObject, {12000}, 20000, 12000},
        MetricCase{"ScaleDownCMExternal", 5, 3, {}, {}, Kind::kExternal, {8600}, 14334, 8600},
        MetricCase{
            "ScaleDownPerPodCMExternal", 5, 3, {}, {}, Kind::kExternalPerPod, {8600}, 2867, 1720},
        MetricCase{"ToleranceCM", 3, 3, {}, {}, Kind::kPods, {20000, 21000, 21000}, 20000, 20666},
        MetricCase{"ToleranceCMObject", 3, 3, {}, {}, Kind::kObject, {20666}, 20000, 20666},
        MetricCase{
            "TolerancePerPodCMObject", 4, 4, {}, {}, Kind::kObjectPerPod, {20166}, 5000, 5042},
        MetricCase{"ToleranceCMExternal", 3, 3, {}, {}, Kind::kExternal, {8600}, 8888, 8600},
        MetricCase{
            "TolerancePerPodCMExternal", 3, 3, {}, {}, Kind::kExternalPerPod, {8600}, 2900, 2867}),
    [](const ::testing::TestParamInfo<MetricCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace llmscale::hpa::testing
