// up's dashboard feed on fakes and a simulated clock: an HPA's view lists the activator's
// ScaledFromZero event (source llmscale-activator) with the HPA controller's own events, by
// lastTimestamp, a repeat counted rather than listed twice; the events leave with their HPA.
#include "up/dashboard_feed.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "hpa/reconcile_io.h"
#include "kube/quantity.h"
#include "prom/promql/engine.h"
#include "prom/tsdb/storage.h"
#include "up/activator.h"

namespace llmscale::up {
namespace {

using namespace std::chrono_literals;

// A Deployment at `replicas`, no pods; the resolver of "llm".
class FakeFleet final : public controller::ScaleTarget, public controller::ScaleTargetResolver {
 public:
  core::Result<kube::Scale> get_scale() override {
    return kube::Scale{replicas, replicas, "app=llm"};
  }
  core::Status set_replicas(std::int32_t r) override {
    replicas = r;
    return {};
  }
  std::vector<kube::Pod> pods() override { return {}; }
  core::Result<controller::ScaleTarget*> resolve(
      const std::string&, const kube::CrossVersionObjectReference&) override {
    return static_cast<controller::ScaleTarget*>(this);
  }
  std::int32_t replicas = 0;
};

kube::HorizontalPodAutoscaler scale_to_zero_hpa() {
  kube::HorizontalPodAutoscaler hpa;
  hpa.metadata.name = "llm";
  hpa.metadata.namespace_ = "default";
  hpa.spec.scale_target_ref = {"Deployment", "llm", "apps/v1"};
  hpa.spec.min_replicas = 0;
  hpa.spec.max_replicas = 3;
  kube::MetricSpec metric;
  metric.type = "External";
  metric.external.emplace();
  metric.external->metric.name = "llmscale_router_pending_requests";
  metric.external->target.type = "AverageValue";
  metric.external->target.average_value = *kube::Quantity::parse("1");
  hpa.spec.metrics.push_back(metric);
  return hpa;
}

class DashboardFeedTest : public ::testing::Test {
 protected:
  DashboardFeedTest() {
    // As up wires them (Stack::start_activator): the activator's event goes to the API and to
    // the feed; its pass request to the controller.
    ActivatorHooks hooks;
    hooks.hpas = [this] {
      std::vector<kube::HorizontalPodAutoscaler> hpas;
      for (const controller::HpaView& view : controller.list()) hpas.push_back(view.hpa);
      return hpas;
    };
    hooks.record_event = [this](const kube::HorizontalPodAutoscaler& hpa,
                                const controller::RecordedEvent& event) {
      feed.record_event(hpa, event, "llmscale-activator");
    };
    hooks.reconcile = [this](const std::string& ns, const std::string& name) {
      controller.reconcile_now(ns, name);
    };
    activator = std::make_unique<Activator>(clock, std::move(hooks));
    activator->add_fleet({"default", "llm", &fleet, [] { return std::size_t{1}; },
                          [] { return std::size_t{0}; }, 70s});
  }

  core::Json events() {
    core::Json state = feed.state();
    if (state["hpas"].empty()) return core::Json::array();
    return state["hpas"][0]["events"];
  }

  core::SimulatedClock clock;
  FakeFleet fleet;
  hpa::RecordedMetrics metrics;  // none: every pass fails to get the external metric
  controller::Controller controller{clock, metrics, fleet, {}};
  prom::Storage storage;
  prom::LocalQueryEngine engine{storage};
  DashboardFeed feed{clock, controller, {}, {}, engine, 0.1};
  std::unique_ptr<Activator> activator;
};

TEST_F(DashboardFeedTest, ListsTheActivatorsEventsWithTheControllers) {
  controller.apply(scale_to_zero_hpa());
  clock.advance(10s);
  ASSERT_TRUE(activator->wake(0));
  core::Json listed = events();
  ASSERT_GE(listed.size(), 2u) << listed.dump();
  // The controller's events (its passes fail to get the metric) are there too.
  EXPECT_EQ(listed.front()["source"], "horizontal-pod-autoscaler") << listed.dump();
  int woken = 0;
  for (const core::Json& e : listed) {
    if (e["reason"] != kScaledFromZeroReason) continue;
    ++woken;
    EXPECT_EQ(e["source"], "llmscale-activator");
    EXPECT_EQ(e["type"], "Normal");
    EXPECT_EQ(e["count"], 1);
    EXPECT_EQ(e["last"], core::to_unix_millis(clock.now()));
  }
  EXPECT_EQ(woken, 1) << listed.dump();
  for (std::size_t i = 1; i < listed.size(); ++i)
    EXPECT_LE(listed[i - 1]["last"].get<std::int64_t>(), listed[i]["last"].get<std::int64_t>());

  // Back at zero and woken again: the same event, counted.
  fleet.replicas = 0;
  clock.advance(60s);
  ASSERT_TRUE(activator->wake(0));
  listed = events();
  woken = 0;
  for (const core::Json& e : listed) {
    if (e["reason"] != kScaledFromZeroReason) continue;
    ++woken;
    EXPECT_EQ(e["count"], 2);
  }
  EXPECT_EQ(woken, 1) << listed.dump();
  EXPECT_EQ(listed.back()["reason"], kScaledFromZeroReason) << listed.dump();

  // The HPA removed: its events go with it, also from a re-created HPA's view.
  ASSERT_TRUE(controller.remove("default", "llm"));
  EXPECT_TRUE(feed.state()["hpas"].empty());
  controller.apply(scale_to_zero_hpa());
  for (const core::Json& e : events()) EXPECT_NE(e["reason"], kScaledFromZeroReason) << e.dump();
}

}  // namespace
}  // namespace llmscale::up
