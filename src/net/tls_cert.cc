// Certificate generation and inspection on the OpenSSL 3 API.
#include "net/tls_cert.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <ctime>
#include <memory>

#include "core/strings.h"

namespace llmscale::net {

namespace {

struct Free {
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
  void operator()(STACK_OF(X509) * p) const { sk_X509_pop_free(p, X509_free); }
};
template <class T>
using Owned = std::unique_ptr<T, Free>;

core::Error tls_error(std::string what) {
  std::string errors = detail::openssl_errors();
  if (!errors.empty()) what += ": " + errors;
  return core::Error{core::ErrorCode::kInternal, "tls: " + what};
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

Owned<EVP_PKEY> generate_key(KeyAlgorithm algorithm) {
  if (algorithm == KeyAlgorithm::kRsa2048) {
    return Owned<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  }
  return Owned<EVP_PKEY>(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
}

bool add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return false;
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok == 1;
}

core::Time asn1_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return core::Time();
  return core::Time(std::chrono::seconds(timegm(&tm)));
}

// Builds and signs a certificate. `issuer_cert` null means self-signed with `key`.
core::Result<CertificateAndKey> make_certificate(const CertificateSpec& spec, X509* issuer_cert,
                                                 EVP_PKEY* issuer_key) {
  Owned<EVP_PKEY> key = generate_key(spec.key);
  if (!key) return tl::unexpected(tls_error("key generation failed"));
  Owned<X509> cert(X509_new());
  X509_set_version(cert.get(), 2);  // v3

  // A random positive 127-bit serial (RFC 5280 §4.1.2.2: at most 20 octets, positive).
  Owned<BIGNUM> serial(BN_new());
  BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()));

  long backdate =
      static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(spec.backdate).count());
  long lifetime =
      static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(spec.valid_for).count());
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -backdate);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), lifetime);
  X509_set_pubkey(cert.get(), key.get());

  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& org : spec.organizations) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(org.c_str()), -1, -1, 0);
  }
  if (!spec.common_name.empty()) {
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                               -1, 0);
  }
  X509* signer = issuer_cert ? issuer_cert : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));

  bool ok = true;
  if (spec.is_ca) {
    ok &= add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    ok &= add_extension(cert.get(), signer, NID_key_usage,
                        "critical,digitalSignature,keyCertSign,cRLSign");
  } else {
    ok &= add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    ok &= add_extension(cert.get(), signer, NID_key_usage,
                        spec.key == KeyAlgorithm::kRsa2048
                            ? "critical,digitalSignature,keyEncipherment"
                            : "critical,digitalSignature");
    std::vector<std::string> usages;
    if (spec.server_auth) usages.push_back("serverAuth");
    if (spec.client_auth) usages.push_back("clientAuth");
    if (!usages.empty()) {
      ok &= add_extension(cert.get(), signer, NID_ext_key_usage, core::join(usages, ","));
    }
  }
  ok &= add_extension(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (issuer_cert) {
    ok &= add_extension(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  }
  std::vector<std::string> names;
  for (const auto& dns : spec.dns_names) names.push_back("DNS:" + dns);
  for (const auto& ip : spec.ip_addresses) names.push_back("IP:" + ip);
  if (!names.empty()) {
    ok &= add_extension(cert.get(), signer, NID_subject_alt_name, core::join(names, ","));
  }
  if (!ok) return tl::unexpected(tls_error("invalid certificate extension"));

  if (X509_sign(cert.get(), issuer_key ? issuer_key : key.get(), EVP_sha256()) == 0) {
    return tl::unexpected(tls_error("signing failed"));
  }

  CertificateAndKey out;
  Owned<BIO> cert_bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(cert_bio.get(), cert.get());
  out.cert_pem = bio_text(cert_bio.get());
  Owned<BIO> key_bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  out.key_pem = bio_text(key_bio.get());
  return out;
}

Owned<X509> read_certificate(std::string_view pem) {
  Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return Owned<X509>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

std::vector<std::string> name_entries(X509_NAME* name, int nid) {
  std::vector<std::string> values;
  int index = -1;
  while ((index = X509_NAME_get_index_by_NID(name, nid, index)) >= 0) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, data);
    if (n >= 0) {
      values.emplace_back(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
      OPENSSL_free(utf8);
    }
  }
  return values;
}

}  // namespace

namespace detail {

std::string openssl_errors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    if (!out.empty()) out += "; ";
    out += buffer;
  }
  return out;
}

CertificateInfo certificate_info(x509_st* certificate) {
  CertificateInfo info;
  X509_NAME* subject = X509_get_subject_name(certificate);
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), subject, 0, XN_FLAG_RFC2253);
  info.subject = bio_text(bio.get());
  auto cns = name_entries(subject, NID_commonName);
  if (!cns.empty()) info.subject_cn = cns.front();
  info.organizations = name_entries(subject, NID_organizationName);
  auto issuer_cns = name_entries(X509_get_issuer_name(certificate), NID_commonName);
  if (!issuer_cns.empty()) info.issuer_cn = issuer_cns.front();
  Owned<GENERAL_NAMES> sans(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)));
  if (sans) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans.get()); ++i) {
      GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), i);
      if (gn->type == GEN_DNS) {
        const ASN1_STRING* s = gn->d.dNSName;
        info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                    static_cast<std::size_t>(ASN1_STRING_length(s)));
      } else if (gn->type == GEN_IPADD) {
        const ASN1_OCTET_STRING* ip = gn->d.iPAddress;
        int length = ASN1_STRING_length(ip);
        char text[INET6_ADDRSTRLEN] = {};
        if ((length == 4 || length == 16) &&
            inet_ntop(length == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(ip), text,
                      sizeof text)) {
          info.ip_addresses.emplace_back(text);
        }
      }
    }
  }
  info.not_before = asn1_time(X509_get0_notBefore(certificate));
  info.not_after = asn1_time(X509_get0_notAfter(certificate));
  return info;
}

}  // namespace detail

core::Result<CertificateAndKey> generate_self_signed_certificate(const CertificateSpec& spec) {
  return make_certificate(spec, nullptr, nullptr);
}

core::Result<CertificateAndKey> generate_signed_certificate(const CertificateSpec& spec,
                                                            const CertificateAndKey& issuer) {
  Owned<X509> issuer_cert = read_certificate(issuer.cert_pem);
  if (!issuer_cert) return tl::unexpected(tls_error("cannot read issuer certificate PEM"));
  Owned<BIO> key_bio(
      BIO_new_mem_buf(issuer.key_pem.data(), static_cast<int>(issuer.key_pem.size())));
  Owned<EVP_PKEY> issuer_key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!issuer_key) return tl::unexpected(tls_error("cannot read issuer key PEM"));
  if (X509_check_private_key(issuer_cert.get(), issuer_key.get()) != 1) {
    return tl::unexpected(tls_error("issuer key does not match issuer certificate"));
  }
  return make_certificate(spec, issuer_cert.get(), issuer_key.get());
}

core::Status verify_client_certificate(std::string_view chain_pem, std::string_view ca_pem) {
  // Every certificate of a PEM text, in order.
  auto read_all = [](std::string_view pem) {
    Owned<STACK_OF(X509)> certs(sk_X509_new_null());
    Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      sk_X509_push(certs.get(), cert);
    }
    ERR_clear_error();  // the read that ends the loop queues "no start line"
    return certs;
  };
  Owned<STACK_OF(X509)> chain = read_all(chain_pem);
  Owned<STACK_OF(X509)> cas = read_all(ca_pem);
  if (sk_X509_num(chain.get()) == 0)
    return core::invalid_argument("tls: no client certificate in PEM");
  if (sk_X509_num(cas.get()) == 0) return core::invalid_argument("tls: no CA certificate in PEM");
  Owned<X509_STORE> store(X509_STORE_new());
  for (int i = 0; i < sk_X509_num(cas.get()); ++i)
    X509_STORE_add_cert(store.get(), sk_X509_value(cas.get(), i));
  X509* leaf = sk_X509_value(chain.get(), 0);
  Owned<STACK_OF(X509)> intermediates(sk_X509_new_null());
  for (int i = 1; i < sk_X509_num(chain.get()); ++i) {
    X509* cert = sk_X509_value(chain.get(), i);
    X509_up_ref(cert);
    sk_X509_push(intermediates.get(), cert);
  }
  Owned<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf, intermediates.get()) != 1) {
    return tl::unexpected(tls_error("cannot initialise certificate verification"));
  }
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  if (X509_verify_cert(ctx.get()) != 1) {
    int error = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return core::make_error(core::ErrorCode::kUnauthenticated,
                            std::string("x509: ") + X509_verify_cert_error_string(error));
  }
  return {};
}

core::Result<CertificateInfo> inspect_certificate_pem(std::string_view pem) {
  Owned<X509> cert = read_certificate(pem);
  if (!cert) {
    auto error = tls_error("cannot read certificate PEM");
    error.code = core::ErrorCode::kInvalidArgument;
    return tl::unexpected(error);
  }
  return detail::certificate_info(cert.get());
}

}  // namespace llmscale::net
