// `llmscale adapter explain`: how the metrics adapter answers one request path — the rule and
// series it resolves to, the objects listed, the PromQL run and the answer — over metrics files.
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "adapter/adapter.h"
#include "cli/commands.h"
#include "cli/io.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/strings.h"
#include "core/time.h"
#include "kube/json_codec.h"
#include "prom/exposition.h"
#include "prom/promql_engine.h"
#include "prom/storage.h"

namespace llmscale::cli {
namespace {

// Loads Prometheus text files into `storage` at `now` (a sample's own timestamp wins).
core::Status load_metrics(const std::vector<std::string>& paths, prom::Storage& storage,
                          core::Time now) {
  for (const auto& path : paths) {
    auto text = read_input(path);
    if (!text) return tl::unexpected(text.error());
    auto parsed = prom::parse_exposition(*text, prom::ExpositionFormat::kPrometheusText);
    if (!parsed) return core::with_context(parsed.error(), path);
    for (const auto& family : parsed->families) {
      for (const auto& sample : family.samples) {
        prom::LabelsBuilder builder(sample.labels);
        builder.set("__name__", sample.name);
        auto st =
            storage.append(builder.labels(),
                           sample.timestamp_ms.value_or(core::to_unix_millis(now)), sample.value);
        if (!st) return core::with_context(st.error(), path + ": " + sample.name);
      }
    }
  }
  return {};
}

// Pods (or any objects) from manifests: Pod documents, or List/PodList items.
core::Result<std::vector<adapter::StaticObjectLister::Object>> load_objects(
    const std::string& path) {
  auto text = read_input(path);
  if (!text) return tl::unexpected(text.error());
  auto documents = core::parse_documents(*text);
  if (!documents) return core::with_context(documents.error(), path);
  std::vector<adapter::StaticObjectLister::Object> out;
  std::vector<std::pair<core::Json, std::string>> objects;
  for (std::size_t d = 0; d < documents->size(); ++d) {
    const core::Json& doc = (*documents)[d];
    if (doc.is_null()) continue;
    std::string where = path + ": document " + std::to_string(d);
    if (doc.is_object() && doc.contains("items") && doc["items"].is_array()) {
      for (std::size_t i = 0; i < doc["items"].size(); ++i) {
        objects.emplace_back(doc["items"][i], where + " items[" + std::to_string(i) + "]");
      }
    } else {
      objects.emplace_back(doc, where);
    }
  }
  for (const auto& [object, where] : objects) {
    std::string kind = object.is_object() && object.contains("kind") && object["kind"].is_string()
                           ? object["kind"].get<std::string>()
                           : "";
    if (kind.empty()) return core::invalid_argument(where + ": kind: Required value");
    std::string api_version = object.value("apiVersion", "v1");
    auto slash = api_version.find('/');
    std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
    auto pod = kube::decode_pod(object, "");
    if (!pod) return core::with_context(pod.error(), where);
    if (pod->metadata.name.empty())
      return core::invalid_argument(where + ": metadata.name: Required value");
    out.push_back({adapter::normalize_resource(group, core::to_lower(kind)),
                   pod->metadata.namespace_.empty() ? "default" : pod->metadata.namespace_,
                   pod->metadata.name, pod->metadata.labels});
  }
  return out;
}

struct ExplainOptions {
  std::string config;
  std::vector<std::string> metrics;
  std::string objects;
  std::string time;
  std::string path;
};

int run_explain(const ExplainOptions& o) {
  auto config_text = read_input(o.config);
  if (!config_text) return fail(config_text.error().message);
  auto config = adapter::parse_adapter_config(*config_text);
  if (!config) return fail(o.config + ": " + config.error().message);

  core::Time now = core::wall_now();
  if (!o.time.empty()) {
    auto t = core::parse_rfc3339(o.time);
    if (!t) return fail("--time: " + t.error().message);
    now = *t;
  }
  core::SimulatedClock clock(now);
  prom::Storage storage;
  if (auto st = load_metrics(o.metrics, storage, now); !st) return fail(st.error().message);
  std::vector<adapter::StaticObjectLister::Object> objects;
  if (!o.objects.empty()) {
    auto loaded = load_objects(o.objects);
    if (!loaded) return fail(loaded.error().message);
    objects = std::move(*loaded);
  }

  std::string path = o.path, raw_query;
  if (auto q = path.find('?'); q != std::string::npos) {
    raw_query = path.substr(q + 1);
    path.resize(q);
  }
  auto request = adapter::parse_metrics_request(path, raw_query);
  if (!request) return fail(o.path + ": " + request.error().message);
  if (request->wildcard() && !request->external() && o.objects.empty()) {
    return fail("a wildcard request lists objects by labelSelector: pass them with --objects FILE");
  }

  prom::LocalQueryEngine engine(storage);
  adapter::StaticObjectLister lister(std::move(objects));
  adapter::MetricsAdapter metrics_adapter(
      std::make_shared<const adapter::AdapterConfig>(std::move(*config)), engine, lister, clock);
  if (auto st = metrics_adapter.relist(); !st)
    return fail("discovery failed: " + st.error().message, 1);

  adapter::Explanation why;
  std::string body;
  int code = 200;
  if (request->external()) {
    auto items = metrics_adapter.external_metric(*request, &why);
    if (items) {
      body = core::to_pretty_json(kube::encode_external_metric_value_list(*items));
    } else {
      code = items.error().code;
      body = items.error().to_json();
    }
  } else {
    auto items = metrics_adapter.custom_metric(*request, &why);
    if (items) {
      std::string version =
          request->api == adapter::MetricsApi::kCustomV1Beta1 ? "v1beta1" : "v1beta2";
      body = core::to_pretty_json(kube::encode_metric_value_list(*items, version));
    } else {
      code = items.error().code;
      body = items.error().to_json();
    }
  }

  std::cout << "request:   " << (request->external() ? "external " : "custom ") << request->metric;
  if (!request->external())
    std::cout << " of " << request->resource.to_string() << "/" << request->name;
  if (!request->namespace_name.empty()) std::cout << " in namespace " << request->namespace_name;
  std::cout << "\n";
  if (!request->object_selector.empty())
    std::cout << "objects:   labelSelector " << request->object_selector.to_string() << "\n";
  if (!request->metric_selector.empty())
    std::cout << "series:    selector " << request->metric_selector.to_string() << "\n";
  if (why.source.empty()) {
    std::cout << "metric:    not discovered\n";
    std::cout << "known:    ";
    std::size_t shown = 0;
    if (request->external()) {
      for (const auto& m : metrics_adapter.external_metrics())
        std::cout << (shown++ ? ", " : " ") << m;
    } else {
      for (const auto& m : metrics_adapter.custom_metrics()) {
        std::cout << (shown++ ? ", " : " ") << m.resource.to_string() << "/" << m.metric;
      }
    }
    std::cout << (shown == 0 ? " nothing (no rule's seriesQuery matched a series)" : "") << "\n";
  } else {
    std::cout << "metric:    from " << why.source << ", series " << why.series_name << "\n";
  }
  if (request->wildcard() && !request->external()) {
    std::cout << "listed:    " << why.objects.size() << " object(s)"
              << (why.objects.empty() ? "" : ": ") << core::join(why.objects, ", ") << "\n";
  }
  if (!why.query.empty()) std::cout << "query:     " << why.query << "\n";
  std::cout << "answer:    HTTP " << code << "\n" << body << "\n";
  return code == 200 ? 0 : 1;
}

}  // namespace

void add_adapter_command(CLI::App& app, int& exit_code) {
  auto* adapter_cmd = app.add_subcommand(
      "adapter", "custom.metrics.k8s.io / external.metrics.k8s.io from prometheus-adapter rules");
  adapter_cmd->require_subcommand(1);

  static ExplainOptions explain;
  auto* explain_cmd = adapter_cmd->add_subcommand(
      "explain",
      "Show how a request path is answered: rule, series, objects, PromQL and the answer");
  explain_cmd->add_option("--config", explain.config, "prometheus-adapter configuration (YAML)")
      ->required();
  explain_cmd->add_option(
      "--metrics", explain.metrics,
      "Prometheus text files with the series (labels as Prometheus stores them)");
  explain_cmd->add_option("--objects", explain.objects,
                          "Pod (or other object) manifests for wildcard requests");
  explain_cmd->add_option("--time", explain.time, "evaluation time, RFC 3339 (default: now)");
  explain_cmd
      ->add_option("path", explain.path,
                   "request path, e.g. /apis/custom.metrics.k8s.io/v1beta2/...")
      ->required();
  explain_cmd->callback([&] { exit_code = run_explain(explain); });
}

}  // namespace llmscale::cli
