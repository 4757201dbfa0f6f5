// RestClient and Informer against the embedded API server on loopback (real sockets, real time,
// every wait bounded): typed calls and their errors (404, 409 on a stale resourceVersion, 410 on
// a compacted watch), 429/503 with Retry-After, a token that rotates, and the informer's list,
// watch, bookmarks, relist after 410 and re-watch after a broken stream.
#include "kubeclient/rest_client.h"

#include <gtest/gtest.h>

#include <chrono>

#include "kubeclient/informer.h"
#include "kubeclient/leader_election.h"
#include "loopback_api.h"
#include "support/process.h"

namespace llmscale::kubeclient {
namespace {

using core::Json;
using testing::Fault;
using testing::LoopbackApi;
using testing::status_fault;
using testing::watch_fault;
using namespace std::chrono_literals;

Json deployment(const std::string& name, int replicas = 1) {
  return Json{
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", {{"name", name}, {"labels", {{"app", name}}}}},
      {"spec",
       {{"replicas", replicas},
        {"selector", {{"matchLabels", {{"app", name}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", name}}}}},
          {"spec", {{"containers", Json::array({{{"name", "server"}, {"image", "vllm"}}})}}}}}}}};
}

template <class T>
T run(net::EventLoop& loop, net::Awaitable<T> task) {
  std::optional<T> result;
  auto wrapper = [](net::Awaitable<T> inner, std::optional<T>* out) -> net::Awaitable<void> {
    out->emplace(co_await std::move(inner));
  };
  EXPECT_TRUE(loop.block_on(wrapper(std::move(task), &result), 30s));
  return std::move(*result);
}

class RestClientTest : public ::testing::Test {
 protected:
  // Lets the server see closed watches and finish their handlers, so nothing is left suspended
  // when the loop goes away.
  void TearDown() override {
    loop_.run_until([] { return false; }, 300ms);
  }

  apiserver::ApiServerOptions server_options() {
    apiserver::ApiServerOptions options;
    options.bookmark_interval = 200ms;
    return options;
  }
  RestClientOptions client_options() {
    RestClientOptions options;
    options.qps = 100;
    options.burst = 100;
    return options;
  }

  net::EventLoop loop_;
  LoopbackApi api_{loop_, server_options(), 8};
  RestClient client_{loop_, loop_.clock(), api_.rest_config(), client_options()};
};

TEST_F(RestClientTest, TypedCallsAndApiErrors) {
  auto created = run(loop_, client_.create(deployments_resource(), "default", deployment("llm")));
  ASSERT_TRUE(created) << created.error().to_string();
  EXPECT_EQ((*created)["metadata"]["namespace"], "default");

  auto got = run(loop_, client_.get(deployments_resource(), "default", "llm"));
  ASSERT_TRUE(got);
  auto missing = run(loop_, client_.get(deployments_resource(), "default", "nope"));
  ASSERT_FALSE(missing);
  EXPECT_TRUE(missing.error().not_found());
  EXPECT_EQ(missing.error().error().code, core::ErrorCode::kNotFound);
  auto again = run(loop_, client_.create(deployments_resource(), "default", deployment("llm")));
  ASSERT_FALSE(again);
  EXPECT_TRUE(again.error().already_exists());

  // Optimistic concurrency: the second writer with the same resourceVersion gets 409 Conflict.
  Json first = *got;
  first["spec"]["replicas"] = 2;
  ASSERT_TRUE(run(loop_, client_.update(deployments_resource(), "default", first)));
  Json stale = *got;
  stale["spec"]["replicas"] = 3;
  auto conflict = run(loop_, client_.update(deployments_resource(), "default", stale));
  ASSERT_FALSE(conflict);
  EXPECT_TRUE(conflict.error().conflict()) << conflict.error().to_string();

  // The scale subresource.
  auto scale = run(loop_, client_.get(deployments_resource(), "default", "llm", "scale"));
  ASSERT_TRUE(scale) << scale.error().to_string();
  EXPECT_EQ((*scale)["kind"], "Scale");
  EXPECT_EQ((*scale)["spec"]["replicas"], 2);
  auto patched =
      run(loop_, client_.patch(deployments_resource(), "default", "llm", PatchType::kMerge,
                               R"({"spec":{"replicas":4}})", "scale"));
  ASSERT_TRUE(patched) << patched.error().to_string();
  EXPECT_EQ((*patched)["spec"]["replicas"], 4);

  ListOptions by_label;
  by_label.label_selector = "app=llm";
  auto list = run(loop_, client_.list(deployments_resource(), "default", by_label));
  ASSERT_TRUE(list);
  ASSERT_EQ((*list)["items"].size(), 1u);
  EXPECT_EQ((*list)["items"][0]["spec"]["replicas"], 4);
  std::string list_rv = (*list)["metadata"]["resourceVersion"];

  // A watch from a version older than the server's history: an ERROR event, 410 Expired.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(
        run(loop_, client_.patch(deployments_resource(), "default", "llm", PatchType::kMerge,
                                 R"({"metadata":{"labels":{"n":")" + std::to_string(i) + "\"}}}")));
  }
  WatchOptions watch_options;
  watch_options.resource_version = list_rv;
  auto stream = run(loop_, client_.watch(deployments_resource(), "default", watch_options));
  ASSERT_TRUE(stream) << stream.error().to_string();
  auto event = run(loop_, stream->next());
  ASSERT_FALSE(event);
  EXPECT_TRUE(event.error().gone()) << event.error().to_string();

  ASSERT_TRUE(run(loop_, client_.remove(deployments_resource(), "default", "llm")));
  EXPECT_EQ(client_.stats().requests_by_verb.at("update"), 2u);
}

TEST_F(RestClientTest, RetryAfterOn429And503) {
  ASSERT_TRUE(run(loop_, client_.create(deployments_resource(), "default", deployment("llm"))));
  api_.faults.push_back(status_fault(429, "1"));
  api_.faults.push_back(status_fault(503, "0"));
  auto started = std::chrono::steady_clock::now();
  auto got = run(loop_, client_.get(deployments_resource(), "default", "llm"));
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_EQ(client_.stats().retries, 2u);
  EXPECT_GE(took, 1s);  // Retry-After: 1 was honoured
  EXPECT_LT(took, 10s);

  // Without Retry-After a 429 is the answer (client-go retries only with the header).
  api_.faults.push_back(status_fault(429));
  auto refused = run(loop_, client_.get(deployments_resource(), "default", "llm"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().status, 429);
  EXPECT_EQ(refused.error().reason, "TooManyRequests");
}

TEST_F(RestClientTest, RotatedTokenIsReReadAfter401) {
  llmscale::testing::TempDir dir;
  std::string file = dir.write("token", "old");
  RestConfig config = api_.rest_config();
  config.bearer_token = "old";
  config.bearer_token_file = file;
  RestClient client(loop_, loop_.clock(), config, client_options());
  ASSERT_TRUE(run(loop_, client.list(deployments_resource(), "default")));
  // The token rotates: the server now wants the new one; the file has it.
  dir.write("token", "new\n");
  api_.required_token = "new";
  auto refused = run(loop_, client.list(deployments_resource(), "default"));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().status, 401);
  auto accepted = run(loop_, client.list(deployments_resource(), "default"));
  ASSERT_TRUE(accepted) << accepted.error().to_string();
  EXPECT_EQ(api_.authorizations.back(), "Bearer new");
}

class InformerTest : public RestClientTest {
 protected:
  bool wait_for(const std::function<bool()>& done) { return loop_.run_until(done, 20s); }
  InformerOptions informer_options() {
    InformerOptions options;
    options.namespace_name = "default";
    options.backoff_initial = 50ms;
    return options;
  }
  void stop(Informer& informer) {
    informer.stop();
    EXPECT_TRUE(wait_for([&] { return !informer.running(); }));
  }
};

TEST_F(InformerTest, ListThenWatchWithBookmarks) {
  ASSERT_TRUE(run(loop_, client_.create(deployments_resource(), "default", deployment("a"))));
  ASSERT_TRUE(run(loop_, client_.create(deployments_resource(), "default", deployment("b"))));
  std::vector<std::string> seen;
  InformerHandlers handlers;
  handlers.on_add = [&](const Json& o) {
    seen.push_back("add " + o["metadata"]["name"].get<std::string>());
  };
  handlers.on_update = [&](const Json&, const Json& o) {
    seen.push_back("update " + o["metadata"]["name"].get<std::string>());
  };
  handlers.on_delete = [&](const Json& o) {
    seen.push_back("delete " + o["metadata"]["name"].get<std::string>());
  };
  Informer informer(client_, deployments_resource(), informer_options(), handlers);
  informer.start(loop_);
  ASSERT_TRUE(wait_for([&] { return informer.has_synced() && informer.items().size() == 2; }));
  // Kubernetes: the first list reads the watch cache (resourceVersion=0).
  EXPECT_NE(api_.requests[2].find("resourceVersion=0"), std::string::npos) << api_.requests[2];

  ASSERT_TRUE(run(loop_, client_.create(deployments_resource(), "default", deployment("c"))));
  ASSERT_TRUE(run(loop_, client_.patch(deployments_resource(), "default", "a", PatchType::kMerge,
                                       R"({"spec":{"replicas":3}})")));
  ASSERT_TRUE(run(loop_, client_.remove(deployments_resource(), "default", "b")));
  ASSERT_TRUE(wait_for([&] { return seen.size() == 5; }));
  EXPECT_EQ(seen, (std::vector<std::string>{"add a", "add b", "add c", "update a", "delete b"}));
  EXPECT_EQ((*informer.get("default", "a"))["spec"]["replicas"], 3);
  EXPECT_EQ(informer.get("default", "b"), nullptr);

  // Bookmarks advance the version without events.
  ASSERT_TRUE(wait_for([&] { return informer.stats().bookmarks >= 2; }));
  EXPECT_EQ(informer.stats().lists, 1u);
  EXPECT_EQ(informer.stats().watches, 1u);
  stop(informer);
}

TEST_F(InformerTest, RelistsAfterGoneWithAConsistentRead) {
  ASSERT_TRUE(run(loop_, client_.create(deployments_resource(), "default", deployment("a"))));
  Informer informer(client_, deployments_resource(), informer_options());
  api_.faults.push_back(watch_fault(Fault::Kind::kWatchGone));
  informer.start(loop_);
  ASSERT_TRUE(wait_for([&] { return informer.stats().lists == 2; }));
  EXPECT_EQ(informer.stats().gone, 1u);
  // The relist after 410 asks for the latest state (no resourceVersion).
  std::vector<std::string> lists;
  for (const std::string& r : api_.requests) {
    if (r.find("/deployments") != std::string::npos && r.find("watch=true") == std::string::npos &&
        r.rfind("GET", 0) == 0)
      lists.push_back(r);
  }
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_NE(lists[0].find("resourceVersion=0"), std::string::npos);
  EXPECT_EQ(lists[1].find("resourceVersion="), std::string::npos) << lists[1];
  ASSERT_TRUE(run(loop_, client_.create(deployments_resource(), "default", deployment("b"))));
  ASSERT_TRUE(wait_for([&] { return informer.items().size() == 2; }));
  stop(informer);
}

TEST_F(InformerTest, BrokenWatchIsReopenedWithoutRelisting) {
  Informer informer(client_, deployments_resource(), informer_options());
  api_.faults.push_back(watch_fault(Fault::Kind::kWatchDrop));
  informer.start(loop_);
  ASSERT_TRUE(wait_for([&] { return informer.stats().watches >= 2; }));
  EXPECT_EQ(informer.stats().watch_breaks, 1u);
  EXPECT_EQ(informer.stats().lists, 1u);
  ASSERT_TRUE(run(loop_, client_.create(deployments_resource(), "default", deployment("late"))));
  ASSERT_TRUE(wait_for([&] { return informer.get("default", "late") != nullptr; }));
  stop(informer);
}

TEST_F(InformerTest, ListFailuresBackOffAndRecover) {
  api_.faults.push_back(status_fault(500));
  api_.faults.push_back(status_fault(500));
  Informer informer(client_, deployments_resource(), informer_options());
  informer.start(loop_);
  ASSERT_TRUE(wait_for([&] { return informer.has_synced(); }));
  EXPECT_EQ(informer.stats().failures, 2u);
  EXPECT_EQ(informer.stats().lists, 1u);
  stop(informer);
}

// Two electors on real Leases through the API (short timings): one leads, and after it stops
// (releasing the Lease) the other takes over; the Lease object says so.
TEST_F(RestClientTest, TwoElectorsOnALease) {
  ApiLeaseLock lock_a(client_, "default", "llmscale-controller");
  RestClient client_b(loop_, loop_.clock(), api_.rest_config(), client_options());
  ApiLeaseLock lock_b(client_b, "default", "llmscale-controller");
  LeaderElectionConfig config;
  config.lease_duration = 3s;
  config.renew_deadline = 2s;
  config.retry_period = 200ms;
  config.identity = "a";
  auto a = LeaderElector::create(lock_a, loop_.clock(), config, {});
  config.identity = "b";
  auto b = LeaderElector::create(lock_b, loop_.clock(), config, {});
  ASSERT_TRUE(a && b);
  (*a)->start(loop_);
  ASSERT_TRUE(loop_.run_until([&] { return (*a)->leading(); }, 10s));
  (*b)->start(loop_);
  loop_.run_until([] { return false; }, 1s);
  EXPECT_TRUE((*a)->leading());
  EXPECT_FALSE((*b)->leading());
  (*a)->stop();
  ASSERT_TRUE(loop_.run_until([&] { return (*b)->leading() && !(*a)->running(); }, 10s));
  auto lease = run(loop_, client_.get(leases_resource(), "default", "llmscale-controller"));
  ASSERT_TRUE(lease);
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "b");
  EXPECT_EQ((*lease)["spec"]["leaseTransitions"], 1);
  (*b)->stop();
  ASSERT_TRUE(loop_.run_until([&] { return !(*b)->running(); }, 10s));
}

}  // namespace
}  // namespace llmscale::kubeclient
