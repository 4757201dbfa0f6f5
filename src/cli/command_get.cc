// `llmscale get hpa [NAME] [-w]`, `llmscale get pods`, `llmscale describe hpa NAME`: kubectl's
// tables and describe output, read from the control API of a running `llmscale up`.
#include <cstdlib>
#include <iostream>
#include <map>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/io.h"
#include "controller/control_api.h"
#include "core/json.h"
#include "core/time.h"
#include "kube/json_codec.h"
#include "kube/printers.h"
#include "net/client.h"
#include "net/event_loop.h"
#include "net/url.h"

namespace llmscale::cli {
namespace {

struct GetOptions {
  std::string server;
  std::string ns = "default";
  bool all_namespaces = false;
  bool watch = false;
  std::string selector;
  std::string name;
};

std::string default_server() {
  const char* env = std::getenv("LLMSCALE_SERVER");
  return env != nullptr && *env != '\0' ? env : "http://127.0.0.1:9190";
}

std::string base_url(const GetOptions& o) {
  std::string url = o.server.empty() ? default_server() : o.server;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string hpa_path(const GetOptions& o) {
  if (o.all_namespaces && o.name.empty()) return "/apis/autoscaling/v2/horizontalpodautoscalers";
  return "/apis/autoscaling/v2/namespaces/" + net::path_escape(o.ns) + "/horizontalpodautoscalers" +
         (o.name.empty() ? "" : "/" + net::path_escape(o.name));
}

// GETs a JSON document; API errors come back as their Status message (kubectl prints
// "Error from server (NotFound): ...").
core::Result<core::Json> get_json(const std::string& url) {
  net::EventLoop loop;
  net::HttpClient client(loop);
  core::Result<core::Json> out = core::make_error(core::ErrorCode::kInternal, "no answer");
  auto task = [&]() -> net::Awaitable<void> {
    auto response = co_await client.request(net::Request::get(url));
    if (!response) {
      out = core::make_error(core::ErrorCode::kUnavailable, "cannot reach llmscale up at " + url +
                                                                ": " + response.error().message +
                                                                " (is `llmscale up` running?)");
      co_return;
    }
    auto doc = core::parse_document(response->body);
    if (!doc) {
      out = core::make_error(core::ErrorCode::kInternal, "bad answer from " + url);
    } else if (response->status != 200) {
      std::string reason = doc->value("reason", "");
      out = core::make_error(core::ErrorCode::kNotFound,
                             "Error from server (" + reason + "): " + doc->value("message", ""));
    } else {
      out = std::move(*doc);
    }
  };
  if (auto done = loop.block_on(task(), std::chrono::seconds(30)); !done)
    return tl::unexpected(done.error());
  return out;
}

std::vector<kube::HorizontalPodAutoscaler> decode_hpas(const core::Json& doc) {
  std::vector<kube::HorizontalPodAutoscaler> out;
  if (doc.contains("items")) {
    for (const auto& item : doc["items"]) {
      if (auto hpa = kube::decode_hpa(item, /*strict=*/false)) out.push_back(std::move(*hpa));
    }
  } else if (auto hpa = kube::decode_hpa(doc, /*strict=*/false)) {
    out.push_back(std::move(*hpa));
  }
  return out;
}

// kubectl get -A adds a NAMESPACE column first.
std::vector<std::string> with_namespace(const GetOptions& o, std::vector<std::string> row,
                                        const std::string& ns) {
  if (o.all_namespaces) row.insert(row.begin(), ns);
  return row;
}

// `seen`: namespace/name -> the object last printed (a watch starts with ADDED for every HPA,
// which kubectl does not print again after the list).
int watch_hpas(const GetOptions& o, kube::TableWriter& table,
               std::map<std::string, std::string> seen) {
  net::EventLoop loop;
  net::ClientOptions client_options;
  client_options.idle_timeout = core::Duration::zero();
  client_options.response_head_timeout = std::chrono::seconds(10);
  net::HttpClient client(loop, client_options);
  std::string url = base_url(o) +
                    hpa_path(GetOptions{o.server, o.ns, o.all_namespaces, false, o.selector, ""}) +
                    "?watch=true";
  int code = 0;
  auto task = [&]() -> net::Awaitable<void> {
    auto stream = co_await client.open(net::Request::get(url));
    if (!stream || stream->status() != 200) {
      code = fail("cannot watch " + url +
                      (stream ? ": HTTP " + std::to_string(stream->status())
                              : ": " + stream.error().message),
                  1);
      co_return;
    }
    std::string buffer;
    while (true) {
      auto chunk = co_await stream->read_chunk();
      if (!chunk || chunk->data.empty()) break;  // `up` stopped
      buffer += chunk->data;
      std::size_t newline;
      while ((newline = buffer.find('\n')) != std::string::npos) {
        std::string line = buffer.substr(0, newline);
        buffer.erase(0, newline + 1);
        auto event = core::parse_document(line);
        if (!event || !event->contains("object")) continue;
        auto hpa = kube::decode_hpa((*event)["object"], /*strict=*/false);
        if (!hpa) continue;
        if (!o.name.empty() && hpa->metadata.name != o.name) continue;
        std::string key = hpa->metadata.namespace_ + "/" + hpa->metadata.name;
        std::string text = core::to_compact_json((*event)["object"]);
        if (seen[key] == text) continue;
        seen[key] = text;
        std::cout << table.row(with_namespace(o, kube::hpa_table_row(*hpa, core::wall_now()),
                                              hpa->metadata.namespace_))
                  << std::flush;
      }
    }
  };
  net::spawn(loop, task(), "watch");
  net::stop_on_signals(loop);
  loop.run();
  return code;
}

int get_hpa(const GetOptions& o) {
  auto doc = get_json(base_url(o) + hpa_path(o));
  if (!doc) return fail(doc.error().message, 1);
  auto hpas = decode_hpas(*doc);
  std::map<std::string, std::string> seen;
  if (doc->contains("items")) {
    for (const auto& item : (*doc)["items"]) {
      seen[item["metadata"].value("namespace", "") + "/" + item["metadata"].value("name", "")] =
          core::to_compact_json(item);
    }
  } else {
    seen[(*doc)["metadata"].value("namespace", "") + "/" + (*doc)["metadata"].value("name", "")] =
        core::to_compact_json(*doc);
  }
  kube::TableWriter table;
  std::vector<std::vector<std::string>> rows;
  if (!hpas.empty() || o.watch) {
    auto header = kube::hpa_table_header();
    if (o.all_namespaces) header.insert(header.begin(), "NAMESPACE");
    rows.push_back(header);
  }
  for (const auto& hpa : hpas)
    rows.push_back(
        with_namespace(o, kube::hpa_table_row(hpa, core::wall_now()), hpa.metadata.namespace_));
  if (rows.empty()) {
    std::cerr << (o.all_namespaces ? "No resources found\n"
                                   : "No resources found in " + o.ns + " namespace.\n");
    return 0;
  }
  std::cout << table.flush(rows) << std::flush;
  if (!o.watch) return 0;
  // kubectl get -w: the header and the list, then one row per change.
  return watch_hpas(o, table, std::move(seen));
}

int get_pods(const GetOptions& o) {
  std::string path =
      o.all_namespaces ? "/api/v1/pods" : "/api/v1/namespaces/" + net::path_escape(o.ns) + "/pods";
  if (!o.selector.empty()) path += "?labelSelector=" + net::query_escape(o.selector);
  auto doc = get_json(base_url(o) + path);
  if (!doc) return fail(doc.error().message, 1);
  std::vector<std::vector<std::string>> rows;
  auto header = kube::pod_table_header();
  if (o.all_namespaces) header.insert(header.begin(), "NAMESPACE");
  for (const auto& item : (*doc)["items"]) {
    auto pod = kube::decode_pod(item, "items");
    if (!pod) continue;
    if (!o.name.empty() && pod->metadata.name != o.name) continue;
    rows.push_back(
        with_namespace(o, kube::pod_table_row(*pod, core::wall_now()), pod->metadata.namespace_));
  }
  if (rows.empty()) {
    std::cerr << (o.all_namespaces ? "No resources found\n"
                                   : "No resources found in " + o.ns + " namespace.\n");
    return 0;
  }
  rows.insert(rows.begin(), header);
  std::cout << kube::TableWriter().flush(rows);
  return 0;
}

int describe_hpa(const GetOptions& o) {
  auto doc = get_json(base_url(o) + hpa_path(o));
  if (!doc) return fail(doc.error().message, 1);
  auto hpas = decode_hpas(*doc);
  if (hpas.empty()) return fail("bad answer from llmscale up", 1);
  std::string selector = "involvedObject.name=" + o.name + ",involvedObject.namespace=" + o.ns +
                         ",involvedObject.kind=HorizontalPodAutoscaler";
  auto events_doc = get_json(base_url(o) + "/api/v1/namespaces/" + net::path_escape(o.ns) +
                             "/events?fieldSelector=" + net::query_escape(selector));
  if (!events_doc) return fail(events_doc.error().message, 1);
  auto events = controller::decode_event_list(*events_doc);
  if (!events) return fail("bad event list from llmscale up: " + events.error().message, 1);
  core::Time now = core::wall_now();
  std::vector<kube::DescribedEvent> described;
  for (const auto& e : *events) {
    kube::DescribedEvent d{e.type, e.reason, e.message, now - e.last_timestamp, e.count};
    described.push_back(d);
  }
  std::cout << kube::describe_hpa(hpas.front(), described, now);
  return 0;
}

void add_common(CLI::App* command, GetOptions& o, bool lists) {
  command->add_option("--server,-s", o.server,
                      "control API of llmscale up (default $LLMSCALE_SERVER or "
                      "http://127.0.0.1:9190)");
  command->add_option("--namespace,-n", o.ns, "namespace")->capture_default_str();
  if (lists) {
    command->add_flag("--all-namespaces,-A", o.all_namespaces, "list across all namespaces");
  }
}

}  // namespace

void add_get_command(CLI::App& app, int& exit_code) {
  static GetOptions o;
  auto* get = app.add_subcommand("get", "List HPAs or pods of a running llmscale up, as kubectl");
  get->require_subcommand(1);
  auto* hpa = get->add_subcommand("hpa", "kubectl get hpa [-w]")->alias("horizontalpodautoscaler");
  hpa->alias("horizontalpodautoscalers");
  hpa->add_option("name", o.name, "one HPA");
  hpa->add_flag("--watch,-w", o.watch, "after the list, print a row whenever an HPA changes");
  add_common(hpa, o, true);
  hpa->callback([&] { exit_code = get_hpa(o); });
  auto* pods = get->add_subcommand("pods", "kubectl get pods")->alias("pod")->alias("po");
  pods->add_option("name", o.name, "one pod");
  pods->add_option("--selector,-l", o.selector, "label selector (app=x,tier in (a,b))");
  add_common(pods, o, true);
  pods->callback([&] { exit_code = get_pods(o); });

  auto* describe =
      app.add_subcommand("describe", "Describe an HPA of a running llmscale up, as kubectl");
  describe->require_subcommand(1);
  auto* dhpa = describe->add_subcommand("hpa", "kubectl describe hpa NAME")
                   ->alias("horizontalpodautoscaler");
  dhpa->add_option("name", o.name, "the HPA")->required();
  add_common(dhpa, o, false);
  dhpa->callback([&] { exit_code = describe_hpa(o); });
}

}  // namespace llmscale::cli
