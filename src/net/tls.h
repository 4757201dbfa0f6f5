// TLS configuration for HttpServer and HttpClient, and what the server learns about a client
// certificate. Plain values; no OpenSSL in this header.
#pragma once

#include <string>

#include "net/tls_cert.h"

namespace llmscale::net {

struct TlsServerOptions {
  // The server certificate (chain, leaf first) and its key: PEM text, or files. PEM text wins
  // when both are given.
  std::string cert_pem;
  std::string key_pem;
  std::string cert_file;
  std::string key_file;
  // CA certificates for client certificates (PEM text and/or a file). When any is set the
  // server asks for a client certificate and advertises these CAs. A missing or unverifiable
  // certificate does not fail the handshake (as in kube-apiserver, authentication decides);
  // the request carries PeerCertificate::verified. With require_client_certificate the
  // handshake fails instead.
  std::string client_ca_pem;
  std::string client_ca_file;
  bool require_client_certificate = false;
};

struct TlsClientOptions {
  // Trusted CAs (PEM text and/or a file); the system store when both are empty.
  std::string ca_pem;
  std::string ca_file;
  // Client certificate and key for mTLS (PEM text wins over files).
  std::string cert_pem;
  std::string key_pem;
  std::string cert_file;
  std::string key_file;
  // Skip certificate and host name verification (kubectl --insecure-skip-tls-verify).
  bool insecure_skip_verify = false;
  // Name for SNI and verification instead of the URL host (kubectl tls-server-name).
  std::string server_name;
};

// A client certificate presented during the TLS handshake.
struct PeerCertificate {
  // True when the certificate chains to one of TlsServerOptions' client CAs.
  bool verified = false;
  // OpenSSL's reason when not verified ("unable to get local issuer certificate").
  std::string verify_error;
  CertificateInfo certificate;
  // The presented chain as PEM, leaf first, for verification against a particular CA
  // (verify_client_certificate in tls_cert.h).
  std::string chain_pem;
};

}  // namespace llmscale::net
