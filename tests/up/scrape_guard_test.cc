// issue 11 item 8: a pod whose scrape the TSDB's series cap refused is a failed fetch for the
// HPA, never a pod with a missing metric.
#include "up/scrape_guard.h"

#include <gtest/gtest.h>

namespace llmscale::up {
namespace {

class AnswersEverything final : public hpa::MetricsProvider {
 public:
  core::Result<std::vector<kube::PodMetrics>> resource_metrics(const std::string&,
                                                               const kube::Selector&) override {
    return std::vector<kube::PodMetrics>{};
  }
  core::Result<std::vector<kube::MetricValue>> pods_metric(const std::string&, const std::string&,
                                                           const kube::Selector&,
                                                           const kube::Selector&) override {
    return std::vector<kube::MetricValue>(1);
  }
  core::Result<std::vector<kube::MetricValue>> object_metric(
      const std::string&, const std::string&, const kube::CrossVersionObjectReference&,
      const kube::Selector&) override {
    return std::vector<kube::MetricValue>(1);
  }
  core::Result<std::vector<kube::ExternalMetricValue>> external_metric(
      const std::string&, const std::string&, const kube::Selector&) override {
    return std::vector<kube::ExternalMetricValue>(1);
  }
};

kube::Pod pod(const std::string& name, const std::string& app) {
  kube::Pod p;
  p.metadata.name = name;
  p.metadata.namespace_ = "default";
  p.metadata.labels = {{"app", app}};
  return p;
}

prom::TargetStatus target(const std::string& pod_name, prom::TargetHealth health,
                          std::string error) {
  prom::TargetStatus t;
  t.url = "http://127.0.0.1:1/metrics";
  t.labels = prom::Labels{{"namespace", "default"}, {"pod", pod_name}};
  t.health = health;
  t.last_error = std::move(error);
  return t;
}

class ScrapeGuardTest : public ::testing::Test {
 protected:
  ScrapeGuardTest()
      : guard_(
            inner_, [this] { return pods_; },
            [this](const prom::Labels& selector) {
              std::vector<prom::TargetStatus> out;
              for (const auto& t : targets_) {
                bool match = true;
                for (const auto& l : selector) match = match && t.labels.get(l.name) == l.value;
                if (match) out.push_back(t);
              }
              return out;
            }) {}

  AnswersEverything inner_;
  std::vector<kube::Pod> pods_{pod("llm-0", "llm"), pod("other-0", "other")};
  std::vector<prom::TargetStatus> targets_;
  ScrapeGuardedProvider guard_;
};

TEST_F(ScrapeGuardTest, HealthyOrOrdinaryFailuresPassThrough) {
  targets_ = {target("llm-0", prom::TargetHealth::kDown, "connection refused")};
  auto selector = *kube::Selector::parse("app=llm");
  auto answer = guard_.pods_metric("default", "m", selector, kube::Selector());
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->size(), 1u);
}

TEST_F(ScrapeGuardTest, SeriesCapRefusalIsAFailedFetch) {
  targets_ = {target("llm-0", prom::TargetHealth::kDown,
                     "series limit exceeded (limit 10): series x was not created")};
  auto selector = *kube::Selector::parse("app=llm");
  auto answer = guard_.pods_metric("default", "m", selector, kube::Selector());
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().message,
            "the scrape of pod llm-0 failed: series limit exceeded (limit 10): series x was not "
            "created");
  EXPECT_FALSE(guard_.resource_metrics("default", selector));
  // Another HPA's pods are not affected...
  EXPECT_TRUE(
      guard_.pods_metric("default", "m", *kube::Selector::parse("app=other"), kube::Selector()));
  // ...but external and object metrics can come from any target.
  EXPECT_FALSE(guard_.external_metric("default", "m", kube::Selector()));
  EXPECT_FALSE(guard_.object_metric("default", "m", {}, kube::Selector()));
}

}  // namespace
}  // namespace llmscale::up
