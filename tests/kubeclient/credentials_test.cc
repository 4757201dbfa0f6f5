// Credentials on a simulated clock: token files re-read as they rotate, exec credential plugins
// (ExecCredential validation, caching until expirationTimestamp, refresh after a 401,
// KUBERNETES_EXEC_INFO).
#include "kubeclient/credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "core/json.h"
#include "support/process.h"

namespace llmscale::kubeclient {
namespace {

using llmscale::testing::TempDir;
using namespace std::chrono_literals;

std::string credential_json(const std::string& token, const std::string& expiry = "",
                            const std::string& version = "client.authentication.k8s.io/v1") {
  std::string status = R"({"token":")" + token + "\"";
  if (!expiry.empty()) status += R"(,"expirationTimestamp":")" + expiry + "\"";
  status += "}";
  return R"({"kind":"ExecCredential","apiVersion":")" + version + R"(","status":)" + status + "}";
}

RestConfig exec_config() {
  RestConfig config;
  config.host = "https://api.example:443";
  config.ca_pem = "CA";
  ExecConfig plugin;
  plugin.command = "plugin";
  plugin.api_version = "client.authentication.k8s.io/v1";
  plugin.env = {{"FOO", "bar"}};
  plugin.provide_cluster_info = true;
  config.exec = plugin;
  return config;
}

TEST(ExecCredentialTest, ValidatesLikeClientGo) {
  const std::string v1 = "client.authentication.k8s.io/v1";
  auto ok = parse_exec_credential(credential_json("t", "2026-01-01T00:10:00Z"), v1);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->token, "t");
  ASSERT_TRUE(ok->expiration);

  auto message = [&](const std::string& text) {
    auto parsed = parse_exec_credential(text, v1);
    return parsed ? std::string("ok") : parsed.error().message;
  };
  EXPECT_EQ(message(credential_json("t", "", "client.authentication.k8s.io/v1beta1")),
            "exec plugin is configured to use API version client.authentication.k8s.io/v1, "
            "plugin returned version client.authentication.k8s.io/v1beta1");
  EXPECT_EQ(message(R"({"kind":"ExecCredential","apiVersion":")" + v1 + R"("})"),
            "exec plugin didn't return a status field");
  EXPECT_EQ(message(R"({"kind":"ExecCredential","apiVersion":")" + v1 + R"(","status":{}})"),
            "exec plugin didn't return a token or cert/key pair");
  EXPECT_EQ(message(R"({"kind":"ExecCredential","apiVersion":")" + v1 +
                    R"(","status":{"clientCertificateData":"PEM"}})"),
            "exec plugin returned only certificate or key, not both");
}

TEST(CredentialsTest, ExecCredentialCachedUntilExpiryAndRefreshedAfter401) {
  core::SimulatedClock clock;  // starts 2026-01-01T00:00:00Z
  int runs = 0;
  std::vector<std::pair<std::string, std::string>> seen_env;
  ExecRunner runner =
      [&](const ExecConfig& config,
          const std::vector<std::pair<std::string, std::string>>& env) -> core::Result<ExecOutput> {
    EXPECT_EQ(config.command, "plugin");
    seen_env = env;
    ++runs;
    // Each token valid for ten minutes from its minting.
    return ExecOutput{0,
                      credential_json("token-" + std::to_string(runs),
                                      runs == 1 ? "2026-01-01T00:10:00Z" : "2026-01-01T01:00:00Z"),
                      ""};
  };
  Credentials credentials(exec_config(), clock, runner);
  auto auth = credentials.current();
  ASSERT_TRUE(auth) << auth.error().message;
  EXPECT_EQ(auth->authorization, "Bearer token-1");
  ASSERT_EQ(seen_env.size(), 2u);
  EXPECT_EQ(seen_env[0], (std::pair<std::string, std::string>{"FOO", "bar"}));
  EXPECT_EQ(seen_env[1].first, "KUBERNETES_EXEC_INFO");
  auto info = core::parse_json(seen_env[1].second);
  ASSERT_TRUE(info);
  EXPECT_EQ((*info)["spec"]["interactive"], false);
  EXPECT_EQ((*info)["spec"]["cluster"]["server"], "https://api.example:443");
  EXPECT_EQ((*info)["spec"]["cluster"]["certificate-authority-data"], "Q0E=");

  clock.advance(9min);
  EXPECT_EQ(credentials.current()->authorization, "Bearer token-1");
  EXPECT_EQ(runs, 1);
  clock.advance(2min);  // past expirationTimestamp
  EXPECT_EQ(credentials.current()->authorization, "Bearer token-2");
  EXPECT_EQ(runs, 2);

  // A 401 for a stale credential does not re-run the plugin; one for the current one does.
  RequestAuth stale;
  stale.authorization = "Bearer token-1";
  credentials.unauthorized(stale);
  EXPECT_EQ(credentials.current()->authorization, "Bearer token-2");
  credentials.unauthorized(*credentials.current());
  EXPECT_EQ(credentials.current()->authorization, "Bearer token-3");
  EXPECT_EQ(credentials.exec_runs(), 3);
}

TEST(CredentialsTest, ExecFailuresAreUnauthenticated) {
  core::SimulatedClock clock;
  RestConfig config = exec_config();
  config.exec->install_hint = "install the plugin";
  Credentials missing(
      config, clock, [](const ExecConfig&, const auto&) -> core::Result<ExecOutput> {
        return core::make_error(core::ErrorCode::kNotFound, "exec: executable plugin not found");
      });
  auto auth = missing.current();
  ASSERT_FALSE(auth);
  EXPECT_EQ(auth.error().code, core::ErrorCode::kUnauthenticated);
  EXPECT_EQ(auth.error().message,
            "getting credentials: exec: executable plugin not found\n\ninstall the plugin");

  Credentials failing(config, clock, [](const ExecConfig&, const auto&) {
    return core::Result<ExecOutput>(ExecOutput{3, "", "boom"});
  });
  EXPECT_EQ(failing.current().error().message,
            "getting credentials: exec: executable plugin failed with exit code 3");
}

TEST(CredentialsTest, TokenFileReReadAfterAMinuteAndKeptWhenUnreadable) {
  TempDir dir;
  std::string file = dir.write("token", "first\n");
  core::SimulatedClock clock;
  RestConfig config;
  config.bearer_token = "first";
  config.bearer_token_file = file;
  Credentials credentials(config, clock);
  EXPECT_EQ(credentials.current()->authorization, "Bearer first");
  dir.write("token", "rotated\n");
  clock.advance(30s);
  EXPECT_EQ(credentials.current()->authorization, "Bearer first");  // cached for a minute
  clock.advance(31s);
  EXPECT_EQ(credentials.current()->authorization, "Bearer rotated");
  ::unlink(file.c_str());
  clock.advance(2min);
  EXPECT_EQ(credentials.current()->authorization, "Bearer rotated");
  // After a 401 the file is read again at once.
  dir.write("token", "third");
  credentials.unauthorized(*credentials.current());
  EXPECT_EQ(credentials.current()->authorization, "Bearer third");
}

TEST(CredentialsTest, BasicAuth) {
  core::SimulatedClock clock;
  RestConfig config;
  config.username = "admin";
  config.password = "secret";
  Credentials credentials(config, clock);
  EXPECT_EQ(credentials.current()->authorization, "Basic YWRtaW46c2VjcmV0");
}

}  // namespace
}  // namespace llmscale::kubeclient
