// Listing objects through the Kubernetes API, for wildcard requests in a real cluster
// (prometheus-adapter lists them with a dynamic client: `GET /api/v1/namespaces/<ns>/pods
// ?labelSelector=...`). Credentials come from the pod's service account (in-cluster) or a
// kubeconfig file (server, CA, client certificate or token; exec plugins are not supported).
//
// Thread-safety: KubeClient::get (and so KubeObjectLister::list) may be called from any thread
// except the lister's own event-loop thread; it blocks until the API server answers or the timeout
// passes.
#pragma once

#include <memory>
#include <string>

#include "adapter/adapter.h"
#include "adapter/server.h"
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

// A blocking JSON GET client of the Kubernetes API on its own event-loop thread.
class KubeClient {
 public:
  explicit KubeClient(KubeClientConfig config, core::Duration timeout = std::chrono::seconds(10));
  ~KubeClient();
  KubeClient(const KubeClient&) = delete;
  KubeClient& operator=(const KubeClient&) = delete;

  // GET `path_and_query`; a non-200 answer is kUnavailable with the status and body.
  core::Result<std::string> get(const std::string& path_and_query);

 private:
  KubeClientConfig config_;
  core::Duration timeout_;
  std::unique_ptr<net::EventLoop> loop_;
  std::unique_ptr<net::HttpClient> client_;
};

class KubeObjectLister final : public ObjectLister {
 public:
  explicit KubeObjectLister(std::shared_ptr<KubeClient> client) : client_(std::move(client)) {}

  core::Result<std::vector<std::string>> list(const GroupResource& resource,
                                              const std::string& namespace_name,
                                              const kube::Selector& selector) override;
  core::Result<std::vector<ListedObject>> list_objects(const GroupResource& resource,
                                                       const std::string& namespace_name,
                                                       const kube::Selector& selector) override;

 private:
  std::shared_ptr<KubeClient> client_;
};

// The delegated authentication settings every aggregated API server reads from ConfigMap
// kube-system/extension-apiserver-authentication (client-ca-file, requestheader-client-ca-file,
// requestheader-allowed-names, -username-headers, -group-headers, -extra-headers-prefix; the
// list keys hold JSON arrays). Fields present in `base` (set by flags) win.
core::Result<AuthenticationOptions> load_delegated_authentication(KubeClient& client,
                                                                  AuthenticationOptions base);

}  // namespace llmscale::adapter
