// Fuzzes the embedded API server's request decoding: the input is a request ("METHOD TARGET"
// on the first line, the Content-Type on the second, the body after), answered by a server
// holding a namespace, an HPA and a Deployment. Query parameters (selectors, resourceVersion,
// timeoutSeconds, dryRun), paths and bodies (objects, all four patch types) reach every
// decoder. Never crashes; every answer is a JSON document or a stream of them.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "apiserver/api_server.h"
#include "net/event_loop.h"
#include "net/recording_writer.h"

namespace {

using namespace llmscale;

struct World {
  core::SimulatedClock clock;
  apiserver::Store store{clock, 64};
  apiserver::ApiServer api{store, clock, apiserver::builtin_resources()};
  net::EventLoop loop;

  World() {
    api.create(*api.find("", "namespaces"), core::Json{{"metadata", {{"name", "default"}}}});
    api.create(*api.find("apps", "deployments"),
               core::Json::parse(R"({"metadata":{"name":"llm"},"spec":{"replicas":1,
                 "selector":{"matchLabels":{"app":"llm"}},
                 "template":{"metadata":{"labels":{"app":"llm"}},
                             "spec":{"containers":[{"name":"c","image":"i"}]}}}})"));
    api.create(*api.find("autoscaling", "horizontalpodautoscalers"),
               core::Json::parse(R"({"metadata":{"name":"h"},"spec":{"maxReplicas":3,
                 "scaleTargetRef":{"kind":"Deployment","name":"llm","apiVersion":"apps/v1"}}})"));
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World* world = new World();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::size_t line = text.find('\n');
  if (line == std::string_view::npos) return 0;
  std::string_view head = text.substr(0, line);
  std::string_view rest = text.substr(line + 1);
  std::size_t second = rest.find('\n');
  std::string_view content_type = rest.substr(0, second);
  std::string_view body = second == std::string_view::npos ? "" : rest.substr(second + 1);
  std::size_t space = head.find(' ');
  if (space == std::string_view::npos) return 0;
  net::ServerRequest request;
  request.method = std::string(head.substr(0, space));
  if (!request.set_target(std::string(head.substr(space + 1)))) return 0;
  // A watch must end: the simulated clock never moves, so bound it by the client leaving.
  request.headers.set("Content-Type", content_type);
  request.body = std::string(body);
  net::RecordingResponseWriter writer;
  bool watch = request.query.has("watch");
  if (watch) writer.disconnect();
  auto status = world->loop.block_on(world->api.serve(request, writer), std::chrono::seconds(5));
  if (!status) std::abort();
  if (!watch && writer.status() >= 200 && !writer.body().empty()) {
    auto parsed = core::Json::parse(writer.body(), nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) std::abort();
  }
  return 0;
}
