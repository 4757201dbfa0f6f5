// The control API as `llmscale get`/`describe` read it: Kubernetes-shaped lists of HPAs, pods,
// deployments and events, NotFound statuses for single objects, label and field selectors, and
// watches that stream ADDED, MODIFIED and DELETED lines.
#include "controller/control_api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "controller/fakes.h"
#include "core/json.h"
#include "net/event_loop.h"
#include "net/recording_writer.h"
#include "net/router.h"
#include "net/server.h"

namespace llmscale::controller {
namespace {

using std::chrono::seconds;

struct ApiHarness {
  core::SimulatedClock clock;
  FakeDeployment deployment{1};
  FakeQueueMetrics metrics{deployment, clock};
  Controller controller{clock, metrics, deployment, {}};
  ControlApi api{controller, [this] { return deployment.pods(); },
                 [this] { return deployments(); }};
  net::Router router;
  net::EventLoop loop;

  ApiHarness() {
    api.add_routes(router);
    controller.apply(queue_hpa());
    clock.advance(seconds(0));  // first pass
  }

  std::vector<kube::Deployment> deployments() {
    kube::Deployment d;
    d.metadata.name = "llm";
    d.metadata.namespace_ = "default";
    d.metadata.labels = {{"app", "llm"}};
    d.replicas = deployment.replicas();
    d.selector = kube::LabelSelector{{{"app", "llm"}}, {}};
    d.containers = {{"llm", "serve-sim/vllm-v1"}};
    d.status_replicas = d.updated_replicas = d.ready_replicas = d.available_replicas =
        deployment.replicas();
    return {d};
  }

  // Runs one request to completion.
  std::unique_ptr<net::RecordingResponseWriter> get(const std::string& target) {
    auto writer = std::make_unique<net::RecordingResponseWriter>();
    net::ServerRequest request;
    request.method = "GET";
    EXPECT_TRUE(request.set_target(target));
    auto status = loop.block_on(router.dispatch(request, *writer), seconds(5));
    EXPECT_TRUE(status) << status.error().to_string();
    return writer;
  }
};

core::Json body_json(const net::RecordingResponseWriter& writer) {
  return *core::parse_document(writer.body());
}

TEST(ControlApiTest, ListsAndGetsHpasAsTheApiServerDoes) {
  ApiHarness h;
  auto list = h.get("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers");
  EXPECT_EQ(list->status(), 200);
  core::Json doc = body_json(*list);
  EXPECT_EQ(doc["kind"], "HorizontalPodAutoscalerList");
  ASSERT_EQ(doc["items"].size(), 1u);
  EXPECT_EQ(doc["items"][0]["metadata"]["name"], "llm-hpa");
  EXPECT_EQ(doc["items"][0]["status"]["currentReplicas"], 1);

  EXPECT_EQ(body_json(*h.get("/apis/autoscaling/v2/horizontalpodautoscalers"))["items"].size(), 1u);
  EXPECT_EQ(
      body_json(*h.get("/apis/autoscaling/v2/namespaces/other/horizontalpodautoscalers"))["items"]
          .size(),
      0u);

  auto one = h.get("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/llm-hpa");
  EXPECT_EQ(body_json(*one)["spec"]["maxReplicas"], 10);

  auto missing = h.get("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/nope");
  EXPECT_EQ(missing->status(), 404);
  core::Json status = body_json(*missing);
  EXPECT_EQ(status["kind"], "Status");
  EXPECT_EQ(status["reason"], "NotFound");
  EXPECT_EQ(status["message"], "horizontalpodautoscalers.autoscaling \"nope\" not found");
}

TEST(ControlApiTest, PodsFilteredByLabelSelector) {
  ApiHarness h;
  h.deployment.set_replicas(3);
  auto all = body_json(*h.get("/api/v1/namespaces/default/pods?labelSelector=app%3Dllm"));
  EXPECT_EQ(all["kind"], "PodList");
  ASSERT_EQ(all["items"].size(), 3u);
  EXPECT_EQ(all["items"][0]["status"]["phase"], "Running");
  EXPECT_EQ(body_json(*h.get("/api/v1/pods?labelSelector=app%3Dother"))["items"].size(), 0u);
  auto bad = h.get("/api/v1/pods?labelSelector=app%3D%3D%3D");
  EXPECT_EQ(bad->status(), 400);
}

TEST(ControlApiTest, EventsFilteredByInvolvedObject) {
  ApiHarness h;
  h.metrics.queue_milli = 20000;  // 4x the target: scale to 4
  h.controller.reconcile_now("default", "llm-hpa");
  auto events = h.get(
      "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dllm-hpa,"
      "involvedObject.kind%3DHorizontalPodAutoscaler");
  core::Json doc = body_json(*events);
  EXPECT_EQ(doc["kind"], "EventList");
  ASSERT_GE(doc["items"].size(), 1u);
  auto decoded = decode_event_list(doc);
  ASSERT_TRUE(decoded);
  bool rescaled = false;
  for (const auto& e : *decoded)
    rescaled = rescaled ||
               (e.reason == "SuccessfulRescale" && e.message ==
                                                       "New size: 4; reason: pods metric "
                                                       "vllm:num_requests_waiting above target");
  EXPECT_TRUE(rescaled);
  EXPECT_EQ(body_json(*h.get("/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%"
                             "3Dother"))["items"]
                .size(),
            0u);
  EXPECT_EQ(h.get("/api/v1/namespaces/default/events?fieldSelector=spec.x%3Dy")->status(), 400);
}

TEST(ControlApiTest, WatchStreamsAddedThenModifiedOnChange) {
  ApiHarness h;
  net::RecordingResponseWriter writer;
  net::ServerRequest request;
  request.method = "GET";
  ASSERT_TRUE(request.set_target(
      "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers?watch=true"));
  bool finished = false;
  auto watch = [&]() -> net::Awaitable<void> {
    co_await h.router.dispatch(request, writer);
    finished = true;
  };
  net::spawn(h.loop, watch());
  ASSERT_TRUE(h.loop.run_until([&] { return writer.chunks().size() == 1; }, seconds(5)));
  core::Json added = *core::parse_document(writer.chunks()[0]);
  EXPECT_EQ(added["type"], "ADDED");
  EXPECT_EQ(added["object"]["metadata"]["name"], "llm-hpa");

  h.controller.reconcile_now("default", "llm-hpa");  // nothing changed: no line
  h.metrics.queue_milli = 20000;
  h.controller.reconcile_now("default", "llm-hpa");  // scaled: one MODIFIED line
  ASSERT_TRUE(h.loop.run_until([&] { return writer.chunks().size() == 2; }, seconds(5)));
  core::Json modified = *core::parse_document(writer.chunks()[1]);
  EXPECT_EQ(modified["type"], "MODIFIED");
  EXPECT_EQ(modified["object"]["status"]["desiredReplicas"], 4);

  writer.disconnect();
  ASSERT_TRUE(h.loop.run_until([&] { return finished; }, seconds(5)));
  EXPECT_EQ(writer.chunks().size(), 2u);
}

TEST(ControlApiTest, SingleObjectsAndNotFoundStatuses) {
  ApiHarness h;
  h.deployment.set_replicas(2);
  auto pod = h.get("/api/v1/namespaces/default/pods/llm-1");
  EXPECT_EQ(pod->status(), 200);
  EXPECT_EQ(body_json(*pod)["metadata"]["name"], "llm-1");
  struct Missing {
    const char* path;
    const char* message;
  };
  for (const Missing& m :
       {Missing{"/api/v1/namespaces/default/pods/nope", "pods \"nope\" not found"},
        Missing{"/api/v1/namespaces/other/pods/llm-1", "pods \"llm-1\" not found"},
        Missing{"/apis/apps/v1/namespaces/default/deployments/nope",
                "deployments.apps \"nope\" not found"},
        Missing{"/api/v1/namespaces/default/events/nope", "events \"nope\" not found"}}) {
    auto missing = h.get(m.path);
    EXPECT_EQ(missing->status(), 404) << m.path;
    core::Json status = body_json(*missing);
    EXPECT_EQ(status["kind"], "Status") << m.path;
    EXPECT_EQ(status["reason"], "NotFound") << m.path;
    EXPECT_EQ(status["message"], m.message) << m.path;
  }
}

TEST(ControlApiTest, DeploymentsAsAppsV1) {
  ApiHarness h;
  h.deployment.set_replicas(3);
  core::Json list = body_json(*h.get("/apis/apps/v1/namespaces/default/deployments"));
  EXPECT_EQ(list["kind"], "DeploymentList");
  EXPECT_EQ(list["apiVersion"], "apps/v1");
  ASSERT_EQ(list["items"].size(), 1u);
  const core::Json& d = list["items"][0];
  EXPECT_EQ(d["kind"], "Deployment");
  EXPECT_EQ(d["spec"]["replicas"], 3);
  EXPECT_EQ(d["spec"]["selector"]["matchLabels"]["app"], "llm");
  EXPECT_EQ(d["spec"]["template"]["spec"]["containers"][0]["image"], "serve-sim/vllm-v1");
  EXPECT_EQ(d["status"]["readyReplicas"], 3);
  auto decoded = kube::decode_deployment(d, "items[0]");
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ(decoded->available_replicas, 3);
  EXPECT_EQ(body_json(*h.get("/apis/apps/v1/deployments"))["items"].size(), 1u);
  EXPECT_EQ(body_json(*h.get(
                "/apis/apps/v1/namespaces/default/deployments?labelSelector=app%3Dx"))["items"]
                .size(),
            0u);
  EXPECT_EQ(body_json(*h.get("/apis/apps/v1/namespaces/default/deployments/llm"))["kind"],
            "Deployment");
  EXPECT_EQ(body_json(*h.get("/apis/apps/v1/namespaces/other/deployments"))["items"].size(), 0u);
}

TEST(ControlApiTest, EventsAcrossNamespacesAndByName) {
  ApiHarness h;
  h.metrics.queue_milli = 20000;
  h.controller.reconcile_now("default", "llm-hpa");
  core::Json all = body_json(*h.get("/api/v1/events"));
  EXPECT_EQ(all["kind"], "EventList");
  ASSERT_GE(all["items"].size(), 1u);
  auto first = kube::decode_event(all["items"][0], "items[0]");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->involved_object.kind, "HorizontalPodAutoscaler");
  EXPECT_EQ(first->source_component, "horizontal-pod-autoscaler");
  std::string name = first->metadata.name;
  auto one = h.get("/api/v1/namespaces/default/events/" + name);
  EXPECT_EQ(one->status(), 200);
  EXPECT_EQ(body_json(*one)["metadata"]["name"], name);
}

TEST(ControlApiTest, PodWatchAddsAndDeletesOnNotify) {
  ApiHarness h;
  net::RecordingResponseWriter writer;
  net::ServerRequest request;
  request.method = "GET";
  ASSERT_TRUE(
      request.set_target("/api/v1/namespaces/default/pods?watch=true&labelSelector=app%3Dllm"));
  bool finished = false;
  auto watch = [&]() -> net::Awaitable<void> {
    co_await h.router.dispatch(request, writer);
    finished = true;
  };
  net::spawn(h.loop, watch());
  ASSERT_TRUE(h.loop.run_until([&] { return writer.chunks().size() == 1; }, seconds(5)));
  EXPECT_EQ((*core::parse_document(writer.chunks()[0]))["type"], "ADDED");

  h.deployment.set_replicas(2);
  h.api.notify();
  ASSERT_TRUE(h.loop.run_until([&] { return writer.chunks().size() == 2; }, seconds(5)));
  core::Json added = *core::parse_document(writer.chunks()[1]);
  EXPECT_EQ(added["type"], "ADDED");
  EXPECT_EQ(added["object"]["metadata"]["name"], "llm-1");

  h.api.notify();  // nothing changed: no line
  h.deployment.set_replicas(1);
  h.api.notify();
  ASSERT_TRUE(h.loop.run_until([&] { return writer.chunks().size() == 3; }, seconds(5)));
  core::Json deleted = *core::parse_document(writer.chunks()[2]);
  EXPECT_EQ(deleted["type"], "DELETED");
  EXPECT_EQ(deleted["object"]["metadata"]["name"], "llm-1");

  writer.disconnect();
  ASSERT_TRUE(h.loop.run_until([&] { return finished; }, seconds(5)));
  EXPECT_EQ(writer.chunks().size(), 3u);
}

}  // namespace
}  // namespace llmscale::controller
