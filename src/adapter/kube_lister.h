// Listing objects through the Kubernetes API, for wildcard requests in a real cluster
// (prometheus-adapter lists them with a dynamic client: `GET /api/v1/namespaces/<ns>/pods
// ?labelSelector=...`). Credentials come from the pod's service account (in-cluster) or a
// kubeconfig file (server, CA, client certificate or token; exec plugins are not supported).
//
// Thread-safety: KubeObjectLister::list may be called from any thread except the lister's own
// event-loop thread; it blocks until the API server answers or the timeout passes.
#pragma once

#include <memory>
#include <string>

#include "adapter/adapter.h"
#include "net/tls.h"

namespace llmscale::net {
class EventLoop;
class HttpClient;
}  // namespace llmscale::net

namespace llmscale::adapter {

struct KubeClientConfig {
  std::string server;  // https://10.0.0.1:443
  net::TlsClientOptions tls;
  std::string bearer_token;
  std::string token_file;  // re-read on every request (service-account tokens rotate)
};

// KUBERNETES_SERVICE_HOST/PORT and /var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt}.
// `root` replaces "/" for tests.
core::Result<KubeClientConfig> in_cluster_config(const std::string& root = "");

// The current (or named) context of a kubeconfig file.
core::Result<KubeClientConfig> load_kubeconfig(const std::string& path,
                                               const std::string& context = "");

// The API path listing `resource` objects in `namespace_name` ("" for all namespaces or
// root-scoped resources), e.g. /api/v1/namespaces/llm/pods or /apis/apps/v1/deployments.
std::string list_path(const GroupResource& resource, const std::string& namespace_name);

class KubeObjectLister final : public ObjectLister {
 public:
  explicit KubeObjectLister(KubeClientConfig config,
                            core::Duration timeout = std::chrono::seconds(10));
  ~KubeObjectLister() override;

  core::Result<std::vector<std::string>> list(const GroupResource& resource,
                                              const std::string& namespace_name,
                                              const kube::Selector& selector) override;

 private:
  KubeClientConfig config_;
  core::Duration timeout_;
  std::unique_ptr<net::EventLoop> loop_;
  std::unique_ptr<net::HttpClient> client_;
};

}  // namespace llmscale::adapter
