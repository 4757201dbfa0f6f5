// `llmscale get` / `describe` against an in-process fake control API (a loopback server that
// answers canned bodies): malformed and deeply nested answers give one typed error line naming
// the URL and the field, never a crash; a server that never answers names the address; a watch
// exits when the server ends it; NotFound and the output formats (-o wide|name|json|yaml,
// --show-labels, deploy, events) print what kubectl prints (golden files in tests/cli/golden).
// Real sockets and a real process: labelled `integration`.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>

#include "net/event_loop.h"
#include "net/notifier.h"
#include "net/server.h"

namespace llmscale {
namespace {

struct Outcome {
  int exit_code;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs the binary with `args` (bounded by `timeout`), capturing stdout and stderr.
Outcome run(const std::string& args, int timeout_seconds = 30) {
  static int calls = 0;
  std::string base = ::testing::TempDir() + "/llmscale_get_" + std::to_string(getpid()) + "_" +
                     std::to_string(calls++);
  std::string out = base + ".out", err = base + ".err";
  std::string command = "cd " LLMSCALE_SOURCE_DIR " && timeout " + std::to_string(timeout_seconds) +
                        " " LLMSCALE_BINARY " " + args + " </dev/null >" + out + " 2>" + err;
  int status = std::system(command.c_str());
  Outcome outcome{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
  std::remove(out.c_str());
  std::remove(err.c_str());
  return outcome;
}

void expect_golden(const std::string& name, const std::string& actual) {
  std::string path = std::string(LLMSCALE_SOURCE_DIR) + "/tests/cli/golden/" + name;
  if (std::getenv("LLMSCALE_UPDATE_GOLDEN") != nullptr) std::ofstream(path) << actual;
  EXPECT_EQ(actual, slurp(path)) << "golden " << name
                                 << " differs (LLMSCALE_UPDATE_GOLDEN=1 rewrites it)";
}

// A canned answer: status, body, and for watches body lines streamed then the end.
struct Canned {
  int status = 200;
  std::string body;
  std::vector<std::string> stream;  // when set: a chunked stream of these pieces
  bool hang = false;                // never answers
  bool drop = false;                // streams, then drops the connection without the end
};

// A loopback HTTP server answering canned bodies by request target (path?query), on its own
// thread. Unknown targets get a 404 Status.
class FakeServer {
 public:
  FakeServer() : server_(loop_, net::ServerOptions{}) {
    auto started = server_.start(
        [this](net::ServerRequest& request, net::ResponseWriter& writer) -> net::Awaitable<void> {
          Canned canned;
          {
            std::lock_guard lock(mu_);
            auto it = answers_.find(request.target);
            if (it == answers_.end()) {
              canned.status = 404;
              canned.body = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":)"
                            R"("Failure","message":"no canned answer for )" +
                            request.target + R"(","reason":"NotFound","code":404})";
            } else {
              canned = it->second;
            }
          }
          if (canned.hang) {
            co_await never_.wait();  // the client gives up first
            co_return;
          }
          if (canned.stream.empty()) {
            co_await writer.send(net::Response::json(canned.status, canned.body));
            co_return;
          }
          net::Headers headers{{"Content-Type", "application/json"}};
          if (!co_await writer.begin_stream(200, headers)) co_return;
          for (const std::string& piece : canned.stream) {
            if (!co_await writer.write(piece)) co_return;
          }
          if (!canned.drop) co_await writer.end();
        });
    EXPECT_TRUE(started) << started.error().to_string();
    loop_.start();
  }
  ~FakeServer() {
    never_.notify();
    loop_.stop();
    loop_.join();
  }

  void answer(const std::string& target, Canned canned) {
    std::lock_guard lock(mu_);
    answers_[target] = std::move(canned);
  }
  void answer(const std::string& target, int status, std::string body) {
    answer(target, Canned{status, std::move(body), {}, false, false});
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_.port()); }
  std::string server_flag() const { return " --server " + url(); }

 private:
  net::EventLoop loop_;
  net::HttpServer server_;
  net::Notifier never_;
  std::mutex mu_;
  std::map<std::string, Canned> answers_;
};

const char* const kHpaList = "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers";
const char* const kPodList = "/api/v1/namespaces/default/pods";

// An HPA as the control API serves it (no creationTimestamp: AGE is <unknown>, so the golden
// tables do not depend on the clock).
std::string hpa_json(const std::string& name, int replicas, const std::string& current) {
  return R"({"kind":"HorizontalPodAutoscaler","apiVersion":"autoscaling/v2","metadata":{"name":")" +
         name +
         R"(","namespace":"default","labels":{"app":"llm"}},"spec":{"scaleTargetRef":{"kind":)"
         R"("Deployment","name":"llm","apiVersion":"apps/v1"},"minReplicas":1,"maxReplicas":)"
         R"(10,"metrics":[{"type":"Pods","pods":{"metric":{"name":"vllm:num_requests_waiting"},)"
         R"("target":{"type":"AverageValue","averageValue":"5"}}}]},"status":{"currentReplicas":)" +
         std::to_string(replicas) + R"(,"desiredReplicas":)" + std::to_string(replicas) +
         R"(,"currentMetrics":[{"type":"Pods","pods":{"metric":{"name":)"
         R"("vllm:num_requests_waiting"},"current":{"averageValue":")" +
         current + R"("}}}]}})";
}

std::string list_json(const std::string& kind, const std::string& api_version,
                      const std::vector<std::string>& items) {
  std::string out = R"({"kind":")" + kind + R"(","apiVersion":")" + api_version +
                    R"(","metadata":{"resourceVersion":""},"items":[)";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
  return out + "]}";
}

const char* const kPod =
    R"({"kind":"Pod","apiVersion":"v1","metadata":{"name":"llm-7d9c-abcde","namespace":"default",)"
    R"("labels":{"app":"llm","pod-template-hash":"7d9c"}},"spec":{"containers":[{"name":"llm"}]},)"
    R"("status":{"phase":"Running","conditions":[{"type":"Ready","status":"True",)"
    R"("lastTransitionTime":null}],"podIP":"127.0.0.1","podIPs":[{"ip":"127.0.0.1"}],)"
    R"("containerStatuses":[{"name":"llm","ready":true,"restartCount":0,"state":{"running":{}}}]}})";

// ---- item 4: malformed answers are typed errors naming the URL and the field ---------------

struct Malformed {
  const char* name;
  const char* args;    // after `llmscale`, before --server
  const char* target;  // what the fake answers
  int status;
  std::string body;
  std::string expected;  // the whole stderr, with {URL} for the fake's URL
};

void PrintTo(const Malformed& m, std::ostream* os) {
  *os << m.name;
}

class MalformedAnswer : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedAnswer, OneLineNamingUrlAndFieldExitOne) {
  FakeServer fake;
  const Malformed& m = GetParam();
  fake.answer(m.target, m.status, m.body);
  Outcome r = run(std::string(m.args) + fake.server_flag());
  std::string expected = m.expected;
  for (std::size_t p; (p = expected.find("{URL}")) != std::string::npos;)
    expected.replace(p, 5, fake.url());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, expected);
  EXPECT_EQ(r.out, "");
}

INSTANTIATE_TEST_SUITE_P(
    Get, MalformedAnswer,
    ::testing::Values(
        Malformed{"HpaItemNotAnObject", "get hpa", kHpaList, 200, R"({"items":[1]})",
                  "error: unexpected answer from {URL}/apis/autoscaling/v2/namespaces/default/"
                  "horizontalpodautoscalers: items[0]: expected a HorizontalPodAutoscaler "
                  "object, got number 1\n"},
        Malformed{"ItemsNotAList", "get pods", kPodList, 200, R"({"items":{"a":1}})",
                  "error: unexpected answer from {URL}/api/v1/namespaces/default/pods: items: "
                  "expected a list, got an object\n"},
        Malformed{"ListNotAnObject", "get pods", kPodList, 200, "[1, 2]",
                  "error: unexpected answer from {URL}/api/v1/namespaces/default/pods: expected "
                  "a PodList object, got a list\n"},
        Malformed{"HpaFieldType", "get hpa x",
                  "/apis/autoscaling/v2/namespaces/default/"
                  "horizontalpodautoscalers/x",
                  200,
                  R"({"kind":"HorizontalPodAutoscaler","apiVersion":"autoscaling/v2",)"
                  R"("spec":{"maxReplicas":"ten"}})",
                  "error: unexpected answer from {URL}/apis/autoscaling/v2/namespaces/default/"
                  "horizontalpodautoscalers/x: spec.maxReplicas: expected a 32-bit integer, got "
                  "string \"ten\"\n"},
        Malformed{"PodMetadataNotAnObject", "get pods", kPodList, 200,
                  R"({"items":[{"metadata":"x"}]})",
                  "error: unexpected answer from {URL}/api/v1/namespaces/default/pods: "
                  "items[0].metadata: expected an object, got string \"x\"\n"},
        Malformed{"DeploymentStatusType", "get deploy",
                  "/apis/apps/v1/namespaces/default/"
                  "deployments",
                  200, R"({"items":[{"status":{"readyReplicas":"2"}}]})",
                  "error: unexpected answer from {URL}/apis/apps/v1/namespaces/default/"
                  "deployments: items[0].status.readyReplicas: expected a 32-bit integer, got "
                  "string \"2\"\n"},
        Malformed{"EventCountType", "get events", "/api/v1/namespaces/default/events", 200,
                  R"({"items":[{"count":true}]})",
                  "error: unexpected answer from {URL}/api/v1/namespaces/default/events: "
                  "items[0].count: expected a 32-bit integer, got bool true\n"},
        Malformed{"StatusWithoutStatusShape", "get pods nope",
                  "/api/v1/namespaces/default/pods/nope", 404, R"({"kind":"Status","reason":5})",
                  "Error from server (NotFound): the server could not find the requested "
                  "resource\n"},
        Malformed{"ServerErrorText", "get pods", kPodList, 500, "boom\n",
                  "Error from server (InternalError): an error on the server (\"boom\") has "
                  "prevented the request from succeeding\n"}),
    [](const auto& info) { return std::string(info.param.name); });

// Deeply nested answers: one line, exit 1, no crash. `get` measures the nesting of the text
// before parsing it (core::parse_documents copies what it parses, recursively, and gets its own
// bound in another change), so these pass with or without that change.
TEST(GetRobustness, DeeplyNestedAnswersAreRefusedNotCrashed) {
  FakeServer fake;
  std::string deep_array = std::string(100000, '[') + std::string(100000, ']');
  std::string deep_object;
  for (int i = 0; i < 100000; ++i) deep_object += R"({"a":)";
  deep_object += "1" + std::string(100000, '}');
  fake.answer(kHpaList, 200, R"({"items":[)" + deep_array + "]}");
  fake.answer(kPodList, 200, R"({"items":[{"metadata":{"labels":)" + deep_object + "}}]}");
  fake.answer("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/deep", 200,
              R"({"kind":"HorizontalPodAutoscaler","apiVersion":"autoscaling/v2","x":)" +
                  deep_object + "}");
  for (const char* args :
       {"get hpa", "get pods", "get pods -o json", "describe hpa deep", "get hpa deep -o yaml"}) {
    Outcome r = run(std::string(args) + fake.server_flag());
    EXPECT_EQ(r.exit_code, 1) << args << ": " << r.err;
    EXPECT_EQ(r.err.rfind("error: unexpected answer from " + fake.url() + "/", 0), 0u)
        << args << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << ": " << r.err;
  }
}

TEST(GetRobustness, DescribeDecodesEventsWithTypedErrors) {
  FakeServer fake;
  fake.answer("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/llm-hpa", 200,
              hpa_json("llm-hpa", 1, "0"));
  std::string events =
      "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3D"
      "llm-hpa%2CinvolvedObject.namespace%3Ddefault%2CinvolvedObject.kind%3D"
      "HorizontalPodAutoscaler";
  fake.answer(events, 200, R"({"items":[1]})");
  Outcome r = run("describe hpa llm-hpa" + fake.server_flag());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: unexpected answer from " + fake.url() + events +
                       ": items[0]: expected an object, got number 1\n");
}

TEST(GetRobustness, TimeoutNamesTheAddress) {
  FakeServer fake;
  fake.answer(kPodList, Canned{200, "", {}, /*hang=*/true, false});
  Outcome r = run("get pods --request-timeout 1s" + fake.server_flag(), 20);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  std::string prefix = "Unable to connect to the server: Get \"" + fake.url() + kPodList + "\": ";
  EXPECT_EQ(r.err.rfind(prefix, 0), 0u) << r.err;
  EXPECT_NE(r.err.find("timeout"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("block_on"), std::string::npos) << r.err;
}

TEST(GetRobustness, ConnectionRefusedAsKubectl) {
  std::string url;
  {
    FakeServer gone;
    url = gone.url();
  }
  Outcome r = run("get hpa --server " + url);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "The connection to the server " + url.substr(7) +
                       " was refused - did you specify the right host or port?\n");
}

// ---- item 15: the watch ends when the server ends it --------------------------------------

TEST(GetWatch, ExitsWhenTheServerEndsTheWatch) {
  FakeServer fake;
  fake.answer(
      kHpaList, 200,
      list_json("HorizontalPodAutoscalerList", "autoscaling/v2", {hpa_json("llm-hpa", 1, "0")}));
  // ADDED repeats what the list showed (not printed again); MODIFIED prints a row.
  std::string added = R"({"type":"ADDED","object":)" + hpa_json("llm-hpa", 1, "0") + "}\n";
  std::string modified = R"({"type":"MODIFIED","object":)" + hpa_json("llm-hpa", 4, "20") + "}\n";
  fake.answer(std::string(kHpaList) + "?watch=true", Canned{200, "", {added, modified}});
  Outcome ended = run("get hpa -w" + fake.server_flag(), 20);
  EXPECT_EQ(ended.exit_code, 0) << ended.err;  // kubectl: `return nil` after the watch closes
  EXPECT_EQ(ended.err, "");
  expect_golden("get-hpa-watch.txt", ended.out);

  // A dropped connection (the server process died) ends it the same way.
  fake.answer(std::string(kHpaList) + "?watch=true",
              Canned{200, "", {added, modified}, false, /*drop=*/true});
  Outcome dropped = run("get hpa -w" + fake.server_flag(), 20);
  EXPECT_EQ(dropped.exit_code, 0) << dropped.err;
  EXPECT_EQ(dropped.out, ended.out);

  // A line that is not a watch event is an error naming the URL.
  fake.answer(std::string(kHpaList) + "?watch=true", Canned{200, "", {"[1]\n"}});
  Outcome bad = run("get hpa -w" + fake.server_flag(), 20);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err, "error: unexpected answer from " + fake.url() + kHpaList +
                         "?watch=true: expected an object, got a list\n");
}

TEST(GetWatch, PodsWatchPrintsHeaderWithTheFirstRow) {
  FakeServer fake;
  fake.answer(kPodList, 200, list_json("PodList", "v1", {}));
  fake.answer(std::string(kPodList) + "?watch=true",
              Canned{200, "", {std::string(R"({"type":"ADDED","object":)") + kPod + "}\n"}});
  Outcome r = run("get pods -w" + fake.server_flag(), 20);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "NAME             READY   STATUS    RESTARTS   AGE\n"
            "llm-7d9c-abcde   1/1     Running   0          <unknown>\n");
}

// ---- item 16: kubectl's errors, formats and kinds ------------------------------------------

TEST(GetParity, NotFoundIsAnErrorFromServer) {
  FakeServer fake;
  fake.answer("/api/v1/namespaces/default/pods/nope", 404,
              R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)"
              R"("pods \"nope\" not found","reason":"NotFound","details":{"name":"nope",)"
              R"("kind":"pods"},"code":404})");
  fake.answer("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/nope", 404,
              R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)"
              R"("horizontalpodautoscalers.autoscaling \"nope\" not found","reason":"NotFound",)"
              R"("code":404})");
  Outcome pod = run("get pods nope" + fake.server_flag());
  EXPECT_EQ(pod.exit_code, 1);
  EXPECT_EQ(pod.err, "Error from server (NotFound): pods \"nope\" not found\n");
  Outcome describe = run("describe hpa nope" + fake.server_flag());
  EXPECT_EQ(describe.exit_code, 1);
  EXPECT_EQ(describe.err,
            "Error from server (NotFound): horizontalpodautoscalers.autoscaling \"nope\" not "
            "found\n");
  Outcome across = run("get pods nope -A" + fake.server_flag());
  EXPECT_EQ(across.exit_code, 1);
  EXPECT_EQ(across.err, "error: a resource cannot be retrieved by name across all namespaces\n");
  Outcome format = run("get pods -o xml" + fake.server_flag());
  EXPECT_EQ(format.exit_code, 1);
  EXPECT_EQ(format.err,
            "error: unable to match a printer suitable for the output format \"xml\", allowed "
            "formats are: json,name,wide,yaml\n");
}

TEST(GetParity, OutputFormatsMatchGolden) {
  FakeServer fake;
  std::string hpa = hpa_json("llm-hpa", 2, "7500m");
  fake.answer(kHpaList, 200, list_json("HorizontalPodAutoscalerList", "autoscaling/v2", {hpa}));
  fake.answer(std::string(kHpaList) + "/llm-hpa", 200, hpa);
  fake.answer(kPodList, 200, list_json("PodList", "v1", {kPod}));
  fake.answer("/api/v1/pods", 200, list_json("PodList", "v1", {kPod}));
  fake.answer("/apis/apps/v1/namespaces/default/deployments", 200,
              list_json("DeploymentList", "apps/v1",
                        {R"({"metadata":{"name":"llm","namespace":"default","labels":{"app":)"
                         R"("llm"}},"spec":{"replicas":3,"selector":{"matchLabels":{"app":)"
                         R"("llm"}},"template":{"metadata":{"labels":{"app":"llm"}},"spec":)"
                         R"({"containers":[{"name":"llm","image":"serve-sim/vllm-v1"}]}}},)"
                         R"("status":{"replicas":3,"updatedReplicas":3,"readyReplicas":2,)"
                         R"("availableReplicas":2}})"}));
  fake.answer("/api/v1/namespaces/default/events", 200,
              list_json("EventList", "v1",
                        {R"({"kind":"Event","apiVersion":"v1","metadata":{"name":)"
                         R"("llm-hpa.0000000000000001","namespace":"default"},"involvedObject":)"
                         R"({"kind":"HorizontalPodAutoscaler","namespace":"default","name":)"
                         R"("llm-hpa","apiVersion":"autoscaling/v2"},"reason":"SuccessfulRescale",)"
                         R"("message":"New size: 2; reason: pods metric vllm:num_requests_waiting)"
                         R"( above target","source":{"component":"horizontal-pod-autoscaler"},)"
                         R"("count":1,"type":"Normal"})"}));
  fake.answer("/api/v1/namespaces/empty/pods", 200, list_json("PodList", "v1", {}));
  std::string s = fake.server_flag();
  std::string all;
  for (const char* args :
       {"get hpa", "get hpa -o wide", "get hpa --show-labels", "get hpa -o name",
        "get hpa llm-hpa -o name", "get hpa -o json", "get hpa llm-hpa -o json", "get hpa -o yaml",
        "get pods -o wide", "get pods -A --show-labels", "get pods -o name", "get deploy",
        "get deployments -o wide", "get deploy -o name", "get events", "get events -o wide",
        "get ev -o name"}) {
    Outcome r = run(std::string(args) + s);
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
    EXPECT_EQ(r.err, "") << args;
    all += "$ llmscale " + std::string(args) + "\n" + r.out;
  }
  expect_golden("get-formats.txt", all);
  // An empty list: kubectl's message on stderr for tables, an empty List for -o json.
  Outcome none = run("get pods -n empty" + s);
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_EQ(none.out, "");
  EXPECT_EQ(none.err, "No resources found in empty namespace.\n");
  Outcome none_json = run("get pods -n empty -o json" + s);
  EXPECT_EQ(none_json.out,
            "{\n    \"apiVersion\": \"v1\",\n    \"items\": [],\n    \"kind\": \"List\",\n"
            "    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n");
  EXPECT_EQ(none_json.err, "");
}

}  // namespace
}  // namespace llmscale
