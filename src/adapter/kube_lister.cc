// Kubernetes API object listing: in-cluster and kubeconfig credentials, list paths, and a
// blocking lister on its own event-loop thread.
#include "adapter/kube_lister.h"

#include <cstdlib>
#include <future>

#include <nlohmann/json.hpp>

#include "core/file.h"
#include "core/json.h"
#include "core/strings.h"
#include "net/client.h"
#include "net/event_loop.h"
#include "net/url.h"

namespace llmscale::adapter {
namespace {

std::string trim_copy(std::string_view s) {
  return std::string(core::trim(s));
}

// The entry called `name` of a kubeconfig list (clusters, users, contexts).
const core::Json* named(const core::Json& config, const char* list, const std::string& name) {
  if (!config.contains(list) || !config[list].is_array()) return nullptr;
  for (const auto& entry : config[list]) {
    if (entry.is_object() && entry.value("name", "") == name) return &entry;
  }
  return nullptr;
}

}  // namespace

core::Result<KubeClientConfig> in_cluster_config(const std::string& root) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || port == nullptr || *host == '\0' || *port == '\0') {
    return core::make_error(core::ErrorCode::kFailedPrecondition,
                            "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
                            "KUBERNETES_SERVICE_PORT must be defined");
  }
  const std::string dir = root + "/var/run/secrets/kubernetes.io/serviceaccount/";
  KubeClientConfig config;
  std::string h = host;
  config.server = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + port;
  config.token_file = dir + "token";
  if (auto token = core::read_file(config.token_file); !token) return tl::unexpected(token.error());
  config.tls.ca_file = dir + "ca.crt";
  return config;
}

core::Result<KubeClientConfig> load_kubeconfig(const std::string& path,
                                               const std::string& context_name) {
  auto text = core::read_file(path);
  if (!text) return tl::unexpected(text.error());
  auto doc = core::parse_document(*text);
  if (!doc) return core::with_context(doc.error(), path);
  if (!doc->is_object()) return core::invalid_argument(path + ": not a kubeconfig");
  std::string base = path.find('/') == std::string::npos ? "" : path.substr(0, path.rfind('/') + 1);
  auto resolve = [&](const std::string& file) {
    return !file.empty() && file[0] != '/' ? base + file : file;
  };
  std::string current = context_name.empty() ? doc->value("current-context", "") : context_name;
  if (current.empty())
    return core::invalid_argument(path + ": no current-context (pass a context)");
  const core::Json* context = named(*doc, "contexts", current);
  if (context == nullptr || !context->contains("context")) {
    return core::invalid_argument(path + ": context " + core::go_quote(current) + " not found");
  }
  std::string cluster_name = (*context)["context"].value("cluster", "");
  std::string user_name = (*context)["context"].value("user", "");
  const core::Json* cluster = named(*doc, "clusters", cluster_name);
  if (cluster == nullptr || !cluster->contains("cluster")) {
    return core::invalid_argument(path + ": cluster " + core::go_quote(cluster_name) +
                                  " not found");
  }
  const core::Json& c = (*cluster)["cluster"];
  KubeClientConfig config;
  config.server = c.value("server", "");
  if (config.server.empty())
    return core::invalid_argument(path + ": cluster " + core::go_quote(cluster_name) +
                                  ": no server");
  auto decode = [&](const core::Json& object, const char* key) -> core::Result<std::string> {
    auto decoded = core::base64_decode(object.value(key, ""));
    if (!decoded) return core::invalid_argument(path + ": " + key + ": illegal base64 data");
    return *decoded;
  };
  if (c.contains("certificate-authority-data")) {
    auto ca = decode(c, "certificate-authority-data");
    if (!ca) return tl::unexpected(ca.error());
    config.tls.ca_pem = *ca;
  }
  config.tls.ca_file = resolve(c.value("certificate-authority", ""));
  config.tls.insecure_skip_verify = c.value("insecure-skip-tls-verify", false);
  config.tls.server_name = c.value("tls-server-name", "");
  if (const core::Json* user = named(*doc, "users", user_name);
      user != nullptr && user->contains("user")) {
    const core::Json& u = (*user)["user"];
    if (u.contains("exec") || u.contains("auth-provider")) {
      return core::invalid_argument(
          path + ": user " + core::go_quote(user_name) +
          ": exec and auth-provider credentials are not supported (use a token or a "
          "client certificate)");
    }
    if (u.contains("client-certificate-data")) {
      auto cert = decode(u, "client-certificate-data");
      if (!cert) return tl::unexpected(cert.error());
      config.tls.cert_pem = *cert;
    }
    if (u.contains("client-key-data")) {
      auto key = decode(u, "client-key-data");
      if (!key) return tl::unexpected(key.error());
      config.tls.key_pem = *key;
    }
    config.tls.cert_file = resolve(u.value("client-certificate", ""));
    config.tls.key_file = resolve(u.value("client-key", ""));
    config.bearer_token = u.value("token", "");
    config.token_file = resolve(u.value("tokenFile", ""));
  }
  return config;
}

std::string list_path(const GroupResource& resource, const std::string& namespace_name) {
  std::string version = described_api_version(resource);  // "/v1" for core, "apps/v1"
  std::string prefix = resource.group.empty() ? "/api/v1" : "/apis/" + version;
  std::string ns =
      namespace_name.empty() || !is_namespaced(resource) ? "" : "/namespaces/" + namespace_name;
  return prefix + ns + "/" + resource.resource;
}

KubeClient::KubeClient(KubeClientConfig config, core::Duration timeout)
    : config_(std::move(config)), timeout_(timeout), loop_(std::make_unique<net::EventLoop>(1)) {
  net::ClientOptions options;
  options.tls = config_.tls;
  options.total_timeout = timeout_;
  client_ = std::make_unique<net::HttpClient>(*loop_, options);
  loop_->start();
}

KubeClient::~KubeClient() {
  loop_->stop();
  loop_->join();
  // The client belongs to the loop; destroy it once nothing runs there.
  client_.reset();
}

core::Result<std::string> KubeClient::get(const std::string& path_and_query) {
  net::Request request = net::Request::get(config_.server + path_and_query);
  request.headers.set("Accept", "application/json");
  std::string token = config_.bearer_token;
  if (!config_.token_file.empty()) {
    auto t = core::read_file(config_.token_file);
    if (!t) return tl::unexpected(t.error());
    token = trim_copy(*t);
  }
  if (!token.empty()) request.headers.set("Authorization", "Bearer " + token);

  auto promise = std::make_shared<std::promise<core::Result<net::Response>>>();
  auto future = promise->get_future();
  auto fetch =
      [](net::HttpClient& client, net::Request r,
         std::shared_ptr<std::promise<core::Result<net::Response>>> p) -> net::Awaitable<void> {
    auto response = co_await client.request(std::move(r));
    p->set_value(std::move(response));
  };
  net::spawn(*loop_, fetch(*client_, std::move(request), promise), "kube-get");
  if (future.wait_for(timeout_ + std::chrono::seconds(1)) != std::future_status::ready) {
    return core::make_error(core::ErrorCode::kDeadlineExceeded,
                            "GET " + path_and_query + " timed out");
  }
  auto response = future.get();
  if (!response) return tl::unexpected(response.error());
  if (response->status != 200) {
    return core::make_error(core::ErrorCode::kUnavailable,
                            "GET " + path_and_query + ": HTTP " + std::to_string(response->status) +
                                ": " + response->body.substr(0, 200));
  }
  return std::move(response->body);
}

core::Result<std::vector<std::string>> KubeObjectLister::list(const GroupResource& resource,
                                                              const std::string& namespace_name,
                                                              const kube::Selector& selector) {
  auto objects = list_objects(resource, namespace_name, selector);
  if (!objects) return tl::unexpected(objects.error());
  std::vector<std::string> names;
  names.reserve(objects->size());
  for (auto& object : *objects) names.push_back(std::move(object.name));
  return names;
}

core::Result<std::vector<ListedObject>> KubeObjectLister::list_objects(
    const GroupResource& resource, const std::string& namespace_name,
    const kube::Selector& selector) {
  std::string path = list_path(resource, namespace_name);
  if (!selector.empty()) path += "?labelSelector=" + net::query_escape(selector.to_string());
  auto body = client_->get(path);
  if (!body) return tl::unexpected(body.error());
  auto doc = core::parse_document(*body);
  if (!doc || !doc->is_object() || !doc->contains("items") || !(*doc)["items"].is_array()) {
    return core::make_error(core::ErrorCode::kInternal,
                            "listing " + resource.to_string() + ": not a list");
  }
  std::vector<ListedObject> objects;
  for (const auto& item : (*doc)["items"]) {
    if (!item.is_object() || !item.contains("metadata") || !item["metadata"].is_object()) continue;
    const auto& metadata = item["metadata"];
    ListedObject object;
    object.name = metadata.value("name", "");
    if (object.name.empty()) continue;
    object.namespace_name = metadata.value("namespace", "");
    if (metadata.contains("labels") && metadata["labels"].is_object()) {
      for (const auto& [key, value] : metadata["labels"].items()) {
        if (value.is_string()) object.labels[key] = value.get<std::string>();
      }
    }
    objects.push_back(std::move(object));
  }
  return objects;
}

core::Result<AuthenticationOptions> load_delegated_authentication(KubeClient& client,
                                                                  AuthenticationOptions base) {
  const std::string path =
      "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication";
  auto body = client.get(path);
  if (!body) return tl::unexpected(body.error());
  auto doc = core::parse_document(*body);
  if (!doc || !doc->is_object() || !doc->contains("data") || !(*doc)["data"].is_object()) {
    return core::make_error(core::ErrorCode::kInternal, path + ": not a ConfigMap with data");
  }
  const core::Json& data = (*doc)["data"];
  auto text = [&](const char* key) {
    return data.contains(key) && data[key].is_string() ? data[key].get<std::string>() : "";
  };
  auto list = [&](const char* key, std::vector<std::string>& out) -> core::Status {
    std::string raw = text(key);
    if (raw.empty()) return {};
    auto parsed = core::parse_document(raw);
    if (!parsed || !parsed->is_array())
      return core::invalid_argument(path + ": " + key + ": not a JSON array");
    out.clear();
    for (const auto& v : *parsed) {
      if (v.is_string()) out.push_back(v.get<std::string>());
    }
    return {};
  };
  if (base.client_ca_pem.empty()) base.client_ca_pem = text("client-ca-file");
  if (base.requestheader_client_ca_pem.empty()) {
    base.requestheader_client_ca_pem = text("requestheader-client-ca-file");
    for (auto [key, field] :
         {std::pair{"requestheader-allowed-names", &base.requestheader_allowed_names},
          std::pair{"requestheader-username-headers", &base.requestheader_username_headers},
          std::pair{"requestheader-group-headers", &base.requestheader_group_headers},
          std::pair{"requestheader-extra-headers-prefix",
                    &base.requestheader_extra_headers_prefix}}) {
      if (auto st = list(key, *field); !st) return tl::unexpected(st.error());
    }
  }
  return base;
}

}  // namespace llmscale::adapter
