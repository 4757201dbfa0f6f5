// What `llmscale simulate --from-up` reads from a running `up`: on the control address,
//   GET /llmscale/v1/scenario                      the configuration documents `up` was started
//                                                  with (every file, as read, joined by "---"),
//                                                  YAML a scenario folder holds
//   GET /llmscale/v1/requests?fleet=NS/NAME&since=1h
//                                                  the requests that fleet's router served since
//                                                  then (router/journal.h) as Mooncake trace
//                                                  lines, oldest first
// so a user can ask "what would target 3 have done over the last hour?" of their own traffic.
// `fleet` may be left out when `up` runs one fleet; `since` is a Go duration (default 1h).
// Answers carry X-Llmscale-Journal-Dropped (entries the full ring dropped, so the window may
// start later than asked) and X-Llmscale-Window-Start (RFC 3339, the first request's arrival).
// Errors: 400 for a bad parameter, 404 for an unknown fleet or a router without a journal.
#pragma once

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace llmscale::net {
class Router;
}
namespace llmscale::router {
class RequestJournal;
}

namespace llmscale::up {

struct JournalSource {
  std::string namespace_name;
  std::string name;
  const router::RequestJournal* journal = nullptr;  // null: the router keeps none
};

// Every file's text, each file's documents kept whole, joined as one multi-document YAML.
core::Result<std::string> read_scenario_text(const std::vector<std::string>& files);

// Adds the two routes. `scenario_text` and the journals must outlive `router`'s use.
void add_what_if_routes(net::Router& router, core::Clock& clock, std::vector<JournalSource> fleets,
                        std::string scenario_text);

}  // namespace llmscale::up
