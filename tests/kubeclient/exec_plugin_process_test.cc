// An exec credential plugin run for real: a shell script printing an ExecCredential, its exit
// codes, and a missing executable (child processes, so labelled integration).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "kubeclient/credentials.h"
#include "support/process.h"

namespace llmscale::kubeclient {
namespace {

using llmscale::testing::TempDir;
using namespace std::chrono_literals;

RestConfig exec_config() {
  RestConfig config;
  config.host = "https://api.example:443";
  ExecConfig plugin;
  plugin.api_version = "client.authentication.k8s.io/v1";
  config.exec = plugin;
  return config;
}

// A real plugin: a shell script printing an ExecCredential, run as a child process.
TEST(ExecPluginProcessTest, ScriptPrintingAnExecCredential) {
  TempDir dir;
  std::string script = dir.write("plugin.sh", R"(#!/bin/sh
test "$1" = get-token || exit 7
count=$(cat "$(dirname "$0")/count" 2>/dev/null || echo 0)
count=$((count + 1))
echo "$count" > "$(dirname "$0")/count"
printf '{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"%s-%s","expirationTimestamp":"2026-01-01T00:05:00Z"}}' "$PLUGIN_PREFIX" "$count"
echo "$KUBERNETES_EXEC_INFO" > "$(dirname "$0")/info"
)");
  ::chmod(script.c_str(), 0755);
  core::SimulatedClock clock;
  RestConfig config = exec_config();
  config.exec->command = script;
  config.exec->args = {"get-token"};
  config.exec->env = {{"PLUGIN_PREFIX", "tok"}};
  Credentials credentials(config, clock, process_exec_runner(30s));
  auto auth = credentials.current();
  ASSERT_TRUE(auth) << auth.error().message;
  EXPECT_EQ(auth->authorization, "Bearer tok-1");
  EXPECT_NE(llmscale::testing::read_file(dir.path() + "/info").find("\"interactive\":false"),
            std::string::npos);
  clock.advance(6min);
  EXPECT_EQ(credentials.current()->authorization, "Bearer tok-2");

  config.exec->args = {"wrong"};
  Credentials wrong(config, clock, process_exec_runner(30s));
  EXPECT_EQ(wrong.current().error().message,
            "getting credentials: exec: executable " + script + " failed with exit code 7");
  config.exec->command = dir.path() + "/nope";
  Credentials absent(config, clock, process_exec_runner(30s));
  EXPECT_EQ(absent.current().error().message,
            "getting credentials: exec: executable " + dir.path() + "/nope not found");
}

}  // namespace
}  // namespace llmscale::kubeclient
