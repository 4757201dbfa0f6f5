// X.509 certificates and keys made with the OpenSSL API, as PEM text: a self-signed server
// certificate for the adapter when none is configured, and CA / server / client certificates
// for TLS and mTLS tests. Also reads the fields other modules authorise on (subject CN, O).
//
// Kubernetes clients (Go crypto/tls) reject a server certificate without a matching
// subjectAltName, so the default spec carries IP:127.0.0.1 and DNS:localhost.
//
// Pure functions; safe to call from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"

struct x509_st;  // OpenSSL's X509, for detail code only

namespace llmscale::net {

enum class KeyAlgorithm { kEcdsaP256, kRsa2048 };

struct CertificateSpec {
  std::string common_name = "localhost";
  // Subject O entries; Kubernetes reads them as the user's groups.
  std::vector<std::string> organizations;
  std::vector<std::string> dns_names{"localhost"};
  std::vector<std::string> ip_addresses{"127.0.0.1"};
  // A CA signs other certificates (basicConstraints CA:TRUE, keyCertSign).
  bool is_ca = false;
  // Extended key usages of a leaf certificate.
  bool server_auth = true;
  bool client_auth = false;
  core::Duration valid_for = std::chrono::hours(24 * 365);
  // notBefore is set this far in the past to tolerate clock skew between peers.
  core::Duration backdate = std::chrono::hours(1);
  KeyAlgorithm key = KeyAlgorithm::kEcdsaP256;
};

struct CertificateAndKey {
  std::string cert_pem;
  std::string key_pem;  // PKCS#8, unencrypted
};

// A self-signed certificate (a root CA when spec.is_ca).
core::Result<CertificateAndKey> generate_self_signed_certificate(const CertificateSpec& spec);
// A certificate signed by `issuer` (a CA made by the function above, or any PEM CA + key).
core::Result<CertificateAndKey> generate_signed_certificate(const CertificateSpec& spec,
                                                            const CertificateAndKey& issuer);

// What a certificate says about its holder.
struct CertificateInfo {
  std::string subject;  // one line, RFC 2253 ("CN=front-proxy,O=system:masters")
  std::string subject_cn;
  std::vector<std::string> organizations;
  std::string issuer_cn;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  core::Time not_before;
  core::Time not_after;
};

// Reads the first certificate of a PEM text.
core::Result<CertificateInfo> inspect_certificate_pem(std::string_view pem);

// Verifies a client certificate chain (PEM, leaf first, intermediates after) against the CA
// certificates in `ca_pem` for client authentication, at the current time: what
// kube-apiserver's x509 authenticators do with --client-ca-file and
// --requestheader-client-ca-file. A chain that does not verify is kUnauthenticated with
// OpenSSL's reason ("x509: unable to get local issuer certificate"); unreadable PEM is
// kInvalidArgument.
core::Status verify_client_certificate(std::string_view chain_pem, std::string_view ca_pem);

namespace detail {
CertificateInfo certificate_info(x509_st* certificate);
// The queued OpenSSL errors as one line (and clears the queue).
std::string openssl_errors();
}  // namespace detail

}  // namespace llmscale::net
