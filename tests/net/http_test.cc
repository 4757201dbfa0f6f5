// Pure parts of net without sockets: headers, dates, gzip, certificates, ServerRequest, Router
// (driven through RecordingResponseWriter, the fake other modules use for handler tests).
#include "net/http.h"

#include <gtest/gtest.h>

#include "net/gzip.h"
#include "net/recording_writer.h"
#include "net/router.h"
#include "net/tls_cert.h"
#include "test_util.h"

namespace llmscale::net {
namespace {

using testing::run;

TEST(HeadersTest, CaseInsensitiveMultiValued) {
  Headers headers{{"Content-Type", "text/plain"}};
  headers.add("set-cookie", "a=1");
  headers.add("Set-Cookie", "b=2");
  EXPECT_EQ(headers.get("content-type"), "text/plain");
  EXPECT_EQ(headers.value("CONTENT-TYPE"), "text/plain");
  EXPECT_EQ(headers.get_all("SET-COOKIE"), (std::vector<std::string_view>{"a=1", "b=2"}));
  EXPECT_FALSE(headers.get("missing").has_value());
  EXPECT_EQ(headers.value("missing"), "");
  headers.set("Set-Cookie", "c=3");
  EXPECT_EQ(headers.get_all("set-cookie"), (std::vector<std::string_view>{"c=3"}));
  EXPECT_EQ(headers.remove("SET-cookie"), 1u);
  EXPECT_EQ(headers.size(), 1u);
}

TEST(HeadersTest, Tokens) {
  Headers headers{{"Connection", "keep-alive, Upgrade"}, {"Accept-Encoding", "br, GZIP;q=1"}};
  EXPECT_TRUE(headers.has_token("connection", "upgrade"));
  EXPECT_FALSE(headers.has_token("connection", "close"));
  EXPECT_FALSE(headers.has_token("accept-encoding", "gzip"));  // parameters are part of it
  EXPECT_TRUE(is_hop_by_hop_header("transfer-encoding"));
  EXPECT_FALSE(is_hop_by_hop_header("content-type"));
}

TEST(HttpTest, DatesAndReasons) {
  // RFC 9110 §5.6.7's example.
  EXPECT_EQ(http_date(core::from_unix_seconds(784111777)), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(reason_phrase(413), "Content Too Large");
  EXPECT_EQ(reason_phrase(799), "Unknown");
  EXPECT_EQ((Endpoint{"::1", 80}.to_string()), "[::1]:80");
}

TEST(GzipTest, RoundTripAndLimits) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "vllm:num_requests_running{model=\"m\"} 3\n";
  std::string compressed = gzip_compress(text);
  EXPECT_LT(compressed.size(), text.size() / 10);
  EXPECT_EQ(*gzip_decompress(compressed, text.size()), text);
  auto too_big = gzip_decompress(compressed, text.size() - 1);
  ASSERT_FALSE(too_big.has_value());
  EXPECT_EQ(too_big.error().code, core::ErrorCode::kResourceExhausted);
  auto truncated = gzip_decompress(compressed.substr(0, compressed.size() / 2), 1 << 20);
  ASSERT_FALSE(truncated.has_value());
  EXPECT_EQ(truncated.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_FALSE(gzip_decompress("not gzip at all", 1 << 20).has_value());
}

TEST(GzipTest, IncrementalDecoding) {
  std::string text(100000, 'a');
  std::string compressed = gzip_compress(text);
  GzipDecoder decoder(1 << 20);
  std::string out;
  for (char c : compressed) ASSERT_TRUE(decoder.feed(std::string_view(&c, 1), out).has_value());
  EXPECT_TRUE(decoder.finish().has_value());
  EXPECT_EQ(out, text);
}

TEST(CertificateTest, SelfSignedAndSignedCertificates) {
  CertificateSpec ca_spec;
  ca_spec.common_name = "llmscale-ca";
  ca_spec.dns_names = {};
  ca_spec.ip_addresses = {};
  ca_spec.is_ca = true;
  auto ca = generate_self_signed_certificate(ca_spec);
  ASSERT_OK(ca);
  EXPECT_NE(ca->cert_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(ca->key_pem.find("BEGIN PRIVATE KEY"), std::string::npos);
  CertificateSpec client_spec;
  client_spec.common_name = "front-proxy-client";
  client_spec.organizations = {"system:masters", "team-a"};
  client_spec.dns_names = {};
  client_spec.ip_addresses = {};
  client_spec.server_auth = false;
  client_spec.client_auth = true;
  client_spec.key = KeyAlgorithm::kRsa2048;
  auto client = generate_signed_certificate(client_spec, *ca);
  ASSERT_OK(client);
  auto info = inspect_certificate_pem(client->cert_pem);
  ASSERT_OK(info);
  EXPECT_EQ(info->subject_cn, "front-proxy-client");
  EXPECT_EQ(info->organizations, (std::vector<std::string>{"system:masters", "team-a"}));
  EXPECT_EQ(info->issuer_cn, "llmscale-ca");
  EXPECT_LT(info->not_before, info->not_after);

  auto server = generate_self_signed_certificate({});
  ASSERT_OK(server);
  auto server_info = inspect_certificate_pem(server->cert_pem);
  ASSERT_OK(server_info);
  EXPECT_EQ(server_info->dns_names, (std::vector<std::string>{"localhost"}));
  EXPECT_EQ(server_info->ip_addresses, (std::vector<std::string>{"127.0.0.1"}));

  EXPECT_FALSE(inspect_certificate_pem("garbage").has_value());
  EXPECT_FALSE(generate_signed_certificate({}, {"garbage", "garbage"}).has_value());
}

TEST(ServerRequestTest, TargetForms) {
  ServerRequest request;
  ASSERT_OK(
      request.set_target("/apis/custom.metrics.k8s.io/v1beta1/namespaces/d/pods/%2A/m?a=1&b=x+y"));
  EXPECT_EQ(request.raw_path, "/apis/custom.metrics.k8s.io/v1beta1/namespaces/d/pods/%2A/m");
  EXPECT_EQ(request.path, "/apis/custom.metrics.k8s.io/v1beta1/namespaces/d/pods/*/m");
  EXPECT_EQ(request.raw_query, "a=1&b=x+y");
  EXPECT_EQ(request.query.get("b"), "x y");
  ASSERT_OK(request.set_target("http://example.com:8080/x?y=1"));
  EXPECT_EQ(request.path, "/x");
  EXPECT_EQ(request.query.get("y"), "1");
  ASSERT_OK(request.set_target("*"));
  EXPECT_EQ(request.path, "*");
  EXPECT_FALSE(request.set_target("/bad%zz").has_value());
}

TEST(ServerRequestTest, FormPrefersBodyOverQuery) {
  ServerRequest request;
  request.method = "POST";
  ASSERT_OK(request.set_target("/api/v1/query?query=from_url&time=5"));
  request.headers.add("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
  request.body = "query=sum%28up%29";
  QueryParams form = request.form();
  EXPECT_EQ(form.get("query"), "sum(up)");
  EXPECT_EQ(form.get("time"), "5");
  request.method = "GET";
  EXPECT_EQ(request.form().get("query"), "from_url");
}

Handler reply(std::string text) {
  return [text](ServerRequest& request, ResponseWriter& writer) -> Awaitable<void> {
    std::string body = text;
    for (const auto& [name, value] : request.path_params) body += " " + name + "=" + value;
    co_await writer.send(Response::text(200, body));
  };
}

struct Dispatched {
  int status = 0;
  std::string body;
  std::string allow;
};

Dispatched dispatch(EventLoop& loop, const Router& router, std::string method, std::string target) {
  ServerRequest request;
  request.method = std::move(method);
  EXPECT_TRUE(request.set_target(std::move(target)).has_value());
  RecordingResponseWriter writer;
  run(loop, router.dispatch(request, writer));
  return {writer.status(), writer.body(), std::string(writer.headers().value("Allow"))};
}

TEST(RouterTest, ExactParamsPrefixAndFallbacks) {
  EventLoop loop;
  Router router;
  router.get("/metrics", reply("metrics"))
      .post("/metrics", reply("post-metrics"))
      .get("/apis/custom.metrics.k8s.io/v1beta1/namespaces/{namespace}/pods/{name}/{metric}",
           reply("pods"))
      .get("/apis/custom.metrics.k8s.io/v1beta1/namespaces/{namespace}/metrics/{metric}",
           reply("namespace-metric"))
      .add_prefix("GET", "/debug/", reply("debug"))
      .add_prefix("GET", "/debug/pprof/", reply("pprof"))
      .add("*", "/any", reply("any"));

  EXPECT_EQ(dispatch(loop, router, "GET", "/metrics").body, "metrics");
  EXPECT_EQ(dispatch(loop, router, "POST", "/metrics").body, "post-metrics");
  EXPECT_EQ(dispatch(loop, router, "HEAD", "/metrics").body, "metrics");
  auto pods = dispatch(
      loop, router, "GET",
      "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/%2A/vllm%3Anum_requests");
  EXPECT_EQ(pods.body, "pods namespace=default name=* metric=vllm:num_requests");
  EXPECT_EQ(
      dispatch(loop, router, "GET", "/apis/custom.metrics.k8s.io/v1beta1/namespaces/x/metrics/m")
          .body,
      "namespace-metric namespace=x metric=m");
  EXPECT_EQ(dispatch(loop, router, "GET", "/debug/vars").body, "debug");
  EXPECT_EQ(dispatch(loop, router, "GET", "/debug/pprof/heap").body, "pprof");
  EXPECT_EQ(dispatch(loop, router, "PATCH", "/any").body, "any");

  auto not_found = dispatch(loop, router, "GET", "/nope");
  EXPECT_EQ(not_found.status, 404);
  auto empty_param =
      dispatch(loop, router, "GET", "/apis/custom.metrics.k8s.io/v1beta1/namespaces//pods/p/m");
  EXPECT_EQ(empty_param.status, 404);
  auto not_allowed = dispatch(loop, router, "DELETE", "/metrics");
  EXPECT_EQ(not_allowed.status, 405);
  EXPECT_EQ(not_allowed.allow, "GET, POST, HEAD");
}

TEST(RouterTest, CustomErrorShapes) {
  EventLoop loop;
  Router router;
  router.get("/x", reply("x"));
  router.set_not_found([](ServerRequest& request, ResponseWriter& writer) -> Awaitable<void> {
    co_await writer.send(Response::json(404, R"({"status":"error","errorType":"not_found"})"));
  });
  router.set_method_not_allowed(
      [](ServerRequest&, ResponseWriter& writer, std::string allow) -> Awaitable<void> {
        Response response = Response::json(405, R"({"kind":"Status","code":405})");
        response.headers.add("Allow", allow);
        co_await writer.send(std::move(response));
      });
  EXPECT_EQ(dispatch(loop, router, "GET", "/y").body,
            R"({"status":"error","errorType":"not_found"})");
  auto not_allowed = dispatch(loop, router, "POST", "/x");
  EXPECT_EQ(not_allowed.body, R"({"kind":"Status","code":405})");
  EXPECT_EQ(not_allowed.allow, "GET, HEAD");
}

TEST(RecordingWriterTest, RecordsStreamsAndDisconnects) {
  EventLoop loop;
  RecordingResponseWriter writer;
  bool told = false;
  writer.on_disconnect([&] { told = true; });
  run(loop, [](RecordingResponseWriter& w) -> Awaitable<void> {
    EXPECT_TRUE((co_await w.begin_sse()).has_value());
    EXPECT_TRUE((co_await w.send_data("one")).has_value());
    w.disconnect();
    auto failed = co_await w.send_data("two");
    EXPECT_FALSE(failed.has_value());
  }(writer));
  EXPECT_TRUE(told);
  EXPECT_EQ(writer.status(), 200);
  EXPECT_EQ(writer.headers().value("Content-Type"), "text/event-stream");
  EXPECT_EQ(writer.chunks(), (std::vector<std::string>{"data: one\n\n"}));
}

TEST(RecordingWriterTest, RecordsAborts) {
  EventLoop loop;
  RecordingResponseWriter writer;
  bool told = false;
  writer.on_disconnect([&] { told = true; });
  run(loop, [](RecordingResponseWriter& w) -> Awaitable<void> {
    EXPECT_TRUE((co_await w.begin_stream(200, {})).has_value());
    EXPECT_TRUE((co_await w.write("part")).has_value());
    w.abort();
    EXPECT_FALSE((co_await w.write("more")).has_value());
    EXPECT_FALSE((co_await w.end()).has_value());
  }(writer));
  EXPECT_TRUE(writer.aborted());
  EXPECT_FALSE(writer.ended());
  EXPECT_FALSE(told);  // the handler's own abort is not a client disconnect
  EXPECT_EQ(writer.body(), "part");

  RecordingResponseWriter complete;
  run(loop, [](RecordingResponseWriter& w) -> Awaitable<void> {
    co_await w.send(Response::text(200, "done"));
    w.abort();  // no effect once complete
  }(complete));
  EXPECT_FALSE(complete.aborted());
  EXPECT_TRUE(complete.ended());
}

}  // namespace
}  // namespace llmscale::net
