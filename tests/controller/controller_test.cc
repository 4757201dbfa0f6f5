// The controller loop on a simulated clock: cadence, immediate reconciles, scaling over time,
// history persisted across restarts, events and listeners.
#include "controller/controller.h"

#include <gtest/gtest.h>

#include <errno.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "controller/fakes.h"
#include "core/clock.h"

namespace llmscale::controller {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

struct Harness {
  core::SimulatedClock clock;
  FakeDeployment deployment{1};
  FakeQueueMetrics metrics{deployment, clock};
  std::unique_ptr<Controller> controller;
  explicit Harness(ControllerOptions options = {}) {
    controller = std::make_unique<Controller>(clock, metrics, deployment, std::move(options));
  }
  HpaView view(const std::string& name = "llm-hpa") { return *controller->get("default", name); }
};

TEST(ControllerTest, ReconcilesAtOnceThenEverySyncPeriod) {
  Harness h;
  h.controller->apply(queue_hpa());
  EXPECT_EQ(h.view().passes, 0u);
  h.clock.advance(seconds(0));
  EXPECT_EQ(h.view().passes, 1u);
  h.clock.advance(seconds(14));
  EXPECT_EQ(h.view().passes, 1u);
  h.clock.advance(seconds(1));
  EXPECT_EQ(h.view().passes, 2u);
  h.clock.advance(minutes(1));
  EXPECT_EQ(h.view().passes, 6u);
  EXPECT_EQ(h.view().hpa.status.current_replicas, 1);
  EXPECT_EQ(h.view().hpa.status.conditions.size(), 3u);
}

TEST(ControllerTest, ScalesUpUnderLoadAndDownAfterTheStabilizationWindow) {
  Harness h;
  h.controller->apply(queue_hpa());
  h.clock.advance(seconds(0));
  h.metrics.queue_milli = 17000;  // 17 waiting per pod against 5
  h.clock.advance(seconds(15));
  EXPECT_EQ(h.deployment.replicas(), 4);  // ceil(3.4 x 1) = 4, within max(2 x 1, 4)
  h.clock.advance(seconds(15));
  EXPECT_EQ(h.deployment.replicas(), 8);  // still 17 per pod -> 14, limited to 2 x 4
  h.metrics.queue_milli = 0;
  // Upstream's legacy path: the window still holds the recommendation of 14 made at t=30, so
  // the next pass even goes up to maxReplicas, and nothing comes down for five minutes.
  h.clock.advance(minutes(4));
  EXPECT_EQ(h.deployment.replicas(), 10);
  h.clock.advance(minutes(1));
  EXPECT_EQ(h.deployment.replicas(), 10);  // t=330: the record at t=30 is at the cutoff, counts
  h.clock.advance(seconds(15));
  EXPECT_EQ(h.deployment.replicas(), 1);
  EXPECT_EQ(h.deployment.updates, (std::vector<std::int32_t>{4, 8, 10, 1}));
}

TEST(ControllerTest, ReconcileNowRunsAPassAndRestartsTheSyncPeriod) {
  Harness h;
  h.controller->apply(queue_hpa());
  h.clock.advance(seconds(10));
  EXPECT_EQ(h.view().passes, 1u);
  h.metrics.queue_milli = 11000;
  EXPECT_TRUE(h.controller->reconcile_now("default", "llm-hpa"));
  EXPECT_EQ(h.view().passes, 2u);
  EXPECT_EQ(h.deployment.replicas(), 3);
  h.clock.advance(seconds(14));
  EXPECT_EQ(h.view().passes, 2u);
  h.clock.advance(seconds(1));
  EXPECT_EQ(h.view().passes, 3u);
  EXPECT_FALSE(h.controller->reconcile_now("default", "nope"));
}

TEST(ControllerTest, EventsAreDeduplicatedLikeKubernetesEvents) {
  Harness h;
  h.controller->apply(queue_hpa("orphan", "missing"));
  h.clock.advance(seconds(31));
  HpaView v = h.view("orphan");
  ASSERT_EQ(v.events.size(), 1u);
  EXPECT_EQ(v.events[0].reason, "FailedGetScale");
  EXPECT_EQ(v.events[0].count, 3);
  EXPECT_EQ(v.events[0].last_timestamp - v.events[0].first_timestamp, seconds(30));
  EXPECT_EQ(v.hpa.status.conditions[0].reason, "FailedGetScale");
}

TEST(ControllerTest, ListenersSeeEveryPass) {
  Harness h;
  std::vector<std::int32_t> desired;
  int id = h.controller->subscribe(
      [&](const HpaView& v) { desired.push_back(v.hpa.status.desired_replicas); });
  h.controller->apply(queue_hpa());
  h.clock.advance(seconds(0));
  h.metrics.queue_milli = 9000;
  h.clock.advance(seconds(15));
  h.controller->unsubscribe(id);
  h.clock.advance(seconds(15));
  EXPECT_EQ(desired, (std::vector<std::int32_t>{1, 2}));
}

TEST(ControllerTest, RemovedHpasStopReconciling) {
  Harness h;
  h.controller->apply(queue_hpa());
  h.clock.advance(seconds(0));
  EXPECT_TRUE(h.controller->remove("default", "llm-hpa"));
  int calls = h.metrics.calls;
  h.clock.advance(minutes(5));
  EXPECT_EQ(h.metrics.calls, calls);
  EXPECT_FALSE(h.controller->get("default", "llm-hpa").has_value());
}

TEST(ControllerTest, OverlappingHpasReportAnAmbiguousSelector) {
  Harness h;
  h.controller->apply(queue_hpa("first"));
  h.clock.advance(seconds(0));
  h.controller->apply(queue_hpa("second"));
  h.clock.advance(seconds(0));
  auto second = h.view("second");
  EXPECT_EQ(second.hpa.status.conditions[1].reason, "AmbiguousSelector");
  EXPECT_EQ(
      second.hpa.status.conditions[1].message,
      "pods by selector app=llm are controlled by multiple HPAs: [default/first default/second]");
}

TEST(ControllerTest, SpecChangesAreReconciledAtOnceAndKeepStatus) {
  Harness h;
  h.controller->apply(queue_hpa());
  h.clock.advance(seconds(0));
  auto updated = queue_hpa();
  updated.spec.max_replicas = 3;
  h.metrics.queue_milli = 50000;
  h.controller->apply(updated);
  h.clock.advance(seconds(0));
  EXPECT_EQ(h.view().passes, 2u);
  EXPECT_EQ(h.view().hpa.metadata.generation, 2);
  EXPECT_EQ(h.deployment.replicas(), 3);
}

std::string temp_state_file() {
  std::string path = ::testing::TempDir() + "/llmscale_controller_state_" +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".json";
  std::remove(path.c_str());
  return path;
}

// A scale-up rate limit survives a restart with a state file; upstream forgets it.
TEST(ControllerTest, PersistedHistorySurvivesARestart) {
  auto run = [](const std::string& state_file) {
    ControllerOptions options;
    options.state_file = state_file;
    core::SimulatedClock clock;
    FakeDeployment deployment(2);
    FakeQueueMetrics metrics(deployment, clock);
    kube::HorizontalPodAutoscaler hpa = queue_hpa();
    kube::HorizontalPodAutoscalerBehavior behavior;
    behavior.scale_up = kube::HPAScalingRules{};
    behavior.scale_up->policies = std::vector<kube::HPAScalingPolicy>{{"Pods", 1, 300}};
    hpa.spec.behavior = behavior;
    {
      Controller first(clock, metrics, deployment, options);
      EXPECT_TRUE(first.load_state());
      first.apply(hpa);
      metrics.queue_milli = 20000;
      clock.advance(seconds(0));
      EXPECT_EQ(deployment.replicas(), 3);  // one pod per 5 minutes
    }
    clock.advance(minutes(1));  // the controller restarts a minute later
    Controller second(clock, metrics, deployment, options);
    EXPECT_TRUE(second.load_state());
    second.apply(hpa);
    clock.advance(seconds(0));
    return deployment.replicas();
  };
  EXPECT_EQ(run(""), 4);                 // in memory only: the earlier scale-up is forgotten
  EXPECT_EQ(run(temp_state_file()), 3);  // persisted: still inside the 5-minute policy period
}

TEST(ControllerTest, CorruptStateFilesAreReportedWithTheField) {
  std::string path = temp_state_file();
  std::ofstream(path)
      << R"({"kind": "LlmscaleControllerState", "version": 1, "hpas": [{"namespace": "default", "name": "x", "history": {"recommendations": [{"replicas": "two", "timestamp": "2026-01-01T00:00:00Z"}]}}]})";
  ControllerOptions options;
  options.state_file = path;
  Harness h(options);
  auto status = h.controller->load_state();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message, path +
                                        ": hpas[0].history.recommendations[0].replicas: expected a "
                                        "32-bit integer, got string \"two\"");
  std::ofstream(path) << "not: [json";
  EXPECT_FALSE(h.controller->load_state());
}

// Issue 11 item 7: on a full disk the state file was cut to 0 bytes and nothing was logged.
// Now the old file survives, the failure is logged once and reported by state_file().
TEST(ControllerTest, AFullDiskKeepsThePreviousStateFileAndIsReported) {
  std::string path = temp_state_file();
  ControllerOptions options;
  options.state_file = path;
  Harness h(options);
  h.controller->apply(queue_hpa());
  h.clock.advance(seconds(0));
  ASSERT_NE(h.controller->state_file(), nullptr);
  EXPECT_FALSE(h.controller->state_file()->failing());
  std::ifstream before_in(path);
  std::string before((std::istreambuf_iterator<char>(before_in)), {});
  ASSERT_NE(before.find("LlmscaleControllerState"), std::string::npos);

  core::FileSystemCalls full;
  full.write = [](int, const void*, std::size_t) -> ssize_t {
    errno = ENOSPC;
    return -1;
  };
  h.controller->set_state_file_calls(full);
  h.metrics.queue_milli = 17000;
  h.clock.advance(minutes(2));            // 8 passes, each trying to save
  EXPECT_GT(h.deployment.replicas(), 1);  // the controller keeps working
  const core::StateFile& file = *h.controller->state_file();
  EXPECT_TRUE(file.failing());
  EXPECT_EQ(file.failures(), 8u);
  EXPECT_EQ(file.warnings_logged(), 1u);
  EXPECT_EQ(file.last_error(), path + ": write: No space left on device");
  std::ifstream after_in(path);
  std::string after((std::istreambuf_iterator<char>(after_in)), {});
  EXPECT_EQ(after, before);

  h.controller->set_state_file_calls({});
  h.clock.advance(seconds(15));
  EXPECT_FALSE(file.failing());
}

}  // namespace
}  // namespace llmscale::controller
