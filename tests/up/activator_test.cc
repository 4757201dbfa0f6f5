// The activator of `llmscale up` on fakes: a request waiting at the router of a fleet at zero
// scales it to 1 once, records a counted ScaledFromZero event on the HPA and asks for a pass; a
// fleet at zero by hand (no minReplicas-0 HPA) is left alone; scale to zero waits for the queue.
#include "up/activator.h"

#include <gtest/gtest.h>

namespace llmscale::up {
namespace {

using namespace std::chrono_literals;

class FakeTarget final : public controller::ScaleTarget {
 public:
  core::Result<kube::Scale> get_scale() override {
    kube::Scale scale;
    scale.spec_replicas = replicas;
    return scale;
  }
  core::Status set_replicas(std::int32_t r) override {
    if (fail) return core::make_error(core::ErrorCode::kUnavailable, "store down");
    replicas = r;
    ++writes;
    return {};
  }
  std::vector<kube::Pod> pods() override { return {}; }

  std::int32_t replicas = 0;
  int writes = 0;
  bool fail = false;
};

kube::HorizontalPodAutoscaler hpa_for(const std::string& fleet, std::int32_t min_replicas) {
  kube::HorizontalPodAutoscaler hpa;
  hpa.metadata.name = fleet + "-hpa";
  hpa.metadata.namespace_ = "default";
  hpa.spec.scale_target_ref = {"Deployment", fleet, "apps/v1"};
  hpa.spec.min_replicas = min_replicas;
  hpa.spec.max_replicas = 3;
  return hpa;
}

class ActivatorTest : public ::testing::Test {
 protected:
  ActivatorTest() {
    ActivatorHooks hooks;
    hooks.hpas = [this] { return hpas; };
    hooks.record_event = [this](const kube::HorizontalPodAutoscaler& hpa,
                                const controller::RecordedEvent& event) {
      events.emplace_back(hpa.metadata.name, event);
    };
    hooks.reconcile = [this](const std::string& ns, const std::string& name) {
      passes.push_back(ns + "/" + name);
    };
    activator = std::make_unique<Activator>(clock, std::move(hooks));
    index = activator->add_fleet({"default", "llm", &target, [this] { return queued; },
                                  [this] { return in_flight; }, std::chrono::seconds(70)});
  }

  core::SimulatedClock clock;
  FakeTarget target;
  std::vector<kube::HorizontalPodAutoscaler> hpas{hpa_for("llm", 0)};
  std::vector<std::pair<std::string, controller::RecordedEvent>> events;
  std::vector<std::string> passes;
  std::size_t queued = 1, in_flight = 0;
  std::unique_ptr<Activator> activator;
  std::size_t index = 0;
};

TEST_F(ActivatorTest, WakesAFleetAtZeroOnceAndRecordsTheEvent) {
  EXPECT_TRUE(activator->would_wake(index));
  EXPECT_TRUE(activator->wake(index));
  EXPECT_FALSE(activator->would_wake(index));
  EXPECT_EQ(target.replicas, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].first, "llm-hpa");
  EXPECT_EQ(events[0].second.type, "Normal");
  EXPECT_EQ(events[0].second.reason, kScaledFromZeroReason);
  EXPECT_EQ(events[0].second.message,
            "New size: 1; reason: a request is waiting at the router and no replica is running");
  EXPECT_EQ(events[0].second.count, 1);
  EXPECT_EQ(passes, std::vector<std::string>{"default/llm-hpa"});

  // More requests during the cold start: the replica is on its way, nothing more happens.
  queued = 5;
  EXPECT_FALSE(activator->wake(index));
  EXPECT_FALSE(activator->wake(index));
  EXPECT_EQ(target.writes, 1);
  EXPECT_EQ(events.size(), 1u);

  // Scaled to zero again by the HPA, woken again later: the same event, counted.
  target.replicas = 0;
  clock.advance(10min);
  EXPECT_TRUE(activator->wake(index));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].second.count, 2);
  EXPECT_EQ(events[1].second.first_timestamp, events[0].second.first_timestamp);
  EXPECT_EQ(events[1].second.last_timestamp - events[0].second.last_timestamp, 10min);
}

TEST_F(ActivatorTest, LeavesAFleetScaledToZeroByHandAlone) {
  hpas = {hpa_for("llm", 1)};  // minReplicas 1: the 0 was set by hand (autoscaling disabled)
  EXPECT_FALSE(activator->would_wake(index));
  EXPECT_FALSE(activator->wake(index));
  hpas = {hpa_for("other", 0)};  // an HPA of another fleet
  EXPECT_FALSE(activator->wake(index));
  hpas.clear();
  EXPECT_FALSE(activator->wake(index));
  EXPECT_EQ(target.replicas, 0);
  EXPECT_TRUE(events.empty());
  EXPECT_TRUE(passes.empty());
}

TEST_F(ActivatorTest, AFailedScaleRecordsNothing) {
  target.fail = true;
  EXPECT_FALSE(activator->wake(index));
  EXPECT_TRUE(events.empty());
  EXPECT_TRUE(passes.empty());
}

TEST_F(ActivatorTest, PendingCountsQueuedAndInFlight) {
  queued = 2;
  in_flight = 3;
  EXPECT_EQ(activator->pending_requests(index), 5u);
}

TEST_F(ActivatorTest, ScaleToZeroWaitsForQueuedRequests) {
  queued = 2;
  auto refused = activator->check_scale("default", "llm", 0);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, core::ErrorCode::kFailedPrecondition);
  EXPECT_EQ(refused.error().message,
            "2 requests are waiting at the router of fleet llm for a replica; it is not scaled "
            "to zero until they are served (llmscale up activator)");
  EXPECT_TRUE(activator->check_scale("default", "llm", 1));  // any other size
  EXPECT_TRUE(activator->check_scale("default", "other", 0));
  queued = 0;
  in_flight = 4;  // in flight: the fleet drains them before its replicas stop
  EXPECT_TRUE(activator->check_scale("default", "llm", 0));
}

TEST_F(ActivatorTest, WarnsWhenTheColdStartOutlastsTheQueueTimeout) {
  // The fleet's cold start is 70 s (NIM).
  auto warnings = activator->cold_start_warnings(hpas, std::chrono::seconds(60));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0],
            "fleet llm: HPA llm-hpa may scale it to zero, but its cold start (1m10s) is not "
            "shorter than --router-queue-timeout (1m0s): a request that wakes it gets 503 before "
            "a replica is ready");
  EXPECT_TRUE(activator->cold_start_warnings(hpas, std::chrono::seconds(120)).empty());
  EXPECT_TRUE(activator->cold_start_warnings(hpas, core::Duration::zero()).empty());
  EXPECT_TRUE(
      activator->cold_start_warnings({hpa_for("llm", 1)}, std::chrono::seconds(60)).empty());
}

}  // namespace
}  // namespace llmscale::up
