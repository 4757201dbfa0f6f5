// up's DashboardSource: HPAs, fleets, routers and the servers' metrics as the dashboard plots
// them (docs/dashboard.md, "Data").
#include "up/dashboard_feed.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string_view>

#include <nlohmann/json.hpp>

#include "controller/events.h"
#include "core/strings.h"
#include "fleet/fleet.h"
#include "kube/quantity.h"
#include "prom/exposition/registry.h"
#include "prom/promql/query_engine.h"
#include "router/balancer.h"
#include "router/proxy.h"
#include "server/metric_contract.h"

namespace llmscale::up {
namespace {

std::string key_of(const kube::ObjectMeta& meta) {
  return meta.namespace_ + "/" + meta.name;
}

core::Json number_or_null(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return nullptr;
  return *v;
}

// A metric's value and target in the units `kubectl get hpa` shows (a fraction of a Quantity,
// or percent for Utilization).
struct Plotted {
  std::string name;
  std::string type;
  std::string target_type;
  std::optional<double> target;
  std::optional<double> current;
};

std::vector<Plotted> plotted_metrics(const controller::HpaView& view) {
  std::vector<Plotted> out;
  for (std::size_t i = 0; i < view.hpa.spec.metrics.size(); ++i) {
    const kube::MetricSpec& spec = view.hpa.spec.metrics[i];
    Plotted p;
    p.type = spec.type;
    const kube::MetricTarget* target = nullptr;
    if (spec.pods) {
      p.name = spec.pods->metric.name;
      target = &spec.pods->target;
    } else if (spec.object) {
      p.name = spec.object->metric.name;
      target = &spec.object->target;
    } else if (spec.external) {
      p.name = spec.external->metric.name;
      target = &spec.external->target;
    } else if (spec.resource) {
      p.name = spec.resource->name;
      target = &spec.resource->target;
    } else if (spec.container_resource) {
      p.name = spec.container_resource->name;
      target = &spec.container_resource->target;
    }
    if (target != nullptr) {
      p.target_type = target->type;
      if (target->average_utilization) p.target = *target->average_utilization;
      if (target->average_value) p.target = target->average_value->as_double();
      if (target->value) p.target = target->value->as_double();
    }
    if (view.last_decision && i < view.last_decision->metrics.size()) {
      const hpa::MetricResult& m = view.last_decision->metrics[i];
      if (m.utilization_percent) {
        p.current = *m.utilization_percent;
      } else if (m.usage_milli) {
        p.current = static_cast<double>(*m.usage_milli) / 1000.0;
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

DashboardFeed::DashboardFeed(core::Clock& clock, controller::Controller& controller,
                             std::vector<fleet::Fleet*> fleets, std::vector<router::Proxy*> proxies,
                             prom::QueryEngine& engine, double tolerance)
    : clock_(clock),
      controller_(controller),
      fleets_(std::move(fleets)),
      proxies_(std::move(proxies)),
      engine_(engine),
      tolerance_(tolerance),
      granted_(proxies_.size(), 0),
      last_sample_(clock.now()),
      dashboard_(std::make_unique<dashboard::Dashboard>(clock, *this)) {}

std::string DashboardFeed::controller_metrics_text() {
  std::vector<controller::HpaControllerMetrics::Autoscaler> autoscalers;
  for (const controller::HpaView& view : controller_.list()) {
    autoscalers.push_back(
        {view.hpa.metadata.namespace_, view.hpa.metadata.name, view.hpa.status.desired_replicas});
  }
  controller_metrics_.set_autoscalers(autoscalers);
  return controller_metrics_.text();
}

DashboardFeed::~DashboardFeed() {
  dashboard_->stop();
}

void DashboardFeed::on_pass(const controller::HpaView& view) {
  controller_metrics_.observe(view.last_result);
  if (!view.last_decision) return;
  const hpa::Decision& d = *view.last_decision;
  if (!d.rescale) return;
  core::Json explanation = core::Json::array();
  for (const std::string& line : d.explanation) explanation.push_back(line);
  dashboard_->add_decision({{"hpa", key_of(view.hpa.metadata)},
                            {"from", d.current_replicas},
                            {"to", d.desired_replicas},
                            {"reason", d.rescale_reason},
                            {"explanation", std::move(explanation)}});
}

void DashboardFeed::record_event(const kube::HorizontalPodAutoscaler& hpa,
                                 controller::RecordedEvent event, const std::string& component) {
  event.source = component;
  std::vector<controller::RecordedEvent>& events = other_events_[key_of(hpa.metadata)];
  auto same = std::find_if(events.begin(), events.end(), [&](const controller::RecordedEvent& e) {
    return e.source == event.source && e.type == event.type && e.reason == event.reason &&
           e.message == event.message;
  });
  if (same != events.end()) events.erase(same);
  events.push_back(std::move(event));
  if (events.size() > kMaxOtherEvents)
    events.erase(events.begin(), events.end() - static_cast<std::ptrdiff_t>(kMaxOtherEvents));
}

// kube-state-metrics' names and labels (docs/horizontalpodautoscaler-metrics.md): every family
// is a gauge labelled namespace and horizontalpodautoscaler; metric_target_type is value,
// average or utilization; condition status is true, false or unknown (lower case).
void DashboardFeed::add_hpa_metrics(prom::MetricRegistry& registry) {
  const std::vector<std::string> labels = {"namespace", "horizontalpodautoscaler"};
  std::vector<std::string> target_labels = labels;
  target_labels.insert(target_labels.end(), {"metric_name", "metric_target_type"});
  std::vector<std::string> condition_labels = labels;
  condition_labels.insert(condition_labels.end(), {"condition", "status"});
  const std::string p = "kube_horizontalpodautoscaler_";
  auto* max = registry
                  .add_gauge(p + "spec_max_replicas",
                             "Upper limit for the number of pods that can be set by the "
                             "autoscaler; cannot be smaller than MinReplicas.",
                             labels)
                  .value();
  auto* min =
      registry
          .add_gauge(
              p + "spec_min_replicas",
              "Lower limit for the number of pods that can be set by the autoscaler, default 1.",
              labels)
          .value();
  auto* current =
      registry
          .add_gauge(p + "status_current_replicas",
                     "Current number of replicas of pods managed by this autoscaler.", labels)
          .value();
  auto* desired =
      registry
          .add_gauge(p + "status_desired_replicas",
                     "Desired number of replicas of pods managed by this autoscaler.", labels)
          .value();
  auto* target = registry
                     .add_gauge(p + "spec_target_metric",
                                "The metric specifications used by this autoscaler when "
                                "calculating the desired replica count.",
                                target_labels)
                     .value();
  auto* value = registry
                    .add_gauge(p + "status_target_metric",
                               "The current metric status used by this autoscaler when calculating "
                               "the desired replica count.",
                               target_labels)
                    .value();
  auto* condition =
      registry
          .add_gauge(p + "status_condition", "The condition of this autoscaler.", condition_labels)
          .value();
  for (const controller::HpaView& view : controller_.list()) {
    const auto& hpa = view.hpa;
    const std::string& ns = hpa.metadata.namespace_;
    const std::string& name = hpa.metadata.name;
    max->with({ns, name}).set(hpa.spec.max_replicas);
    min->with({ns, name}).set(hpa.spec.min_replicas.value_or(1));
    current->with({ns, name}).set(hpa.status.current_replicas);
    desired->with({ns, name}).set(hpa.status.desired_replicas);
    for (const Plotted& m : plotted_metrics(view)) {
      std::string type = m.target_type == "Utilization"    ? "utilization"
                         : m.target_type == "AverageValue" ? "average"
                                                           : "value";
      if (m.target) target->with({ns, name, m.name, type}).set(*m.target);
      if (m.current) value->with({ns, name, m.name, type}).set(*m.current);
    }
    for (const auto& c : hpa.status.conditions) {
      for (std::string status : {"true", "false", "unknown"})
        condition->with({ns, name, c.type, status}).set(core::to_lower(c.status) == status ? 1 : 0);
    }
  }
}

core::Json DashboardFeed::state() {
  core::Json hpas = core::Json::array();
  const std::vector<controller::HpaView> views = controller_.list();
  // Other components' events of HPAs that are gone leave with them.
  std::erase_if(other_events_, [&](const auto& entry) {
    return std::none_of(views.begin(), views.end(), [&](const controller::HpaView& view) {
      return key_of(view.hpa.metadata) == entry.first;
    });
  });
  for (const controller::HpaView& view : views) {
    const auto& hpa = view.hpa;
    core::Json metrics = core::Json::array();
    for (const Plotted& p : plotted_metrics(view)) {
      metrics.push_back({{"name", p.name},
                         {"type", p.type},
                         {"targetType", p.target_type},
                         {"target", number_or_null(p.target)}});
    }
    core::Json conditions = core::Json::array();
    for (const auto& c : hpa.status.conditions) {
      conditions.push_back(
          {{"type", c.type}, {"status", c.status}, {"reason", c.reason}, {"message", c.message}});
    }
    // The controller's events and the others' (the activator's), oldest lastTimestamp first.
    std::vector<controller::RecordedEvent> all = view.events;
    if (auto others = other_events_.find(key_of(hpa.metadata)); others != other_events_.end())
      all.insert(all.end(), others->second.begin(), others->second.end());
    std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
      return a.last_timestamp < b.last_timestamp;
    });
    core::Json events = core::Json::array();
    for (const auto& e : all) {
      events.push_back({{"type", e.type},
                        {"reason", e.reason},
                        {"message", e.message},
                        {"count", e.count},
                        {"source", e.source.empty() ? controller::kHpaEventSource : e.source},
                        {"last", core::to_unix_millis(e.last_timestamp)}});
    }
    hpas.push_back(
        {{"key", key_of(hpa.metadata)},
         {"namespace", hpa.metadata.namespace_},
         {"name", hpa.metadata.name},
         {"target", hpa.spec.scale_target_ref.kind + "/" + hpa.spec.scale_target_ref.name},
         {"fleet", hpa.spec.scale_target_ref.name},
         {"minReplicas", hpa.spec.min_replicas.value_or(1)},
         {"maxReplicas", hpa.spec.max_replicas},
         {"tolerance", tolerance_},
         {"currentReplicas", hpa.status.current_replicas},
         {"desiredReplicas", hpa.status.desired_replicas},
         {"metrics", std::move(metrics)},
         {"conditions", std::move(conditions)},
         {"events", std::move(events)}});
  }
  core::Json fleets = core::Json::array();
  for (fleet::Fleet* f : fleets_) {
    core::Json pods = core::Json::array();
    for (const kube::Pod& pod : f->pods()) {
      const kube::PodCondition* ready = pod.ready_condition();
      pods.push_back({{"name", pod.metadata.name},
                      {"phase", pod.metadata.deletion_timestamp ? "Terminating" : pod.phase},
                      {"ready", ready != nullptr && ready->status == "True"}});
    }
    auto scale = f->get_scale();
    fleets.push_back({{"name", f->spec().name},
                      {"namespace", f->spec().namespace_},
                      {"replicas", scale ? scale->spec_replicas : f->spec().replicas},
                      {"pods", std::move(pods)}});
  }
  return {{"hpas", std::move(hpas)}, {"fleets", std::move(fleets)}};
}

core::Json DashboardFeed::sample() {
  core::Time now = clock_.now();
  double dt = std::chrono::duration<double>(now - last_sample_).count();
  last_sample_ = now;
  core::Json hpas = core::Json::object();
  for (const controller::HpaView& view : controller_.list()) {
    core::Json metrics = core::Json::array();
    for (const Plotted& p : plotted_metrics(view)) metrics.push_back(number_or_null(p.current));
    hpas[key_of(view.hpa.metadata)] = {{"current", view.hpa.status.current_replicas},
                                       {"desired", view.hpa.status.desired_replicas},
                                       {"metrics", std::move(metrics)}};
  }
  core::Json fleets = core::Json::object();
  for (std::size_t i = 0; i < fleets_.size(); ++i) {
    fleet::Fleet& f = *fleets_[i];
    int ready = 0, starting = 0, terminating = 0;
    for (const kube::Pod& pod : f.pods()) {
      const kube::PodCondition* c = pod.ready_condition();
      if (pod.metadata.deletion_timestamp) {
        ++terminating;
      } else if (c != nullptr && c->status == "True") {
        ++ready;
      } else {
        ++starting;
      }
    }
    core::Json entry = {{"ready", ready}, {"starting", starting}, {"terminating", terminating}};
    if (i < proxies_.size()) {
      router::Balancer& balancer = proxies_[i]->balancer();
      router::BalancerStats stats = balancer.stats();
      std::size_t in_flight = 0;
      for (const auto& b : balancer.backends()) in_flight += b.in_flight;
      std::uint64_t granted = stats.granted;
      entry["rps"] =
          dt > 0 && granted >= granted_[i] ? static_cast<double>(granted - granted_[i]) / dt : 0.0;
      granted_[i] = granted;
      entry["queue"] = stats.queue_length;
      entry["inFlight"] = in_flight;
    }
    // The servers' own histograms and gauges, whichever engine and release the fleet runs
    // (the names from server/metric_contract.h), over this fleet's pods.
    std::string sel = "{namespace=\"" + f.spec().namespace_ + "\",pod=~\"" + f.spec().name + "-" +
                      f.pod_template_hash() + "-.*\"}";
    auto scalar = [&](const std::string& expr) -> std::optional<double> {
      auto r = engine_.instant_query(expr, now);
      if (!r || r->type() != prom::ResultType::kVector || r->vector().empty()) return std::nullopt;
      return r->vector().front().value;
    };
    auto quantile = [&](double q, server::Signal signal) {
      return number_or_null(scalar(server::quantile_promql(signal, q, sel, "1m")));
    };
    entry["ttftP50"] = quantile(0.5, server::Signal::kTtft);
    entry["ttftP95"] = quantile(0.95, server::Signal::kTtft);
    entry["itlP50"] = quantile(0.5, server::Signal::kItl);
    entry["itlP95"] = quantile(0.95, server::Signal::kItl);
    // KV-cache use per pod of the fleet; series of pods that no longer exist (they outlive
    // their pod in the TSDB for the lookback) are left out.
    std::set<std::string, std::less<>> live;
    for (const kube::Pod& pod : f.pods()) live.insert(pod.metadata.name);
    core::Json kv = core::Json::object();
    auto kv_result =
        engine_.instant_query(server::signal_promql(server::Signal::kKvUsage, sel, "pod"), now);
    if (kv_result && kv_result->type() == prom::ResultType::kVector) {
      for (const auto& s : kv_result->vector()) {
        std::string_view pod = s.metric.get("pod");
        if (std::isfinite(s.value) && live.contains(pod)) kv[std::string(pod)] = s.value;
      }
    }
    entry["kv"] = std::move(kv);
    fleets[f.spec().name] = std::move(entry);
  }
  return {{"hpas", std::move(hpas)}, {"fleets", std::move(fleets)}};
}

}  // namespace llmscale::up
