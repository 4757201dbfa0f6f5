// deploy/controller renders with the preinstalled kubectl's kustomize (a child process, so
// labelled integration) into what the controller needs: the CRD with `kubectl get hpa`'s column
// names, two replicas with leader election, RBAC for the scale subresource and the Lease, the
// metrics Service and the adapter's APIServices.
#include <gtest/gtest.h>

#include <map>

#include <nlohmann/json.hpp>

#include "core/json.h"
#include "support/process.h"

namespace llmscale::cluster {
namespace {

using core::Json;
using namespace std::chrono_literals;

TEST(ControllerDeployTest, KustomizeRenders) {
  if (!llmscale::testing::program_on_path("kubectl")) GTEST_SKIP() << "kubectl is not installed";
  auto rendered = llmscale::testing::run_process(
      {"kubectl", "kustomize", std::string(LLMSCALE_SOURCE_DIR) + "/deploy/controller"}, "", 60s);
  ASSERT_EQ(rendered.exit_code, 0) << rendered.output;
  auto docs = core::parse_documents(rendered.output);
  ASSERT_TRUE(docs) << docs.error().message;
  std::map<std::string, Json> by_kind_name;
  for (const Json& d : *docs) {
    by_kind_name[d["kind"].get<std::string>() + "/" + d["metadata"]["name"].get<std::string>()] = d;
  }
  const Json& crd = by_kind_name["CustomResourceDefinition/llmautoscalers.autoscaling.llmscale.io"];
  ASSERT_TRUE(crd.is_object());
  std::vector<std::string> columns;
  for (const Json& c : crd["spec"]["versions"][0]["additionalPrinterColumns"]) {
    columns.push_back(c["name"]);
  }
  // `kubectl get hpa`: NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE.
  EXPECT_EQ(columns, (std::vector<std::string>{"Reference", "Targets", "MinPods", "MaxPods",
                                               "Replicas", "Age"}));
  EXPECT_TRUE(crd["spec"]["versions"][0]["subresources"].contains("status"));

  const Json& deployment = by_kind_name["Deployment/llmscale-controller"];
  ASSERT_TRUE(deployment.is_object());
  EXPECT_EQ(deployment["spec"]["replicas"], 2);
  EXPECT_EQ(deployment["metadata"]["namespace"], "llmscale");
  EXPECT_EQ(deployment["spec"]["template"]["spec"]["serviceAccountName"], "llmscale-controller");

  bool scale = false;
  for (const Json& rule : by_kind_name["ClusterRole/llmscale-controller"]["rules"]) {
    for (const Json& r : rule["resources"]) scale = scale || r == "*/scale";
    for (const Json& verb : rule["verbs"]) EXPECT_NE(verb, "*");  // least privilege
  }
  EXPECT_TRUE(scale);
  const Json& lease_role = by_kind_name["Role/llmscale-controller-leader-election"];
  ASSERT_TRUE(lease_role.is_object());
  EXPECT_EQ(lease_role["rules"][0]["resources"][0], "leases");
  EXPECT_TRUE(by_kind_name.contains("Service/llmscale-controller"));
  EXPECT_TRUE(by_kind_name.contains("APIService/v1beta2.custom.metrics.k8s.io"));
}

}  // namespace
}  // namespace llmscale::cluster
