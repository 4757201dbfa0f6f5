// Credentials: what a REST client puts on each request — a bearer token (static, from a token
// file re-read as it rotates, or from an exec credential plugin), basic auth, and an exec
// plugin's client certificate.
//
// Rules followed (client-go transport and plugin/pkg/client/auth/exec):
//  * tokenFile (and the in-cluster service-account token) is re-read at most once a minute
//    (CachedFileTokenSource); when the re-read fails the previous token stays in use.
//  * Exec plugins: the command runs with the process environment plus exec.env, and
//    KUBERNETES_EXEC_INFO holding an ExecCredential (spec.interactive=false, spec.cluster when
//    provideClusterInfo). Its stdout must be an ExecCredential of the configured apiVersion
//    (client.authentication.k8s.io/v1 or v1beta1) with status.token or
//    status.clientCertificateData + clientKeyData. The result is cached until
//    status.expirationTimestamp (forever without one); a 401 answered to a request that used
//    the cached credential forgets it, so the next request runs the plugin again.
//
// Thread-safety: all methods may be called from any thread (one mutex).
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "kubeclient/kubeconfig.h"

namespace llmscale::kubeclient {

// What running an exec plugin produced.
struct ExecOutput {
  int exit_code = 0;
  std::string stdout_text;
  std::string stderr_text;
};

// Runs `config.command` with `config.args`; `env` is added to the process environment.
// kNotFound when the executable does not exist.
using ExecRunner = std::function<core::Result<ExecOutput>(
    const ExecConfig& config, const std::vector<std::pair<std::string, std::string>>& env)>;

// Runs the plugin as a child process (fork/exec, stdin from /dev/null), killing it after
// `timeout`.
ExecRunner process_exec_runner(core::Duration timeout = std::chrono::seconds(60));

// A decoded ExecCredential status.
struct ExecCredential {
  std::string token;
  std::string client_certificate_pem;
  std::string client_key_pem;
  std::optional<core::Time> expiration;
};

// Parses a plugin's output (validated as client-go does).
core::Result<ExecCredential> parse_exec_credential(std::string_view text,
                                                   const std::string& api_version);

// The KUBERNETES_EXEC_INFO value for a plugin.
std::string exec_info(const RestConfig& config);

// What one request carries.
struct RequestAuth {
  std::string authorization;  // header value, "" for none
  std::string client_certificate_pem;
  std::string client_key_pem;
};

class Credentials {
 public:
  Credentials(RestConfig config, core::Clock& clock, ExecRunner runner = process_exec_runner());

  // The authorization for the next request (runs the exec plugin when its credential is absent
  // or expired; re-reads the token file when due).
  core::Result<RequestAuth> current();
  // A request carrying `used` was answered 401.
  void unauthorized(const RequestAuth& used);

  // Counters for tests and metrics.
  int exec_runs() const;
  int token_file_reads() const;

 private:
  core::Result<RequestAuth> from_exec();
  void refresh_token_file();

  RestConfig config_;
  core::Clock& clock_;
  ExecRunner runner_;
  mutable std::mutex mutex_;
  std::string file_token_;
  std::optional<core::Time> file_token_read_at_;
  std::optional<ExecCredential> exec_cached_;
  int exec_runs_ = 0;
  int token_file_reads_ = 0;
};

}  // namespace llmscale::kubeclient
