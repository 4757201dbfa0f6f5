// What-if on a live fleet: the scenario and requests of a running `up` (from_up.h).
#include "cli/from_up.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "core/atomic_file.h"
#include "core/duration.h"
#include "net/client.h"
#include "net/event_loop.h"
#include "net/url.h"
#include "up/control_auth.h"

namespace llmscale::cli {
namespace {

constexpr auto kTimeout = std::chrono::seconds(60);

struct Answer {
  std::string body;
  std::string window_start;
  std::string dropped;
};

// GET url; anything but 200 is an error carrying the server's one-line reason.
core::Result<Answer> get(const std::string& url, const std::string& token) {
  net::EventLoop loop;
  net::ClientOptions options;
  options.connect_timeout = std::chrono::seconds(10);
  options.response_head_timeout = kTimeout;
  options.idle_timeout = kTimeout;
  options.total_timeout = kTimeout;
  net::HttpClient client(loop, options);
  core::Result<Answer> out = core::make_error(core::ErrorCode::kUnavailable,
                                              "--from-up: " + url + ": no answer within 60s");
  auto task = [&]() -> net::Awaitable<void> {
    net::Request request = net::Request::get(url);
    if (!token.empty()) request.headers.set("Authorization", "Bearer " + token);
    auto response = co_await client.request(std::move(request));
    if (!response) {
      out = core::make_error(core::ErrorCode::kUnavailable,
                             "--from-up: " + url + ": " + response.error().message);
      co_return;
    }
    if (response->status != 200) {
      std::string reason = response->body.substr(0, 400);
      while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
      out = core::make_error(
          core::ErrorCode::kFailedPrecondition,
          "--from-up: " + url + ": HTTP " + std::to_string(response->status) + ": " + reason);
      co_return;
    }
    Answer answer;
    answer.body = std::move(response->body);
    answer.window_start = std::string(response->headers.value("X-Llmscale-Window-Start"));
    answer.dropped = std::string(response->headers.value("X-Llmscale-Journal-Dropped"));
    out = std::move(answer);
  };
  (void)loop.block_on(task(), kTimeout + std::chrono::seconds(5));
  return out;
}

}  // namespace

core::Status fetch_from_up(sim::SimFlags& flags, const std::string& dir) {
  if (flags.from_up.empty()) return {};
  if (!flags.scenario.empty())
    return core::invalid_argument("--from-up: give a scenario folder or --from-up, not both");
  auto since = core::parse_go_duration(flags.from_up_since);
  if (!since || *since <= core::Duration::zero())
    return core::invalid_argument(
        "--from-up-since: expected a positive duration such as 1h, got \"" + flags.from_up_since +
        "\"");
  auto base = net::parse_url(flags.from_up);
  if (!base) return core::invalid_argument("--from-up: " + base.error().message);
  std::string root = flags.from_up;
  while (!root.empty() && root.back() == '/') root.pop_back();
  std::string token;
  if (!flags.from_up_token_file.empty()) {
    auto read = up::read_token_file(flags.from_up_token_file);
    if (!read) return core::invalid_argument("--from-up-token-file: " + read.error().message);
    token = *read;
  }

  auto scenario = get(root + "/llmscale/v1/scenario", token);
  if (!scenario) return tl::unexpected(scenario.error());
  const bool replay = flags.trace.empty() && flags.workload.empty();
  std::optional<Answer> requests;
  if (replay) {
    net::QueryParams query;
    query.add("since", flags.from_up_since);
    if (!flags.from_up_fleet.empty()) query.add("fleet", flags.from_up_fleet);
    auto got = get(root + "/llmscale/v1/requests?" + query.encode(), token);
    if (!got) return tl::unexpected(got.error());
    if (got->body.empty())
      return core::make_error(
          core::ErrorCode::kFailedPrecondition,
          "--from-up: " + root + " served no request in the last " + flags.from_up_since);
    requests = std::move(*got);
  }

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return core::invalid_argument("--out: " + dir + ": " + ec.message());
  std::string scenario_path = dir + "/scenario.yaml";
  if (auto st = core::write_file_atomically(scenario_path, scenario->body); !st) return st;
  flags.scenario = {scenario_path};
  if (requests) {
    std::string trace_path = dir + "/requests.jsonl";
    if (auto st = core::write_file_atomically(trace_path, requests->body); !st) return st;
    flags.trace = trace_path;
    flags.trace_format = "mooncake";
    std::size_t lines = 0;
    for (char c : requests->body) lines += c == '\n' ? 1 : 0;
    std::fprintf(stderr, "from-up: %zu requests since %s (dropped by a full journal: %s) -> %s\n",
                 lines, requests->window_start.c_str(),
                 requests->dropped.empty() ? "0" : requests->dropped.c_str(), trace_path.c_str());
  }
  return {};
}

}  // namespace llmscale::cli
