// kubeconfig files, in-cluster configuration, and the resolution kubectl performs from them to
// one API server address plus credentials (client-go's clientcmd and rest.InClusterConfig).
//
//   kubeclient::LoadingRules rules = kubeclient::LoadingRules::from_environment(env, flag_path);
//   kubeclient::ConfigOverrides overrides;  // --context, --namespace, --server ...
//   auto config = kubeclient::resolve_client_config(rules, overrides, env);
//
// Rules followed (client-go tools/clientcmd/loader.go, client_config.go, validation.go):
//  * --kubeconfig names exactly one file, which must exist. Otherwise $KUBECONFIG is a
//    ':'-separated list (duplicates and empty entries dropped, missing files ignored); otherwise
//    ~/.kube/config.
//  * Merge: the first file to define a cluster, user or context name wins (the entry whole, no
//    field merge); the first file with a non-empty current-context wins.
//  * Relative certificate-authority, client-certificate, client-key, tokenFile, and an exec
//    command containing '/', are relative to the file that names them.
//  * --context, else current-context; --cluster/--user/--namespace override the context's;
//    --server, --certificate-authority, --insecure-skip-tls-verify, --tls-server-name override the
//    cluster's as kubectl's DirectClientConfig does (an insecure or CA override replaces both
//    CA settings; a --server override also replaces tls-server-name).
//  * `*-data` wins over the file form (and both set is a validation error, as in kubectl).
//  * tokenFile is read when the configuration is resolved and re-read by Credentials.
//  * With no kubeconfig at all, the in-cluster configuration is used when the process runs in a
//    pod (KUBERNETES_SERVICE_HOST/PORT and the service-account token exist).
//
// Pure apart from reading the files named; the environment (variables, home directory, the
// service-account directory) is passed in, so tests build their own. Thread-compatible values.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace llmscale::kubeclient {

inline constexpr std::string_view kServiceAccountDir =
    "/var/run/secrets/kubernetes.io/serviceaccount";

// What a process sees of its environment.
struct Environment {
  std::function<std::optional<std::string>(const std::string&)> getenv;
  std::string home;
  std::string service_account_dir = std::string(kServiceAccountDir);

  // The real process environment ($HOME for the home directory).
  static Environment process();
  std::string get(const std::string& name) const;
};

// clientcmdapi.ExecConfig (users[].user.exec).
struct ExecConfig {
  std::string command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string api_version;
  std::string install_hint;
  bool provide_cluster_info = false;
  std::string interactive_mode;  // Never, IfAvailable, Always
};

struct KubeCluster {
  std::string server;
  std::string certificate_authority;       // a file
  std::string certificate_authority_data;  // PEM (decoded from base64)
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;
  std::string proxy_url;
  bool empty() const;
};

struct KubeUser {
  std::string client_certificate;
  std::string client_certificate_data;  // PEM
  std::string client_key;
  std::string client_key_data;  // PEM
  std::string token;
  std::string token_file;
  std::string username;
  std::string password;
  std::optional<ExecConfig> exec;
  bool has_auth_provider = false;  // auth-provider (gcp, oidc): not supported, reported
};

struct KubeContext {
  std::string cluster;
  std::string user;
  std::string namespace_name;
};

// One kubeconfig file, or several merged.
struct KubeConfig {
  std::map<std::string, KubeCluster> clusters;
  std::map<std::string, KubeUser> users;
  std::map<std::string, KubeContext> contexts;
  std::string current_context;
  bool empty() const;
};

// Parses one kubeconfig document (YAML or JSON); relative paths are resolved against
// `base_dir`. Unknown fields are ignored, as kubectl's decoder does.
core::Result<KubeConfig> parse_kubeconfig(std::string_view text, const std::string& base_dir);

// Later configs lose to earlier ones (see the merge rule above).
KubeConfig merge_kubeconfigs(const std::vector<KubeConfig>& configs);

struct LoadingRules {
  std::string explicit_path;            // --kubeconfig
  std::vector<std::string> precedence;  // $KUBECONFIG entries, or ~/.kube/config

  static LoadingRules from_environment(const Environment& env, std::string explicit_path = "");
};

// Reads and merges the files the rules name.
core::Result<KubeConfig> load_kubeconfig(const LoadingRules& rules);

// Command-line overrides (kubectl's flags of the same names).
struct ConfigOverrides {
  std::string context;
  std::string cluster;
  std::string user;
  std::string namespace_name;
  std::string server;
  std::string certificate_authority;
  std::optional<bool> insecure_skip_tls_verify;
  std::string tls_server_name;
  std::string token;
};

// Everything needed to talk to one API server (rest.Config).
struct RestConfig {
  std::string host;  // "https://10.0.0.1:443"
  std::string ca_pem;
  std::string ca_file;
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;
  std::string cert_pem;
  std::string cert_file;
  std::string key_pem;
  std::string key_file;
  std::string bearer_token;
  std::string bearer_token_file;
  std::string username;
  std::string password;
  std::optional<ExecConfig> exec;
  std::string namespace_name = "default";
  bool namespace_explicit = false;  // from --namespace (or the in-cluster pod's namespace)
  std::string context_name;         // "" for in-cluster
  bool in_cluster = false;
};

// kubectl's DirectClientConfig: the context, cluster and user chosen, validated as kubectl does
// ("invalid configuration: context was not found for specified context: x").
core::Result<RestConfig> client_config(const KubeConfig& config, const ConfigOverrides& overrides,
                                       const Environment& env);

// rest.InClusterConfig: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, the
// service-account CA and token file; namespace from $POD_NAMESPACE, else the namespace file.
core::Result<RestConfig> in_cluster_config(const Environment& env);
bool in_cluster_possible(const Environment& env);

// kubectl's deferred loading: the kubeconfig files, or in-cluster when they hold nothing and
// nothing was overridden.
core::Result<RestConfig> resolve_client_config(const LoadingRules& rules,
                                               const ConfigOverrides& overrides,
                                               const Environment& env);

}  // namespace llmscale::kubeclient
