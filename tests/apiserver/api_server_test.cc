// The embedded API server's HTTP surface, handler by handler on a simulated clock: discovery,
// create/get/list/update/patch/delete with the API server's status bodies, subresources,
// server-side tables, and watches (initial state, resume, 410, bookmarks, timeout).
#include "apiserver/api_server.h"
#include "apiserver/hpa_v1.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "net/event_loop.h"
#include "net/recording_writer.h"

namespace llmscale::apiserver {
namespace {

using core::Json;
using namespace std::chrono_literals;

constexpr const char* kHpaPath = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers";
constexpr const char* kDeployPath = "/apis/apps/v1/namespaces/default/deployments";

const char* kHpa = R"({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler",
  "metadata":{"name":"gpu-hpa"},
  "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"llm"},
          "minReplicas":1,"maxReplicas":5,
          "metrics":[{"type":"Pods","pods":{"metric":{"name":"gpu_cache_usage_perc"},
                      "target":{"type":"AverageValue","averageValue":"100m"}}}]}})";

const char* kDeployment = R"({"apiVersion":"apps/v1","kind":"Deployment",
  "metadata":{"name":"llm","labels":{"app":"llm"}},
  "spec":{"replicas":1,"selector":{"matchLabels":{"app":"llm"}},
          "template":{"metadata":{"labels":{"app":"llm"}},
                      "spec":{"containers":[{"name":"server","image":"vllm/vllm-openai:v0.6"}]}}}})";

ApiServerOptions test_options() {
  ApiServerOptions options;
  options.bookmark_interval = 10s;
  return options;
}

class ApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ResourceType* ns = api_.find("", "namespaces");
    ASSERT_NE(ns, nullptr);
    ASSERT_TRUE(api_.create(*ns, Json{{"metadata", {{"name", "default"}}}}));
  }

  struct Answer {
    int status = 0;
    Json body;
    std::string text;
    std::string content_type;
  };

  Answer call(const std::string& method, const std::string& target, const std::string& body = "",
              const std::string& content_type = "application/json",
              const std::string& accept = "application/json") {
    net::ServerRequest request;
    request.method = method;
    EXPECT_TRUE(request.set_target(target));
    request.body = body;
    request.headers.set("Content-Type", content_type);
    request.headers.set("Accept", accept);
    request.headers.set("Host", "127.0.0.1:9190");
    net::RecordingResponseWriter writer;
    EXPECT_TRUE(loop_.block_on(api_.serve(request, writer), 5s));
    Answer answer;
    answer.status = writer.status();
    answer.text = writer.body();
    answer.content_type = std::string(writer.headers().value("Content-Type"));
    answer.body = Json::parse(answer.text, nullptr, /*allow_exceptions=*/false);
    return answer;
  }

  core::SimulatedClock clock_;
  Store store_{clock_, 100};
  ApiServer api_{store_, clock_, builtin_resources(), test_options()};
  net::EventLoop loop_;
};

TEST_F(ApiServerTest, Discovery) {
  Answer version = call("GET", "/version");
  EXPECT_EQ(version.status, 200);
  EXPECT_EQ(version.body["major"], "1");
  EXPECT_EQ(version.body["minor"], "37");

  Answer api = call("GET", "/api");
  EXPECT_EQ(api.body["kind"], "APIVersions");
  EXPECT_EQ(api.body["versions"], Json::array({"v1"}));
  EXPECT_EQ(api.body["serverAddressByClientCIDRs"][0]["serverAddress"], "127.0.0.1:9190");

  Answer apis = call("GET", "/apis");
  EXPECT_EQ(apis.body["kind"], "APIGroupList");
  std::vector<std::string> groups;
  for (const Json& g : apis.body["groups"]) groups.push_back(g["name"]);
  EXPECT_EQ(groups, (std::vector<std::string>{"apps", "autoscaling", "coordination.k8s.io",
                                              "monitoring.googleapis.com", "events.k8s.io"}));

  Answer apps = call("GET", "/apis/apps/v1");
  EXPECT_EQ(apps.body["groupVersion"], "apps/v1");
  ASSERT_EQ(apps.body["resources"].size(), 3u);
  EXPECT_EQ(apps.body["resources"][0]["name"], "deployments");
  EXPECT_EQ(apps.body["resources"][0]["shortNames"], Json::array({"deploy"}));
  EXPECT_EQ(apps.body["resources"][1]["name"], "deployments/scale");
  EXPECT_EQ(apps.body["resources"][1]["kind"], "Scale");
  EXPECT_EQ(apps.body["resources"][1]["group"], "autoscaling");

  Answer missing = call("GET", "/apis/nope/v1");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body["message"], "the server could not find the requested resource");
}

TEST_F(ApiServerTest, CreateDefaultsAndValidatesHpas) {
  Answer created = call("POST", kHpaPath, kHpa);
  ASSERT_EQ(created.status, 201) << created.text;
  EXPECT_EQ(created.body["metadata"]["namespace"], "default");
  EXPECT_EQ(created.body["metadata"]["resourceVersion"], "2");
  // The API server's defaults: behavior stays absent when not given.
  EXPECT_FALSE(created.body["spec"].contains("behavior"));
  Json without_min = Json::parse(kHpa);
  without_min["metadata"]["name"] = "defaults";
  without_min["spec"].erase("minReplicas");
  without_min["spec"]["behavior"] = {{"scaleUp", {{"stabilizationWindowSeconds", 0}}}};
  Answer defaulted = call("POST", kHpaPath, without_min.dump());
  ASSERT_EQ(defaulted.status, 201) << defaulted.text;
  EXPECT_EQ(defaulted.body["spec"]["minReplicas"], 1);
  // GenerateHPAScaleDownRules: the window stays unset (the controller's flag decides).
  EXPECT_EQ(defaulted.body["spec"]["behavior"]["scaleDown"]["selectPolicy"], "Max");
  EXPECT_FALSE(
      defaulted.body["spec"]["behavior"]["scaleDown"].contains("stabilizationWindowSeconds"));

  Answer again = call("POST", kHpaPath, kHpa);
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.body["reason"], "AlreadyExists");

  Json bad = Json::parse(kHpa);
  bad["metadata"]["name"] = "bad";
  bad["spec"]["maxReplicas"] = 0;
  Answer invalid = call("POST", kHpaPath, bad.dump());
  EXPECT_EQ(invalid.status, 422);
  EXPECT_EQ(invalid.body["reason"], "Invalid");
  EXPECT_EQ(invalid.body["details"]["kind"], "HorizontalPodAutoscaler");
  EXPECT_EQ(invalid.body["details"]["group"], "autoscaling");
  EXPECT_EQ(invalid.body["details"]["causes"][0]["field"], "spec.maxReplicas");
  EXPECT_EQ(invalid.body["details"]["causes"][0]["reason"], "FieldValueInvalid");
  EXPECT_EQ(invalid.body["message"].get<std::string>().rfind(
                "HorizontalPodAutoscaler.autoscaling \"bad\" is invalid: [spec.maxReplicas: ", 0),
            0u)
      << invalid.body["message"];

  Json unknown = Json::parse(kHpa);
  unknown["metadata"]["name"] = "unknown";
  unknown["spec"]["surprise"] = 1;
  EXPECT_EQ(call("POST", std::string(kHpaPath) + "?fieldValidation=Strict", unknown.dump()).status,
            400);
  EXPECT_EQ(call("POST", kHpaPath, unknown.dump()).status, 201);

  Answer wrong_ns =
      call("POST", "/apis/autoscaling/v2/namespaces/prod/horizontalpodautoscalers", kHpa);
  EXPECT_EQ(wrong_ns.status, 404);
  EXPECT_EQ(wrong_ns.body["message"], "namespaces \"prod\" not found");
}

TEST_F(ApiServerTest, GetListSelectorsAndTables) {
  ASSERT_EQ(call("POST", kHpaPath, kHpa).status, 201);
  Answer missing = call("GET", std::string(kHpaPath) + "/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body["message"], "horizontalpodautoscalers.autoscaling \"nope\" not found");

  Answer list = call("GET", kHpaPath);
  EXPECT_EQ(list.body["kind"], "HorizontalPodAutoscalerList");
  EXPECT_EQ(list.body["metadata"]["resourceVersion"], "2");
  ASSERT_EQ(list.body["items"].size(), 1u);
  EXPECT_EQ(call("GET", std::string(kHpaPath) + "?fieldSelector=metadata.name%3Dother")
                .body["items"]
                .size(),
            0u);
  EXPECT_EQ(call("GET", std::string(kHpaPath) + "?fieldSelector=spec.x%3Dy").status, 400);
  EXPECT_EQ(call("GET", std::string(kHpaPath) + "?labelSelector=a%20in%20(").status, 400);

  Answer table = call("GET", kHpaPath, "", "application/json",
                      "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
  EXPECT_EQ(table.body["kind"], "Table");
  ASSERT_EQ(table.body["columnDefinitions"].size(), 7u);
  EXPECT_EQ(table.body["columnDefinitions"][1]["name"], "Reference");
  ASSERT_EQ(table.body["rows"].size(), 1u);
  EXPECT_EQ(table.body["rows"][0]["cells"][0], "gpu-hpa");
  EXPECT_EQ(table.body["rows"][0]["cells"][1], "Deployment/llm");
  EXPECT_EQ(table.body["rows"][0]["cells"][2], "<unknown>/100m");
  EXPECT_EQ(table.body["rows"][0]["object"]["kind"], "PartialObjectMetadata");
}

TEST_F(ApiServerTest, UpdateConflictsAndStatusSubresource) {
  Answer created = call("POST", kHpaPath, kHpa);
  Json object = created.body;
  object["spec"]["maxReplicas"] = 7;
  object["status"] = {{"desiredReplicas", 3}};
  Answer updated = call("PUT", std::string(kHpaPath) + "/gpu-hpa", object.dump());
  ASSERT_EQ(updated.status, 200) << updated.text;
  EXPECT_EQ(updated.body["spec"]["maxReplicas"], 7);
  EXPECT_EQ(updated.body["metadata"]["generation"], 2);
  // The main endpoint ignores status.
  EXPECT_FALSE(updated.body["status"].contains("desiredReplicas") &&
               updated.body["status"]["desiredReplicas"] == 3);

  Answer stale = call("PUT", std::string(kHpaPath) + "/gpu-hpa", object.dump());
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(stale.body["reason"], "Conflict");

  Json status = updated.body;
  status["status"] = {{"currentReplicas", 2}, {"desiredReplicas", 3}};
  status["spec"]["maxReplicas"] = 99;  // ignored by the status subresource
  Answer status_update = call("PUT", std::string(kHpaPath) + "/gpu-hpa/status", status.dump());
  ASSERT_EQ(status_update.status, 200) << status_update.text;
  EXPECT_EQ(status_update.body["status"]["desiredReplicas"], 3);
  EXPECT_EQ(status_update.body["spec"]["maxReplicas"], 7);
  EXPECT_EQ(status_update.body["metadata"]["generation"], 2);

  Answer renamed = call("PUT", std::string(kHpaPath) + "/other", status_update.body.dump());
  EXPECT_EQ(renamed.status, 400);
  EXPECT_EQ(renamed.body["message"],
            "the name of the object (gpu-hpa) does not match the name on the URL (other)");
}

TEST_F(ApiServerTest, PatchesAndDryRun) {
  ASSERT_EQ(call("POST", kHpaPath, kHpa).status, 201);
  std::string item = std::string(kHpaPath) + "/gpu-hpa";
  Answer merged =
      call("PATCH", item, R"({"spec":{"maxReplicas":9}})", "application/merge-patch+json");
  ASSERT_EQ(merged.status, 200) << merged.text;
  EXPECT_EQ(merged.body["spec"]["maxReplicas"], 9);
  Answer json_patch =
      call("PATCH", item, R"([{"op":"replace","path":"/spec/minReplicas","value":2}])",
           "application/json-patch+json");
  ASSERT_EQ(json_patch.status, 200) << json_patch.text;
  EXPECT_EQ(json_patch.body["spec"]["minReplicas"], 2);
  Answer invalid = call("PATCH", item, R"({"spec":{"maxReplicas":1}})",
                        "application/strategic-merge-patch+json");
  EXPECT_EQ(invalid.status, 422) << invalid.text;
  Answer dry = call("PATCH", item + "?dryRun=All", R"({"spec":{"maxReplicas":4}})",
                    "application/merge-patch+json");
  EXPECT_EQ(dry.status, 200);
  EXPECT_EQ(dry.body["spec"]["maxReplicas"], 4);
  EXPECT_EQ(call("GET", item).body["spec"]["maxReplicas"], 9);
  EXPECT_EQ(call("PATCH", item, "{}", "text/plain").status, 415);
  EXPECT_EQ(call("PATCH", item, "{", "application/merge-patch+json").status, 400);

  Answer applied = call("PATCH", std::string(kHpaPath) + "/applied?fieldManager=kubectl&force=true",
                        std::string(kHpa).replace(std::string(kHpa).find("gpu-hpa"), 7, "applied"),
                        "application/apply-patch+yaml");
  EXPECT_EQ(applied.status, 201) << applied.text;
  EXPECT_EQ(call("PATCH", std::string(kHpaPath) + "/applied", "{}", "application/apply-patch+yaml")
                .status,
            422);
}

TEST_F(ApiServerTest, ScaleSubresource) {
  ASSERT_EQ(call("POST", kDeployPath, kDeployment).status, 201);
  std::string scale = std::string(kDeployPath) + "/llm/scale";
  Answer got = call("GET", scale);
  ASSERT_EQ(got.status, 200) << got.text;
  EXPECT_EQ(got.body["kind"], "Scale");
  EXPECT_EQ(got.body["apiVersion"], "autoscaling/v1");
  EXPECT_EQ(got.body["spec"]["replicas"], 1);
  EXPECT_EQ(got.body["status"]["selector"], "app=llm");

  Answer patched =
      call("PATCH", scale, R"({"spec":{"replicas":3}})", "application/merge-patch+json");
  ASSERT_EQ(patched.status, 200) << patched.text;
  EXPECT_EQ(patched.body["spec"]["replicas"], 3);
  EXPECT_EQ(call("GET", std::string(kDeployPath) + "/llm").body["spec"]["replicas"], 3);

  Json stale = got.body;
  stale["spec"]["replicas"] = 5;
  EXPECT_EQ(call("PUT", scale, stale.dump()).status, 409);
  Json negative = patched.body;
  negative["spec"]["replicas"] = -1;
  Answer refused = call("PUT", scale, negative.dump());
  EXPECT_EQ(refused.status, 422);
  EXPECT_EQ(refused.body["details"]["kind"], "Scale");
}

TEST_F(ApiServerTest, DeploymentValidation) {
  Json no_selector = Json::parse(kDeployment);
  no_selector["spec"].erase("selector");
  Answer refused = call("POST", kDeployPath, no_selector.dump());
  EXPECT_EQ(refused.status, 422) << refused.text;
  Json mismatch = Json::parse(kDeployment);
  mismatch["spec"]["template"]["metadata"]["labels"]["app"] = "other";
  EXPECT_EQ(call("POST", kDeployPath, mismatch.dump()).status, 422);
  Json defaults = Json::parse(kDeployment);
  defaults["spec"].erase("replicas");
  Answer created = call("POST", kDeployPath, defaults.dump());
  ASSERT_EQ(created.status, 201) << created.text;
  EXPECT_EQ(created.body["spec"]["replicas"], 1);
}

TEST_F(ApiServerTest, PodDeletionCostMustBeAnInt32) {
  // Kubernetes: ValidatePodSpecificAnnotations, on create and on update (a merge patch here).
  const std::string path = "/api/v1/namespaces/default/pods";
  auto pod = [](const std::string& cost) {
    return Json{
        {"apiVersion", "v1"},
        {"kind", "Pod"},
        {"metadata",
         {{"name", "p"}, {"annotations", {{"controller.kubernetes.io/pod-deletion-cost", cost}}}}},
        {"spec", {{"containers", Json::array({{{"name", "c"}, {"image", "i"}}})}}}};
  };
  for (const std::string bad : {"abc", "+10", "008", "2147483648", "-2147483649", ""}) {
    Answer refused = call("POST", path, pod(bad).dump());
    EXPECT_EQ(refused.status, 422) << bad << ": " << refused.text;
    EXPECT_EQ(refused.body.value("message", ""),
              "Pod \"p\" is invalid: metadata.annotations[controller.kubernetes.io/"
              "pod-deletion-cost]: Invalid value: \"" +
                  bad + "\": must be a 32bit integer")
        << refused.text;
  }
  Answer created = call("POST", path, pod("-2147483648").dump());
  ASSERT_EQ(created.status, 201) << created.text;
  Answer patched =
      call("PATCH", path + "/p",
           R"({"metadata":{"annotations":{"controller.kubernetes.io/pod-deletion-cost":"1.5"}}})",
           "application/merge-patch+json");
  EXPECT_EQ(patched.status, 422) << patched.text;
  Answer fine =
      call("PATCH", path + "/p",
           R"({"metadata":{"annotations":{"controller.kubernetes.io/pod-deletion-cost":"7"}}})",
           "application/merge-patch+json");
  EXPECT_EQ(fine.status, 200) << fine.text;
}

struct Watch {
  net::ServerRequest request;
  net::RecordingResponseWriter writer;
  bool done = false;

  std::vector<Json> events() const {
    std::vector<Json> out;
    std::string body = writer.body();
    std::size_t start = 0;
    while (start < body.size()) {
      std::size_t end = body.find('\n', start);
      if (end == std::string::npos) break;
      out.push_back(Json::parse(body.substr(start, end - start)));
      start = end + 1;
    }
    return out;
  }
};

net::Awaitable<void> run_watch(ApiServer& api, Watch& watch) {
  co_await api.serve(watch.request, watch.writer);
  watch.done = true;
}

TEST_F(ApiServerTest, WatchStreamsChangesBookmarksAndEnds) {
  ASSERT_EQ(call("POST", kHpaPath, kHpa).status, 201);
  Watch watch;
  watch.request.method = "GET";
  ASSERT_TRUE(watch.request.set_target(std::string(kHpaPath) +
                                       "?watch=true&allowWatchBookmarks=true&timeoutSeconds=25"));
  net::spawn(loop_, run_watch(api_, watch));
  ASSERT_TRUE(loop_.run_until([&] { return watch.events().size() == 1; }, 5s));
  EXPECT_EQ(watch.events()[0]["type"], "ADDED");

  ASSERT_EQ(call("PATCH", std::string(kHpaPath) + "/gpu-hpa", R"({"spec":{"maxReplicas":6}})",
                 "application/merge-patch+json")
                .status,
            200);
  ASSERT_EQ(call("DELETE", std::string(kHpaPath) + "/gpu-hpa").status, 200);
  ASSERT_TRUE(loop_.run_until([&] { return watch.events().size() == 3; }, 5s));
  clock_.advance(10s);
  ASSERT_TRUE(loop_.run_until([&] { return watch.events().size() == 4; }, 5s));
  auto events = watch.events();
  EXPECT_EQ(events[1]["type"], "MODIFIED");
  EXPECT_EQ(events[1]["object"]["spec"]["maxReplicas"], 6);
  EXPECT_EQ(events[2]["type"], "DELETED");
  EXPECT_EQ(events[3]["type"], "BOOKMARK");
  EXPECT_EQ(events[3]["object"]["kind"], "HorizontalPodAutoscaler");
  EXPECT_EQ(events[3]["object"]["metadata"]["resourceVersion"], "4");
  EXPECT_FALSE(watch.done);
  clock_.advance(15s);
  ASSERT_TRUE(loop_.run_until([&] { return watch.done; }, 5s));
  EXPECT_TRUE(watch.writer.ended());
}

TEST_F(ApiServerTest, WatchResumesFromAVersionAndExpires) {
  Store small(clock_, 2);
  ApiServer api(small, clock_, builtin_resources(), test_options());
  ASSERT_TRUE(api.create(*api.find("", "namespaces"), Json{{"metadata", {{"name", "default"}}}}));
  const ResourceType* deployments = api.find("apps", "deployments");
  for (const char* name : {"a", "b", "c"}) {
    Json d = Json::parse(kDeployment);
    d["metadata"]["name"] = name;
    ASSERT_TRUE(api.create(*deployments, d));
  }
  // Versions: 1 namespace, 2..4 deployments; a history of 2 keeps 3 and 4.
  Watch resumed;
  resumed.request.method = "GET";
  ASSERT_TRUE(resumed.request.set_target(std::string(kDeployPath) +
                                         "?watch=1&resourceVersion=2&timeoutSeconds=1"));
  net::spawn(loop_, run_watch(api, resumed));
  ASSERT_TRUE(loop_.run_until([&] { return resumed.events().size() == 2; }, 5s));
  EXPECT_EQ(resumed.events()[0]["object"]["metadata"]["name"], "b");
  clock_.advance(1s);
  ASSERT_TRUE(loop_.run_until([&] { return resumed.done; }, 5s));

  Watch expired;
  expired.request.method = "GET";
  ASSERT_TRUE(expired.request.set_target(std::string(kDeployPath) + "?watch=1&resourceVersion=1"));
  net::spawn(loop_, run_watch(api, expired));
  ASSERT_TRUE(loop_.run_until([&] { return expired.done; }, 5s));
  ASSERT_EQ(expired.events().size(), 1u);
  EXPECT_EQ(expired.events()[0]["type"], "ERROR");
  EXPECT_EQ(expired.events()[0]["object"]["code"], 410);
  EXPECT_EQ(expired.events()[0]["object"]["reason"], "Expired");
}

TEST_F(ApiServerTest, WatchWithSelectorTurnsLeavingIntoDeleted) {
  ASSERT_EQ(call("POST", kDeployPath, kDeployment).status, 201);
  Watch watch;
  watch.request.method = "GET";
  ASSERT_TRUE(watch.request.set_target(std::string(kDeployPath) +
                                       "?watch=true&labelSelector=app%3Dllm&timeoutSeconds=5"));
  net::spawn(loop_, run_watch(api_, watch));
  ASSERT_TRUE(loop_.run_until([&] { return watch.events().size() == 1; }, 5s));
  ASSERT_EQ(call("PATCH", std::string(kDeployPath) + "/llm",
                 R"({"metadata":{"labels":{"app":"moved"}}})", "application/merge-patch+json")
                .status,
            200);
  ASSERT_TRUE(loop_.run_until([&] { return watch.events().size() == 2; }, 5s));
  EXPECT_EQ(watch.events()[1]["type"], "DELETED");
  watch.writer.disconnect();
  ASSERT_TRUE(loop_.run_until([&] { return watch.done; }, 5s));
}

// autoscaling/v1 over the v2 storage, as kube-apiserver converts: the CPU target in
// targetCPUUtilizationPercentage, everything else in the alpha annotations, both ways.
TEST_F(ApiServerTest, AutoscalingV1IsConvertedToAndFromTheV2Storage) {
  constexpr const char* kV1Path =
      "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers";
  Answer created = call("POST", kHpaPath, kHpa);
  ASSERT_EQ(created.status, 201) << created.text;
  Answer v1 = call("GET", std::string(kV1Path) + "/gpu-hpa");
  ASSERT_EQ(v1.status, 200) << v1.text;
  EXPECT_EQ(v1.body["apiVersion"], "autoscaling/v1");
  EXPECT_FALSE(v1.body["spec"].contains("metrics"));
  EXPECT_FALSE(v1.body["spec"].contains("targetCPUUtilizationPercentage"));
  EXPECT_EQ(v1.body["spec"]["maxReplicas"], 5);
  Json metrics =
      Json::parse(v1.body["metadata"]["annotations"]["autoscaling.alpha.kubernetes.io/metrics"]
                      .get<std::string>());
  EXPECT_EQ(metrics, Json::parse(R"([{"type":"Pods","pods":{"metricName":"gpu_cache_usage_perc",
                                       "targetAverageValue":"100m"}}])"));

  // A v1 client creates with a CPU target and an annotated custom metric; v2 reads both.
  const char* v1_hpa = R"({"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler",
    "metadata":{"name":"cpu-hpa","annotations":{
      "autoscaling.alpha.kubernetes.io/metrics":"[{\"type\":\"External\",\"external\":{\"metricName\":\"queue\",\"targetAverageValue\":\"10\"}}]"}},
    "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"llm"},
            "minReplicas":1,"maxReplicas":3,"targetCPUUtilizationPercentage":70}})";
  Answer made = call("POST", kV1Path, v1_hpa);
  ASSERT_EQ(made.status, 201) << made.text;
  EXPECT_EQ(made.body["apiVersion"], "autoscaling/v1");
  EXPECT_EQ(made.body["spec"]["targetCPUUtilizationPercentage"], 70);
  Answer v2 = call("GET", std::string(kHpaPath) + "/cpu-hpa");
  ASSERT_EQ(v2.status, 200);
  ASSERT_EQ(v2.body["spec"]["metrics"].size(), 2u) << v2.text;
  EXPECT_EQ(v2.body["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"], 70);
  EXPECT_EQ(v2.body["spec"]["metrics"][1]["external"]["target"],
            Json::parse(R"({"type":"AverageValue","averageValue":"10"})"));
  EXPECT_FALSE(v2.body["metadata"].contains("annotations")) << v2.text;

  // A merge patch in v1 applies to the v1 form.
  Answer patched =
      call("PATCH", std::string(kV1Path) + "/cpu-hpa",
           R"({"spec":{"targetCPUUtilizationPercentage":50}})", "application/merge-patch+json");
  ASSERT_EQ(patched.status, 200) << patched.text;
  EXPECT_EQ(call("GET", std::string(kHpaPath) + "/cpu-hpa")
                .body["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"],
            50);
  Answer list = call("GET", kV1Path);
  EXPECT_EQ(list.body["kind"], "HorizontalPodAutoscalerList");
  EXPECT_EQ(list.body["apiVersion"], "autoscaling/v1");
  EXPECT_EQ(list.body["items"][0]["apiVersion"], "autoscaling/v1");

  Answer bad = call(
      "POST", kV1Path,
      R"({"metadata":{"name":"x","annotations":{"autoscaling.alpha.kubernetes.io/metrics":"[{"}},
                        "spec":{"scaleTargetRef":{"kind":"Deployment","name":"llm"},"maxReplicas":1}})");
  EXPECT_EQ(bad.status, 400) << bad.text;
  // v2 stays the group's preferred version.
  EXPECT_EQ(call("GET", "/apis/autoscaling").body["preferredVersion"]["version"], "v2");
}

// events.k8s.io/v1 reads and writes the core Events in the newer shape.
TEST_F(ApiServerTest, EventsK8sIoV1SharesTheCoreEvents) {
  Answer made =
      call("POST", "/api/v1/namespaces/default/events",
           R"({"metadata":{"name":"e1"},"involvedObject":{"kind":"HorizontalPodAutoscaler",
                         "name":"gpu-hpa","namespace":"default"},"reason":"SuccessfulRescale",
                         "message":"New size: 2","count":3,"type":"Normal",
                         "source":{"component":"horizontal-pod-autoscaler"}})");
  ASSERT_EQ(made.status, 201) << made.text;
  Answer v1 = call("GET", "/apis/events.k8s.io/v1/namespaces/default/events/e1");
  ASSERT_EQ(v1.status, 200) << v1.text;
  EXPECT_EQ(v1.body["apiVersion"], "events.k8s.io/v1");
  EXPECT_EQ(v1.body["regarding"]["name"], "gpu-hpa");
  EXPECT_EQ(v1.body["note"], "New size: 2");
  EXPECT_EQ(v1.body["deprecatedCount"], 3);
  EXPECT_EQ(v1.body["deprecatedSource"]["component"], "horizontal-pod-autoscaler");
  EXPECT_FALSE(v1.body.contains("involvedObject"));
  Answer created = call("POST", "/apis/events.k8s.io/v1/namespaces/default/events",
                        R"({"metadata":{"name":"e2"},"regarding":{"kind":"Pod","name":"p"},
                            "note":"pulled","reason":"Pulled","type":"Normal",
                            "reportingController":"kubelet","action":"Pull"})");
  ASSERT_EQ(created.status, 201) << created.text;
  Answer core = call("GET", "/api/v1/namespaces/default/events/e2");
  EXPECT_EQ(core.body["apiVersion"], "v1");
  EXPECT_EQ(core.body["message"], "pulled");
  EXPECT_EQ(core.body["involvedObject"]["name"], "p");
  EXPECT_EQ(core.body["reportingComponent"], "kubelet");
  EXPECT_EQ(call("GET", "/apis/events.k8s.io/v1/namespaces/default/events").body["items"].size(),
            2u);
}

// Every metric source survives v2 -> v1 -> v2 (spec and status), as the conversion table says.
TEST(HpaV1ConversionTest, EverySourceRoundTrips) {
  Json v2 = Json::parse(R"({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler",
    "metadata":{"name":"h","annotations":{"keep":"me"}},
    "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"llm"},
      "minReplicas":1,"maxReplicas":5,
      "metrics":[
        {"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":70}}},
        {"type":"Pods","pods":{"metric":{"name":"q","selector":{"matchLabels":{"a":"b"}}},"target":{"type":"AverageValue","averageValue":"5"}}},
        {"type":"Object","object":{"describedObject":{"kind":"Service","name":"s"},"metric":{"name":"rps"},"target":{"type":"Value","value":"10"}}},
        {"type":"External","external":{"metric":{"name":"lag"},"target":{"type":"AverageValue","averageValue":"3"}}},
        {"type":"ContainerResource","containerResource":{"name":"memory","container":"c","target":{"type":"AverageValue","averageValue":"1Gi"}}},
        {"type":"Resource","resource":{"name":"memory","target":{"type":"Utilization","averageUtilization":60}}}],
      "behavior":{"scaleDown":{"stabilizationWindowSeconds":60}}},
    "status":{"currentReplicas":2,"desiredReplicas":3,
      "currentMetrics":[
        {"type":"Resource","resource":{"name":"cpu","current":{"averageUtilization":50}}},
        {"type":"Pods","pods":{"metric":{"name":"q"},"current":{"averageValue":"4"}}},
        {"type":"External","external":{"metric":{"name":"lag"},"current":{"value":"9","averageValue":"3"}}}],
      "conditions":[{"type":"AbleToScale","status":"True"}]}})");
  Json v1 = hpa_v2_to_v1(v2);
  EXPECT_EQ(v1["spec"]["targetCPUUtilizationPercentage"], 70);
  EXPECT_EQ(v1["status"]["currentCPUUtilizationPercentage"], 50);
  auto back = hpa_v1_to_v2(v1);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ((*back)["spec"], v2["spec"]) << (*back)["spec"].dump();
  EXPECT_EQ((*back)["status"], v2["status"]) << (*back)["status"].dump();
  EXPECT_EQ((*back)["metadata"]["annotations"], v2["metadata"]["annotations"]);
}

// A merge patch that is a scalar replaces the document with no object: 400, never a throw.
TEST_F(ApiServerTest, ScalarMergePatchIsABadRequest) {
  ASSERT_EQ(call("POST", kHpaPath, kHpa).status, 201);
  Answer patched = call("PATCH", std::string(kHpaPath) + "/gpu-hpa?dryRun=All", R"("x")",
                        "application/merge-patch+json");
  EXPECT_EQ(patched.status, 400) << patched.text;
  EXPECT_EQ(patched.body["reason"], "BadRequest");
}

}  // namespace
}  // namespace llmscale::apiserver
