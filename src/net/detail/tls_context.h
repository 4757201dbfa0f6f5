// Building OpenSSL contexts from TlsServerOptions / TlsClientOptions, per-connection client
// settings (SNI, host name verification) and reading the peer certificate. Internal to net.
#pragma once

#include <memory>
#include <string>

#include "core/result.h"
#include "net/tls.h"

namespace boost::asio::ssl {
class context;
}
struct ssl_st;

namespace llmscale::net::detail {

core::Result<std::shared_ptr<boost::asio::ssl::context>> make_server_tls_context(
    const TlsServerOptions& options);
core::Result<std::shared_ptr<boost::asio::ssl::context>> make_client_tls_context(
    const TlsClientOptions& options);

// SNI (for DNS names, RFC 6066 forbids IP literals there) and RFC 6125 host or IP
// verification, unless insecure_skip_verify.
core::Status configure_client_session(ssl_st* ssl, const std::string& host,
                                      const TlsClientOptions& options);

// The client certificate of a finished server-side handshake, or null when none was sent.
std::shared_ptr<const PeerCertificate> peer_certificate(ssl_st* ssl);

// Why a handshake failed: the certificate verification result when that was the cause, else
// the OpenSSL error queue, else `fallback`.
std::string describe_handshake_failure(ssl_st* ssl, const std::string& fallback);

}  // namespace llmscale::net::detail
