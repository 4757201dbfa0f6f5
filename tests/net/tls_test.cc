// TLS and mTLS between HttpServer and HttpClient with certificates from net/tls_cert.h:
// verification against a CA, host/IP checks, insecure mode, client certificates reported to
// handlers (verified or not), and required client certificates.
#include <gtest/gtest.h>

#include "net/client.h"
#include "net/server.h"
#include "net/tls_cert.h"
#include "support/process.h"
#include "test_util.h"

namespace llmscale::net {
namespace {

using testing::run;

struct Pki {
  CertificateAndKey ca;
  CertificateAndKey server;
  CertificateAndKey client;  // CN front-proxy-client, O system:masters, signed by ca
  CertificateAndKey other_ca;
  CertificateAndKey other_client;  // signed by other_ca

  static const Pki& get() {
    static const Pki pki = make();
    return pki;
  }

 private:
  static CertificateSpec ca_spec(std::string name) {
    CertificateSpec spec;
    spec.common_name = std::move(name);
    spec.dns_names = {};
    spec.ip_addresses = {};
    spec.is_ca = true;
    return spec;
  }
  static CertificateSpec client_spec(std::string name, std::vector<std::string> groups) {
    CertificateSpec spec;
    spec.common_name = std::move(name);
    spec.organizations = std::move(groups);
    spec.dns_names = {};
    spec.ip_addresses = {};
    spec.server_auth = false;
    spec.client_auth = true;
    return spec;
  }
  static Pki make() {
    Pki pki;
    pki.ca = *generate_self_signed_certificate(ca_spec("test-ca"));
    pki.server = *generate_signed_certificate(CertificateSpec{}, pki.ca);
    pki.client = *generate_signed_certificate(
        client_spec("front-proxy-client", {"system:masters", "admins"}), pki.ca);
    pki.other_ca = *generate_self_signed_certificate(ca_spec("other-ca"));
    pki.other_client = *generate_signed_certificate(client_spec("mallory", {}), pki.other_ca);
    return pki;
  }
};

// Reports what the server learned about the client.
Awaitable<void> whoami(ServerRequest& request, ResponseWriter& writer) {
  std::string body = request.tls ? "tls" : "plain";
  if (const auto& peer = request.peer_certificate) {
    body += peer->verified ? " verified" : " unverified(" + peer->verify_error + ")";
    body += " cn=" + peer->certificate.subject_cn;
    for (const auto& o : peer->certificate.organizations) body += " o=" + o;
  } else {
    body += " anonymous";
  }
  co_await writer.send(Response::text(200, body));
}

class TlsTest : public ::testing::Test {
 protected:
  void start(TlsServerOptions tls) {
    ServerOptions options;
    options.tls = std::move(tls);
    server_ = std::make_unique<HttpServer>(loop_, std::move(options));
    ASSERT_OK(server_->start(whoami));
  }
  TlsServerOptions server_tls() const {
    TlsServerOptions tls;
    tls.cert_pem = Pki::get().server.cert_pem;
    tls.key_pem = Pki::get().server.key_pem;
    return tls;
  }
  core::Result<Response> get(const ClientOptions& options, std::string host = "127.0.0.1") {
    HttpClient client(loop_, options);
    std::optional<core::Result<Response>> result;
    std::string target = "https://" + host + ":" + std::to_string(server_->port()) + "/whoami";
    run(loop_,
        [&]() -> Awaitable<void> { result = co_await client.request(Request::get(target)); }());
    if (!result) return core::make_error(core::ErrorCode::kInternal, "did not finish");
    return *result;
  }
  static ClientOptions trusting(const CertificateAndKey& ca) {
    ClientOptions options;
    options.tls.ca_pem = ca.cert_pem;
    return options;
  }

  EventLoop loop_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(TlsTest, VerifiedServerByIpAndByName) {
  start(server_tls());
  EXPECT_EQ(server_->url("/x").rfind("https://127.0.0.1:", 0), 0u);
  auto by_ip = get(trusting(Pki::get().ca));
  ASSERT_OK(by_ip);
  EXPECT_EQ(by_ip->body, "tls anonymous");
  auto by_name = get(trusting(Pki::get().ca), "localhost");
  ASSERT_OK(by_name);
  EXPECT_EQ(by_name->status, 200);
}

TEST_F(TlsTest, UntrustedOrMismatchedServerCertificateFails) {
  start(server_tls());
  auto untrusted = get(trusting(Pki::get().other_ca));
  ASSERT_FALSE(untrusted.has_value());
  EXPECT_EQ(client_error_kind(untrusted.error()), "tls");
  EXPECT_NE(untrusted.error().message.find("certificate verify failed"), std::string::npos)
      << untrusted.error().message;

  ClientOptions wrong_name = trusting(Pki::get().ca);
  wrong_name.tls.server_name = "metrics.example.com";
  auto mismatched = get(wrong_name);
  ASSERT_FALSE(mismatched.has_value());
  EXPECT_EQ(client_error_kind(mismatched.error()), "tls");

  ClientOptions insecure;
  insecure.tls.insecure_skip_verify = true;
  auto skipped = get(insecure);
  ASSERT_OK(skipped);
  EXPECT_EQ(skipped->status, 200);

  // A plain-HTTP client against the TLS port gets no valid response.
  HttpClient plain(loop_);
  run(loop_, [&]() -> Awaitable<void> {
    Request request = Request::get("http://127.0.0.1:" + std::to_string(server_->port()) + "/");
    request.response_head_timeout = std::chrono::seconds(5);
    auto r = co_await plain.request(request);
    EXPECT_FALSE(r.has_value());
  }());
}

TEST_F(TlsTest, ClientCertificatesAreReportedWithVerification) {
  TlsServerOptions tls = server_tls();
  tls.client_ca_pem = Pki::get().ca.cert_pem;
  start(tls);

  ClientOptions with_cert = trusting(Pki::get().ca);
  with_cert.tls.cert_pem = Pki::get().client.cert_pem;
  with_cert.tls.key_pem = Pki::get().client.key_pem;
  auto verified = get(with_cert);
  ASSERT_OK(verified);
  EXPECT_EQ(verified->body, "tls verified cn=front-proxy-client o=system:masters o=admins");

  // A certificate from another CA still connects (authentication decides), but unverified.
  ClientOptions foreign = trusting(Pki::get().ca);
  foreign.tls.cert_pem = Pki::get().other_client.cert_pem;
  foreign.tls.key_pem = Pki::get().other_client.key_pem;
  auto unverified = get(foreign);
  ASSERT_OK(unverified);
  EXPECT_EQ(unverified->body.rfind("tls unverified(", 0), 0u) << unverified->body;
  EXPECT_NE(unverified->body.find("cn=mallory"), std::string::npos);

  auto anonymous = get(trusting(Pki::get().ca));
  ASSERT_OK(anonymous);
  EXPECT_EQ(anonymous->body, "tls anonymous");
}

TEST_F(TlsTest, RequiredClientCertificate) {
  TlsServerOptions tls = server_tls();
  tls.client_ca_pem = Pki::get().ca.cert_pem;
  tls.require_client_certificate = true;
  start(tls);
  auto refused = get(trusting(Pki::get().ca));
  ASSERT_FALSE(refused.has_value());
  std::string_view kind = client_error_kind(refused.error());
  // TLS 1.3 reports the server's rejection on the first read, after the handshake.
  EXPECT_TRUE(kind == "tls" || kind == "connection reset") << refused.error().message;

  ClientOptions with_cert = trusting(Pki::get().ca);
  with_cert.tls.cert_pem = Pki::get().client.cert_pem;
  with_cert.tls.key_pem = Pki::get().client.key_pem;
  auto accepted = get(with_cert);
  ASSERT_OK(accepted);
  EXPECT_EQ(accepted->body.rfind("tls verified cn=front-proxy-client", 0), 0u);
}

TEST_F(TlsTest, CertificatesAndKeysFromFiles) {
  llmscale::testing::TempDir dir;
  TlsServerOptions tls;
  tls.cert_file = dir.write("server.pem", Pki::get().server.cert_pem);
  tls.key_file = dir.write("server-key.pem", Pki::get().server.key_pem);
  tls.client_ca_file = dir.write("client-ca.pem", Pki::get().ca.cert_pem);
  start(tls);
  ClientOptions options;
  options.tls.ca_file = dir.write("ca.pem", Pki::get().ca.cert_pem);
  options.tls.cert_file = dir.write("client.pem", Pki::get().client.cert_pem);
  options.tls.key_file = dir.write("client-key.pem", Pki::get().client.key_pem);
  auto response = get(options);
  ASSERT_OK(response);
  EXPECT_EQ(response->body.rfind("tls verified cn=front-proxy-client", 0), 0u);
}

TEST_F(TlsTest, BadConfigurationIsReported) {
  ServerOptions options;
  options.tls = TlsServerOptions{};
  options.tls->cert_pem = "not a certificate";
  options.tls->key_pem = Pki::get().server.key_pem;
  HttpServer server(loop_, options);
  auto status = server.start(whoami);
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code, core::ErrorCode::kInvalidArgument);

  options.tls->cert_pem = Pki::get().client.cert_pem;  // key of another certificate
  HttpServer mismatched(loop_, options);
  EXPECT_FALSE(mismatched.start(whoami).has_value());

  ClientOptions client_options;
  client_options.tls.ca_file = "/nonexistent/ca.pem";
  HttpClient client(loop_, client_options);
  auto check = client.check_tls_config();
  ASSERT_FALSE(check.has_value());
  EXPECT_NE(check.error().message.find("/nonexistent/ca.pem"), std::string::npos);
}

TEST_F(TlsTest, StreamsOverTls) {
  ServerOptions options;
  options.tls = server_tls();
  server_ = std::make_unique<HttpServer>(loop_, options);
  ASSERT_OK(server_->start([](ServerRequest&, ResponseWriter& writer) -> Awaitable<void> {
    co_await writer.begin_sse();
    for (int i = 0; i < 3; ++i) co_await writer.send_data("token " + std::to_string(i));
  }));
  HttpClient client(loop_, trusting(Pki::get().ca));
  run(loop_, [&]() -> Awaitable<void> {
    auto stream = co_await client.open(Request::get(server_->url("/sse")));
    CO_ASSERT_OK(stream);
    auto body = co_await stream->read_all();
    CO_ASSERT_OK(body);
    EXPECT_EQ(*body, "data: token 0\n\ndata: token 1\n\ndata: token 2\n\n");
    // The connection is kept alive and reused over TLS.
    auto again = co_await client.request(Request::get(server_->url("/again")));
    CO_ASSERT_OK(again);
  }());
  EXPECT_EQ(client.stats().connections_opened, 1u);
}

}  // namespace
}  // namespace llmscale::net
