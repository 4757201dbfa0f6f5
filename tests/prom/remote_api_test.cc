// The Prometheus HTTP API (PrometheusApi) and the remote QueryEngine over loopback: the error
// shape of a malformed query, a round trip RemoteQueryEngine -> our API -> LocalQueryEngine that
// answers what the local engine answers, and the remote engine's failure modes (server down,
// called from its own loop's thread). No real Prometheus here: collect_vs_prometheus_test.cc.
#include <future>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/json.h"
#include "net/event_loop.h"
#include "net/router.h"
#include "net/server.h"
#include "net/url.h"
#include "prom/api/http_api.h"
#include "prom/api/json.h"
#include "prom/api/remote_engine.h"
#include "prom/promql/engine.h"
#include "prom/tsdb/storage.h"

namespace llmscale::prom {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kT0 = 1'700'000'000'000;  // ms

class RemoteApiTest : public ::testing::Test {
 protected:
  RemoteApiTest()
      : storage_(StorageOptions{.retention = std::chrono::hours(24)}),
        engine_(storage_),
        clock_(core::from_unix_millis(kT0 + 60'000)),
        api_(engine_, clock_) {
    for (int pod = 0; pod < 3; ++pod) {
      Labels l{{"__name__", "vllm:num_requests_waiting"}, {"pod", "p" + std::to_string(pod)}};
      for (int i = 0; i < 10; ++i) storage_.append(l, kT0 + i * 1000, pod * 10 + i);
    }
  }

  net::Response get(const std::string& path, const std::string& query) {
    net::ServerRequest r;
    r.method = "GET";
    r.path = r.raw_path = path;
    r.raw_query = query;
    r.target = path + "?" + query;
    r.query = net::parse_query_lenient(query);
    return api_.handle(r);
  }

  Storage storage_;
  LocalQueryEngine engine_;
  core::SimulatedClock clock_;
  PrometheusApi api_;
};

TEST_F(RemoteApiTest, MalformedQueryIsBadDataWithPrometheusShape) {
  net::Response r = get("/api/v1/query", "query=sum(rate(x%5B1m%5D)&time=1700000005");
  EXPECT_EQ(r.status, 400);
  auto body = core::Json::parse(r.body);
  EXPECT_EQ(body["status"], "error");
  EXPECT_EQ(body["errorType"], "bad_data");
  EXPECT_EQ(body["error"].get<std::string>().rfind("invalid parameter \"query\": ", 0), 0u)
      << r.body;
}

// Issue 11 item 1: one 14 KB form POST of `1+1+...` (7,000 terms) crashed `collect`; it is a
// 400 bad_data parse error now, and an over-budget query a 422 execution error.
TEST_F(RemoteApiTest, HugeQueryPostIsBadDataNotACrash) {
  std::string chain = "1";
  for (int i = 1; i < 7000; ++i) chain += "%2B1";  // "+" form-encoded
  net::ServerRequest r;
  r.method = "POST";
  r.path = r.raw_path = r.target = "/api/v1/query";
  r.headers.set("Content-Type", "application/x-www-form-urlencoded");
  r.body = "query=" + chain + "&time=1700000005";
  net::Response response = api_.handle(r);
  EXPECT_EQ(response.status, 400);
  auto body = core::Json::parse(response.body);
  EXPECT_EQ(body["errorType"], "bad_data");
  EXPECT_EQ(body["error"],
            "invalid parameter \"query\": 1:2000: parse error: expression nesting exceeds 1000 "
            "levels");

  ApiOptions tight;
  tight.max_work = 5;  // the query takes 9: 3 nodes, 3 samples read, 3 produced
  PrometheusApi small(engine_, clock_, tight);
  net::ServerRequest q;
  q.method = "GET";
  q.path = q.raw_path = "/api/v1/query";
  q.raw_query = "query=vllm:num_requests_waiting%2B1&time=1700000005";
  q.target = q.path + "?" + q.raw_query;
  q.query = net::parse_query_lenient(q.raw_query);
  net::Response over = small.handle(q);
  EXPECT_EQ(over.status, 422);
  auto over_body = core::Json::parse(over.body);
  EXPECT_EQ(over_body["errorType"], "execution");
  EXPECT_EQ(over_body["error"],
            "query processing would touch too many samples and expressions in query execution "
            "(limit 5)");
}

TEST_F(RemoteApiTest, RemoteEngineOverOurApiAnswersLikeTheLocalEngine) {
  net::EventLoop server_loop(1);
  net::Router router;
  api_.add_routes(router);
  net::HttpServer server(server_loop, net::ServerOptions{});
  ASSERT_TRUE(server.start(router.handler()));
  server_loop.start();
  // The remote engine on a loop of its own: the API calls the local engine on the server loop.
  RemoteEngineOptions options;
  options.base_url = "http://127.0.0.1:" + std::to_string(server.port());
  options.timeout = 10s;
  for (std::string method : {"GET", "POST"}) {
    options.method = method;
    auto remote = RemoteQueryEngine::create(options);
    ASSERT_TRUE(remote) << remote.error().message;
    for (std::string expr : {"avg(vllm:num_requests_waiting) by (pod)",
                             "sum(vllm:num_requests_waiting) / count(vllm:num_requests_waiting)",
                             "scalar(max(vllm:num_requests_waiting))"}) {
      core::Time t = core::from_unix_millis(kT0 + 7'500);
      auto local = engine_.instant_query(expr, t);
      auto got = (*remote)->instant_query(expr, t);
      ASSERT_TRUE(local && got) << expr << (got ? "" : got.error().message);
      ASSERT_EQ(got->type(), local->type()) << expr;
      if (local->type() == ResultType::kVector) {
        ASSERT_EQ(got->vector().size(), local->vector().size()) << expr;
        for (std::size_t i = 0; i < local->vector().size(); ++i) {
          EXPECT_EQ(got->vector()[i].metric, local->vector()[i].metric);
          EXPECT_EQ(got->vector()[i].value, local->vector()[i].value);
          EXPECT_EQ(got->vector()[i].t, local->vector()[i].t);
        }
      } else {
        EXPECT_EQ(got->scalar().value, local->scalar().value);
      }
    }
    auto range =
        (*remote)->range_query("vllm:num_requests_waiting{pod=\"p1\"}", core::from_unix_millis(kT0),
                               core::from_unix_millis(kT0 + 9'000), 3s);
    ASSERT_TRUE(range) << range.error().message;
    ASSERT_EQ(range->matrix().size(), 1u);
    ASSERT_EQ(range->matrix()[0].points.size(), 4u);
    EXPECT_EQ(range->matrix()[0].points[3].v, 19);
    auto values = (*remote)->label_values("pod", {}, core::Time::min(), core::Time::max());
    ASSERT_TRUE(values) << values.error().message;
    EXPECT_EQ(*values, (std::vector<std::string>{"p0", "p1", "p2"}));
    auto bad = (*remote)->instant_query("sum(", core::from_unix_millis(kT0));
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, core::ErrorCode::kInvalidArgument) << bad.error().message;
  }
  server.close();
  server_loop.stop();
  server_loop.join();
}

TEST(RemoteEngineTest, ServerDownIsUnavailableAndNamesTheServer) {
  net::EventLoop loop(1);
  // A port that was free a moment ago: bind a server, read its port, close it.
  std::uint16_t port = 0;
  {
    net::HttpServer probe(loop, net::ServerOptions{});
    ASSERT_TRUE(probe.start(
        [](net::ServerRequest&, net::ResponseWriter&) -> net::Awaitable<void> { co_return; }));
    port = probe.port();
    probe.close();
  }
  loop.start();
  RemoteEngineOptions options;
  options.base_url = "http://127.0.0.1:" + std::to_string(port);
  options.timeout = 5s;
  auto remote = RemoteQueryEngine::create(loop, options);
  ASSERT_TRUE(remote);
  auto r = (*remote)->instant_query("up", core::from_unix_millis(kT0));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::ErrorCode::kUnavailable) << r.error().message;
  EXPECT_NE(r.error().message.find(options.base_url), std::string::npos) << r.error().message;
  EXPECT_EQ(api_error_type(r.error()), "unavailable");
  // Blocking calls from the engine's own loop would wait for themselves: refused.
  std::promise<core::ErrorCode> code;
  loop.post([&] {
    auto x = (*remote)->instant_query("up", core::from_unix_millis(kT0));
    code.set_value(x ? core::ErrorCode::kInternal : x.error().code);
  });
  EXPECT_EQ(code.get_future().get(), core::ErrorCode::kFailedPrecondition);
  loop.stop();
  loop.join();
}

TEST(ApiJsonTest, StringsEscapedAsPrometheus242sGoDoes) {
  // Go before 1.22: \b and \f as \u0008/\u000c; HTML-safe <>&; U+2028/9 escaped; each invalid
  // UTF-8 byte (stray continuation, overlong form, surrogate, truncated) becomes \ufffd.
  std::string out;
  append_json_string(out, "a\"\\\b\f\n\t\x01<&>\xE2\x80\xA8|\x80|\xC0\xAF|\xED\xA0\x80|\xE2\x82|é");
  EXPECT_EQ(out, R"("a\"\\\u0008\u000c\n\t\u0001\u003c\u0026\u003e\u2028|\ufffd|\ufffd\ufffd|)"
                 R"(\ufffd\ufffd\ufffd|\ufffd\ufffd|é")");
  std::string k8s;
  core::append_go_json_string(k8s, "\b\f");
  EXPECT_EQ(k8s, R"("\b\f")");  // Kubernetes' Go 1.22+
}

// issue 11 item 4: a Prometheus answer nested 100,000 deep is a malformed answer, not a crash.
TEST(ApiJsonTest, DeeplyNestedAnswersAreRefused) {
  std::string deep =
      R"({"status":"success","data":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto answer = decode_query_answer(deep);
  ASSERT_FALSE(answer);
  EXPECT_NE(answer.error().message.find("exceeded max depth"), std::string::npos)
      << answer.error().message;
}

TEST(RemoteEngineTest, BadOptionsAreRejected) {
  RemoteEngineOptions options;
  options.base_url = "ftp://example";
  EXPECT_FALSE(RemoteQueryEngine::create(options));
  options.base_url = "http://127.0.0.1:9090";
  options.method = "PUT";
  EXPECT_FALSE(RemoteQueryEngine::create(options));
}

}  // namespace
}  // namespace llmscale::prom
