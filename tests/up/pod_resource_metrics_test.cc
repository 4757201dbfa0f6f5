// metrics.k8s.io for local replicas: CPU as a rate of process time over the sampling window,
// memory as the resident set, metrics-server's quantities and shapes, selectors and NotFound.
#include "up/pod_resource_metrics.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "net/http.h"
#include "net/server.h"

namespace llmscale::up {
namespace {

using std::chrono::seconds;

kube::Pod pod(const std::string& name) {
  kube::Pod p;
  p.metadata.name = name;
  p.metadata.namespace_ = "default";
  p.metadata.labels = {{"app", "llm"}};
  p.containers.push_back({});
  p.containers.back().name = "server";
  return p;
}

net::ServerRequest get(const std::string& target) {
  net::ServerRequest r;
  r.method = "GET";
  EXPECT_TRUE(r.set_target(target));
  return r;
}

TEST(PodResourceMetricsTest, ReadsThisProcess) {
  auto sample = read_process_sample(::getpid());
  ASSERT_TRUE(sample);
  EXPECT_GT(sample->rss_bytes, 0);
  EXPECT_GE(sample->cpu_seconds, 0);
  EXPECT_FALSE(read_process_sample(::getpid(), "/nonexistent-proc"));
}

TEST(PodResourceMetricsTest, RatesOverTheWindowAndTheApiShapes) {
  std::map<pid_t, ProcessSample> samples = {{10, {1.0, 300 << 20}}};
  PodResourceSampler sampler([&](pid_t pid) -> std::optional<ProcessSample> {
    auto it = samples.find(pid);
    if (it == samples.end()) return std::nullopt;
    return it->second;
  });
  core::Time t0{};
  sampler.sample({{pod("a"), 10}, {pod("gone"), 99}}, t0);
  EXPECT_TRUE(sampler.usage().empty());  // one point: no rate yet
  samples[10] = {1.5, 310 << 20};        // half a CPU-second over 5 s: 100m
  sampler.sample({{pod("a"), 10}}, t0 + seconds(5));
  ASSERT_EQ(sampler.usage().size(), 1u);
  EXPECT_NEAR(sampler.usage()[0].nanocores, 1e8, 1);

  auto list = pod_metrics_response(sampler.usage(),
                                   get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods"));
  EXPECT_EQ(list.status, 200);
  auto body = core::Json::parse(list.body);
  EXPECT_EQ(body["kind"], "PodMetricsList");
  EXPECT_EQ(body["items"][0]["containers"][0]["name"], "server");
  EXPECT_EQ(body["items"][0]["containers"][0]["usage"]["cpu"], "100000000n");
  EXPECT_EQ(body["items"][0]["containers"][0]["usage"]["memory"], "317440Ki");
  EXPECT_EQ(body["items"][0]["window"], "5s");
  auto one = pod_metrics_response(sampler.usage(),
                                  get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/a"));
  EXPECT_EQ(core::Json::parse(one.body)["kind"], "PodMetrics");
  auto missing = pod_metrics_response(
      sampler.usage(), get("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/zz"));
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find(R"(podmetrics.metrics.k8s.io \"zz\" not found)"), std::string::npos);
  auto other = pod_metrics_response(
      sampler.usage(), get("/apis/metrics.k8s.io/v1beta1/pods?labelSelector=app%3Dother"));
  EXPECT_EQ(core::Json::parse(other.body)["items"].size(), 0u);
  EXPECT_EQ(pod_metrics_response(sampler.usage(),
                                 get("/apis/metrics.k8s.io/v1beta1/pods?labelSelector=%3D%3D"))
                .status,
            400);
  auto discovery = pod_metrics_response(sampler.usage(), get("/apis/metrics.k8s.io/v1beta1"));
  EXPECT_EQ(core::Json::parse(discovery.body)["resources"][0]["kind"], "PodMetrics");
  // A process replaced under the same pod name starts over.
  sampler.sample({{pod("a"), 11}}, t0 + seconds(10));
  EXPECT_TRUE(sampler.usage().empty());
}

}  // namespace
}  // namespace llmscale::up
