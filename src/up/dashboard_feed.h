// What `llmscale up` shows on its live dashboard (dashboard::DashboardSource): the HPAs as the
// controller last left them, the fleets' pods, the routers' traffic and the servers' latency
// and KV-cache use from the scraped TSDB. Owns the Dashboard that serves it.
//
// Not thread-safe: everything runs on up's loop thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controller/controller.h"
#include "controller/monitor.h"
#include "core/clock.h"
#include "dashboard/dashboard.h"
#include "prom/exposition/registry.h"

namespace llmscale::fleet {
class Fleet;
}
namespace llmscale::router {
class Proxy;
}
namespace llmscale::prom {
class QueryEngine;
}  // namespace llmscale::prom

namespace llmscale::up {

class DashboardFeed final : public dashboard::DashboardSource {
 public:
  // `fleets[i]` is served by `proxies[i]`; every reference must outlive the feed.
  DashboardFeed(core::Clock& clock, controller::Controller& controller,
                std::vector<fleet::Fleet*> fleets, std::vector<router::Proxy*> proxies,
                prom::QueryEngine& engine, double tolerance);
  ~DashboardFeed() override;

  dashboard::Dashboard& dashboard() { return *dashboard_; }
  // After every controller pass: a rescale becomes a decision on the page at once.
  void on_pass(const controller::HpaView& view);
  // An event about `hpa` that another component than the HPA controller recorded (the
  // activator's ScaledFromZero, source `component`): listed with the controller's own events in
  // the HPA's view, all by lastTimestamp. A repeat (same type, reason and message, a higher
  // count) replaces its earlier copy; the newest kMaxOtherEvents per HPA are kept.
  void record_event(const kube::HorizontalPodAutoscaler& hpa, controller::RecordedEvent event,
                    const std::string& component);
  static constexpr std::size_t kMaxOtherEvents = 50;

  // The HPAs as kube-state-metrics exports them (kube_horizontalpodautoscaler_*), for Grafana
  // and any Prometheus scraping up's /metrics: replicas, limits, targets, current values and
  // conditions.
  void add_hpa_metrics(prom::MetricRegistry& registry);
  // The controller as kube-controller-manager exports it (horizontal_pod_autoscaler_controller_*:
  // passes and metric computations counted and timed from on_pass(), kept across scrapes; the
  // HPAs held and their desired replicas as of now): exposition text to append to up's /metrics.
  std::string controller_metrics_text();

  core::Json state() override;
  core::Json sample() override;

 private:
  core::Clock& clock_;
  controller::Controller& controller_;
  std::vector<fleet::Fleet*> fleets_;
  std::vector<router::Proxy*> proxies_;
  prom::QueryEngine& engine_;
  double tolerance_;
  std::vector<std::uint64_t> granted_;  // per router, at the last sample (request rate)
  controller::HpaControllerMetrics controller_metrics_;
  std::map<std::string, std::vector<controller::RecordedEvent>> other_events_;  // ns/hpa
  core::Time last_sample_;
  std::unique_ptr<dashboard::Dashboard> dashboard_;
};

}  // namespace llmscale::up
