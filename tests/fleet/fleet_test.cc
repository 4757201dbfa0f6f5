// Fleet state machine on a SimulatedClock with a fake launcher and prober: names and labels,
// scaling, victim order, readiness thresholds, initial delay, CrashLoopBackOff, drain ->
// SIGTERM -> SIGKILL timings, grace expiry, shutdown.
#include "fleet/fleet.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <regex>

#include "core/strings.h"
#include "fakes.h"
#include "kube/json_codec.h"

namespace llmscale::fleet {
namespace {

using namespace std::chrono_literals;
using testing::FakeLauncher;
using testing::FakeProber;
using testing::RecordingListener;

FleetSpec make_spec(const std::string& probe = "periodSeconds: 10", int replicas = 1,
                    int grace = 30) {
  std::string yaml = R"(
apiVersion: llmscale.io/v1alpha1
kind: Fleet
metadata: {name: meta-llama3-8b}
spec:
  replicas: )" + std::to_string(replicas) +
                     R"(
  selector: {matchLabels: {app: meta-llama3-8b}}
  template:
    metadata: {labels: {app: meta-llama3-8b}}
    spec:
      command: [server, --port, "{port}", --metrics, "{metrics_port}", --name, "{pod}"]
      ports: [{name: http, containerPort: 8000}, {name: metrics, containerPort: 9100}]
      env: [{name: POD, value: "{namespace}/{pod}"}]
      readinessProbe: {httpGet: {path: /health, port: http}, )" +
                     probe + R"(}
      terminationGracePeriodSeconds: )" +
                     std::to_string(grace) + "\n";
  auto doc = core::parse_document(yaml);
  EXPECT_TRUE(doc);
  auto spec = parse_fleet(*doc);
  EXPECT_TRUE(spec) << spec.error().message;
  return *spec;
}

class FleetTest : public ::testing::Test {
 protected:
  void make(FleetSpec spec, const std::function<void(FleetOptions&)>& tweak = {}) {
    FleetOptions options;
    options.exe = "/usr/bin/llmscale";
    options.seed = 42;
    options.allocate_port = [this](const std::string&) -> core::Result<std::uint16_t> {
      return next_port_++;
    };
    if (tweak) tweak(options);
    fleet_ = std::make_unique<Fleet>(clock_, std::move(spec), launcher_, prober_, options);
    fleet_->add_listener(&listener_);
  }
  const kube::Pod* pod(const std::string& name) {
    pods_ = fleet_->pods();
    for (const auto& p : pods_) {
      if (p.metadata.name == name) return &p;
    }
    return nullptr;
  }
  std::vector<std::string> names() {
    std::vector<std::string> out;
    for (const auto& p : fleet_->pods()) out.push_back(p.metadata.name);
    return out;
  }
  Endpoint endpoint(const std::string& name) {
    for (const auto& e : fleet_->endpoints()) {
      if (e.pod == name) return e;
    }
    ADD_FAILURE() << "no endpoint " << name;
    return {};
  }
  void set_healthy(const std::string& name, bool healthy) {
    prober_.healthy[endpoint(name).api_port] = healthy;
  }
  bool ready(const std::string& name) {
    const kube::Pod* p = pod(name);
    return p != nullptr && p->ready_condition()->status == "True";
  }

  core::SimulatedClock clock_;
  FakeLauncher launcher_;
  FakeProber prober_{clock_};
  RecordingListener listener_;
  std::unique_ptr<Fleet> fleet_;
  std::uint16_t next_port_ = 20000;
  std::vector<kube::Pod> pods_;
};

TEST_F(FleetTest, PodsHaveDeploymentNamesLabelsAndShape) {
  make(make_spec("periodSeconds: 10", 2));
  fleet_->start();
  auto pods = fleet_->pods();
  ASSERT_EQ(pods.size(), 2u);
  const std::string hash = fleet_->pod_template_hash();
  EXPECT_TRUE(std::regex_match(hash, std::regex("[bcdfghjklmnpqrstvwxz2456789]{1,10}"))) << hash;
  for (const auto& p : pods) {
    EXPECT_TRUE(std::regex_match(p.metadata.name, std::regex("meta-llama3-8b-" + hash +
                                                             "-[bcdfghjklmnpqrstvwxz2456789]{5}")))
        << p.metadata.name;
    EXPECT_EQ(p.metadata.generate_name, "meta-llama3-8b-" + hash + "-");
    EXPECT_EQ(p.metadata.labels.at("app"), "meta-llama3-8b");
    EXPECT_EQ(p.metadata.labels.at("pod-template-hash"), hash);
    EXPECT_EQ(p.metadata.namespace_, "default");
    EXPECT_EQ(p.metadata.uid.size(), 36u);
    EXPECT_EQ(p.metadata.creation_timestamp, clock_.now());
    EXPECT_FALSE(p.metadata.deletion_timestamp);
    EXPECT_EQ(p.phase, "Pending");  // not yet seen alive
    EXPECT_EQ(p.ready_condition()->status, "False");
    EXPECT_EQ(p.pod_ip, "127.0.0.1");
    ASSERT_EQ(p.container_statuses.size(), 1u);
    EXPECT_EQ(p.container_statuses[0].restart_count, 0);
  }
  EXPECT_NE(pods[0].metadata.name, pods[1].metadata.name);
  // The same template hashes the same; another template differently.
  EXPECT_EQ(pod_template_hash(make_spec("periodSeconds: 10", 5)), hash);
  EXPECT_NE(pod_template_hash(make_spec("periodSeconds: 11")), hash);

  clock_.advance(100ms);
  EXPECT_EQ(fleet_->pods()[0].phase, "Running");
  EXPECT_EQ(fleet_->pods()[0].container_statuses[0].waiting_reason, "");

  // Placeholders: allocated ports, pod name, namespace; HOSTNAME is the pod's name.
  const auto& launched = launcher_.processes[0]->spec;
  const std::string name = pods[0].metadata.name;
  EXPECT_EQ(launched.argv, (std::vector<std::string>{"server", "--port", "20000", "--metrics",
                                                     "20001", "--name", name}));
  EXPECT_EQ(launched.env, (std::vector<std::pair<std::string, std::string>>{
                              {"HOSTNAME", name}, {"POD", "default/" + name}}));
  Endpoint e = endpoint(name);
  EXPECT_EQ(e.api_port, 20000);
  EXPECT_EQ(e.metrics_port, 20001);
  EXPECT_EQ(e.host, "127.0.0.1");
  EXPECT_FALSE(e.ready);
  EXPECT_EQ(e.labels.at("pod-template-hash"), hash);

  auto scale = fleet_->get_scale();
  ASSERT_TRUE(scale);
  EXPECT_EQ(scale->spec_replicas, 2);
  EXPECT_EQ(scale->status_replicas, 2);
  EXPECT_EQ(scale->selector, "app=meta-llama3-8b");
}

TEST_F(FleetTest, ReadinessNeedsSuccessThresholdAndIsLostAfterFailureThreshold) {
  make(make_spec("periodSeconds: 10, successThreshold: 2, failureThreshold: 3"));
  fleet_->start();
  std::string name = names()[0];
  set_healthy(name, true);
  clock_.advance(1s);  // probe at 0 s: 1 success
  EXPECT_FALSE(ready(name));
  clock_.advance(9s);  // probe at 10 s: 2 successes
  EXPECT_TRUE(ready(name));
  EXPECT_TRUE(endpoint(name).ready);
  EXPECT_EQ(pod(name)->ready_condition()->last_transition_time, clock_.now());
  set_healthy(name, false);
  clock_.advance(20s);  // failures at 20 s and 30 s
  EXPECT_TRUE(ready(name));
  clock_.advance(10s);  // third failure at 40 s
  EXPECT_FALSE(ready(name));
  EXPECT_EQ(pod(name)->phase, "Running");  // readiness lost, still running
  set_healthy(name, true);
  clock_.advance(10s);  // one success of two
  EXPECT_FALSE(ready(name));
  clock_.advance(10s);
  EXPECT_TRUE(ready(name));
  EXPECT_EQ(listener_.events,
            (std::vector<std::string>{"ready " + name, "not_ready " + name, "ready " + name}));
  // The probe request targets the allocated API port and the template's path and timeout.
  EXPECT_EQ(prober_.requests[0].port, 20000);
  EXPECT_EQ(prober_.requests[0].path, "/health");
  EXPECT_EQ(prober_.requests[0].timeout, 1s);
}

TEST_F(FleetTest, InitialDelaySkipsProbesOnThePeriodGrid) {
  make(make_spec("periodSeconds: 10, initialDelaySeconds: 15"));
  fleet_->start();
  std::string name = names()[0];
  set_healthy(name, true);
  clock_.advance(19s);  // ticks at 0 s and 10 s are within the delay
  EXPECT_TRUE(prober_.requests.empty());
  EXPECT_FALSE(ready(name));
  clock_.advance(1s);  // tick at 20 s probes
  EXPECT_EQ(prober_.requests.size(), 1u);
  EXPECT_TRUE(ready(name));
}

TEST_F(FleetTest, ProbeInFlightSkipsTicks) {
  make(make_spec("periodSeconds: 1"));
  fleet_->start();
  prober_.hold = true;
  clock_.advance(5s);
  EXPECT_EQ(prober_.held.size(), 1u);  // the kubelet probes one at a time
}

TEST_F(FleetTest, ScaleUpAndDownKeepsStatusReplicas) {
  make(make_spec());
  listener_.drain_at_once = true;
  fleet_->start();
  ASSERT_TRUE(fleet_->set_replicas(3));
  EXPECT_EQ(fleet_->pods().size(), 3u);
  EXPECT_EQ(launcher_.processes.size(), 3u);
  EXPECT_FALSE(fleet_->set_replicas(-1));
  ASSERT_TRUE(fleet_->set_replicas(1));
  // Two terminate: listed with deletionTimestamp, not counted in status replicas.
  auto scale = fleet_->get_scale();
  EXPECT_EQ(scale->spec_replicas, 1);
  EXPECT_EQ(scale->status_replicas, 1);
  int terminating = 0;
  for (const auto& p : fleet_->pods()) terminating += p.metadata.deletion_timestamp ? 1 : 0;
  EXPECT_EQ(terminating, 2);
  clock_.advance(100ms);  // drained at once, SIGTERM, exit seen
  EXPECT_EQ(fleet_->pods().size(), 1u);
  EXPECT_EQ(launcher_.alive(), 1u);
  for (const auto& p : launcher_.processes) {
    if (p->exit) EXPECT_EQ(p->signals, std::vector<int>{SIGTERM});
  }
}

TEST_F(FleetTest, VictimsLikeTheReplicaSetController) {
  make(make_spec("periodSeconds: 1", 1));
  listener_.drain_at_once = true;
  fleet_->start();
  std::string oldest = names()[0];
  set_healthy(oldest, true);
  clock_.advance(100s);
  ASSERT_TRUE(fleet_->set_replicas(2));
  std::string middle = names()[1];
  set_healthy(middle, true);
  clock_.advance(100s);
  ASSERT_TRUE(fleet_->set_replicas(4));
  std::string new_a = names()[2], new_b = names()[3];
  clock_.advance(3s);
  set_healthy(new_b, true);  // ready, but most recently
  clock_.advance(2s);
  ASSERT_TRUE(ready(new_b));
  ASSERT_FALSE(ready(new_a));
  // Not ready before ready; then the most recently ready.
  ASSERT_TRUE(fleet_->set_replicas(2));
  for (const auto& p : fleet_->pods()) {
    bool deleted = p.metadata.deletion_timestamp.has_value();
    EXPECT_EQ(deleted, p.metadata.name == new_a || p.metadata.name == new_b) << p.metadata.name;
  }
  // Ready for ~105 s vs ~205 s: different log2 buckets, the newer goes first.
  ASSERT_TRUE(fleet_->set_replicas(1));
  EXPECT_TRUE(pod(middle)->metadata.deletion_timestamp);
  EXPECT_FALSE(pod(oldest)->metadata.deletion_timestamp);
}

TEST(DeleteBefore, RanksLikeActivePodsWithRanks) {
  core::Time now = core::SimulatedClock::default_start() + 10000s;
  auto make_pod = [&](const std::string& uid, std::string phase, bool ready, core::Duration age,
                      int restarts) {
    kube::Pod p;
    p.metadata.uid = uid;
    p.metadata.creation_timestamp = now - age;
    p.phase = std::move(phase);
    p.conditions.push_back({"Ready", ready ? "True" : "False", now - age});
    kube::ContainerStatus s;
    s.restart_count = restarts;
    p.container_statuses.push_back(s);
    return p;
  };
  auto pending = make_pod("a", "Pending", false, 10s, 0);
  auto running = make_pod("b", "Running", false, 10s, 0);
  auto ready_new = make_pod("c", "Running", true, 10s, 0);
  auto ready_old = make_pod("d", "Running", true, 1000s, 0);
  auto restarted = make_pod("e", "Running", false, 1000s, 3);
  EXPECT_TRUE(delete_before(pending, running, now));
  EXPECT_FALSE(delete_before(running, pending, now));
  EXPECT_TRUE(delete_before(running, ready_new, now));
  EXPECT_TRUE(delete_before(ready_new, ready_old, now));
  EXPECT_TRUE(delete_before(restarted, running, now));  // more restarts first
  // Same log2 bucket of age (10 s vs 11 s): ordered by UID.
  auto sibling = make_pod("0", "Running", false, 11s, 0);
  EXPECT_TRUE(delete_before(sibling, running, now));
  EXPECT_FALSE(delete_before(running, sibling, now));
}

// Upstream's TestSortingActivePodsWithRanks (pkg/controller/controller_utils_test.go), on one
// node: its cases that need an unassigned pod (step 1), unequal colocation ranks (step 5) or the
// PodDeletionCost gate turned off have no local meaning and are left out; the others keep their
// pods and their expected order.
class DeleteBeforeTable : public ::testing::Test {
 protected:
  kube::Pod pod(const std::string& name, const std::string& phase, bool ready,
                std::int32_t restarts, std::optional<core::Time> ready_since,
                std::optional<core::Time> created,
                std::map<std::string, std::string> annotations = {}) {
    kube::Pod p;
    p.metadata.name = name;
    p.metadata.creation_timestamp = created;
    p.metadata.annotations = std::move(annotations);
    p.phase = phase;
    if (ready) {
      p.conditions.push_back({"Ready", "True", ready_since});
      kube::ContainerStatus s;
      s.restart_count = restarts;
      p.container_statuses.push_back(s);
    }
    return p;
  }

  core::Time now_ = core::SimulatedClock::default_start() + std::chrono::hours(24 * 400);
  core::Time then_1_month_ = now_ - std::chrono::hours(24 * 30);
  core::Time then_2_hours_ = now_ - 2h;
  core::Time then_5_hours_ = now_ - 5h;
  core::Time then_8_hours_ = now_ - 8h;
  std::nullopt_t zero_ = std::nullopt;
  std::map<std::string, std::string> cost(const std::string& value) {
    return {{kube::kPodDeletionCost, value}};
  }

  // Upstream's pods (minus the unscheduled ones), by their upstream names.
  void SetUp() override {
    auto add = [this](kube::Pod p) { pods_[p.metadata.name] = std::move(p); };
    add(pod("pending", "Pending", false, 0, zero_, zero_));
    add(pod("unknown-phase", "Unknown", false, 0, zero_, zero_));
    add(pod("not-ready", "Running", false, 0, zero_, zero_));
    add(pod("ready-no-last-transition-time", "Running", true, 0, zero_, zero_));
    add(pod("ready-now", "Running", true, 0, now_, now_));
    add(pod("ready-then", "Running", true, 0, then_1_month_, then_1_month_));
    add(pod("ready-high-restarts", "Running", true, 9001, now_, now_));
    add(pod("ready-now-created-then", "Running", true, 0, now_, then_1_month_));
    add(pod("low-deletion-cost", "Running", true, 0, now_, then_1_month_, cost("10")));
    add(pod("high-deletion-cost", "Running", true, 0, now_, then_1_month_, cost("100")));
    add(pod("unscheduled-5-hours", "Pending", false, 0, then_5_hours_, then_5_hours_));
    add(pod("unscheduled-10-hours", "Pending", false, 0, then_8_hours_, then_8_hours_));
    add(pod("ready-2-hours", "Running", true, 0, then_2_hours_, then_1_month_));
    add(pod("ready-5-hours", "Running", true, 0, then_5_hours_, then_1_month_));
    add(pod("ready-10-hours", "Running", true, 0, then_8_hours_, then_1_month_));
  }
  const kube::Pod& named(const std::string& name) { return pods_.at(name); }
  std::map<std::string, kube::Pod> pods_;
};

TEST_F(DeleteBeforeTable, UpstreamEqualityCases) {
  std::vector<std::pair<std::string, std::string>> equal = {
      {"pending", "pending"},
      {"unknown-phase", "unknown-phase"},
      {"not-ready", "not-ready"},
      {"ready-now-created-then", "ready-now-created-then"},
      {"ready-now", "ready-now"},
      {"ready-then", "ready-then"},
      {"ready-high-restarts", "ready-high-restarts"},
      // One log2 bucket of age (5 h, 8 h), equal (empty) UIDs.
      {"unscheduled-5-hours", "unscheduled-10-hours"},
      {"ready-5-hours", "ready-10-hours"},  // one log2 bucket of ready time
  };
  for (const auto& [a, b] : equal) {
    EXPECT_FALSE(delete_before(named(a), named(b), now_)) << a << " vs " << b;
    EXPECT_FALSE(delete_before(named(b), named(a), now_)) << b << " vs " << a;
  }
}

TEST_F(DeleteBeforeTable, UpstreamInequalityCases) {
  // {lesser, greater}: lesser is deleted first.
  std::vector<std::pair<std::string, std::string>> ordered = {
      {"pending", "unknown-phase"},
      {"unknown-phase", "not-ready"},
      {"not-ready", "ready-no-last-transition-time"},
      {"ready-no-last-transition-time", "ready-now"},
      {"ready-now", "ready-then"},
      {"ready-high-restarts", "ready-now"},
      {"ready-now", "ready-now-created-then"},
      {"low-deletion-cost", "high-deletion-cost"},
      {"ready-2-hours", "ready-5-hours"},
  };
  for (const auto& [lesser, greater] : ordered) {
    EXPECT_TRUE(delete_before(named(lesser), named(greater), now_)) << lesser << " < " << greater;
    EXPECT_FALSE(delete_before(named(greater), named(lesser), now_))
        << greater << " not < " << lesser;
  }
}

TEST_F(DeleteBeforeTable, DeletionCostComesAfterReadinessAndBeforeReadyTime) {
  auto not_ready_costly = pod("not-ready", "Running", false, 0, zero_, now_, cost("1000"));
  auto ready_cheap = pod("ready", "Running", true, 0, then_1_month_, then_1_month_, cost("-1000"));
  EXPECT_TRUE(delete_before(not_ready_costly, ready_cheap, now_));
  // Ready a month vs a second: the ready time alone would delete the newer one first.
  auto old_cheap = pod("old", "Running", true, 0, then_1_month_, then_1_month_, cost("1"));
  auto new_costly = pod("new", "Running", true, 0, now_ - 1s, now_ - 1s, cost("2"));
  EXPECT_TRUE(delete_before(old_cheap, new_costly, now_));
  EXPECT_FALSE(delete_before(new_costly, old_cheap, now_));
  auto negative = pod("negative", "Running", true, 0, then_1_month_, then_1_month_, cost("-5"));
  auto unset = pod("unset", "Running", true, 0, now_ - 1s, now_ - 1s);
  EXPECT_TRUE(delete_before(negative, unset, now_));
}

TEST_F(DeleteBeforeTable, InvalidCostsCountAsZero) {
  // As upstream's Less ignores GetDeletionCostFromPodAnnotations' error (the value is then 0).
  auto unset = pod("unset", "Running", true, 0, now_, now_);
  for (const char* bad : {"+10", "008", "abc", "", "2147483648", "-2147483649", "1e3", " 1", "-"}) {
    auto p = pod("bad", "Running", true, 0, now_, now_, cost(bad));
    EXPECT_FALSE(delete_before(p, unset, now_)) << bad;
    EXPECT_FALSE(delete_before(unset, p, now_)) << bad;
    auto one = pod("one", "Running", true, 0, now_, now_, cost("1"));
    EXPECT_TRUE(delete_before(p, one, now_)) << bad;
  }
}

TEST(DeletionCost, ParsesAsGetDeletionCostFromPodAnnotations) {
  struct Case {
    const char* value;
    std::optional<std::int32_t> want;  // nullopt: an error
  };
  for (const Case& c : std::vector<Case>{{"0", 0},
                                         {"10", 10},
                                         {"-10", -10},
                                         {"-0", 0},
                                         {"-008", -8},  // ParseInt takes it after a '-'
                                         {"2147483647", 2147483647},
                                         {"-2147483648", -2147483647 - 1},
                                         {"2147483648", std::nullopt},
                                         {"99999999999999999999", std::nullopt},
                                         {"+10", std::nullopt},
                                         {"008", std::nullopt},
                                         {"00", std::nullopt},
                                         {"", std::nullopt},
                                         {"-", std::nullopt},
                                         {"1.5", std::nullopt},
                                         {"10 ", std::nullopt}}) {
    auto got = kube::pod_deletion_cost({{kube::kPodDeletionCost, c.value}});
    if (c.want) {
      ASSERT_TRUE(got) << c.value << ": " << got.error().message;
      EXPECT_EQ(*got, *c.want) << c.value;
    } else {
      ASSERT_FALSE(got) << c.value;
      EXPECT_EQ(got.error().message, std::string("invalid value \"") + c.value + "\"");
    }
  }
  EXPECT_EQ(kube::pod_deletion_cost({}).value(), 0);
  EXPECT_EQ(kube::pod_deletion_cost({{"other", "5"}}).value(), 0);
}

TEST_F(FleetTest, DeletionCostPicksTheVictimAndShowsInThePod) {
  make(make_spec("periodSeconds: 1", 3));
  listener_.drain_at_once = true;
  fleet_->start();
  std::vector<std::string> all = names();
  ASSERT_EQ(all.size(), 3u);
  for (const auto& n : all) set_healthy(n, true);
  clock_.advance(5s);
  // Without costs the three are alike but for their UIDs; costs decide: the cheapest goes.
  ASSERT_TRUE(fleet_->set_deletion_cost(all[0], 30));
  ASSERT_TRUE(fleet_->set_deletion_cost(all[1], -7));
  ASSERT_TRUE(fleet_->set_deletion_cost(all[2], 20));
  EXPECT_EQ(pod(all[1])->metadata.annotations.at(kube::kPodDeletionCost), "-7");
  int hook_calls = 0;
  std::size_t terminating_seen = 0;
  fleet_->set_before_scale_down([&] {
    ++hook_calls;
    for (const auto& p : fleet_->pods()) terminating_seen += p.metadata.deletion_timestamp ? 1 : 0;
  });
  ASSERT_TRUE(fleet_->set_replicas(2));
  EXPECT_EQ(hook_calls, 1);
  EXPECT_EQ(terminating_seen, 0u);  // called before any victim is chosen
  EXPECT_TRUE(pod(all[1])->metadata.deletion_timestamp);
  EXPECT_FALSE(pod(all[0])->metadata.deletion_timestamp);
  // The hook may set costs that this very scale-down uses.
  fleet_->set_before_scale_down([&] { ASSERT_TRUE(fleet_->set_deletion_cost(all[0], 0)); });
  ASSERT_TRUE(fleet_->set_replicas(1));
  EXPECT_TRUE(pod(all[0])->metadata.deletion_timestamp);
  EXPECT_FALSE(pod(all[2])->metadata.deletion_timestamp);
  // Own annotations hide the template's and can be removed; unknown pods are NotFound.
  ASSERT_TRUE(fleet_->annotate_pod(all[2], "note", "x"));
  EXPECT_EQ(pod(all[2])->metadata.annotations.at("note"), "x");
  ASSERT_TRUE(fleet_->annotate_pod(all[2], "note", std::nullopt));
  EXPECT_EQ(pod(all[2])->metadata.annotations.count("note"), 0u);
  auto missing = fleet_->set_deletion_cost("nope", 1);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, core::ErrorCode::kNotFound);
}

TEST_F(FleetTest, CrashRestartsWithCrashLoopBackOff) {
  make(make_spec("periodSeconds: 1"));
  fleet_->start();
  std::string name = names()[0];
  set_healthy(name, true);
  clock_.advance(1s);
  ASSERT_TRUE(ready(name));
  std::vector<core::Duration> delays;
  for (int crash = 0; crash < 7; ++crash) {
    auto process = launcher_.processes.back();
    process->exit = ExitStatus{1, 0};
    clock_.advance(100ms);  // the exit is seen: not ready at once, still Running
    EXPECT_FALSE(ready(name));
    EXPECT_FALSE(endpoint(name).ready);
    EXPECT_EQ(pod(name)->phase, "Running");
    EXPECT_EQ(pod(name)->container_statuses[0].waiting_reason, "CrashLoopBackOff");
    core::Time exited = clock_.now();
    std::size_t launched = launcher_.processes.size();
    while (launcher_.processes.size() == launched) clock_.advance(100ms);
    delays.push_back(clock_.now() - exited);
    EXPECT_EQ(pod(name)->container_statuses[0].restart_count, crash + 1);
  }
  EXPECT_EQ(delays, (std::vector<core::Duration>{10s, 20s, 40s, 80s, 160s, 300s, 300s}));
  // After 10 minutes of running, the back-off starts over.
  clock_.advance(600s);
  EXPECT_TRUE(ready(name));
  launcher_.processes.back()->exit = ExitStatus{137, 9};
  clock_.advance(100ms);
  core::Time exited = clock_.now();
  std::size_t launched = launcher_.processes.size();
  while (launcher_.processes.size() == launched) clock_.advance(100ms);
  EXPECT_EQ(clock_.now() - exited, 10s);
}

TEST_F(FleetTest, LaunchFailureRetriesWithBackOff) {
  make(make_spec());
  launcher_.fail_next = 2;
  fleet_->start();
  EXPECT_EQ(fleet_->pods()[0].phase, "Pending");
  EXPECT_EQ(launcher_.processes.size(), 0u);
  clock_.advance(10s);  // second failure
  EXPECT_EQ(launcher_.processes.size(), 0u);
  clock_.advance(20s);
  EXPECT_EQ(launcher_.processes.size(), 1u);
  EXPECT_EQ(fleet_->pods()[0].container_statuses[0].restart_count, 2);
}

// `up` resyncs discovery and the API on on_changed instead of polling: every change of what
// pods() and endpoints() show must be signalled. Walks a pod through creation, start, readiness,
// a crash and restart, an annotation, a scale-down with drain, and removal, comparing what the
// fleet shows at each 100 ms step with the signals seen.
TEST_F(FleetTest, EveryVisibleChangeIsSignalled) {
  make(make_spec("periodSeconds: 1", 2, 3));
  auto shown = [this] {
    std::string out;
    for (const kube::Pod& p : fleet_->pods()) {
      out += p.metadata.name + " " + p.phase + " " + p.pod_ip + " " + p.ready_condition()->status +
             " " + (p.metadata.deletion_timestamp ? "T" : "-");
      for (const auto& [k, v] : p.metadata.annotations) out += " " + k + "=" + v;
      for (const auto& c : p.container_statuses)
        out += " " + std::to_string(c.restart_count) + c.waiting_reason;
      out += "\n";
    }
    for (const Endpoint& e : fleet_->endpoints())
      out += e.pod + std::to_string(e.api_port) + (e.ready ? "R" : "-") +
             (e.terminating ? "T" : "-") + "\n";
    return out;
  };
  std::string before = shown();
  int signalled = listener_.changes;
  int steps_with_changes = 0;
  auto check = [&](const std::string& what) {
    std::string now = shown();
    if (now != before) {
      ++steps_with_changes;
      EXPECT_GT(listener_.changes, signalled) << what << ": unsignalled change\n"
                                              << before << "->\n"
                                              << now;
    }
    before = now;
    signalled = listener_.changes;
  };
  auto run = [&](core::Duration d, const std::string& what) {
    for (core::Duration t{}; t < d; t += 100ms) {
      clock_.advance(100ms);
      check(what);
    }
  };
  fleet_->start();
  check("start");
  std::vector<std::string> all = names();
  ASSERT_EQ(all.size(), 2u);
  run(1s, "running");
  for (const auto& n : all) set_healthy(n, true);
  run(3s, "ready");
  launcher_.latest(all[0])->exit = ExitStatus{1, 0};
  run(15s, "crash and restart");
  set_healthy(all[0], true);
  run(3s, "ready again");
  ASSERT_TRUE(fleet_->set_deletion_cost(all[1], 5));
  check("annotated");
  ASSERT_TRUE(fleet_->set_deletion_cost(all[1], 5));  // the same value: nothing to signal
  EXPECT_EQ(listener_.changes, signalled);
  listener_.drain_at_once = true;
  ASSERT_TRUE(fleet_->set_replicas(1));
  check("scale down");
  run(5s, "drained and removed");
  EXPECT_EQ(fleet_->pods().size(), 1u);
  EXPECT_GE(steps_with_changes, 6);
}

TEST_F(FleetTest, DrainThenSigtermThenSigkill) {
  make(make_spec("periodSeconds: 1", 2, 30));
  launcher_.exit_on_sigterm = false;  // a server that ignores SIGTERM
  fleet_->start();
  clock_.advance(1s);
  ASSERT_TRUE(fleet_->set_replicas(1));
  ASSERT_EQ(listener_.pending.size(), 1u);
  std::string victim = listener_.pending.begin()->first;
  auto process = launcher_.latest(victim);
  EXPECT_TRUE(endpoint(victim).terminating);
  EXPECT_FALSE(endpoint(victim).ready);
  clock_.advance(5s);
  EXPECT_TRUE(process->signals.empty());  // still draining
  listener_.pending.begin()->second();    // in-flight requests finished at 5 s
  EXPECT_EQ(process->signals, std::vector<int>{SIGTERM});
  clock_.advance(24s);  // the rest of the grace: 30 - 5 = 25 s
  EXPECT_EQ(process->signals, std::vector<int>{SIGTERM});
  clock_.advance(1s);
  EXPECT_EQ(process->signals, (std::vector<int>{SIGTERM, SIGKILL}));
  clock_.advance(100ms);
  EXPECT_EQ(fleet_->pods().size(), 1u);
  EXPECT_EQ(listener_.events.back(), "removed " + victim);
}

TEST_F(FleetTest, GraceExpiryWithoutDrainSendsSigtermThenSigkillAfterTwoSeconds) {
  make(make_spec("periodSeconds: 1", 2, 30));
  launcher_.exit_on_sigterm = false;
  fleet_->start();
  clock_.advance(1s);
  ASSERT_TRUE(fleet_->set_replicas(1));
  std::string victim = listener_.pending.begin()->first;
  auto process = launcher_.latest(victim);
  clock_.advance(29s);
  EXPECT_TRUE(process->signals.empty());
  clock_.advance(1s);  // grace over: SIGTERM, then the kubelet's minimum 2 s
  EXPECT_EQ(process->signals, std::vector<int>{SIGTERM});
  clock_.advance(1900ms);
  EXPECT_EQ(process->signals, std::vector<int>{SIGTERM});
  clock_.advance(100ms);
  EXPECT_EQ(process->signals, (std::vector<int>{SIGTERM, SIGKILL}));
  // A drain reported late changes nothing.
  listener_.pending.begin()->second();
  EXPECT_EQ(process->signals.size(), 2u);
}

TEST_F(FleetTest, PodInBackOffTerminatesAtOnce) {
  make(make_spec("periodSeconds: 1", 2));
  listener_.drain_at_once = true;
  fleet_->start();
  clock_.advance(1s);
  for (auto& p : launcher_.processes) p->exit = ExitStatus{1, 0};
  clock_.advance(100ms);
  ASSERT_TRUE(fleet_->set_replicas(0));
  EXPECT_TRUE(fleet_->pods().empty());
  clock_.advance(60s);
  EXPECT_EQ(launcher_.processes.size(), 2u);  // no restart after termination
}

TEST_F(FleetTest, ShutdownDrainsEverythingAndRefusesScaling) {
  make(make_spec("periodSeconds: 1", 3));
  fleet_->start();
  clock_.advance(1s);
  bool done = false;
  fleet_->shutdown([&] { done = true; });
  EXPECT_FALSE(fleet_->set_replicas(5));
  EXPECT_EQ(listener_.pending.size(), 3u);
  for (auto& [name, drained] : listener_.pending) drained();
  EXPECT_FALSE(done);
  clock_.advance(200ms);
  EXPECT_TRUE(done);
  EXPECT_TRUE(fleet_->pods().empty());
  EXPECT_EQ(launcher_.alive(), 0u);
}

TEST_F(FleetTest, KillAllAndDestructorLeaveNoProcess) {
  make(make_spec("periodSeconds: 1", 2));
  fleet_->start();
  fleet_->kill_all();
  EXPECT_TRUE(fleet_->pods().empty());
  fleet_.reset();
  EXPECT_EQ(launcher_.alive(), 0u);  // the fake handles were destroyed with their pods
}

// Issue 11 item 9: `replicas: 100000` spawned every process before the event loop ran (2,411 in
// 30 s, signals unanswered). Now pods come in bursts on the clock, and the cap is enforced.
TEST_F(FleetTest, PodsAreCreatedInBurstsOnTheClock) {
  make(make_spec("periodSeconds: 10", 20), [](FleetOptions& o) {
    o.creation_burst = 8;
    o.creation_interval = 500ms;
  });
  fleet_->start();
  EXPECT_EQ(launcher_.processes.size(), 8u);  // start() returns after one burst
  EXPECT_EQ(fleet_->get_scale()->spec_replicas, 20);
  EXPECT_EQ(fleet_->get_scale()->status_replicas, 8);
  clock_.advance(499ms);
  EXPECT_EQ(launcher_.processes.size(), 8u);
  clock_.advance(1ms);
  EXPECT_EQ(launcher_.processes.size(), 16u);
  // A scale-up meanwhile does not start a second timer or a burst of its own.
  ASSERT_TRUE(fleet_->set_replicas(30));
  EXPECT_EQ(launcher_.processes.size(), 16u);
  clock_.advance(500ms);
  EXPECT_EQ(launcher_.processes.size(), 24u);
  clock_.advance(500ms);
  EXPECT_EQ(launcher_.processes.size(), 30u);
  clock_.advance(5s);
  EXPECT_EQ(launcher_.processes.size(), 30u);
}

TEST_F(FleetTest, ShutdownStopsPendingCreations) {
  listener_.drain_at_once = true;
  make(make_spec("periodSeconds: 10", 20), [](FleetOptions& o) { o.creation_burst = 4; });
  fleet_->start();
  EXPECT_EQ(launcher_.processes.size(), 4u);
  bool done = false;
  fleet_->shutdown([&] { done = true; });
  clock_.advance(10s);
  EXPECT_TRUE(done);
  EXPECT_EQ(launcher_.processes.size(), 4u);
  EXPECT_EQ(launcher_.alive(), 0u);
}

TEST_F(FleetTest, ReplicasAboveTheCapAreRefused) {
  make(make_spec(), [](FleetOptions& o) { o.max_replicas = 4; });
  fleet_->start();
  auto refused = fleet_->set_replicas(5);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(refused.error().message,
            "replicas: must be less than or equal to 4 (--max-replicas), got 5");
  EXPECT_TRUE(fleet_->set_replicas(4));
  EXPECT_EQ(fleet_->get_scale()->spec_replicas, 4);
}

// Issue 11 item 14b: a crash loop shows why, once per reason, and in the container status.
class CrashReportListener final : public FleetListener {
 public:
  void on_crash_loop(const CrashReport& report) override { reports.push_back(report); }
  std::vector<CrashReport> reports;
};

TEST_F(FleetTest, CrashLoopReportsTheLogTailOncePerReasonAndInTheContainerStatus) {
  std::string dir = ::testing::TempDir() + "/llmscale-fleet-crash-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  make(make_spec(), [&](FleetOptions& o) { o.log_dir = dir; });
  CrashReportListener crashes;
  fleet_->add_listener(&crashes);
  fleet_->start();
  std::string name = names()[0];
  std::string log = dir + "/" + name + ".log";
  EXPECT_EQ(launcher_.processes.back()->spec.log_path, log);
  auto crash = [&](const std::string& output, ExitStatus status) {
    std::ofstream(log, std::ios::app) << output;
    launcher_.processes.back()->exit = status;
    clock_.advance(100ms);
  };
  crash("loading weights\nError: CUDA out of memory at 12:00:01\n", ExitStatus{1, 0});
  ASSERT_EQ(crashes.reports.size(), 1u);
  const CrashReport& first = crashes.reports[0];
  EXPECT_EQ(first.pod, name);
  EXPECT_EQ(first.status.exit_code, 1);
  EXPECT_EQ(first.log_path, log);
  EXPECT_EQ(first.backoff, 10s);
  EXPECT_EQ(first.log_tail,
            (std::vector<std::string>{"loading weights", "Error: CUDA out of memory at 12:00:01"}));
  kube::ContainerStatus status = pod(name)->container_statuses[0];
  EXPECT_EQ(status.waiting_reason, "CrashLoopBackOff");
  EXPECT_EQ(status.waiting_message, "back-off 10s restarting failed container=meta-llama3-8b pod=" +
                                        name + "_default(" + pod(name)->metadata.uid + ")");
  EXPECT_EQ(status.last_exit_code, 1);
  EXPECT_EQ(status.last_terminated_reason, "Error");
  EXPECT_EQ(status.last_terminated_message,
            "loading weights\nError: CUDA out of memory at 12:00:01");
  EXPECT_EQ(status.last_terminated_at, clock_.now());
  // The JSON a client reads (get pods -o yaml).
  core::Json json = kube::encode_pod(*pod(name));
  const core::Json& cs = json["status"]["containerStatuses"][0];
  EXPECT_EQ(cs["state"]["waiting"]["message"], status.waiting_message);
  EXPECT_EQ(cs["lastState"]["terminated"]["exitCode"], 1);
  EXPECT_EQ(cs["lastState"]["terminated"]["reason"], "Error");
  EXPECT_EQ(cs["lastState"]["terminated"]["message"], status.last_terminated_message);

  // The same failure again (another timestamp): restarted, not reported again. Only this run's
  // output is the message.
  clock_.advance(10s);
  crash("loading weights\nError: CUDA out of memory at 12:00:13\n", ExitStatus{1, 0});
  EXPECT_EQ(crashes.reports.size(), 1u);
  EXPECT_EQ(pod(name)->container_statuses[0].last_terminated_message,
            "loading weights\nError: CUDA out of memory at 12:00:13");
  EXPECT_EQ(pod(name)->container_statuses[0].restart_count, 1);
  // A new reason is reported.
  clock_.advance(20s);
  crash("Address already in use\n", ExitStatus{137, 9});
  ASSERT_EQ(crashes.reports.size(), 2u);
  EXPECT_EQ(crashes.reports[1].log_tail, std::vector<std::string>{"Address already in use"});
  EXPECT_EQ(crashes.reports[1].backoff, 40s);
  status = pod(name)->container_statuses[0];
  EXPECT_EQ(status.last_exit_code, 137);
  EXPECT_EQ(status.last_signal, 9);
  EXPECT_EQ(kube::encode_pod(
                *pod(name))["status"]["containerStatuses"][0]["lastState"]["terminated"]["signal"],
            9);
  std::filesystem::remove_all(dir);
}

TEST_F(FleetTest, CrashLogTailKeepsTheLast2048BytesInWholeLines) {
  std::string dir = ::testing::TempDir() + "/llmscale-fleet-tail-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  make(make_spec(), [&](FleetOptions& o) { o.log_dir = dir; });
  CrashReportListener crashes;
  fleet_->add_listener(&crashes);
  fleet_->start();
  std::string log = dir + "/" + names()[0] + ".log";
  {
    std::ofstream out(log, std::ios::app);
    for (int i = 0; i < 300; ++i) out << "line " << i << " " << std::string(20, 'x') << "\n";
  }
  launcher_.processes.back()->exit = ExitStatus{2, 0};
  clock_.advance(100ms);
  ASSERT_EQ(crashes.reports.size(), 1u);
  const auto& tail = crashes.reports[0].log_tail;
  EXPECT_LE(tail.size(), 80u);
  EXPECT_EQ(tail.back(), "line 299 " + std::string(20, 'x'));
  EXPECT_EQ(tail.front().rfind("line ", 0), 0u);  // whole lines only
  EXPECT_LE(core::join(tail, "\n").size(), 2048u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace llmscale::fleet
