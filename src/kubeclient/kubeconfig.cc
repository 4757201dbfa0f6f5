// kubeconfig loading, merging and resolution as kubectl does it; see kubeconfig.h.
#include "kubeclient/kubeconfig.h"

#include <sys/stat.h>
#include <cstdlib>
#include <set>

#include <nlohmann/json.hpp>

#include "core/file.h"
#include "core/json.h"
#include "core/strings.h"

namespace llmscale::kubeclient {
namespace {

using core::Json;

bool is_absolute(const std::string& path) {
  return !path.empty() && path[0] == '/';
}

// Go's filepath.Join: joined, then cleaned lexically ("a/./b/../c" -> "a/c").
std::string join_path(const std::string& base, const std::string& path) {
  std::string joined = base.empty() ? path : base + "/" + path;
  bool absolute = !joined.empty() && joined[0] == '/';
  std::vector<std::string> parts;
  for (std::string_view part : core::split(joined, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == ".." && !parts.empty() && parts.back() != "..") {
      parts.pop_back();
    } else if (part != ".." || !absolute) {
      parts.emplace_back(part);
    }
  }
  std::string cleaned = (absolute ? "/" : "") + core::join(parts, "/");
  return cleaned.empty() ? "." : cleaned;
}

// Kubernetes: ResolvePaths leaves empty and absolute paths alone.
void resolve(std::string& path, const std::string& base) {
  if (!path.empty() && !is_absolute(path)) path = join_path(base, path);
}

std::string directory_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string string_field(const Json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

bool bool_field(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

core::Result<std::string> data_field(const Json& object, const char* key,
                                     const std::string& where) {
  std::string text = string_field(object, key);
  if (text.empty()) return std::string();
  auto decoded = core::base64_decode(text);
  if (!decoded) {
    return core::invalid_argument(where + "." + key + ": illegal base64 data");
  }
  return *decoded;
}

// Named list entries: [{name: x, <field>: {...}}].
template <class Decode>
core::Status read_named(const Json& root, const char* list, const char* field, Decode&& decode) {
  auto it = root.find(list);
  if (it == root.end() || it->is_null()) return {};
  if (!it->is_array()) return core::invalid_argument(std::string(list) + ": expected a list");
  for (const Json& entry : *it) {
    if (!entry.is_object()) continue;
    std::string name = string_field(entry, "name");
    auto body = entry.find(field);
    static const Json kEmpty = Json::object();
    const Json& node = (body != entry.end() && body->is_object()) ? *body : kEmpty;
    if (auto status = decode(name, node); !status) return status;
  }
  return {};
}

std::string config_invalid(const std::vector<std::string>& errors) {
  // Kubernetes: errConfigurationInvalid prints one error bare, several as a list.
  if (errors.size() == 1) return "invalid configuration: " + errors[0];
  return "invalid configuration: [" + core::join(errors, ", ") + "]";
}

bool file_exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

}  // namespace

Environment Environment::process() {
  Environment env;
  env.getenv = [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
  env.home = env.get("HOME");
  return env;
}

std::string Environment::get(const std::string& name) const {
  if (!getenv) return "";
  return getenv(name).value_or("");
}

bool KubeCluster::empty() const {
  return server.empty() && certificate_authority.empty() && certificate_authority_data.empty() &&
         !insecure_skip_tls_verify && tls_server_name.empty() && proxy_url.empty();
}

bool KubeConfig::empty() const {
  return clusters.empty() && users.empty() && contexts.empty() && current_context.empty();
}

core::Result<KubeConfig> parse_kubeconfig(std::string_view text, const std::string& base_dir) {
  auto documents = core::parse_documents(text);
  if (!documents) return tl::unexpected(documents.error());
  KubeConfig config;
  if (documents->empty()) return config;
  if (documents->size() > 1) return core::invalid_argument("kubeconfig: more than one document");
  const Json& root = documents->front();
  if (!root.is_object()) return core::invalid_argument("kubeconfig: expected an object");
  config.current_context = string_field(root, "current-context");

  auto clusters = read_named(
      root, "clusters", "cluster", [&](const std::string& name, const Json& node) -> core::Status {
        KubeCluster cluster;
        cluster.server = string_field(node, "server");
        cluster.certificate_authority = string_field(node, "certificate-authority");
        auto ca = data_field(node, "certificate-authority-data", "clusters[" + name + "]");
        if (!ca) return tl::unexpected(ca.error());
        cluster.certificate_authority_data = *ca;
        cluster.insecure_skip_tls_verify = bool_field(node, "insecure-skip-tls-verify");
        cluster.tls_server_name = string_field(node, "tls-server-name");
        cluster.proxy_url = string_field(node, "proxy-url");
        resolve(cluster.certificate_authority, base_dir);
        config.clusters[name] = std::move(cluster);
        return {};
      });
  if (!clusters) return tl::unexpected(clusters.error());

  auto users = read_named(
      root, "users", "user", [&](const std::string& name, const Json& node) -> core::Status {
        KubeUser user;
        std::string where = "users[" + name + "]";
        user.client_certificate = string_field(node, "client-certificate");
        auto cert = data_field(node, "client-certificate-data", where);
        if (!cert) return tl::unexpected(cert.error());
        user.client_certificate_data = *cert;
        user.client_key = string_field(node, "client-key");
        auto key = data_field(node, "client-key-data", where);
        if (!key) return tl::unexpected(key.error());
        user.client_key_data = *key;
        user.token = string_field(node, "token");
        user.token_file = string_field(node, "tokenFile");
        user.username = string_field(node, "username");
        user.password = string_field(node, "password");
        user.has_auth_provider = node.contains("auth-provider") && !node["auth-provider"].is_null();
        if (auto exec = node.find("exec"); exec != node.end() && exec->is_object()) {
          ExecConfig plugin;
          plugin.command = string_field(*exec, "command");
          plugin.api_version = string_field(*exec, "apiVersion");
          plugin.install_hint = string_field(*exec, "installHint");
          plugin.provide_cluster_info = bool_field(*exec, "provideClusterInfo");
          plugin.interactive_mode = string_field(*exec, "interactiveMode");
          if (auto args = exec->find("args"); args != exec->end() && args->is_array()) {
            for (const Json& arg : *args) {
              if (arg.is_string()) plugin.args.push_back(arg.get<std::string>());
            }
          }
          if (auto envs = exec->find("env"); envs != exec->end() && envs->is_array()) {
            for (const Json& var : *envs) {
              if (var.is_object()) {
                plugin.env.emplace_back(string_field(var, "name"), string_field(var, "value"));
              }
            }
          }
          // Kubernetes: clientcmd/api/v1 defaults interactiveMode to IfAvailable for v1beta1.
          if (plugin.interactive_mode.empty() &&
              plugin.api_version == "client.authentication.k8s.io/v1beta1") {
            plugin.interactive_mode = "IfAvailable";
          }
          // Kubernetes: only a command with a path separator is relative to the kubeconfig.
          if (plugin.command.find('/') != std::string::npos) resolve(plugin.command, base_dir);
          user.exec = std::move(plugin);
        }
        resolve(user.client_certificate, base_dir);
        resolve(user.client_key, base_dir);
        resolve(user.token_file, base_dir);
        config.users[name] = std::move(user);
        return {};
      });
  if (!users) return tl::unexpected(users.error());

  auto contexts = read_named(root, "contexts", "context",
                             [&](const std::string& name, const Json& node) -> core::Status {
                               KubeContext context;
                               context.cluster = string_field(node, "cluster");
                               context.user = string_field(node, "user");
                               context.namespace_name = string_field(node, "namespace");
                               config.contexts[name] = std::move(context);
                               return {};
                             });
  if (!contexts) return tl::unexpected(contexts.error());
  return config;
}

KubeConfig merge_kubeconfigs(const std::vector<KubeConfig>& configs) {
  // Kubernetes: "the first file to set a particular map key wins and map key's value is never
  // changed"; the first file to set current-context wins.
  KubeConfig merged;
  for (const KubeConfig& config : configs) {
    for (const auto& [name, cluster] : config.clusters) merged.clusters.emplace(name, cluster);
    for (const auto& [name, user] : config.users) merged.users.emplace(name, user);
    for (const auto& [name, context] : config.contexts) merged.contexts.emplace(name, context);
    if (merged.current_context.empty()) merged.current_context = config.current_context;
  }
  return merged;
}

LoadingRules LoadingRules::from_environment(const Environment& env, std::string explicit_path) {
  LoadingRules rules;
  rules.explicit_path = std::move(explicit_path);
  std::string list = env.get("KUBECONFIG");
  if (!list.empty()) {
    std::set<std::string> seen;
    for (std::string_view entry : core::split(list, ':')) {
      if (entry.empty()) continue;
      if (seen.insert(std::string(entry)).second) rules.precedence.emplace_back(entry);
    }
  } else if (!env.home.empty()) {
    rules.precedence.push_back(join_path(env.home, ".kube/config"));
  }
  return rules;
}

core::Result<KubeConfig> load_kubeconfig(const LoadingRules& rules) {
  std::vector<std::string> files;
  if (!rules.explicit_path.empty()) {
    // Kubernetes: an explicit file must exist.
    if (!file_exists(rules.explicit_path)) {
      return core::make_error(core::ErrorCode::kNotFound,
                              "stat " + rules.explicit_path + ": no such file or directory");
    }
    files.push_back(rules.explicit_path);
  } else {
    files = rules.precedence;
  }
  std::vector<KubeConfig> configs;
  for (const std::string& file : files) {
    auto text = core::read_file(file);
    if (!text) {
      if (!rules.explicit_path.empty()) return tl::unexpected(text.error());
      continue;  // Kubernetes: missing files in $KUBECONFIG are ignored.
    }
    auto config = parse_kubeconfig(*text, directory_of(file));
    if (!config)
      return core::with_context(config.error(), "error loading config file \"" + file + "\"");
    configs.push_back(std::move(*config));
  }
  return merge_kubeconfigs(configs);
}

namespace {

std::vector<std::string> validate_cluster(const std::string& name, const KubeCluster& cluster) {
  if (cluster.empty()) return {"cluster has no server defined"};
  std::vector<std::string> errors;
  if (cluster.server.empty()) {
    errors.push_back(name.empty() ? "default cluster has no server defined"
                                  : "no server found for cluster \"" + name + "\"");
  }
  if (!cluster.certificate_authority.empty() && !cluster.certificate_authority_data.empty()) {
    errors.push_back(
        "certificate-authority-data and certificate-authority are both specified for " + name +
        ". certificate-authority-data will override.");
  }
  if (!cluster.certificate_authority.empty() && !file_exists(cluster.certificate_authority)) {
    errors.push_back("unable to read certificate-authority " + cluster.certificate_authority +
                     " for " + name + " due to open " + cluster.certificate_authority +
                     ": no such file or directory");
  }
  return errors;
}

std::vector<std::string> validate_user(const std::string& name, const KubeUser& user) {
  std::vector<std::string> errors;
  std::vector<std::string> methods;
  if (!user.token.empty()) methods.push_back("token");
  if (!user.username.empty() || !user.password.empty()) methods.push_back("basicAuth");
  if (!user.client_certificate.empty() || !user.client_certificate_data.empty()) {
    if (!user.client_certificate.empty() && !user.client_certificate_data.empty()) {
      errors.push_back("client-cert-data and client-cert are both specified for " + name +
                       ". client-cert-data will override.");
    }
    if (!user.client_key.empty() && !user.client_key_data.empty()) {
      errors.push_back("client-key-data and client-key are both specified for " + name +
                       "; client-key-data will override");
    }
    if (user.client_key.empty() && user.client_key_data.empty()) {
      errors.push_back("client-key-data or client-key must be specified for " + name +
                       " to use the clientCert authentication method.");
    }
    for (const std::string* file : {&user.client_certificate, &user.client_key}) {
      if (!file->empty() && !file_exists(*file)) {
        errors.push_back(std::string("unable to read ") +
                         (file == &user.client_key ? "client-key " : "client-cert ") + *file +
                         " for " + name + " due to open " + *file + ": no such file or directory");
      }
    }
  }
  if (user.exec) {
    if (user.has_auth_provider) {
      errors.push_back("authProvider cannot be provided in combination with an exec plugin for " +
                       name);
    }
    if (user.exec->command.empty()) {
      errors.push_back("command must be specified for " + name +
                       " to use exec authentication plugin");
    }
    if (user.exec->api_version.empty()) {
      errors.push_back("apiVersion must be specified for " + name +
                       " to use exec authentication plugin");
    }
    for (const auto& [var, value] : user.exec->env) {
      if (var.empty()) {
        errors.push_back("env variable name must be specified for " + name +
                         " to use exec authentication plugin");
      }
    }
  }
  if (methods.size() > 1) {
    errors.push_back("more than one authentication method found for " + name + "; found [" +
                     core::join(methods, " ") + "], only one is allowed");
  }
  return errors;
}

bool has_scheme(const std::string& server) {
  return server.find("://") != std::string::npos;
}

}  // namespace

core::Result<RestConfig> client_config(const KubeConfig& config, const ConfigOverrides& overrides,
                                       const Environment& env) {
  std::vector<std::string> errors;
  std::string context_name =
      !overrides.context.empty() ? overrides.context : config.current_context;
  KubeContext context;
  if (!context_name.empty()) {
    auto it = config.contexts.find(context_name);
    if (it == config.contexts.end()) {
      errors.push_back("context was not found for specified context: " + context_name);
    } else {
      context = it->second;
    }
  }
  if (!overrides.cluster.empty()) context.cluster = overrides.cluster;
  if (!overrides.user.empty()) context.user = overrides.user;
  if (!overrides.namespace_name.empty()) context.namespace_name = overrides.namespace_name;

  // Kubernetes: the cluster defaults (KUBERNETES_MASTER) under the named cluster, under the
  // overrides.
  KubeCluster cluster;
  cluster.server = env.get("KUBERNETES_MASTER");
  if (auto it = config.clusters.find(context.cluster); it != config.clusters.end()) {
    std::string default_server = cluster.server;
    cluster = it->second;
    if (cluster.server.empty()) cluster.server = default_server;
  }
  if (!overrides.server.empty()) cluster.server = overrides.server;
  bool insecure_override = overrides.insecure_skip_tls_verify.value_or(false);
  if (insecure_override || !overrides.certificate_authority.empty()) {
    cluster.insecure_skip_tls_verify = insecure_override;
    cluster.certificate_authority = overrides.certificate_authority;
    cluster.certificate_authority_data.clear();
  } else if (overrides.insecure_skip_tls_verify.has_value()) {
    cluster.insecure_skip_tls_verify = false;
  }
  if (!overrides.tls_server_name.empty() || !overrides.server.empty()) {
    cluster.tls_server_name = overrides.tls_server_name;
  }

  KubeUser user;
  if (auto it = config.users.find(context.user); it != config.users.end()) user = it->second;
  if (!overrides.token.empty()) {
    user.token = overrides.token;
    user.token_file.clear();
  }

  std::vector<std::string> user_errors = validate_user(context.user, user);
  errors.insert(errors.end(), user_errors.begin(), user_errors.end());
  std::vector<std::string> cluster_errors = validate_cluster(context.cluster, cluster);
  errors.insert(errors.end(), cluster_errors.begin(), cluster_errors.end());
  if (errors.size() == 1 && errors[0] == "cluster has no server defined") {
    return core::invalid_argument(config_invalid(
        {"no configuration has been provided, try setting KUBERNETES_MASTER environment "
         "variable"}));
  }
  if (!errors.empty()) return core::invalid_argument(config_invalid(errors));

  RestConfig rest;
  rest.context_name = context_name;
  rest.ca_pem = cluster.certificate_authority_data;
  rest.ca_file = cluster.certificate_authority_data.empty() ? cluster.certificate_authority : "";
  rest.insecure_skip_tls_verify = cluster.insecure_skip_tls_verify;
  rest.tls_server_name = cluster.tls_server_name;
  // Kubernetes: transport.TLSConfigFor refuses a CA together with insecure.
  if (rest.insecure_skip_tls_verify && (!rest.ca_pem.empty() || !rest.ca_file.empty())) {
    return core::invalid_argument(
        "specifying a root certificates file with the insecure flag is not allowed");
  }
  // Kubernetes: getUserIdentificationPartialConfig, token before tokenFile (which is read now).
  if (!user.token.empty()) {
    rest.bearer_token = user.token;
    rest.bearer_token_file = user.token_file;
  } else if (!user.token_file.empty()) {
    auto token = core::read_file(user.token_file);
    if (!token) return tl::unexpected(token.error());
    rest.bearer_token = std::string(core::trim(*token));
    rest.bearer_token_file = user.token_file;
  }
  if (!user.client_certificate.empty() || !user.client_certificate_data.empty()) {
    rest.cert_pem = user.client_certificate_data;
    rest.cert_file = user.client_certificate_data.empty() ? user.client_certificate : "";
    rest.key_pem = user.client_key_data;
    rest.key_file = user.client_key_data.empty() ? user.client_key : "";
  }
  rest.username = user.username;
  rest.password = user.password;
  rest.exec = user.exec;
  rest.namespace_name = context.namespace_name.empty() ? "default" : context.namespace_name;
  rest.namespace_explicit = !overrides.namespace_name.empty();

  // Kubernetes: DefaultServerURL picks https when any TLS setting is present, else http.
  rest.host = cluster.server;
  if (!has_scheme(rest.host)) {
    bool tls = !rest.ca_pem.empty() || !rest.ca_file.empty() || !rest.cert_pem.empty() ||
               !rest.cert_file.empty() || rest.insecure_skip_tls_verify;
    rest.host = (tls ? "https://" : "http://") + rest.host;
  }
  while (rest.host.size() > 1 && rest.host.back() == '/') rest.host.pop_back();
  return rest;
}

bool in_cluster_possible(const Environment& env) {
  return !env.get("KUBERNETES_SERVICE_HOST").empty() &&
         !env.get("KUBERNETES_SERVICE_PORT").empty() &&
         file_exists(join_path(env.service_account_dir, "token"));
}

core::Result<RestConfig> in_cluster_config(const Environment& env) {
  std::string host = env.get("KUBERNETES_SERVICE_HOST");
  std::string port = env.get("KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty()) {
    return core::make_error(core::ErrorCode::kFailedPrecondition,
                            "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
                            "KUBERNETES_SERVICE_PORT must be defined");
  }
  RestConfig rest;
  rest.in_cluster = true;
  // Kubernetes: net.JoinHostPort brackets IPv6 addresses.
  bool ipv6 = host.find(':') != std::string::npos;
  rest.host = "https://" + (ipv6 ? "[" + host + "]" : host) + ":" + port;
  rest.bearer_token_file = join_path(env.service_account_dir, "token");
  auto token = core::read_file(rest.bearer_token_file);
  if (!token) return tl::unexpected(token.error());
  rest.bearer_token = std::string(core::trim(*token));
  std::string ca = join_path(env.service_account_dir, "ca.crt");
  if (file_exists(ca)) rest.ca_file = ca;
  // Kubernetes: clientcmd's inClusterClientConfig.Namespace: $POD_NAMESPACE, the file, default.
  std::string pod_namespace = env.get("POD_NAMESPACE");
  if (!pod_namespace.empty()) {
    rest.namespace_name = pod_namespace;
  } else if (auto text = core::read_file(join_path(env.service_account_dir, "namespace"))) {
    std::string ns(core::trim(*text));
    if (!ns.empty()) rest.namespace_name = ns;
  }
  rest.namespace_explicit = true;
  return rest;
}

core::Result<RestConfig> resolve_client_config(const LoadingRules& rules,
                                               const ConfigOverrides& overrides,
                                               const Environment& env) {
  auto config = load_kubeconfig(rules);
  if (!config) return tl::unexpected(config.error());
  // Kubernetes: DeferredLoadingClientConfig falls back to in-cluster when the merged kubeconfig
  // is empty and no server was given (the in-cluster namespace still yields to --namespace).
  if (config->empty() && overrides.server.empty() && env.get("KUBERNETES_MASTER").empty() &&
      in_cluster_possible(env)) {
    auto rest = in_cluster_config(env);
    if (rest && !overrides.namespace_name.empty()) rest->namespace_name = overrides.namespace_name;
    if (rest && !overrides.token.empty()) {
      rest->bearer_token = overrides.token;
      rest->bearer_token_file.clear();
    }
    return rest;
  }
  return client_config(*config, overrides, env);
}

}  // namespace llmscale::kubeclient
