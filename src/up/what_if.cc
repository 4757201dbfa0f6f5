// The control routes `simulate --from-up` reads (what_if.h).
#include "up/what_if.h"

#include <chrono>
#include <memory>
#include <utility>

#include "core/duration.h"
#include "core/file.h"
#include "core/time.h"
#include "net/router.h"
#include "router/journal.h"

namespace llmscale::up {
namespace {

net::Response error(int status, const std::string& message) {
  return net::Response::text(status, message + "\n");
}

// GET /llmscale/v1/requests?fleet=NS/NAME&since=DURATION.
net::Response serve_requests(const std::vector<JournalSource>& sources, core::Clock& clock,
                             const net::ServerRequest& request) {
  core::Duration since = std::chrono::hours(1);
  if (auto text = request.query.get("since")) {
    auto parsed = core::parse_go_duration(*text);
    if (!parsed || *parsed <= core::Duration::zero())
      return error(400, "since: expected a positive duration such as 1h or 90s, got \"" +
                            std::string(*text) + "\"");
    since = *parsed;
  }
  const JournalSource* source = nullptr;
  if (auto wanted = request.query.get("fleet")) {
    for (const JournalSource& s : sources) {
      if (*wanted == s.namespace_name + "/" + s.name || *wanted == s.name) source = &s;
    }
    if (source == nullptr) return error(404, "fleet \"" + std::string(*wanted) + "\" not found");
  } else if (sources.size() == 1) {
    source = &sources.front();
  } else {
    std::string names;
    for (const JournalSource& s : sources)
      names += (names.empty() ? "" : ", ") + s.namespace_name + "/" + s.name;
    return error(400, "fleet: up runs several fleets; name one of " + names);
  }
  if (source->journal == nullptr)
    return error(404, "fleet " + source->name + " keeps no requests (up --request-journal 0)");
  std::vector<router::JournalEntry> entries = source->journal->since(clock.now() - since);
  core::Time origin = entries.empty() ? clock.now() : entries.front().arrived;
  net::Response response = net::Response::text(200, router::to_trace_lines(entries, origin));
  response.headers.set("Content-Type", "application/x-ndjson");
  response.headers.set("X-Llmscale-Journal-Dropped", std::to_string(source->journal->dropped()));
  response.headers.set("X-Llmscale-Window-Start", core::format_rfc3339(origin));
  return response;
}

}  // namespace

core::Result<std::string> read_scenario_text(const std::vector<std::string>& files) {
  std::string out;
  for (const std::string& file : files) {
    auto text = core::read_file(file, std::size_t{16} << 20);
    if (!text) return tl::unexpected(text.error());
    if (!out.empty()) out += "\n---\n";
    out += "# " + file + "\n";
    out += *text;
  }
  return out;
}

void add_what_if_routes(net::Router& router, core::Clock& clock, std::vector<JournalSource> fleets,
                        std::string scenario_text) {
  auto text = std::make_shared<const std::string>(std::move(scenario_text));
  router.get("/llmscale/v1/scenario",
             [text](net::ServerRequest&, net::ResponseWriter& writer) -> net::Awaitable<void> {
               net::Response response = net::Response::text(200, *text);
               response.headers.set("Content-Type", "application/yaml");
               co_await writer.send(std::move(response));
             });
  auto sources = std::make_shared<const std::vector<JournalSource>>(std::move(fleets));
  router.get("/llmscale/v1/requests",
             [sources, &clock](net::ServerRequest& request,
                               net::ResponseWriter& writer) -> net::Awaitable<void> {
               net::Response response = serve_requests(*sources, clock, request);
               co_await writer.send(std::move(response));
             });
}

}  // namespace llmscale::up
