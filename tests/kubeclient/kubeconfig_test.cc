// kubeconfig resolution, case by case as kubectl resolves it: $KUBECONFIG merge order,
// --kubeconfig, --context / current-context, cluster and user fields, overrides, relative paths,
// validation messages, and the in-cluster configuration.
#include "kubeclient/kubeconfig.h"

#include <gtest/gtest.h>

#include <map>

#include "core/strings.h"
#include "support/process.h"

namespace llmscale::kubeclient {
namespace {

using llmscale::testing::TempDir;

Environment fake_env(std::map<std::string, std::string> vars, std::string home = "") {
  Environment env;
  env.getenv = [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  env.home = std::move(home);
  env.service_account_dir = "/nonexistent/serviceaccount";
  return env;
}

const char* kFirst = R"(apiVersion: v1
kind: Config
current-context: first
clusters:
- name: shared
  cluster: {server: "https://first.example:6443", insecure-skip-tls-verify: true}
- name: only-first
  cluster: {server: "https://only-first:443"}
users:
- name: alice
  user: {token: first-token}
contexts:
- name: first
  context: {cluster: shared, user: alice, namespace: team-a}
)";

const char* kSecond = R"(apiVersion: v1
kind: Config
current-context: second
clusters:
- name: shared
  cluster: {server: "https://second.example:6443"}
- name: only-second
  cluster: {server: "https://only-second:443", tls-server-name: api.internal}
users:
- name: alice
  user: {token: second-token}
- name: bob
  user: {tokenFile: bob.token}
contexts:
- name: second
  context: {cluster: only-second, user: bob}
- name: first
  context: {cluster: only-second, user: bob}
)";

class KubeconfigTest : public ::testing::Test {
 protected:
  core::Result<RestConfig> resolve(const std::string& kubeconfig_env,
                                   ConfigOverrides overrides = {}, std::string explicit_path = "") {
    Environment env = fake_env({{"KUBECONFIG", kubeconfig_env}}, dir_.path());
    return resolve_client_config(LoadingRules::from_environment(env, std::move(explicit_path)),
                                 overrides, env);
  }
  TempDir dir_;
};

TEST_F(KubeconfigTest, FirstFileWinsForEveryNameAndForCurrentContext) {
  std::string first = dir_.write("first", kFirst);
  std::string second = dir_.write("second", kSecond);
  dir_.write("bob.token", "bob-token\n");
  auto config = resolve(first + ":" + second);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->context_name, "first");
  // Kubernetes: the context "first" from the first file, whole; cluster "shared" from it too.
  EXPECT_EQ(config->host, "https://first.example:6443");
  EXPECT_TRUE(config->insecure_skip_tls_verify);
  EXPECT_EQ(config->bearer_token, "first-token");
  EXPECT_EQ(config->namespace_name, "team-a");

  // The other order: the second file's current-context and entries win.
  config = resolve(second + ":" + first);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->context_name, "second");
  EXPECT_EQ(config->host, "https://only-second:443");
  EXPECT_EQ(config->tls_server_name, "api.internal");
  EXPECT_EQ(config->bearer_token, "bob-token");  // tokenFile, relative to its file
  EXPECT_EQ(config->bearer_token_file, dir_.path() + "/bob.token");
  EXPECT_EQ(config->namespace_name, "default");
}

TEST_F(KubeconfigTest, MissingEmptyAndDuplicateEntriesInKubeconfigAreIgnored) {
  std::string first = dir_.write("first", kFirst);
  auto config = resolve("::" + dir_.path() + "/missing:" + first + ":" + first);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->host, "https://first.example:6443");
  Environment env = fake_env({{"KUBECONFIG", "a::b:a"}});
  EXPECT_EQ(LoadingRules::from_environment(env).precedence, (std::vector<std::string>{"a", "b"}));
}

TEST_F(KubeconfigTest, HomeConfigWithoutKubeconfigVariable) {
  ::mkdir((dir_.path() + "/.kube").c_str(), 0700);
  dir_.write(".kube/config", kFirst);
  Environment env = fake_env({}, dir_.path());
  auto config = resolve_client_config(LoadingRules::from_environment(env), {}, env);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->bearer_token, "first-token");
}

TEST_F(KubeconfigTest, ExplicitFileMustExistAndIsTheOnlyOneRead) {
  std::string first = dir_.write("first", kFirst);
  std::string second = dir_.write("second", kSecond);
  dir_.write("bob.token", "bob-token");
  auto config = resolve(first, {}, second);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->context_name, "second");
  auto missing = resolve(first, {}, dir_.path() + "/nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "stat " + dir_.path() + "/nope: no such file or directory");
}

TEST_F(KubeconfigTest, ContextFlagAndOverrides) {
  std::string first = dir_.write("first", kFirst);
  std::string second = dir_.write("second", kSecond);
  dir_.write("bob.token", "bob-token");
  ConfigOverrides overrides;
  overrides.context = "second";
  overrides.namespace_name = "ns-flag";
  auto config = resolve(first + ":" + second, overrides);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->host, "https://only-second:443");
  EXPECT_EQ(config->namespace_name, "ns-flag");
  EXPECT_TRUE(config->namespace_explicit);

  // --server replaces the server and clears tls-server-name; --insecure-skip-tls-verify.
  overrides = {};
  overrides.context = "second";
  overrides.server = "https://flag:1";
  config = resolve(first + ":" + second, overrides);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->host, "https://flag:1");
  EXPECT_EQ(config->tls_server_name, "");

  overrides = {};
  overrides.cluster = "only-first";
  overrides.user = "alice";
  overrides.token = "flag-token";
  config = resolve(first, overrides);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->host, "https://only-first:443");
  EXPECT_EQ(config->bearer_token, "flag-token");
}

TEST_F(KubeconfigTest, UnknownContextIsAnError) {
  std::string first = dir_.write("first", kFirst);
  ConfigOverrides overrides;
  overrides.context = "nope";
  auto config = resolve(first, overrides);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message,
            "invalid configuration: [context was not found for specified context: nope, cluster "
            "has no server defined]");
}

TEST_F(KubeconfigTest, NothingConfiguredSaysSo) {
  auto config = resolve(dir_.path() + "/missing");
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message,
            "invalid configuration: no configuration has been provided, try setting "
            "KUBERNETES_MASTER environment variable");
  // --server alone is enough (kubectl --kubeconfig=/dev/null --server=...), plain http.
  ConfigOverrides overrides;
  overrides.server = "127.0.0.1:8080";
  config = resolve(dir_.path() + "/missing", overrides);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->host, "http://127.0.0.1:8080");
}

TEST_F(KubeconfigTest, CertificateDataAndFiles) {
  std::string ca = dir_.write("ca.crt", "CA PEM");
  std::string yaml = R"(clusters:
- name: c
  cluster:
    server: 10.0.0.1:6443
    certificate-authority-data: )" +
                     core::base64_encode("CA DATA") + R"(
users:
- name: u
  user:
    client-certificate: certs/client.crt
    client-key-data: )" +
                     core::base64_encode("KEY DATA") +
                     R"(
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
)";
  ::mkdir((dir_.path() + "/certs").c_str(), 0700);
  dir_.write("certs/client.crt", "CERT");
  auto config = resolve(dir_.write("config", yaml));
  ASSERT_TRUE(config) << config.error().message;
  // Kubernetes: DefaultServerURL picks https because TLS is configured.
  EXPECT_EQ(config->host, "https://10.0.0.1:6443");
  EXPECT_EQ(config->ca_pem, "CA DATA");
  EXPECT_EQ(config->cert_file, dir_.path() + "/certs/client.crt");
  EXPECT_EQ(config->key_pem, "KEY DATA");

  // Both CA forms, a certificate without a key, a missing file: kubectl's messages.
  std::string bad = R"(clusters:
- name: c
  cluster: {server: "https://s", certificate-authority: ca.crt, certificate-authority-data: )" +
                    core::base64_encode("X") + R"(}
users:
- name: u
  user: {client-certificate: missing.crt, token: t, username: admin}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
)";
  config = resolve(dir_.write("bad", bad));
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message,
            "invalid configuration: [client-key-data or client-key must be specified for u to "
            "use the clientCert authentication method., unable to read client-cert " +
                dir_.path() + "/missing.crt for u due to open " + dir_.path() +
                "/missing.crt: no such file or directory, more than one authentication method "
                "found for u; found [token basicAuth], only one is allowed, "
                "certificate-authority-data and certificate-authority are both specified for c. "
                "certificate-authority-data will override.]");
  (void)ca;
}

TEST_F(KubeconfigTest, InsecureOverrideClearsTheCaAndCaWithInsecureIsRefused) {
  std::string yaml = R"(clusters:
- name: c
  cluster: {server: "https://s", certificate-authority-data: )" +
                     core::base64_encode("CA") + R"(}
contexts:
- name: x
  context: {cluster: c}
current-context: x
)";
  std::string file = dir_.write("config", yaml);
  ConfigOverrides overrides;
  overrides.insecure_skip_tls_verify = true;
  auto config = resolve(file, overrides);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_TRUE(config->insecure_skip_tls_verify);
  EXPECT_EQ(config->ca_pem, "");

  std::string both = R"(clusters:
- name: c
  cluster: {server: "https://s", insecure-skip-tls-verify: true, certificate-authority-data: )" +
                     core::base64_encode("CA") + R"(}
contexts:
- name: x
  context: {cluster: c}
current-context: x
)";
  config = resolve(dir_.write("both", both));
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message,
            "specifying a root certificates file with the insecure flag is not allowed");
}

TEST_F(KubeconfigTest, ExecPluginFieldsAndRelativeCommand) {
  std::string yaml = R"(clusters:
- name: c
  cluster: {server: "https://s"}
users:
- name: gke
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: gke-gcloud-auth-plugin
      installHint: install it
      provideClusterInfo: true
- name: local
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/plugin
      args: [get-token, --cluster, c]
      env: [{name: A, value: b}]
      interactiveMode: Never
contexts:
- name: gke
  context: {cluster: c, user: gke}
- name: local
  context: {cluster: c, user: local}
current-context: gke
)";
  std::string file = dir_.write("config", yaml);
  auto config = resolve(file);
  ASSERT_TRUE(config) << config.error().message;
  ASSERT_TRUE(config->exec);
  EXPECT_EQ(config->exec->command, "gke-gcloud-auth-plugin");  // PATH-based: left alone
  EXPECT_EQ(config->exec->interactive_mode, "IfAvailable");    // v1beta1 default
  EXPECT_TRUE(config->exec->provide_cluster_info);
  ConfigOverrides overrides;
  overrides.context = "local";
  config = resolve(file, overrides);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->exec->command, dir_.path() + "/bin/plugin");
  EXPECT_EQ(config->exec->args, (std::vector<std::string>{"get-token", "--cluster", "c"}));
  ASSERT_EQ(config->exec->env.size(), 1u);
  EXPECT_EQ(config->exec->env[0].first, "A");

  std::string no_version = R"(clusters: [{name: c, cluster: {server: "https://s"}}]
users: [{name: u, user: {exec: {command: x}}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
)";
  config = resolve(dir_.write("nv", no_version));
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message,
            "invalid configuration: apiVersion must be specified for u to use exec authentication "
            "plugin");
}

TEST_F(KubeconfigTest, InClusterConfiguration) {
  dir_.write("token", "sa-token\n");
  dir_.write("ca.crt", "CA");
  dir_.write("namespace", "llmscale-system");
  Environment env = fake_env({{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                              {"KUBERNETES_SERVICE_PORT", "443"},
                              {"KUBECONFIG", dir_.path() + "/missing"}});
  env.service_account_dir = dir_.path();
  ASSERT_TRUE(in_cluster_possible(env));
  auto config = resolve_client_config(LoadingRules::from_environment(env), {}, env);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_TRUE(config->in_cluster);
  EXPECT_EQ(config->host, "https://10.96.0.1:443");
  EXPECT_EQ(config->bearer_token, "sa-token");
  EXPECT_EQ(config->bearer_token_file, dir_.path() + "/token");
  EXPECT_EQ(config->ca_file, dir_.path() + "/ca.crt");
  EXPECT_EQ(config->namespace_name, "llmscale-system");

  Environment v6 = fake_env({{"KUBERNETES_SERVICE_HOST", "fd00::1"},
                             {"KUBERNETES_SERVICE_PORT", "443"},
                             {"POD_NAMESPACE", "from-env"}});
  v6.service_account_dir = dir_.path();
  config = in_cluster_config(v6);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->host, "https://[fd00::1]:443");
  EXPECT_EQ(config->namespace_name, "from-env");

  Environment outside = fake_env({});
  auto refused = in_cluster_config(outside);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message,
            "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
            "KUBERNETES_SERVICE_PORT must be defined");
}

}  // namespace
}  // namespace llmscale::kubeclient
