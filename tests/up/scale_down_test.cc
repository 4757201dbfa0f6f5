// Scale-down in `up` on a SimulatedClock with fake replicas: drain-aware victims (pod-deletion-cost
// from the router's in-flight tokens) against the ReplicaSet's ranking, streams in flight
// finishing before their replica gets SIGTERM, and pod annotations between the embedded
// Kubernetes API and the fleet (`kubectl annotate pod`).
#include "up/scale_down.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>

#include "../fleet/fakes.h"
#include "apiserver/api_server.h"
#include "apiserver/resource.h"
#include "apiserver/store.h"
#include "controller/controller.h"
#include "core/json.h"
#include "router/balancer.h"
#include "up/api_bridge.h"

namespace llmscale::up {
namespace {

using namespace std::chrono_literals;

fleet::FleetSpec fleet_spec(int replicas, int grace) {
  std::string yaml = R"(
apiVersion: llmscale.io/v1alpha1
kind: Fleet
metadata: {name: llm}
spec:
  replicas: )" + std::to_string(replicas) +
                     R"(
  selector: {matchLabels: {app: llm}}
  template:
    metadata: {labels: {app: llm}}
    spec:
      command: [server, --port, "{port}"]
      terminationGracePeriodSeconds: )" +
                     std::to_string(grace) + "\n";
  auto doc = core::parse_document(yaml);
  EXPECT_TRUE(doc);
  auto spec = fleet::parse_fleet(*doc);
  EXPECT_TRUE(spec) << spec.error().message;
  return *spec;
}

class ScaleDownTest : public ::testing::Test {
 protected:
  void make(int replicas, int grace) {
    fleet::FleetOptions options;
    options.exe = "/usr/bin/llmscale";
    options.seed = 7;
    options.allocate_port = [this](const std::string&) -> core::Result<std::uint16_t> {
      return next_port_++;
    };
    fleet_ = std::make_unique<fleet::Fleet>(clock_, fleet_spec(replicas, grace), launcher_, prober_,
                                            options);
    fleet_->add_listener(&bridge_);
    fleet_->start();
    clock_.advance(1s);  // processes seen alive: ready (no probe)
  }
  void drain_aware() {
    fleet_->set_before_scale_down([this] { set_deletion_costs_from_load(*fleet_, balancer_); });
  }
  // Pods in the order the ReplicaSet controller would delete them.
  std::vector<std::string> replicaset_order() {
    std::vector<kube::Pod> pods = fleet_->pods();
    core::Time now = clock_.now();
    std::stable_sort(pods.begin(), pods.end(), [now](const auto& a, const auto& b) {
      return fleet::delete_before(a, b, now);
    });
    std::vector<std::string> names;
    for (const auto& p : pods) names.push_back(p.metadata.name);
    return names;
  }
  // A request streaming on `pod`: the router sends it there (the others briefly not ready).
  router::Lease stream_on(const std::string& pod, std::uint64_t tokens) {
    std::vector<std::string> others;
    for (const auto& b : balancer_.backends())
      if (b.id != pod && b.state == router::BackendState::kReady) others.push_back(b.id);
    for (const auto& id : others) (void)balancer_.set_state(id, router::BackendState::kNotReady);
    auto lease = balancer_.try_acquire();
    for (const auto& id : others) (void)balancer_.set_state(id, router::BackendState::kReady);
    EXPECT_TRUE(lease && lease->backend_id() == pod);
    lease->add_tokens(tokens);
    return std::move(*lease);
  }
  bool terminating(const std::string& pod) {
    for (const auto& p : fleet_->pods())
      if (p.metadata.name == pod) return p.metadata.deletion_timestamp.has_value();
    return false;
  }
  std::vector<int> signals(const std::string& pod) { return launcher_.latest(pod)->signals; }

  core::SimulatedClock clock_;
  fleet::testing::FakeLauncher launcher_;
  fleet::testing::FakeProber prober_{clock_};
  router::Balancer balancer_{clock_};
  RouterBridge bridge_{balancer_};
  std::unique_ptr<fleet::Fleet> fleet_;
  std::uint16_t next_port_ = 30000;
};

TEST_F(ScaleDownTest, DrainAwareStopsTheIdleReplicasAndLosesNoStream) {
  make(3, 30);
  drain_aware();
  std::vector<std::string> order = replicaset_order();
  ASSERT_EQ(order.size(), 3u);
  // The ReplicaSet's first victim is the busiest: two long streams (a long prompt each).
  const std::string& busy = order[0];
  const std::string& light = order[1];
  const std::string& idle = order[2];
  router::Lease s1 = stream_on(busy, 4000);
  router::Lease s2 = stream_on(busy, 3000);
  router::Lease s3 = stream_on(light, 20);
  ASSERT_TRUE(fleet_->set_replicas(1));
  // Costs in the pods (as `kubectl get pod -o yaml` shows them), and the victims they chose.
  for (const auto& p : fleet_->pods()) {
    std::string want = p.metadata.name == busy ? "7000" : p.metadata.name == light ? "20" : "0";
    EXPECT_EQ(p.metadata.annotations.at(kube::kPodDeletionCost), want) << p.metadata.name;
  }
  EXPECT_FALSE(terminating(busy));
  EXPECT_TRUE(terminating(light));
  EXPECT_TRUE(terminating(idle));
  // The idle one stops at once; the light one drains: no new request, no SIGTERM while its
  // stream runs.
  clock_.advance(200ms);
  EXPECT_EQ(signals(idle), std::vector<int>{SIGTERM});
  EXPECT_TRUE(signals(light).empty());
  for (int i = 0; i < 3; ++i) {
    auto lease = balancer_.try_acquire();
    ASSERT_TRUE(lease);
    EXPECT_EQ(lease->backend_id(), busy);
  }
  clock_.advance(10s);
  EXPECT_TRUE(signals(light).empty());
  s3.release();  // its stream ends well within the grace period
  clock_.advance(200ms);
  EXPECT_EQ(signals(light), std::vector<int>{SIGTERM});
  EXPECT_EQ(fleet_->pods().size(), 1u);
  // The busy replica's streams were never touched.
  EXPECT_TRUE(signals(busy).empty());
  EXPECT_EQ(balancer_.in_flight(busy).value(), 2u);
  s1.release();
  s2.release();
  EXPECT_EQ(balancer_.backend(busy)->in_flight_tokens, 0u);
}

TEST_F(ScaleDownTest, TheReplicaSetRankingAloneCutsTheLongStreams) {
  launcher_.exit_on_sigterm = false;  // a server finishing its streams after SIGTERM
  make(3, 30);                        // no hook: --scale-down=replicaset
  std::vector<std::string> order = replicaset_order();
  const std::string& busy = order[0];
  router::Lease s1 = stream_on(busy, 4000);
  router::Lease s2 = stream_on(busy, 3000);
  ASSERT_TRUE(fleet_->set_replicas(2));
  EXPECT_TRUE(terminating(busy));
  EXPECT_EQ(fleet_->pods().front().metadata.annotations.count(kube::kPodDeletionCost), 0u);
  // Streams longer than the grace period: SIGTERM reaches the replica while both still run.
  clock_.advance(29s);
  EXPECT_TRUE(signals(busy).empty());
  clock_.advance(2s);
  EXPECT_EQ(signals(busy), std::vector<int>{SIGTERM});
  EXPECT_EQ(balancer_.in_flight(busy).value(), 2u);
}

TEST_F(ScaleDownTest, NotReadyPodsStillGoFirstAndUnknownBackendsCostZero) {
  make(3, 30);
  drain_aware();
  std::vector<std::string> order = replicaset_order();
  const std::string& idle_but_ready = order[0];
  const std::string& not_ready = order[2];
  router::Lease s = stream_on(order[1], 50);
  router::Lease n = stream_on(not_ready, 999);
  // The fleet sees it unready (as a failing probe would): ranked before every ready pod.
  launcher_.latest(not_ready)->exit = fleet::ExitStatus{1, 0};
  clock_.advance(200ms);
  ASSERT_TRUE(fleet_->set_replicas(2));
  // In back-off without a process, the victim is removed at once.
  EXPECT_EQ(launcher_.latest(not_ready)->signals, std::vector<int>{});
  std::vector<std::string> left;
  for (const auto& p : fleet_->pods()) left.push_back(p.metadata.name);
  EXPECT_EQ(std::count(left.begin(), left.end(), not_ready), 0);
  EXPECT_EQ(std::count(left.begin(), left.end(), idle_but_ready), 1);
  EXPECT_FALSE(terminating(idle_but_ready));
  // A fleet pod the router never saw (never ready) costs 0.
  router::Balancer empty(clock_);
  EXPECT_EQ(set_deletion_costs_from_load(*fleet_, empty), 2u);
  for (const auto& p : fleet_->pods()) {
    if (!p.metadata.deletion_timestamp) {
      EXPECT_EQ(p.metadata.annotations.at(kube::kPodDeletionCost), "0");
    }
  }
}

TEST(ScaleDownPolicy, ParsesItsNames) {
  EXPECT_EQ(parse_scale_down_policy("drain-aware").value(), ScaleDownPolicy::kDrainAware);
  EXPECT_EQ(parse_scale_down_policy("replicaset").value(), ScaleDownPolicy::kReplicaSet);
  EXPECT_FALSE(parse_scale_down_policy("random"));
  EXPECT_EQ(scale_down_policy_name(ScaleDownPolicy::kDrainAware), "drain-aware");
  router::BackendStatus b;
  b.in_flight_tokens = std::uint64_t{1} << 40;
  EXPECT_EQ(deletion_cost_for(b), 2147483647);  // capped at int32
}

// Answers nothing: the bridge test runs no HPA.
class NoMetrics final : public hpa::MetricsProvider {
 public:
  core::Result<std::vector<kube::PodMetrics>> resource_metrics(const std::string&,
                                                               const kube::Selector&) override {
    return none();
  }
  core::Result<std::vector<kube::MetricValue>> pods_metric(const std::string&, const std::string&,
                                                           const kube::Selector&,
                                                           const kube::Selector&) override {
    return none();
  }
  core::Result<std::vector<kube::MetricValue>> object_metric(
      const std::string&, const std::string&, const kube::CrossVersionObjectReference&,
      const kube::Selector&) override {
    return none();
  }
  core::Result<std::vector<kube::ExternalMetricValue>> external_metric(
      const std::string&, const std::string&, const kube::Selector&) override {
    return none();
  }

 private:
  static tl::unexpected<core::Error> none() {
    return core::make_error(core::ErrorCode::kNotFound, "none");
  }
};

TEST_F(ScaleDownTest, PodAnnotationsGoBothWaysThroughTheApi) {
  make(2, 30);
  apiserver::Store store(clock_);
  apiserver::ApiServer api(store, clock_, apiserver::builtin_resources());
  ApiBridge bridge(api, store, clock_);
  bridge.add_fleet(*fleet_);
  NoMetrics metrics;
  controller::Controller controller(clock_, metrics, bridge, controller::ControllerOptions{});
  ASSERT_TRUE(bridge.start(controller, {}));
  const apiserver::GroupResource pods{"", "pods"};
  std::vector<std::string> names;
  for (const auto& p : fleet_->pods()) names.push_back(p.metadata.name);
  auto stored_annotations = [&](const std::string& name) {
    auto stored = store.get(pods, "default", name);
    EXPECT_TRUE(stored);
    const core::Json& meta = (*stored)->at("metadata");
    return meta.contains("annotations") ? meta["annotations"] : core::Json::object();
  };
  // Fleet -> API: a cost set on the pod is in the pod object after a sync.
  ASSERT_TRUE(fleet_->set_deletion_cost(names[0], 12));
  bridge.sync();
  EXPECT_EQ(stored_annotations(names[0]).value(kube::kPodDeletionCost, ""), "12");
  // API -> fleet: a client's write (what `kubectl annotate pod` PATCHes) reaches the fleet's
  // pod on the next turn, and the bridge's next sync keeps it.
  auto write = [&](const std::string& name, const std::string& key,
                   std::optional<std::string> value) {
    core::Json object = **store.get(pods, "default", name);
    if (value) {
      object["metadata"]["annotations"][key] = *value;
    } else {
      object["metadata"]["annotations"].erase(key);
    }
    ASSERT_TRUE(store.update(pods, std::move(object)));
  };
  write(names[1], kube::kPodDeletionCost, "-3");
  clock_.advance(0s);
  auto fleet_annotation = [&](const std::string& name, const std::string& key) {
    for (const auto& p : fleet_->pods())
      if (p.metadata.name == name && p.metadata.annotations.count(key) != 0)
        return std::optional<std::string>(p.metadata.annotations.at(key));
    return std::optional<std::string>();
  };
  EXPECT_EQ(fleet_annotation(names[1], kube::kPodDeletionCost), "-3");
  bridge.sync();
  EXPECT_EQ(stored_annotations(names[1]).value(kube::kPodDeletionCost, ""), "-3");
  // A write the bridge has not handled yet survives a sync that comes first.
  write(names[0], "team", "inference");
  bridge.sync();
  EXPECT_EQ(fleet_annotation(names[0], "team"), "inference");
  EXPECT_EQ(stored_annotations(names[0]).value("team", ""), "inference");
  clock_.advance(0s);
  // Removing it (kubectl annotate pod X team-) removes it from the fleet's pod.
  write(names[0], "team", std::nullopt);
  clock_.advance(0s);
  EXPECT_EQ(fleet_annotation(names[0], "team"), std::nullopt);
  // And the scale-down ranks by what the client set: the -3 pod goes before the 12 one.
  ASSERT_TRUE(fleet_->set_replicas(1));
  clock_.advance(0s);
  EXPECT_TRUE(terminating(names[1]));
  EXPECT_FALSE(terminating(names[0]));
}

}  // namespace
}  // namespace llmscale::up
