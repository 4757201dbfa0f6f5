// Who may use the control address of `llmscale up` (the Kubernetes API, metrics APIs,
// Prometheus API): anyone on loopback by default; off loopback only a client that presents the
// bearer token (`--control-token-file`, as kube-apiserver's static token file) or a client
// certificate signed by `--control-client-ca` (over TLS). Health paths stay open, as
// kube-apiserver's /healthz, /livez and /readyz are for anonymous probes.
#pragma once

#include <optional>
#include <string>

#include "core/result.h"

namespace llmscale::net {
struct ServerRequest;
}

namespace llmscale::up {

struct ControlAuthOptions {
  std::string listen_host;           // the address bound (--control-listen)
  std::string token;                 // empty: no bearer token accepted
  bool client_certificates = false;  // a verified TLS client certificate authenticates
};

// Refuses a non-loopback address with no way to authenticate (the error names the flags).
core::Status check_control_auth(const ControlAuthOptions& options);

// Reads --control-token-file: the first line, trimmed; an error names the file when it cannot
// be read or holds no token.
core::Result<std::string> read_token_file(const std::string& path);

// Whether `request` may be served: nullopt when yes, else the metav1.Status body of the 401.
std::optional<std::string> control_auth_denial(const ControlAuthOptions& options,
                                               const net::ServerRequest& request);

}  // namespace llmscale::up
