// `llmscale get hpa|pods|deploy|events [NAME] [-w] [-o wide|name|json|yaml] [--show-labels]` and
// `llmscale describe hpa NAME`: kubectl's tables, formats, errors and watch behaviour, read from
// the Kubernetes API of a running `llmscale up` (apiserver/api_server.h) or any API server.
//
// Every answer is decoded with typed access (core::JsonReader through the kube decoders): a
// malformed answer is one line naming the URL and the field (`error: unexpected answer from
// http://127.0.0.1:9190/...: items[0]: expected a Pod object, got number 1`), exit 1; nothing
// throws. Answers nested deeper than kube::kMaxPrintDepth are refused before anything walks
// them recursively. Every request is bounded by --request-timeout, and a timeout names the URL.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/io.h"
#include "controller/events.h"
#include "core/duration.h"
#include "core/json.h"
#include "core/json_reader.h"
#include "core/time.h"
#include "kube/json_codec.h"
#include "kube/printers.h"
#include "kube/workloads.h"
#include "net/client.h"
#include "net/event_loop.h"
#include "net/url.h"

namespace llmscale::cli {
namespace {

using core::Json;

struct GetOptions {
  std::string server;
  std::string ns = "default";
  bool all_namespaces = false;
  bool watch = false;
  std::string selector;
  std::string name;
  std::string output;  // "", wide, name, json, yaml
  bool show_labels = false;
  std::string request_timeout = "30s";
};

// The kinds `get` knows, with the names kubectl prints for them.
enum class Kind { kHpa, kPod, kDeployment, kEvent };

struct Resource {
  Kind kind;
  std::string plural;       // path segment: horizontalpodautoscalers
  std::string api_prefix;   // /apis/autoscaling/v2
  std::string name_prefix;  // -o name: horizontalpodautoscaler.autoscaling
  std::string item_kind;    // HorizontalPodAutoscaler
  std::string api_version;  // autoscaling/v2
};

const Resource kHpa{Kind::kHpa,
                    "horizontalpodautoscalers",
                    "/apis/autoscaling/v2",
                    "horizontalpodautoscaler.autoscaling",
                    "HorizontalPodAutoscaler",
                    "autoscaling/v2"};
const Resource kPods{Kind::kPod, "pods", "/api/v1", "pod", "Pod", "v1"};
const Resource kDeployments{Kind::kDeployment, "deployments", "/apis/apps/v1",
                            "deployment.apps", "Deployment",  "apps/v1"};
const Resource kEvents{Kind::kEvent, "events", "/api/v1", "event", "Event", "v1"};

// A failure already worded as kubectl words it: printed as is, exit 1.
struct Failure {
  std::string line;
};

template <class T>
using Got = tl::expected<T, Failure>;

Failure decode_failure(const std::string& url, const std::string& message) {
  return Failure{"error: unexpected answer from " + url + ": " + message};
}

std::string default_server() {
  const char* env = std::getenv("LLMSCALE_SERVER");
  return env != nullptr && *env != '\0' ? env : "http://127.0.0.1:9190";
}

std::string base_url(const GetOptions& o) {
  std::string url = o.server.empty() ? default_server() : o.server;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// The collection path (or the object's, when `name` is set), namespaced unless -A.
std::string resource_path(const Resource& r, const GetOptions& o, const std::string& name) {
  if (o.all_namespaces && name.empty()) return r.api_prefix + "/" + r.plural;
  return r.api_prefix + "/namespaces/" + net::path_escape(o.ns) + "/" + r.plural +
         (name.empty() ? "" : "/" + net::path_escape(name));
}

core::Duration request_timeout(const GetOptions& o) {
  auto d = core::parse_go_duration(o.request_timeout);
  return d ? *d : std::chrono::seconds(30);
}

// client-go's error for a non-Status error answer (NewGenericServerResponse), as kubectl prints
// it: "Error from server (NotFound): the server could not find the requested resource".
std::string generic_server_error(int status, const std::string& body) {
  std::string text = body.size() > 200 ? body.substr(0, 200) : body;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  switch (status) {
    case 400: return "Error from server (BadRequest): " + text;
    case 401: return "error: You must be logged in to the server (Unauthorized)";
    case 403: return "Error from server (Forbidden): " + text;
    case 404:
      return "Error from server (NotFound): the server could not find the requested resource";
    case 503:
      return "Error from server (ServiceUnavailable): the server is currently unable to handle the "
             "request";
    case 504:
      return "Error from server (Timeout): the server was unable to return a response in the time "
             "allotted, but may still be processing the request";
    default:
      return "Error from server (InternalError): an error on the server (\"" + text +
             "\") has prevented the request from succeeding";
  }
}

// kubectl's StandardErrorMessage for a metav1.Status answer.
std::optional<std::string> status_error(const Json& doc) {
  if (!doc.is_object()) return std::nullopt;
  core::JsonReader r(doc, "", /*strict=*/false);
  std::string kind, reason, message;
  r.read("kind", kind);
  r.read("reason", reason);
  r.read("message", message);
  if (!r.finish() || kind != "Status") return std::nullopt;
  if (reason == "Unauthorized")
    return "error: You must be logged in to the server (" + message + ")";
  if (!reason.empty()) return "Error from server (" + reason + "): " + message;
  return "Error from server: " + message;
}

// The transport failure as kubectl words it (StandardErrorMessage for a *url.Error), with the
// URL in Go's `Get "URL": ...` form so a timeout says which address did not answer.
Failure transport_failure(const std::string& url, const core::Error& error) {
  if (net::client_error_kind(error) == "connection refused") {
    auto parsed = net::parse_url(url);
    return Failure{"The connection to the server " + (parsed ? parsed->authority() : url) +
                   " was refused - did you specify the right host or port?"};
  }
  return Failure{"Unable to connect to the server: Get \"" + url + "\": " + error.message};
}

// Parses an answer and refuses one nested too deeply for the recursive printers.
Got<Json> parse_answer(const std::string& url, std::string_view body) {
  if (!core::check_json_depth(body, static_cast<int>(kube::kMaxPrintDepth)))
    return tl::unexpected(decode_failure(
        url, "nested deeper than " + std::to_string(kube::kMaxPrintDepth) + " levels"));
  auto doc = core::parse_document(body);
  if (!doc) return tl::unexpected(decode_failure(url, doc.error().message));
  if (kube::json_depth(*doc) > kube::kMaxPrintDepth)
    return tl::unexpected(decode_failure(
        url, "nested deeper than " + std::to_string(kube::kMaxPrintDepth) + " levels"));
  return std::move(*doc);
}

// GETs a JSON document; API errors come back worded as kubectl words them.
Got<Json> get_json(const std::string& url, core::Duration timeout) {
  net::EventLoop loop;
  net::ClientOptions options;
  options.connect_timeout = std::min<core::Duration>(timeout, std::chrono::seconds(10));
  options.response_head_timeout = timeout;
  options.idle_timeout = timeout;
  options.total_timeout = timeout;
  net::HttpClient client(loop, options);
  Got<Json> out =
      tl::unexpected(Failure{"Unable to connect to the server: Get \"" + url +
                             "\": no answer within " + core::format_go_duration(timeout)});
  auto task = [&]() -> net::Awaitable<void> {
    auto response = co_await client.request(net::Request::get(url));
    if (!response) {
      out = tl::unexpected(transport_failure(url, response.error()));
      co_return;
    }
    auto doc = parse_answer(url, response->body);
    if (response->status != 200) {
      std::optional<std::string> status = doc ? status_error(*doc) : std::nullopt;
      out = tl::unexpected(
          Failure{status ? *status : generic_server_error(response->status, response->body)});
    } else {
      out = std::move(doc);
    }
  };
  // The client's own timeouts end the request first; this only bounds a stuck loop.
  (void)loop.block_on(task(), timeout + std::chrono::seconds(5));
  return out;
}

// One object of a list or answer, decoded with typed access, with its table cells.
struct Item {
  std::string ns, name;
  kube::Labels labels;
  std::vector<std::string> cells;
  Json object;  // as the server sent it, kind/apiVersion filled in as kubectl does for lists
};

Got<Item> decode_item(const Resource& r, const GetOptions& o, const Json& node,
                      const std::string& path, const std::string& url, core::Time now) {
  bool wide = o.output == "wide";
  Item item;
  auto fail = [&](const core::Error& e) { return tl::unexpected(decode_failure(url, e.message)); };
  // A list's items carry no kind/apiVersion; kubectl's unstructured list decoding sets them
  // from the list's (unstructuredJSONScheme.decodeToList).
  Json object = node;
  if (object.is_object() && !object.contains("kind") && !object.contains("apiVersion")) {
    object["kind"] = r.item_kind;
    object["apiVersion"] = r.api_version;
  }
  switch (r.kind) {
    case Kind::kHpa: {
      auto hpa = kube::decode_hpa(object, /*strict=*/false, path);
      if (!hpa) return fail(hpa.error());
      item.cells = kube::hpa_table_row(*hpa, now);
      item.ns = hpa->metadata.namespace_;
      item.name = hpa->metadata.name;
      item.labels = hpa->metadata.labels;
      break;
    }
    case Kind::kPod: {
      auto pod = kube::decode_pod(object, path);
      if (!pod) return fail(pod.error());
      item.cells = kube::pod_table_row(*pod, now, wide);
      item.ns = pod->metadata.namespace_;
      item.name = pod->metadata.name;
      item.labels = pod->metadata.labels;
      break;
    }
    case Kind::kDeployment: {
      auto d = kube::decode_deployment(object, path);
      if (!d) return fail(d.error());
      item.cells = kube::deployment_table_row(*d, now, wide);
      item.ns = d->metadata.namespace_;
      item.name = d->metadata.name;
      item.labels = d->metadata.labels;
      break;
    }
    case Kind::kEvent: {
      auto e = kube::decode_event(object, path);
      if (!e) return fail(e.error());
      item.cells = kube::event_table_row(*e, now, wide);
      item.ns = e->metadata.namespace_;
      item.name = e->metadata.name;
      item.labels = e->metadata.labels;
      break;
    }
  }
  // kubectl get -A adds a NAMESPACE column first; --show-labels a LABELS column last.
  if (o.all_namespaces) item.cells.insert(item.cells.begin(), item.ns);
  if (o.show_labels) item.cells.push_back(kube::format_labels(item.labels));
  item.object = std::move(object);
  return item;
}

Got<std::vector<Item>> decode_list(const Resource& r, const GetOptions& o, const Json& doc,
                                   const std::string& url, core::Time now) {
  if (!doc.is_object())
    return tl::unexpected(decode_failure(
        url, "expected a " + r.item_kind + "List object, got " + core::describe_json(doc)));
  const Json* items = nullptr;
  if (auto it = doc.find("items"); it != doc.end() && !it->is_null()) items = &*it;
  std::vector<Item> out;
  if (items == nullptr) return out;
  if (!items->is_array())
    return tl::unexpected(
        decode_failure(url, "items: expected a list, got " + core::describe_json(*items)));
  for (std::size_t i = 0; i < items->size(); ++i) {
    auto item = decode_item(r, o, (*items)[i], "items[" + std::to_string(i) + "]", url, now);
    if (!item) return tl::unexpected(item.error());
    out.push_back(std::move(*item));
  }
  return out;
}

std::vector<std::string> table_header(const Resource& r, const GetOptions& o) {
  bool wide = o.output == "wide";
  std::vector<std::string> header;
  switch (r.kind) {
    case Kind::kHpa: header = kube::hpa_table_header(); break;
    case Kind::kPod: header = kube::pod_table_header(wide); break;
    case Kind::kDeployment: header = kube::deployment_table_header(wide); break;
    case Kind::kEvent: header = kube::event_table_header(wide); break;
  }
  if (o.all_namespaces) header.insert(header.begin(), "NAMESPACE");
  if (o.show_labels) header.emplace_back("LABELS");
  return header;
}

bool human_readable(const GetOptions& o) {
  return o.output.empty() || o.output == "wide";
}

// Prints objects as the chosen printer does, remembering table widths and whether a header
// (tables) or a document (yaml's "---" separators) was printed already.
class Printer {
 public:
  Printer(const Resource& r, const GetOptions& o) : r_(r), o_(o) {}

  void print(const std::vector<Item>& items) {
    std::string out;
    if (human_readable(o_)) {
      std::vector<std::vector<std::string>> rows;
      if (!header_printed_ && !items.empty()) {
        rows.push_back(table_header(r_, o_));
        header_printed_ = true;
      }
      for (const Item& item : items) rows.push_back(item.cells);
      if (!rows.empty()) out = table_.flush(rows);
    } else {
      for (const Item& item : items) out += one(item.object, item.name);
    }
    std::cout << out << std::flush;
  }

  // A list as `kubectl get -o json|yaml` prints it (a v1 List); names and tables as above.
  void print_list(const std::vector<Item>& items) {
    if (o_.output != "json" && o_.output != "yaml") return print(items);
    Json list = Json::object();
    list["apiVersion"] = "v1";
    list["items"] = Json::array();
    for (const Item& item : items) list["items"].push_back(item.object);
    list["kind"] = "List";
    list["metadata"] = {{"resourceVersion", ""}};
    std::cout << (o_.output == "json" ? kube::kubectl_json(list) : kube::kubectl_yaml(list))
              << std::flush;
  }

 private:
  std::string one(const Json& object, const std::string& name) {
    if (o_.output == "name") return r_.name_prefix + "/" + name + "\n";
    if (o_.output == "json") return kube::kubectl_json(object);
    // YAMLPrinter: "---" before every document but the first.
    std::string out = documents_++ > 0 ? "---\n" : "";
    return out + kube::kubectl_yaml(object);
  }

  const Resource& r_;
  const GetOptions& o_;
  kube::TableWriter table_;
  bool header_printed_ = false;
  int documents_ = 0;
};

// kubectl get -w after the list: one object per change, printed as `printer` prints. Returns
// the exit code: 0 when the server ends the watch (kubectl ignores the end of the watch:
// `intr.Run(...)` in get.go discards UntilWithoutRetry's ErrWatchClosed and returns nil), 1
// when the watch cannot start or the stream carries something that is not a watch event.
int watch(const Resource& r, const GetOptions& o, Printer& printer,
          std::map<std::string, std::string> seen) {
  GetOptions list_options = o;
  std::string url = base_url(o) + resource_path(r, list_options, "") + "?watch=true";
  if (!o.selector.empty()) url += "&labelSelector=" + net::query_escape(o.selector);
  core::Duration timeout = request_timeout(o);
  net::EventLoop loop;
  net::ClientOptions client_options;
  client_options.connect_timeout = std::min<core::Duration>(timeout, std::chrono::seconds(10));
  client_options.response_head_timeout = timeout;
  client_options.idle_timeout = core::Duration::zero();  // a quiet watch is not a dead one
  net::HttpClient client(loop, client_options);
  int code = 0;
  auto task = [&]() -> net::Awaitable<void> {
    auto stream = co_await client.open(net::Request::get(url));
    if (!stream) {
      code = 1;
      std::cerr << transport_failure(url, stream.error()).line << "\n";
    } else if (stream->status() != 200) {
      code = 1;
      auto body = co_await stream->read_all(64 * 1024);
      auto doc = body ? parse_answer(url, *body) : Got<Json>(tl::unexpected(Failure{}));
      std::optional<std::string> status = doc ? status_error(*doc) : std::nullopt;
      std::cerr << (status ? *status : generic_server_error(stream->status(), body ? *body : ""))
                << "\n";
    } else {
      std::string buffer;
      while (code == 0) {
        auto chunk = co_await stream->read_chunk();
        if (!chunk || chunk->data.empty()) break;  // the server ended the watch
        buffer += chunk->data;
        std::size_t newline;
        while (code == 0 && (newline = buffer.find('\n')) != std::string::npos) {
          std::string line = buffer.substr(0, newline);
          buffer.erase(0, newline + 1);
          if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
          auto event = parse_answer(url, line);
          std::string type;
          const Json* object = nullptr;
          if (event && !event->is_object()) {
            event = tl::unexpected(
                decode_failure(url, "expected an object, got " + core::describe_json(*event)));
          } else if (event) {
            core::JsonReader reader(*event, "", /*strict=*/false);
            reader.read("type", type);
            object = reader.get("object");
            if (auto status = reader.finish(); !status) {
              event = tl::unexpected(decode_failure(url, status.error().message));
            } else if (object == nullptr || !object->is_object()) {
              event = tl::unexpected(decode_failure(
                  url,
                  "object: expected an object, got " +
                      (object == nullptr ? std::string("nothing") : core::describe_json(*object))));
            }
          }
          if (!event) {
            code = 1;
            std::cerr << event.error().line << "\n";
            break;
          }
          if (type == "ERROR") {
            auto status = status_error(*object);
            code = 1;
            std::cerr << (status ? *status : "error: watch failed") << "\n";
            break;
          }
          if (type == "BOOKMARK") continue;
          auto item = decode_item(r, o, *object, "object", url, core::wall_now());
          if (!item) {
            code = 1;
            std::cerr << item.error().line << "\n";
            break;
          }
          if (!o.name.empty() && item->name != o.name) continue;
          // The watch starts with ADDED for every object kubectl printed from the list already.
          std::string key = item->ns + "/" + item->name;
          std::string text = core::to_compact_json(item->object);
          if (type != "DELETED" && seen[key] == text) continue;
          seen[key] = text;
          printer.print({*item});
        }
      }
    }
    loop.stop();  // stop_on_signals keeps run() going otherwise (why `get -w` never exited)
  };
  net::spawn(loop, task(), "watch");
  net::stop_on_signals(loop);
  loop.run();
  return code;
}

int print_failure(const Failure& f) {
  std::cerr << f.line << "\n";
  return 1;
}

int get(const Resource& r, const GetOptions& o) {
  if (!o.output.empty() && o.output != "wide" && o.output != "name" && o.output != "json" &&
      o.output != "yaml")
    return fail("unable to match a printer suitable for the output format \"" + o.output +
                    "\", allowed formats are: json,name,wide,yaml",
                1);
  if (o.all_namespaces && !o.name.empty())
    return fail("a resource cannot be retrieved by name across all namespaces", 1);
  std::string url = base_url(o) + resource_path(r, o, o.name);
  if (o.name.empty() && !o.selector.empty())
    url += "?labelSelector=" + net::query_escape(o.selector);
  auto doc = get_json(url, request_timeout(o));
  if (!doc) return print_failure(doc.error());
  core::Time now = core::wall_now();
  std::vector<Item> items;
  if (o.name.empty()) {
    auto list = decode_list(r, o, *doc, url, now);
    if (!list) return print_failure(list.error());
    items = std::move(*list);
  } else {
    auto item = decode_item(r, o, *doc, "", url, now);
    if (!item) return print_failure(item.error());
    items.push_back(std::move(*item));
  }
  Printer printer(r, o);
  std::map<std::string, std::string> seen;
  for (const Item& item : items)
    seen[item.ns + "/" + item.name] = core::to_compact_json(item.object);
  if (o.watch) {
    // kubectl's watch prints the list's objects one by one, then the changes.
    printer.print(items);
    return watch(r, o, printer, std::move(seen));
  }
  if (o.name.empty() && items.empty() && human_readable(o)) {
    // get.go: nothing written and no errors.
    std::cerr << (o.all_namespaces ? "No resources found\n"
                                   : "No resources found in " + o.ns + " namespace.\n");
    return 0;
  }
  if (o.name.empty()) {
    printer.print_list(items);
  } else {
    printer.print(items);
  }
  return 0;
}

int describe_hpa(const GetOptions& o) {
  std::string url = base_url(o) + resource_path(kHpa, o, o.name);
  core::Duration timeout = request_timeout(o);
  auto doc = get_json(url, timeout);
  if (!doc) return print_failure(doc.error());
  auto hpa = kube::decode_hpa(*doc, /*strict=*/false);
  if (!hpa) return print_failure(decode_failure(url, hpa.error().message));
  std::string selector = "involvedObject.name=" + o.name + ",involvedObject.namespace=" + o.ns +
                         ",involvedObject.kind=HorizontalPodAutoscaler";
  std::string events_url = base_url(o) + "/api/v1/namespaces/" + net::path_escape(o.ns) +
                           "/events?fieldSelector=" + net::query_escape(selector);
  auto events_doc = get_json(events_url, timeout);
  if (!events_doc) return print_failure(events_doc.error());
  auto events = controller::decode_event_list(*events_doc);
  if (!events) return print_failure(decode_failure(events_url, events.error().message));
  // kubectl (DescribeEvents): oldest lastTimestamp first, whatever order the list came in.
  std::stable_sort(events->begin(), events->end(), [](const auto& a, const auto& b) {
    return a.last_timestamp < b.last_timestamp;
  });
  core::Time now = core::wall_now();
  std::vector<kube::DescribedEvent> described;
  for (const auto& e : *events) {
    kube::DescribedEvent d;
    d.type = e.type;
    d.reason = e.reason;
    d.message = e.message;
    d.age = now - e.last_timestamp;
    d.count = e.count;
    d.from = e.source;  // kubectl: source.component, else reportingController
    d.first_age = now - e.first_timestamp;
    described.push_back(d);
  }
  std::cout << kube::describe_hpa(*hpa, described, now);
  return 0;
}

void add_common(CLI::App* command, GetOptions& o, bool lists) {
  command->add_option("--server,-s", o.server,
                      "control API of llmscale up (default $LLMSCALE_SERVER or "
                      "http://127.0.0.1:9190)");
  command->add_option("--namespace,-n", o.ns, "namespace")->capture_default_str();
  command
      ->add_option("--request-timeout", o.request_timeout,
                   "how long to wait for an answer (Go duration); a watch waits this long "
                   "for its start")
      ->capture_default_str();
  if (lists) {
    command->add_flag("--all-namespaces,-A", o.all_namespaces, "list across all namespaces");
    command->add_option("--selector,-l", o.selector, "label selector (app=x,tier in (a,b))");
    command->add_flag("--watch,-w", o.watch,
                      "after the list, print a row whenever an object changes; exits when the "
                      "server ends the watch");
    command->add_option("--output,-o", o.output, "output format: wide, name, json or yaml");
    command->add_flag("--show-labels", o.show_labels, "add a LABELS column to tables");
  }
}

}  // namespace

void add_get_command(CLI::App& app, int& exit_code) {
  static GetOptions o;
  auto* get_command = app.add_subcommand(
      "get", "List HPAs, pods, deployments or events of a running llmscale up, as kubectl");
  get_command->require_subcommand(1);
  struct Entry {
    const Resource* resource;
    const char* name;
    std::vector<const char*> aliases;
    const char* help;
  };
  static const Entry kEntries[] = {
      {&kHpa, "hpa", {"horizontalpodautoscaler", "horizontalpodautoscalers"}, "kubectl get hpa"},
      {&kPods, "pods", {"pod", "po"}, "kubectl get pods"},
      {&kDeployments, "deployments", {"deployment", "deploy"}, "kubectl get deployments"},
      {&kEvents, "events", {"event", "ev"}, "kubectl get events"},
  };
  for (const Entry& entry : kEntries) {
    auto* sub = get_command->add_subcommand(entry.name, entry.help);
    for (const char* alias : entry.aliases) sub->alias(alias);
    sub->add_option("name", o.name, "one object");
    add_common(sub, o, true);
    const Resource* resource = entry.resource;
    sub->callback([&exit_code, resource] { exit_code = get(*resource, o); });
  }

  auto* describe =
      app.add_subcommand("describe", "Describe an HPA of a running llmscale up, as kubectl");
  describe->require_subcommand(1);
  auto* dhpa = describe->add_subcommand("hpa", "kubectl describe hpa NAME")
                   ->alias("horizontalpodautoscaler");
  dhpa->add_option("name", o.name, "the HPA")->required();
  add_common(dhpa, o, false);
  dhpa->callback([&exit_code] { exit_code = describe_hpa(o); });
}

}  // namespace llmscale::cli
