// Google metric names and Cloud Monitoring selectors -> PromQL.
#include "adapter/google.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

#include "adapter/rule.h"
#include "core/strings.h"

namespace llmscale::adapter {
namespace {

enum class Kind { kGauge, kCounter };

struct Resolved {
  std::string series;      // for explanations
  std::string expression;  // PromQL with "{M}" where the matchers go
  Kind kind = Kind::kGauge;
};

// GKE system metrics, mapped onto the series our accelerator endpoints (and real TPU device
// plugins / DCGM exporters) expose. DCGM framebuffer figures are MiB; GKE's are bytes.
const std::map<std::string, std::string, std::less<>> kSystemMetrics = {
    {"kubernetes.io/container/accelerator/duty_cycle", "duty_cycle{M} or DCGM_FI_DEV_GPU_UTIL{M}"},
    {"kubernetes.io/node/accelerator/duty_cycle", "duty_cycle{M} or DCGM_FI_DEV_GPU_UTIL{M}"},
    {"kubernetes.io/container/accelerator/memory_used",
     "memory_used{M} or DCGM_FI_DEV_FB_USED{M} * 1048576"},
    {"kubernetes.io/node/accelerator/memory_used",
     "memory_used{M} or DCGM_FI_DEV_FB_USED{M} * 1048576"},
    {"kubernetes.io/container/accelerator/memory_total",
     "memory_total{M} or (DCGM_FI_DEV_FB_USED{M} + DCGM_FI_DEV_FB_FREE{M}) * 1048576"},
    {"kubernetes.io/node/accelerator/memory_total",
     "memory_total{M} or (DCGM_FI_DEV_FB_USED{M} + DCGM_FI_DEV_FB_FREE{M}) * 1048576"},
};

bool is_metric_name(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':';
  });
}

core::Result<Resolved> resolve(std::string_view metric, bool case_insensitive) {
  auto not_found = [&](const std::string& why) {
    return core::make_error(
        core::ErrorCode::kNotFound,
        "unknown Google metric " + core::go_quote(std::string(metric)) + ": " + why);
  };
  std::string path(metric);
  std::replace(path.begin(), path.end(), '|', '/');
  const std::string prefix = "prometheus.googleapis.com/";
  if (path.rfind(prefix, 0) == 0) {
    std::string rest = path.substr(prefix.size());
    auto slash = rest.rfind('/');
    if (slash == std::string::npos || slash == 0) {
      return not_found("not of the form prometheus.googleapis.com|<name>|<kind>");
    }
    std::string name = rest.substr(0, slash), kind = rest.substr(slash + 1);
    if (!is_metric_name(name))
      return not_found(core::go_quote(name) + " is not a Prometheus metric name");
    // client-go lower-cases the external metric segment, so `DCGM_FI_DEV_GPU_UTIL` arrives as
    // `dcgm_fi_dev_gpu_util`: external names match the series name case-insensitively.
    Resolved r{name, case_insensitive ? "{__name__=~\"(?i)" + name + "\"<,M>}" : name + "{M}",
               Kind::kGauge};
    if (kind == "counter") {
      r.kind = Kind::kCounter;
    } else if (kind != "gauge" && kind != "unknown") {
      return not_found("kind " + core::go_quote(kind) +
                       " is not supported (gauge, counter and unknown are)");
    }
    return r;
  }
  if (auto it = kSystemMetrics.find(path); it != kSystemMetrics.end()) {
    return Resolved{path, it->second, Kind::kGauge};
  }
  return not_found(
      "prometheus.googleapis.com|<name>|<kind> and the accelerator system metrics are served");
}

// Cloud Monitoring filter fields -> Prometheus labels.
std::optional<std::string> label_for_field(const std::string& key, bool external) {
  auto strip = [&](std::string_view prefix) -> std::optional<std::string> {
    if (key.rfind(prefix, 0) == 0 && key.size() > prefix.size()) return key.substr(prefix.size());
    return std::nullopt;
  };
  if (auto l = strip("metric.labels.")) return l;
  if (!external) return std::nullopt;
  if (auto l = strip("resource.labels.")) {
    static const std::map<std::string, std::string> kResourceLabels = {
        {"namespace_name", "namespace"}, {"pod_name", "pod"},
        {"container_name", "container"}, {"node_name", "node"},
        {"cluster_name", "cluster"},     {"namespace", "namespace"},
        {"cluster", "cluster"},          {"job", "job"},
        {"instance", "instance"}};
    if (auto it = kResourceLabels.find(*l); it != kResourceLabels.end()) return it->second;
    if (*l == "project_id" || *l == "location") return std::string();  // one project, one place
    return std::nullopt;
  }
  return std::nullopt;
}

// A Cloud Monitoring cross-series reducer as a PromQL aggregation ("" for REDUCE_NONE).
struct Reducer {
  std::string op;
  std::string parameter;  // quantile's phi
};

struct Translated {
  std::vector<std::string> matchers;
  Reducer reducer;
};

core::Result<Translated> translate(const kube::Selector& selector, bool external) {
  Translated out;
  std::vector<kube::Requirement> kept;
  for (const auto& r : selector.requirements()) {
    if (r.key == "reducer") {
      static const std::map<std::string, Reducer> kReducers = {
          {"REDUCE_NONE", {}},
          {"REDUCE_MEAN", {"avg", ""}},
          {"REDUCE_MIN", {"min", ""}},
          {"REDUCE_MAX", {"max", ""}},
          {"REDUCE_SUM", {"sum", ""}},
          {"REDUCE_STDDEV", {"stddev", ""}},
          {"REDUCE_COUNT", {"count", ""}},
          {"REDUCE_PERCENTILE_99", {"quantile", "0.99"}},
          {"REDUCE_PERCENTILE_95", {"quantile", "0.95"}},
          {"REDUCE_PERCENTILE_50", {"quantile", "0.5"}},
          {"REDUCE_PERCENTILE_05", {"quantile", "0.05"}}};
      auto it = r.values.size() == 1 ? kReducers.find(r.values[0]) : kReducers.end();
      if ((r.op != kube::SelectorOperator::kEquals &&
           r.op != kube::SelectorOperator::kDoubleEquals) ||
          it == kReducers.end()) {
        return core::invalid_argument(
            "reducer must be one of REDUCE_NONE, REDUCE_MEAN, REDUCE_MIN, "
            "REDUCE_MAX, REDUCE_SUM, REDUCE_STDDEV, REDUCE_COUNT, "
            "REDUCE_PERCENTILE_99/95/50/05");
      }
      out.reducer = it->second;
      continue;
    }
    if (r.key == "resource.type") continue;
    auto label = label_for_field(r.key, external);
    if (!label) {
      return core::invalid_argument(
          "label " + core::go_quote(r.key) +
          " not allowed: selectors on Google "
          "metric names use " +
          (external ? std::string("metric.labels.*, resource.labels.* and reducer")
                    : std::string("metric.labels.* and reducer")));
    }
    if (label->empty()) continue;
    if (r.op == kube::SelectorOperator::kDoesNotExist) {
      return core::invalid_argument("label " + core::go_quote(r.key) +
                                    ": does-not-exist selectors are not supported");
    }
    kube::Requirement translated = r;
    translated.key = *label;
    kept.push_back(translated);
  }
  auto matchers = selector_matchers(kube::Selector().add(kept));
  if (!matchers) return tl::unexpected(matchers.error());
  out.matchers = *matchers;
  return out;
}

// Puts the matchers where the expression has "{M}" (a selector of its own) or "<,M>" (more
// matchers inside a selector).
std::string substitute(const std::string& expression, const std::string& matchers) {
  std::string out = expression;
  auto replace_all = [&](const std::string& token, const std::string& with) {
    for (std::size_t pos = 0; (pos = out.find(token, pos)) != std::string::npos;
         pos += with.size()) {
      out.replace(pos, token.size(), with);
    }
  };
  replace_all("{M}", "{" + matchers + "}");
  replace_all("<,M>", matchers.empty() ? "" : "," + matchers);
  return out;
}

std::string apply_kind(const Resolved& r, const std::string& matchers) {
  std::string body = substitute(r.expression, matchers);
  // Counters are read as a per-second rate over 1m, as the Stackdriver adapter's ALIGN_RATE.
  return r.kind == Kind::kCounter ? "rate(" + body + "[1m])" : body;
}

// `op by (by) ([parameter, ]inner)`; sum when no reducer was asked for.
std::string aggregate(const Reducer& reducer, const std::string& by, const std::string& inner) {
  std::string op = reducer.op.empty() ? "sum" : reducer.op;
  std::string grouping = by.empty() ? "" : " by (" + by + ")";
  std::string parameter = reducer.parameter.empty() ? "" : reducer.parameter + ", ";
  return op + grouping + " (" + parameter + inner + ")";
}

}  // namespace

bool is_google_name(std::string_view metric) {
  return metric.find('|') != std::string_view::npos;
}

core::Result<GoogleQuery> google_custom_query(std::string_view metric,
                                              const kube::Selector& metric_selector,
                                              const std::string& namespace_name,
                                              const std::string& object_label,
                                              const std::vector<std::string>& names) {
  auto resolved = resolve(metric, /*case_insensitive=*/false);
  if (!resolved) return tl::unexpected(resolved.error());
  auto t = translate(metric_selector, /*external=*/false);
  if (!t) return tl::unexpected(t.error());
  std::vector<std::string> matchers = t->matchers;
  if (!namespace_name.empty()) matchers.push_back("namespace=" + core::go_quote(namespace_name));
  matchers.push_back(object_label + (names.size() == 1 ? "=" : "=~") +
                     core::go_quote(core::join(names, "|")));
  std::string inner = apply_kind(*resolved, core::join(matchers, ","));
  return GoogleQuery{resolved->series, aggregate(t->reducer, object_label, inner)};
}

core::Result<GoogleQuery> google_external_query(std::string_view metric,
                                                const kube::Selector& selector) {
  auto resolved = resolve(metric, /*case_insensitive=*/true);
  if (!resolved) return tl::unexpected(resolved.error());
  auto t = translate(selector, /*external=*/true);
  if (!t) return tl::unexpected(t.error());
  std::string inner = apply_kind(*resolved, core::join(t->matchers, ","));
  if (t->reducer.op.empty()) return GoogleQuery{resolved->series, inner};
  return GoogleQuery{resolved->series, aggregate(t->reducer, "", inner)};
}

}  // namespace llmscale::adapter
