// deploy/adapter: the manifests hang together (APIServices point at the Service, the Service at
// the Deployment's port, RBAC grants what an aggregated server needs) and the shipped rules
// load. A cluster is not available to the tests; these checks are what can be proven offline.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "adapter/config.h"
#include "core/json.h"

namespace llmscale::adapter {
namespace {

std::vector<core::Json> load_all() {
  std::vector<core::Json> out;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(LLMSCALE_SOURCE_DIR) + "/deploy/adapter")) {
    if (entry.path().extension() != ".yaml") continue;
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    auto docs = core::parse_documents(ss.str());
    EXPECT_TRUE(docs) << entry.path() << ": " << (docs ? "" : docs.error().message);
    if (!docs) continue;
    for (auto& d : *docs) {
      if (!d.is_null()) out.push_back(std::move(d));
    }
  }
  return out;
}

TEST(AdapterDeployTest, ManifestsAreConsistent) {
  auto docs = load_all();
  std::map<std::string, const core::Json*> by_kind_name;
  for (const auto& d : docs) {
    ASSERT_TRUE(d.contains("kind") && d.contains("apiVersion") && d.contains("metadata"))
        << d.dump();
    by_kind_name[d["kind"].get<std::string>() + "/" + d["metadata"]["name"].get<std::string>()] =
        &d;
  }
  // The three API versions are registered, each pointing at the Service on 443.
  const core::Json* service = by_kind_name.at("Service/llmscale-adapter");
  for (const char* name : {"v1beta1.custom.metrics.k8s.io", "v1beta2.custom.metrics.k8s.io",
                           "v1beta1.external.metrics.k8s.io"}) {
    const core::Json& api = *by_kind_name.at(std::string("APIService/") + name);
    std::string expected =
        api["spec"]["version"].get<std::string>() + "." + api["spec"]["group"].get<std::string>();
    EXPECT_EQ(expected, name);
    EXPECT_EQ(api["spec"]["service"]["name"], "llmscale-adapter");
    EXPECT_EQ(api["spec"]["service"]["namespace"], (*service)["metadata"]["namespace"]);
    EXPECT_EQ(api["spec"]["service"]["port"], (*service)["spec"]["ports"][0]["port"]);
  }
  EXPECT_GT(by_kind_name.at("APIService/v1beta2.custom.metrics.k8s.io")
                ->at("spec")["versionPriority"]
                .get<int>(),
            by_kind_name.at("APIService/v1beta1.custom.metrics.k8s.io")
                ->at("spec")["versionPriority"]
                .get<int>());
  // The Service targets the container's port, and the pod runs as the ServiceAccount.
  const core::Json& deployment = *by_kind_name.at("Deployment/llmscale-adapter");
  const core::Json& pod = deployment["spec"]["template"]["spec"];
  EXPECT_EQ((*service)["spec"]["ports"][0]["targetPort"],
            pod["containers"][0]["ports"][0]["containerPort"]);
  EXPECT_EQ((*service)["spec"]["selector"], deployment["spec"]["template"]["metadata"]["labels"]);
  EXPECT_TRUE(by_kind_name.count("ServiceAccount/" + pod["serviceAccountName"].get<std::string>()));
  // Aggregated-server RBAC.
  EXPECT_EQ(by_kind_name.at("ClusterRoleBinding/llmscale-adapter:system:auth-delegator")
                ->at("roleRef")["name"],
            "system:auth-delegator");
  const core::Json& reader = *by_kind_name.at("RoleBinding/llmscale-adapter-auth-reader");
  EXPECT_EQ(reader["metadata"]["namespace"], "kube-system");
  EXPECT_EQ(reader["roleRef"]["name"], "extension-apiserver-authentication-reader");
  // The rules the ConfigMap ships load.
  const core::Json& config = *by_kind_name.at("ConfigMap/llmscale-adapter-config");
  auto rules = parse_adapter_config(config["data"]["config.yaml"].get<std::string>());
  ASSERT_TRUE(rules) << rules.error().message;
  EXPECT_EQ(rules->rules.size(), 2u);
  EXPECT_EQ(rules->external_rules.size(), 1u);
}

}  // namespace
}  // namespace llmscale::adapter
