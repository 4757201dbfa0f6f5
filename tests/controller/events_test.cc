// The controller's events as core/v1 Events (what `kubectl describe hpa` reads) and back.
#include "controller/events.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "controller/fakes.h"

namespace llmscale::controller {
namespace {

using std::chrono::seconds;

TEST(EventsTest, RescaleEventsEncodeAsCoreV1EventsAndDecodeBack) {
  core::SimulatedClock clock;
  FakeDeployment deployment{1};
  FakeQueueMetrics metrics{deployment, clock};
  Controller controller{clock, metrics, deployment, {}};
  controller.apply(queue_hpa());
  clock.advance(seconds(0));
  metrics.queue_milli = 20000;  // 4x the target: scale to 4
  controller.reconcile_now("default", "llm-hpa");
  auto view = controller.get("default", "llm-hpa");
  ASSERT_TRUE(view);

  core::Json items = encode_hpa_events(view->hpa, view->events);
  ASSERT_GE(items.size(), 1u);
  const core::Json& first = items[0];
  EXPECT_EQ(first["kind"], "Event");
  EXPECT_EQ(first["apiVersion"], "v1");
  EXPECT_EQ(first["metadata"]["namespace"], "default");
  EXPECT_EQ(first["involvedObject"]["kind"], "HorizontalPodAutoscaler");
  EXPECT_EQ(first["involvedObject"]["name"], "llm-hpa");
  EXPECT_EQ(first["source"]["component"], "horizontal-pod-autoscaler");

  core::Json list = {{"kind", "EventList"}, {"apiVersion", "v1"}, {"items", items}};
  auto decoded = decode_event_list(list);
  ASSERT_TRUE(decoded) << decoded.error().message;
  bool rescaled = false;
  for (const auto& e : *decoded)
    rescaled = rescaled || (e.reason == "SuccessfulRescale" &&
                            e.message ==
                                "New size: 4; reason: pods metric vllm:num_requests_waiting "
                                "above target");
  EXPECT_TRUE(rescaled);
}

TEST(EventsTest, DecodeRefusesAMalformedList) {
  core::Json list = {{"items", core::Json::array({core::Json{{"count", "many"}}})}};
  EXPECT_FALSE(decode_event_list(list));
}

}  // namespace
}  // namespace llmscale::controller
