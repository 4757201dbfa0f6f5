// Listing objects through the Kubernetes API: list paths, kubeconfig and in-cluster
// credentials, and KubeObjectLister against a fake API server over TLS with a bearer token.
#include "adapter/kube_lister.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/strings.h"
#include "net/server.h"
#include "net/tls_cert.h"

namespace llmscale::adapter {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  fs::path dir = fs::path(::testing::TempDir()) / (name + "_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

TEST(KubeListerTest, ListPaths) {
  EXPECT_EQ(list_path({"", "pods"}, "llm"), "/api/v1/namespaces/llm/pods");
  EXPECT_EQ(list_path({"", "nodes"}, "llm"), "/api/v1/nodes");
  EXPECT_EQ(list_path({"apps", "deployments"}, "llm"), "/apis/apps/v1/namespaces/llm/deployments");
  EXPECT_EQ(list_path({"", "services"}, ""), "/api/v1/services");
}

TEST(KubeListerTest, KubeconfigContextsDataAndFiles) {
  fs::path dir = temp_dir("kubeconfig");
  std::ofstream(dir / "config") << R"(
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c1
  cluster: {server: "https://10.0.0.1:6443", certificate-authority-data: )"
                                << core::base64_encode("CA PEM") << R"(}
- name: c2
  cluster: {server: "https://10.0.0.2", certificate-authority: certs/ca.crt, tls-server-name: api}
contexts:
- {name: dev, context: {cluster: c1, user: token-user}}
- {name: prod, context: {cluster: c2, user: cert-user}}
- {name: gke, context: {cluster: c2, user: exec-user}}
users:
- {name: token-user, user: {token: abc}}
- {name: cert-user, user: {client-certificate: certs/me.crt, client-key-data: )"
                                << core::base64_encode("KEY") << R"(}}
- {name: exec-user, user: {exec: {command: gke-gcloud-auth-plugin}}}
)";
  auto dev = load_kubeconfig((dir / "config").string());
  ASSERT_TRUE(dev) << dev.error().message;
  EXPECT_EQ(dev->server, "https://10.0.0.1:6443");
  EXPECT_EQ(dev->tls.ca_pem, "CA PEM");
  EXPECT_EQ(dev->bearer_token, "abc");
  auto prod = load_kubeconfig((dir / "config").string(), "prod");
  ASSERT_TRUE(prod) << prod.error().message;
  EXPECT_EQ(prod->tls.ca_file, (dir / "certs/ca.crt").string());
  EXPECT_EQ(prod->tls.cert_file, (dir / "certs/me.crt").string());
  EXPECT_EQ(prod->tls.key_pem, "KEY");
  EXPECT_EQ(prod->tls.server_name, "api");
  auto gke = load_kubeconfig((dir / "config").string(), "gke");
  ASSERT_FALSE(gke);
  EXPECT_NE(gke.error().message.find("exec and auth-provider credentials are not supported"),
            std::string::npos);
  EXPECT_FALSE(load_kubeconfig((dir / "config").string(), "nope"));
  EXPECT_FALSE(load_kubeconfig((dir / "missing").string()));
}

TEST(KubeListerTest, ListsThroughTheApiServerWithTheServiceAccount) {
  // A fake API server over TLS that checks the token and answers PodLists by selector.
  net::CertificateSpec ca_spec;
  ca_spec.common_name = "kube-ca";
  ca_spec.is_ca = true;
  auto ca = *net::generate_self_signed_certificate(ca_spec);
  auto serving = *net::generate_signed_certificate(net::CertificateSpec{}, ca);
  net::EventLoop loop;
  net::ServerOptions options;
  options.tls = net::TlsServerOptions{};
  options.tls->cert_pem = serving.cert_pem;
  options.tls->key_pem = serving.key_pem;
  net::HttpServer api(loop, options);
  std::vector<std::string> seen;
  ASSERT_TRUE(api.start([&](net::ServerRequest& request,
                            net::ResponseWriter& writer) -> net::Awaitable<void> {
    seen.push_back(request.target);
    if (request.header("Authorization") != "Bearer sa-token") {
      auto denied = net::Response::json(401, R"({"kind":"Status","code":401})");
      co_await writer.send(std::move(denied));
      co_return;
    }
    if (request.path ==
        "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication") {
      auto cm = net::Response::json(
          200, R"({"kind":"ConfigMap","data":{"client-ca-file":"CLIENT CA",)"
               R"("requestheader-client-ca-file":"PROXY CA",)"
               R"("requestheader-allowed-names":"[\"front-proxy-client\"]",)"
               R"("requestheader-username-headers":"[\"X-Remote-User\"]",)"
               R"("requestheader-group-headers":"[\"X-Remote-Group\"]",)"
               R"("requestheader-extra-headers-prefix":"[\"X-Remote-Extra-\"]"}})");
      co_await writer.send(std::move(cm));
      co_return;
    }
    std::string body =
        request.query.get("labelSelector").value_or("") == "app=vllm"
            ? R"({"kind":"PodList","items":[{"metadata":{"name":"vllm-a","namespace":"llm","labels":{"app":"vllm","tier":"gpu"}}},{"metadata":{"name":"vllm-b"}}]})"
            : R"({"kind":"PodList","items":[]})";
    auto ok = net::Response::json(200, body);
    co_await writer.send(std::move(ok));
  }));
  loop.start();

  fs::path root = temp_dir("incluster");
  fs::create_directories(root / "var/run/secrets/kubernetes.io/serviceaccount");
  std::ofstream(root / "var/run/secrets/kubernetes.io/serviceaccount/token") << "sa-token\n";
  std::ofstream(root / "var/run/secrets/kubernetes.io/serviceaccount/ca.crt") << ca.cert_pem;
  ::setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", std::to_string(api.port()).c_str(), 1);
  auto config = in_cluster_config(root.string());
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(config) << config.error().message;

  auto client = std::make_shared<KubeClient>(*config);
  KubeObjectLister lister(client);
  auto names = lister.list({"", "pods"}, "llm", *kube::Selector::parse("app=vllm"));
  ASSERT_TRUE(names) << names.error().message;
  EXPECT_EQ(*names, (std::vector<std::string>{"vllm-a", "vllm-b"}));
  auto none = lister.list({"apps", "deployments"}, "llm", kube::Selector());
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_TRUE(none->empty());
  // With namespaces and labels, which metrics.k8s.io echoes.
  auto objects = lister.list_objects({"", "pods"}, "llm", *kube::Selector::parse("app=vllm"));
  ASSERT_TRUE(objects) << objects.error().message;
  ASSERT_EQ(objects->size(), 2u);
  EXPECT_EQ((*objects)[0].namespace_name, "llm");
  EXPECT_EQ((*objects)[0].labels, (kube::Labels{{"app", "vllm"}, {"tier", "gpu"}}));
  EXPECT_TRUE((*objects)[1].labels.empty());

  // The aggregated-API authentication settings, as the ConfigMap holds them.
  auto authn = load_delegated_authentication(*client, AuthenticationOptions{});
  ASSERT_TRUE(authn) << authn.error().message;
  EXPECT_EQ(authn->client_ca_pem, "CLIENT CA");
  EXPECT_EQ(authn->requestheader_client_ca_pem, "PROXY CA");
  EXPECT_EQ(authn->requestheader_allowed_names, std::vector<std::string>{"front-proxy-client"});
  AuthenticationOptions flags;
  flags.requestheader_client_ca_pem = "FLAG CA";
  EXPECT_EQ(load_delegated_authentication(*client, flags)->requestheader_client_ca_pem, "FLAG CA");

  config->token_file.clear();
  config->bearer_token = "wrong";
  KubeObjectLister denied(std::make_shared<KubeClient>(*config));
  auto refused = denied.list({"", "pods"}, "llm", kube::Selector());
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("HTTP 401"), std::string::npos) << refused.error().message;
  loop.stop();
  loop.join();
  ASSERT_GE(seen.size(), 4u);
  EXPECT_EQ(seen[0], "/api/v1/namespaces/llm/pods?labelSelector=app%3Dvllm");
  EXPECT_EQ(seen[1], "/apis/apps/v1/namespaces/llm/deployments");
}

TEST(KubeListerTest, InClusterNeedsTheEnvironment) {
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  auto config = in_cluster_config("/nonexistent");
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find("KUBERNETES_SERVICE_HOST"), std::string::npos);
}

}  // namespace
}  // namespace llmscale::adapter
