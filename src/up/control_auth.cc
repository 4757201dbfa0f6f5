// Authentication of the control address of `llmscale up` (control_auth.h).
#include "up/control_auth.h"

#include <openssl/crypto.h>

#include "adapter/server.h"
#include "core/file.h"
#include "core/strings.h"
#include "net/server.h"
#include "net/tls.h"

namespace llmscale::up {

core::Status check_control_auth(const ControlAuthOptions& options) {
  if (adapter::is_loopback_address(options.listen_host)) return {};
  if (!options.token.empty() || options.client_certificates) return {};
  return core::invalid_argument(
      "--control-listen " + options.listen_host +
      " is not a loopback address: the Kubernetes API of up would be open to anyone who reaches "
      "it; set --control-token-file FILE (clients send `Authorization: Bearer TOKEN`; with "
      "--control-tls-cert/--control-tls-key to keep it off the wire) or --control-client-ca "
      "FILE with TLS");
}

core::Result<std::string> read_token_file(const std::string& path) {
  // A token is a line of a few hundred bytes; read no more than 64 KiB of a hostile file.
  auto text = core::read_file(path, 64 * 1024);
  if (!text) return core::invalid_argument("--control-token-file: " + text.error().message);
  std::string token(core::trim(std::string_view(*text).substr(0, text->find('\n'))));
  if (token.empty()) return core::invalid_argument("--control-token-file: " + path + " is empty");
  return token;
}

std::optional<std::string> control_auth_denial(const ControlAuthOptions& options,
                                               const net::ServerRequest& request) {
  const std::string& path = request.path;
  if (path == "/healthz" || path == "/livez" || path == "/readyz") return std::nullopt;
  bool open = adapter::is_loopback_address(options.listen_host) && options.token.empty() &&
              !options.client_certificates;
  if (open) return std::nullopt;
  std::string_view authorization = request.header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (!options.token.empty() && authorization.size() > kBearer.size() &&
      core::to_lower(std::string(authorization.substr(0, kBearer.size()))) == "bearer ") {
    std::string_view sent = core::trim(authorization.substr(kBearer.size()));
    // Compared in constant time, as the token authenticator does (crypto/subtle).
    if (sent.size() == options.token.size() &&
        CRYPTO_memcmp(sent.data(), options.token.data(), sent.size()) == 0)
      return std::nullopt;
  }
  if (options.client_certificates && request.peer_certificate && request.peer_certificate->verified)
    return std::nullopt;
  // kube-apiserver's answer to a request it cannot authenticate.
  return std::string(R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
                     R"("message":"Unauthorized","reason":"Unauthorized","code":401})"
                     "\n");
}

}  // namespace llmscale::up
