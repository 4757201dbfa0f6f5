// AdapterServer over HTTPS on loopback: the aggregator's front-proxy certificate and
// X-Remote-* headers, client certificates, anonymous requests, 401/403 statuses in
// kube-apiserver's words, health endpoints, and the metrics API behind them.
#include "adapter/server.h"

#include <gtest/gtest.h>

#include "adapter/queue_backend.h"
#include "core/clock.h"
#include "net/client.h"
#include "net/gzip.h"
#include "net/recording_writer.h"
#include "net/tls_cert.h"
#include "prom/promql/engine.h"
#include "prom/tsdb/storage.h"

namespace llmscale::adapter {
namespace {

net::CertificateSpec ca_spec(std::string name) {
  net::CertificateSpec spec;
  spec.common_name = std::move(name);
  spec.dns_names = {};
  spec.ip_addresses = {};
  spec.is_ca = true;
  return spec;
}

net::CertificateSpec client_spec(std::string name, std::vector<std::string> groups) {
  net::CertificateSpec spec;
  spec.common_name = std::move(name);
  spec.organizations = std::move(groups);
  spec.dns_names = {};
  spec.ip_addresses = {};
  spec.server_auth = false;
  spec.client_auth = true;
  return spec;
}

// The certificates of a cluster: the serving CA, the front-proxy CA and its client
// (the aggregator), the client CA and a user, and a stranger's CA and client.
struct Pki {
  net::CertificateAndKey serving_ca, serving, proxy_ca, proxy, client_ca, user, other_ca, stranger,
      other_proxy;
  static const Pki& get() {
    static const Pki pki = [] {
      Pki p;
      p.serving_ca = *net::generate_self_signed_certificate(ca_spec("serving-ca"));
      p.serving = *net::generate_signed_certificate(net::CertificateSpec{}, p.serving_ca);
      p.proxy_ca = *net::generate_self_signed_certificate(ca_spec("front-proxy-ca"));
      p.proxy =
          *net::generate_signed_certificate(client_spec("front-proxy-client", {}), p.proxy_ca);
      p.other_proxy =
          *net::generate_signed_certificate(client_spec("not-the-aggregator", {}), p.proxy_ca);
      p.client_ca = *net::generate_self_signed_certificate(ca_spec("client-ca"));
      p.user = *net::generate_signed_certificate(client_spec("jane", {"dev", "ops"}), p.client_ca);
      p.other_ca = *net::generate_self_signed_certificate(ca_spec("other-ca"));
      p.stranger = *net::generate_signed_certificate(client_spec("mallory", {}), p.other_ca);
      return p;
    }();
    return pki;
  }
};

class AdapterServerTest : public ::testing::Test {
 protected:
  AdapterServerTest() : engine_(storage_), lister_(queue_lister()) {
    EXPECT_TRUE(append_queue_series(storage_, loop_.clock().now()));
    adapter_ =
        std::make_unique<MetricsAdapter>(queue_rule_config(), engine_, lister_, loop_.clock());
  }

  void start(AuthorizationMode mode,
             std::vector<std::string> allowed_names = {"front-proxy-client"}) {
    AdapterServerOptions options;
    options.http.tls = net::TlsServerOptions{};
    options.http.tls->cert_pem = Pki::get().serving.cert_pem;
    options.http.tls->key_pem = Pki::get().serving.key_pem;
    options.authn.requestheader_client_ca_pem = Pki::get().proxy_ca.cert_pem;
    options.authn.requestheader_allowed_names = std::move(allowed_names);
    options.authn.client_ca_pem = Pki::get().client_ca.cert_pem;
    options.authz = mode;
    server_ = std::make_unique<AdapterServer>(loop_, *adapter_, loop_.clock(), options);
    ASSERT_TRUE(server_->start());
  }

  net::Response get(const std::string& path, const net::CertificateAndKey* cert = nullptr,
                    net::Headers headers = {}, const std::string& method = "GET",
                    bool decode_gzip = true) {
    net::ClientOptions options;
    options.decode_gzip = decode_gzip;
    options.tls.ca_pem = Pki::get().serving_ca.cert_pem;
    if (cert != nullptr) {
      options.tls.cert_pem = cert->cert_pem;
      options.tls.key_pem = cert->key_pem;
    }
    net::HttpClient client(loop_, options);
    net::Request request =
        net::Request::get("https://127.0.0.1:" + std::to_string(server_->port()) + path);
    request.method = method;
    request.headers = std::move(headers);
    std::optional<core::Result<net::Response>> result;
    auto task = [&]() -> net::Awaitable<void> {
      result = co_await client.request(std::move(request));
    };
    EXPECT_TRUE(loop_.block_on(task(), std::chrono::seconds(20)));
    if (!result || !*result) {
      ADD_FAILURE() << "request failed: " << (result ? result->error().message : "timeout");
      return {};
    }
    return **result;
  }

  net::EventLoop loop_;
  prom::Storage storage_;
  prom::LocalQueryEngine engine_;
  StaticObjectLister lister_;
  std::unique_ptr<MetricsAdapter> adapter_;
  std::unique_ptr<AdapterServer> server_;
};

const std::string kPods =
    "/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/num_requests_waiting";

TEST_F(AdapterServerTest, TheAggregatorsHeadersAreTrustedOnlyWithItsCertificate) {
  start(AuthorizationMode::kAuthenticated);
  net::Headers remote{{"X-Remote-User", "system:kube-controller-manager"},
                      {"X-Remote-Group", "system:authenticated"}};
  auto through_proxy = get(kPods, &Pki::get().proxy, remote);
  EXPECT_EQ(through_proxy.status, 200) << through_proxy.body;
  EXPECT_NE(through_proxy.body.find("\"value\":\"4\""), std::string::npos) << through_proxy.body;
  EXPECT_EQ(through_proxy.headers.value("Content-Type"), "application/json");

  // The same headers without the front-proxy certificate are ignored: anonymous, forbidden.
  auto forged = get(kPods, nullptr, remote);
  EXPECT_EQ(forged.status, 403);
  EXPECT_EQ(
      forged.body,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods.custom.metrics.k8s.io )"
      R"(\"*\" is forbidden: User \"system:anonymous\" cannot get resource \"pods/num_requests_waiting\" in API )"
      R"(group \"custom.metrics.k8s.io\" in the namespace \"llm\"","reason":"Forbidden","details":{"name":"*",)"
      R"("group":"custom.metrics.k8s.io","kind":"pods"},"code":403})"
      "\n");
  auto discovery = get("/apis/custom.metrics.k8s.io/v1beta2");
  EXPECT_EQ(discovery.status, 403);
  EXPECT_NE(
      discovery.body.find(
          R"(forbidden: User \"system:anonymous\" cannot get path \"/apis/custom.metrics.k8s.io/v1beta2\")"),
      std::string::npos)
      << discovery.body;

  // A certificate from an unknown CA, or a front-proxy CN not in the allowed list: 401.
  auto stranger = get(kPods, &Pki::get().stranger, remote);
  EXPECT_EQ(stranger.status, 401);
  EXPECT_EQ(
      stranger.body,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized",)"
      R"("reason":"Unauthorized","code":401})"
      "\n");
  EXPECT_EQ(get(kPods, &Pki::get().other_proxy, remote).status, 401);

  // A user certificate from the client CA authenticates as its CN.
  EXPECT_EQ(get(kPods, &Pki::get().user).status, 200);
  // Health endpoints need nothing.
  auto healthz = get("/healthz");
  EXPECT_EQ(healthz.status, 200);
  EXPECT_EQ(healthz.body, "ok");
  EXPECT_EQ(get("/readyz").status, 200);
}

TEST_F(AdapterServerTest, AlwaysAllowServesAnonymousAndAnswersLikeAnApiServer) {
  start(AuthorizationMode::kAlwaysAllow);
  auto list = get("/apis/external.metrics.k8s.io/v1beta1");
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(
      list.body,
      R"({"kind":"APIResourceList","apiVersion":"v1","groupVersion":"external.metrics.k8s.io/v1beta1",)"
      R"("resources":[]})"
      "\n");
  auto missing = get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods/*/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("the server could not find the metric nope for pods"),
            std::string::npos);
  EXPECT_EQ(get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/llm/pods", nullptr).status, 400);
  auto post = get(kPods, nullptr, {}, "POST");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(get("/api/v1/pods").status, 404);
  EXPECT_EQ(get("/openapi/v2").status, 200);
  // A front proxy with a forbidden CN still fails authentication: 401 beats AlwaysAllow.
  EXPECT_EQ(get(kPods, &Pki::get().other_proxy, {{"X-Remote-User", "x"}}).status, 401);
}

TEST(AdapterAuthenticationTest, HeadersGroupsAndExtras) {
  AuthenticationOptions options;
  options.requestheader_client_ca_pem = Pki::get().proxy_ca.cert_pem;
  options.requestheader_username_headers = {"X-Remote-User", "X-Other-User"};
  net::ServerRequest request;
  auto peer = std::make_shared<net::PeerCertificate>();
  peer->chain_pem = Pki::get().proxy.cert_pem;
  peer->certificate = *net::inspect_certificate_pem(Pki::get().proxy.cert_pem);
  request.peer_certificate = peer;
  request.headers.add("X-Other-User", "bob");
  request.headers.add("X-Remote-Group", "a");
  request.headers.add("x-remote-group", "b");
  request.headers.add("X-Remote-Extra-Scopes", "s1");
  request.headers.add("X-Remote-Extra-Acme.com%2Fproject", "p");
  auto user = authenticate(request, options);
  ASSERT_TRUE(user) << user.error().message;
  EXPECT_EQ(user->name, "bob");
  EXPECT_EQ(user->groups, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(user->extra.at("scopes"), std::vector<std::string>{"s1"});
  EXPECT_EQ(user->extra.at("acme.com/project"), std::vector<std::string>{"p"});

  // No user header: the front-proxy authenticator does not apply; anonymous follows.
  net::ServerRequest no_user;
  no_user.peer_certificate = peer;
  auto anonymous = authenticate(no_user, options);
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->name, "system:anonymous");
  options.anonymous = false;
  EXPECT_FALSE(authenticate(no_user, options));
}

// metrics.k8s.io requests are authorized as kube-apiserver words resource requests: list
// without a name, get with one, namespaced or at the cluster scope.
TEST_F(AdapterServerTest, ResourceMetricsRequestsAreForbiddenInKubeApiserversWords) {
  start(AuthorizationMode::kAuthenticated);
  auto list = get("/apis/metrics.k8s.io/v1beta1/namespaces/llm/pods");
  EXPECT_EQ(list.status, 403);
  EXPECT_EQ(
      list.body,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods.metrics.k8s.io is forbidden: User \"system:anonymous\" cannot list resource \"pods\" in API group \"metrics.k8s.io\" in the namespace \"llm\"","reason":"Forbidden","details":{"group":"metrics.k8s.io","kind":"pods"},"code":403})"
      "\n");
  auto node = get("/apis/metrics.k8s.io/v1beta1/nodes/gpu-node-1");
  EXPECT_EQ(node.status, 403);
  EXPECT_EQ(
      node.body,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"nodes.metrics.k8s.io \"gpu-node-1\" is forbidden: User \"system:anonymous\" cannot get resource \"nodes\" in API group \"metrics.k8s.io\" at the cluster scope","reason":"Forbidden","details":{"name":"gpu-node-1","group":"metrics.k8s.io","kind":"nodes"},"code":403})"
      "\n");
  // Authenticated, the request reaches the adapter (no resourceRules here: not installed).
  auto user = get("/apis/metrics.k8s.io/v1beta1/nodes", &Pki::get().user);
  EXPECT_EQ(user.status, 404) << user.body;
}

// A fleet large enough that its wildcard answer (~180 KB) is gzip-encoded for clients that
// accept it, served from the answer cache.
class CachedAdapterServerTest : public AdapterServerTest {
 protected:
  static constexpr int kPodCount = 1000;

  CachedAdapterServerTest() {
    std::vector<StaticObjectLister::Object> pods;
    const std::int64_t now = core::to_unix_millis(loop_.clock().now());
    for (int i = 0; i < kPodCount; ++i) {
      std::string pod = "vllm-" + std::to_string(i);
      pods.push_back({{"", "pods"}, "llm", pod, {{"app", "vllm"}}});
      EXPECT_TRUE(storage_.append(
          {{"__name__", "vllm:num_requests_waiting"}, {"namespace", "llm"}, {"pod", pod}},
          now - 1000, i % 17));
    }
    lister_ = StaticObjectLister(std::move(pods));
    AdapterOptions options;
    options.answer_cache_storage = &storage_;
    adapter_ = std::make_unique<MetricsAdapter>(queue_rule_config(), engine_, lister_,
                                                loop_.clock(), options);
    uncached_ =
        std::make_unique<MetricsAdapter>(queue_rule_config(), engine_, lister_, loop_.clock());
    EXPECT_TRUE(uncached_->relist());
  }

  std::string uncached_answer() {
    auto answer = uncached_->serve(kPods, "");
    return answer ? *answer : answer.error().message;
  }

  // Whether `body` is the uncached adapter's answer: `before` (rendered before the request) or
  // one rendered now. An answer's timestamps name the second of its query, and on a loaded
  // machine a second may pass between two answers.
  bool same_as_uncached(const std::string& body, const std::string& before) {
    return body == before || body == uncached_answer();
  }

  // The handler's answer without sockets.
  std::unique_ptr<net::RecordingResponseWriter> record(net::Headers headers) {
    net::ServerRequest request;
    request.method = "GET";
    EXPECT_TRUE(request.set_target(kPods));
    request.headers = std::move(headers);
    auto writer = std::make_unique<net::RecordingResponseWriter>();
    EXPECT_TRUE(loop_.block_on(server_->handler()(request, *writer), std::chrono::seconds(20)));
    return writer;
  }

  std::unique_ptr<MetricsAdapter> uncached_;
};

TEST_F(CachedAdapterServerTest, CachedAnswersAreSentWithoutCopiesAndGzippedOnce) {
  start(AuthorizationMode::kAlwaysAllow);
  const net::Headers gzip{{"Accept-Encoding", "gzip"}};
  // The four answers within one second of the clock (an answer is reused only in the second its
  // timestamps name); a loaded machine may cross one, then the round is done again.
  auto second_now = [&] { return core::to_unix_millis(loop_.clock().now()) / 1000; };
  std::unique_ptr<net::RecordingResponseWriter> first_plain, second_plain, first_gzip, second_gzip;
  std::string plain;
  std::uint64_t misses_before = 0, hits_before = 0;
  for (int round = 0; round < 5; ++round) {
    auto before = adapter_->answer_cache_stats();
    misses_before = before ? before->misses : 0;
    hits_before = before ? before->hits : 0;
    const auto second = second_now();
    first_plain = record({});
    second_plain = record({});
    first_gzip = record(gzip);
    second_gzip = record(gzip);
    plain = uncached_answer();
    if (second_now() == second) break;
  }
  ASSERT_GT(plain.size(), net::kApiServerGzipThresholdBytes);
  EXPECT_TRUE(same_as_uncached(first_plain->body(), plain));
  // The second answer is the first one's buffer: the cache's entry, sent as it lies.
  ASSERT_NE(first_plain->shared_body(), nullptr);
  EXPECT_EQ(second_plain->shared_body().get(), first_plain->shared_body().get());
  EXPECT_FALSE(first_plain->headers().contains("Content-Encoding"));

  // Gzip: compressed for the first client that accepts it, then the same bytes for the next.
  EXPECT_EQ(first_gzip->headers().value("Content-Encoding"), "gzip");
  EXPECT_EQ(first_gzip->headers().value("Vary"), "Accept-Encoding");
  EXPECT_EQ(first_gzip->headers().value("Content-Type"), "application/json");
  EXPECT_EQ(second_gzip->shared_body().get(), first_gzip->shared_body().get());
  auto decoded = net::gzip_decompress(first_gzip->body(), 1 << 24);
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(same_as_uncached(*decoded, plain));
  EXPECT_LT(first_gzip->body().size(), plain.size() / 5);
  auto stats = adapter_->answer_cache_stats();
  EXPECT_EQ(stats->misses - misses_before, 1u);
  EXPECT_EQ(stats->hits - hits_before, 3u);
}

TEST_F(CachedAdapterServerTest, OverHttpsTheGzipAnswerDecodesToThePlainOne) {
  start(AuthorizationMode::kAlwaysAllow);
  const std::string plain = uncached_answer();
  auto get_plain = get(kPods);
  EXPECT_EQ(get_plain.status, 200);
  EXPECT_TRUE(same_as_uncached(get_plain.body, plain));
  EXPECT_FALSE(get_plain.headers.contains("Content-Encoding"));
  auto decoded = get(kPods, nullptr, {{"Accept-Encoding", "gzip"}});
  EXPECT_TRUE(same_as_uncached(decoded.body, plain));
  auto raw = get(kPods, nullptr, {{"Accept-Encoding", "gzip"}}, "GET", /*decode_gzip=*/false);
  EXPECT_EQ(raw.headers.value("Content-Encoding"), "gzip");
  EXPECT_EQ(raw.headers.value("Content-Length"), std::to_string(raw.body.size()));
  auto undone = net::gzip_decompress(raw.body, 1 << 24);
  ASSERT_TRUE(undone);
  EXPECT_TRUE(same_as_uncached(*undone, plain));
  // HEAD: the fields a GET would get, the length of the form it would send, no body.
  auto head = get(kPods, nullptr, {{"Accept-Encoding", "gzip"}}, "HEAD", false);
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.headers.value("Content-Encoding"), "gzip");
  EXPECT_EQ(head.headers.value("Content-Length"), std::to_string(raw.body.size()));
  auto plain_head = get(kPods, nullptr, {}, "HEAD");
  EXPECT_TRUE(plain_head.body.empty());
  EXPECT_EQ(plain_head.headers.value("Content-Length"), std::to_string(plain.size()));
}

TEST(LoopbackAddressTest, OnlyLoopbackAddressesQualify) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"})
    EXPECT_TRUE(is_loopback_address(host)) << host;
  for (const char* host : {"0.0.0.0", "", "::", "10.0.0.1", "127.0.0.256", "127.0.0", "128.0.0.1",
                           "localhost.example.com", "1127.0.0.1"})
    EXPECT_FALSE(is_loopback_address(host)) << host;
}

}  // namespace
}  // namespace llmscale::adapter
