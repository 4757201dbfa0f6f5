// OpenSSL context construction for servers and clients.
#include "net/detail/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <optional>

#include <boost/asio/ssl/context.hpp>

#include "core/file.h"

namespace llmscale::net::detail {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;

namespace {

core::Error config_error(const std::string& what, const boost::system::error_code& ec) {
  std::string message = "tls: " + what;
  std::string queued = openssl_errors();
  if (!queued.empty()) {
    message += ": " + queued;
  } else if (ec) {
    message += ": " + ec.message();
  }
  return core::Error{core::ErrorCode::kInvalidArgument, message};
}

void harden(ssl::context& ctx) {
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                  ssl::context::single_dh_use);
}

// Certificate (chain) and key from PEM text or files.
core::Status load_identity(ssl::context& ctx, const std::string& cert_pem,
                           const std::string& key_pem, const std::string& cert_file,
                           const std::string& key_file) {
  boost::system::error_code ec;
  if (!cert_pem.empty()) {
    ctx.use_certificate_chain(asio::buffer(cert_pem), ec);
    if (ec) return tl::unexpected(config_error("cannot load certificate PEM", ec));
  } else if (!cert_file.empty()) {
    ctx.use_certificate_chain_file(cert_file, ec);
    if (ec) return tl::unexpected(config_error("cannot load certificate file " + cert_file, ec));
  }
  if (!key_pem.empty()) {
    ctx.use_private_key(asio::buffer(key_pem), ssl::context::pem, ec);
    if (ec) return tl::unexpected(config_error("cannot load key PEM", ec));
  } else if (!key_file.empty()) {
    ctx.use_private_key_file(key_file, ssl::context::pem, ec);
    if (ec) return tl::unexpected(config_error("cannot load key file " + key_file, ec));
  }
  if ((!cert_pem.empty() || !cert_file.empty()) &&
      SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    return tl::unexpected(config_error("private key does not match certificate", {}));
  }
  return {};
}

// Accepts any client certificate; the verification result stays available through
// SSL_get_verify_result, which is what PeerCertificate::verified reports.
int accept_any_client_certificate(int, X509_STORE_CTX*) {
  return 1;
}

// Adds every certificate of `pem` to the list of CA names sent in the CertificateRequest
// (Go clients only offer a certificate issued by one of them).
void add_client_ca_names(SSL_CTX* ctx, const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    SSL_CTX_add_client_CA(ctx, cert);
    X509_free(cert);
  }
  ERR_clear_error();  // the loop ends on a "no start line" error
  BIO_free(bio);
}

}  // namespace

core::Result<std::shared_ptr<ssl::context>> make_server_tls_context(
    const TlsServerOptions& options) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  harden(*ctx);
  if (options.cert_pem.empty() && options.cert_file.empty()) {
    return core::invalid_argument("tls: the server needs a certificate (cert_pem or cert_file)");
  }
  if (options.key_pem.empty() && options.key_file.empty()) {
    return core::invalid_argument("tls: the server needs a key (key_pem or key_file)");
  }
  if (auto s = load_identity(*ctx, options.cert_pem, options.key_pem, options.cert_file,
                             options.key_file);
      !s) {
    return tl::unexpected(s.error());
  }
  bool client_ca = !options.client_ca_pem.empty() || !options.client_ca_file.empty();
  if (client_ca) {
    boost::system::error_code ec;
    if (!options.client_ca_pem.empty()) {
      ctx->add_certificate_authority(asio::buffer(options.client_ca_pem), ec);
      if (ec) return tl::unexpected(config_error("cannot load client CA PEM", ec));
      add_client_ca_names(ctx->native_handle(), options.client_ca_pem);
    }
    if (!options.client_ca_file.empty()) {
      ctx->load_verify_file(options.client_ca_file, ec);
      if (ec) {
        return tl::unexpected(
            config_error("cannot load client CA file " + options.client_ca_file, ec));
      }
      if (auto pem = core::read_file(options.client_ca_file)) {
        add_client_ca_names(ctx->native_handle(), *pem);
      }
    }
    if (options.require_client_certificate) {
      SSL_CTX_set_verify(ctx->native_handle(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         nullptr);
    } else {
      SSL_CTX_set_verify(ctx->native_handle(), SSL_VERIFY_PEER, accept_any_client_certificate);
    }
  }
  // Session resumption across our own restarts is not needed; a fixed id context keeps
  // OpenSSL from failing resumption when client verification is on.
  static const unsigned char kSessionContext[] = "llmscale";
  SSL_CTX_set_session_id_context(ctx->native_handle(), kSessionContext, sizeof kSessionContext - 1);
  return ctx;
}

core::Result<std::shared_ptr<ssl::context>> make_client_tls_context(
    const TlsClientOptions& options) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  harden(*ctx);
  boost::system::error_code ec;
  if (options.insecure_skip_verify) {
    ctx->set_verify_mode(ssl::verify_none);
  } else {
    ctx->set_verify_mode(ssl::verify_peer);
    if (!options.ca_pem.empty()) {
      ctx->add_certificate_authority(asio::buffer(options.ca_pem), ec);
      if (ec) return tl::unexpected(config_error("cannot load CA PEM", ec));
    }
    if (!options.ca_file.empty()) {
      ctx->load_verify_file(options.ca_file, ec);
      if (ec) return tl::unexpected(config_error("cannot load CA file " + options.ca_file, ec));
    }
    if (options.ca_pem.empty() && options.ca_file.empty()) {
      ctx->set_default_verify_paths(ec);
      if (ec) return tl::unexpected(config_error("cannot load the system CA store", ec));
    }
  }
  if (auto s = load_identity(*ctx, options.cert_pem, options.key_pem, options.cert_file,
                             options.key_file);
      !s) {
    return tl::unexpected(s.error());
  }
  return ctx;
}

core::Status configure_client_session(ssl_st* ssl, const std::string& host,
                                      const TlsClientOptions& options) {
  const std::string& name = options.server_name.empty() ? host : options.server_name;
  in6_addr ip6{};
  in_addr ip4{};
  bool is_ip =
      inet_pton(AF_INET, name.c_str(), &ip4) == 1 || inet_pton(AF_INET6, name.c_str(), &ip6) == 1;
  if (!is_ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
    return core::invalid_argument("tls: cannot set SNI name " + name);
  }
  if (options.insecure_skip_verify) return {};
  if (is_ip) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) != 1) {
      return core::invalid_argument("tls: cannot verify IP " + name);
    }
  } else if (SSL_set1_host(ssl, name.c_str()) != 1) {
    return core::invalid_argument("tls: cannot verify host " + name);
  }
  return {};
}

std::shared_ptr<const PeerCertificate> peer_certificate(ssl_st* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return nullptr;
  auto peer = std::make_shared<PeerCertificate>();
  peer->certificate = certificate_info(cert);
  long result = SSL_get_verify_result(ssl);
  peer->verified = result == X509_V_OK;
  if (!peer->verified) peer->verify_error = X509_verify_cert_error_string(result);
  // Leaf first, then what else the client sent (a server's peer chain omits the leaf).
  auto append_pem = [&](X509* c) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, c);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    peer->chain_pem.append(data, static_cast<std::size_t>(n));
    BIO_free(bio);
  };
  append_pem(cert);
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl)) {
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      X509* c = sk_X509_value(chain, i);
      if (X509_cmp(c, cert) != 0) append_pem(c);
    }
  }
  X509_free(cert);
  return peer;
}

std::string describe_handshake_failure(ssl_st* ssl, const std::string& fallback) {
  long result = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
  if (result != X509_V_OK) {
    ERR_clear_error();
    return std::string("certificate verify failed: ") + X509_verify_cert_error_string(result);
  }
  std::string queued = openssl_errors();
  return queued.empty() ? fallback : queued;
}

}  // namespace llmscale::net::detail
