// Interop with a real peer: curl against HttpServer (TLS with --cacert, mTLS, SSE with -N,
// uploads with Expect: 100-continue, an aborted stream failing). Each curl runs under `timeout`, is
// polled while the test drives the event loop, and is killed by PID if it overstays.
#include <gtest/gtest.h>

#include "core/clock.h"
#include "net/server.h"
#include "net/tls_cert.h"
#include "support/process.h"
#include "test_util.h"

namespace llmscale::net {
namespace {

using namespace std::chrono_literals;
using llmscale::testing::Process;
using llmscale::testing::TempDir;

class CurlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!llmscale::testing::have_program("/usr/bin/curl") ||
        !llmscale::testing::have_program("/usr/bin/timeout")) {
      GTEST_SKIP() << "curl or timeout not installed";
    }
  }

  void start(Handler handler, std::optional<TlsServerOptions> tls = std::nullopt) {
    ServerOptions options;
    options.tls = std::move(tls);
    options.max_body_bytes = 256 * 1024;
    server_ = std::make_unique<HttpServer>(loop_, options);
    ASSERT_OK(server_->start(std::move(handler)));
  }

  // Runs curl with `args` to completion while serving; returns it finished.
  Process curl(std::vector<std::string> args,
               const std::function<void(Process&)>& while_running = {}) {
    std::vector<std::string> argv{"timeout", "20", "curl", "-sS"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto process = Process::start(argv, dir_);
    EXPECT_TRUE(process.has_value());
    if (while_running) while_running(*process);
    bool done = loop_.run_until([&] { return process->poll(); }, 30s);
    EXPECT_TRUE(done) << "curl did not finish";
    if (!done) process->kill();
    return std::move(*process);
  }

  TempDir dir_;
  EventLoop loop_;
  core::SimulatedClock gate_;
  std::unique_ptr<HttpServer> server_;
};

CertificateAndKey make_ca() {
  CertificateSpec spec;
  spec.common_name = "curl-test-ca";
  spec.dns_names = {};
  spec.ip_addresses = {};
  spec.is_ca = true;
  return *generate_self_signed_certificate(spec);
}

Awaitable<void> describe(ServerRequest& request, ResponseWriter& writer) {
  std::string body = "hello " + request.path + " body=" + std::to_string(request.body.size());
  if (request.peer_certificate) {
    body += request.peer_certificate->verified ? " verified " : " unverified ";
    body += request.peer_certificate->certificate.subject_cn;
  }
  co_await writer.send(Response::text(200, body));
}

TEST_F(CurlTest, GetOverTlsWithCaCert) {
  CertificateAndKey ca = make_ca();
  CertificateAndKey server_cert = *generate_signed_certificate(CertificateSpec{}, ca);
  TlsServerOptions tls;
  tls.cert_pem = server_cert.cert_pem;
  tls.key_pem = server_cert.key_pem;
  start(describe, tls);
  std::string ca_file = dir_.write("ca.pem", ca.cert_pem);
  Process p = curl({"--cacert", ca_file, server_->url("/hello")});
  EXPECT_EQ(p.exit_code(), 0) << p.errors();
  EXPECT_EQ(p.output(), "hello /hello body=0");
  // Also by name: the certificate carries DNS:localhost.
  Process by_name =
      curl({"--cacert", ca_file, "https://localhost:" + std::to_string(server_->port()) + "/n"});
  EXPECT_EQ(by_name.exit_code(), 0) << by_name.errors();
}

TEST_F(CurlTest, MutualTls) {
  CertificateAndKey ca = make_ca();
  CertificateAndKey server_cert = *generate_signed_certificate(CertificateSpec{}, ca);
  CertificateSpec client_spec;
  client_spec.common_name = "aggregator";
  client_spec.dns_names = {};
  client_spec.ip_addresses = {};
  client_spec.server_auth = false;
  client_spec.client_auth = true;
  CertificateAndKey client_cert = *generate_signed_certificate(client_spec, ca);
  TlsServerOptions tls;
  tls.cert_pem = server_cert.cert_pem;
  tls.key_pem = server_cert.key_pem;
  tls.client_ca_pem = ca.cert_pem;
  start(describe, tls);
  Process p = curl({"--cacert", dir_.write("ca.pem", ca.cert_pem), "--cert",
                    dir_.write("client.pem", client_cert.cert_pem), "--key",
                    dir_.write("client-key.pem", client_cert.key_pem), server_->url("/whoami")});
  EXPECT_EQ(p.exit_code(), 0) << p.errors();
  EXPECT_EQ(p.output(), "hello /whoami body=0 verified aggregator");
}

TEST_F(CurlTest, StreamsServerSentEventsUnbuffered) {
  // Each event is produced only after curl has printed the previous one, so this passes only
  // if neither our server nor curl -N holds events back.
  start([this](ServerRequest&, ResponseWriter& writer) -> Awaitable<void> {
    core::Time start = gate_.now();
    co_await writer.begin_sse();
    for (int i = 0; i < 3; ++i) {
      co_await writer.send_data("{\"token\":" + std::to_string(i) + "}");
      co_await testing::wait_until(gate_, start + (i + 1) * 1s);
    }
    co_await writer.send_data("[DONE]");
  });
  Process p = curl({"-N", server_->url("/v1/completions")}, [&](Process& running) {
    for (int i = 0; i < 3; ++i) {
      std::string expected = "data: {\"token\":" + std::to_string(i) + "}\n\n";
      bool seen = loop_.run_until(
          [&] { return running.output().find(expected) != std::string::npos || running.poll(); },
          20s);
      EXPECT_TRUE(seen) << "curl never printed event " << i;
      EXPECT_EQ(running.output().find("[DONE]"), std::string::npos);
      gate_.advance(1s);
    }
  });
  EXPECT_EQ(p.exit_code(), 0) << p.errors();
  EXPECT_EQ(
      p.output(),
      "data: {\"token\":0}\n\ndata: {\"token\":1}\n\ndata: {\"token\":2}\n\ndata: [DONE]\n\n");
}

TEST_F(CurlTest, UploadsWithExpectContinue) {
  start(describe);
  std::string small = dir_.write("small.bin", std::string(200 * 1024, 'x'));
  std::string big = dir_.write("big.bin", std::string(2 * 1024 * 1024, 'x'));
  Process ok =
      curl({"-H", "Expect: 100-continue", "--data-binary", "@" + small, server_->url("/upload")});
  EXPECT_EQ(ok.exit_code(), 0) << ok.errors();
  EXPECT_EQ(ok.output(), "hello /upload body=204800");
  Process refused = curl({"-o", "/dev/null", "-w", "%{http_code}", "-H", "Expect: 100-continue",
                          "--data-binary", "@" + big, server_->url("/upload")});
  EXPECT_EQ(refused.output(), "413") << refused.errors();
}

// Issue 11 item 3: an aborted stream must fail in curl ("transfer closed with outstanding read
// data remaining", exit 18), not exit 0 with a partial body.
TEST_F(CurlTest, AbortedStreamsFailInCurl) {
  start([](ServerRequest&, ResponseWriter& writer) -> Awaitable<void> {
    co_await writer.begin_sse();
    co_await writer.send_data("partial");
    writer.abort();
  });
  Process p = curl({"-N", server_->url("/v1/completions")});
  EXPECT_EQ(p.exit_code(), 18) << p.errors();
  EXPECT_EQ(p.output(), "data: partial\n\n");
}

}  // namespace
}  // namespace llmscale::net
