// ClusterController: `llmscale controller` — the HPA engine driving a real Kubernetes cluster
// through its API.
//
// It reconciles autoscaling.llmscale.io/v1alpha1 LLMAutoscaler objects (spec = the
// autoscaling/v2 HPA spec, status = the HPA status plus the engine's history) with the same
// hpa::reconcile() as `llmscale up`, acting through the target's scale subresource. One pass,
// as kube-controller-manager's reconcileAutoscaler does it: read the object, the target's
// scale, the pods its selector matches, then fetch the metrics the pass needs
// (hpa::metric_requests, co_awaited one after the other on the loop, each timed for the HPA
// monitor); decide on those recorded answers; write the scale (conditional on
// the scale's resourceVersion, re-read and retried on 409, bounded); write the status and the
// events with the HPA controller's reasons.
//
// Differences from upstream, on purpose:
//  * the stabilization and scale-event history lives in status.history, so a restarted or
//    failed-over controller keeps it (upstream keeps it in memory and forgets);
//  * a target that a native HorizontalPodAutoscaler also scales is refused: condition
//    AbleToScale=False, reason ConflictingNativeHPA, a Warning event, nothing scaled;
//  * a failed pod list skips the pass (nothing is decided on missing data), and a failed
//    scale write is reported through the engine's FailedRescale path;
//  * with deletion_cost_from_load, a scale-down first sets the pods' pod-deletion-cost from their
//    load (the ReplicaSet then removes the least loaded);
//  * advisory mode watches native HPAs instead and records what llmscale would decide in the
//    annotation autoscaling.llmscale.io/advice and an LLMScaleAdvice event; nothing is scaled.
//
// Threads: one EventLoop, never blocked by a metrics fetch when the provider is asynchronous
// (adapter::AsyncAdapterMetricsProvider over a remote Prometheus); a synchronous
// hpa::MetricsProvider given instead must answer without waiting (recorded answers, tests). The
// RestClient and the provider must outlive the controller's coroutines (stop() and let the loop
// run, or stop the loop first). `may_act` (leader election) is asked before every pass and every
// write.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapter/async_provider.h"
#include "core/result.h"
#include "hpa/engine.h"
#include "hpa/metrics_provider.h"
#include "kubeclient/informer.h"
#include "kubeclient/rest_client.h"

namespace llmscale::cluster {

inline constexpr std::string_view kAdviceAnnotation = "autoscaling.llmscale.io/advice";
inline constexpr std::string_view kAdvisoryHistoryAnnotation =
    "autoscaling.llmscale.io/advisory-history";

kubeclient::ResourceRef autoscalers_resource();

struct ClusterControllerOptions {
  std::string namespace_name;  // "" for every namespace
  bool advisory = false;
  hpa::ControllerConfig hpa;
  // Kubernetes: --horizontal-pod-autoscaler-sync-period.
  core::Duration sync_period = std::chrono::seconds(15);
  int max_conflict_retries = 3;
  // Drain-aware scale-down on a cluster (issue 17): before it lowers a target's scale, each of
  // the target's pods gets controller.kubernetes.io/pod-deletion-cost from its value of the
  // autoscaler's first Pods metric (in milli-units: the per-pod load the HPA scales on, such as
  // vllm:num_requests_running), PATCHed on the pod, so the ReplicaSet removes the least loaded
  // pods first. Needs `patch` on pods; a failed PATCH is logged and the scale still written.
  bool deletion_cost_from_load = false;
  std::string component = "llmscale-controller";  // Events' source.component
};

struct ControllerMetrics {
  std::uint64_t reconciles = 0;
  std::uint64_t errors = 0;
  std::uint64_t scale_writes = 0;
  std::uint64_t conflicts_retried = 0;
  std::uint64_t refused_native_hpa = 0;
  std::uint64_t advisories = 0;
  std::uint64_t skipped_not_leader = 0;
  std::uint64_t deletion_costs_set = 0;  // pods PATCHed before a scale-down
  double reconcile_seconds_sum = 0;
};

class ClusterController {
 public:
  ClusterController(kubeclient::RestClient& client, adapter::AsyncMetricsProvider& metrics,
                    ClusterControllerOptions options, std::function<bool()> may_act = {});
  // With a synchronous provider that answers without waiting (wrapped in a SyncMetricsProvider).
  ClusterController(kubeclient::RestClient& client, hpa::MetricsProvider& metrics,
                    ClusterControllerOptions options, std::function<bool()> may_act = {});
  ~ClusterController();
  ClusterController(const ClusterController&) = delete;
  ClusterController& operator=(const ClusterController&) = delete;

  // Informers plus a loop that reconciles every object each sync period (and at once when one
  // is added or its spec changes).
  void start(net::EventLoop& loop);
  void stop();
  bool running() const;
  bool synced() const;

  // One pass for one object (an LLMAutoscaler, or a native HPA in advisory mode).
  net::Awaitable<core::Status> reconcile(std::string namespace_name, std::string name);

  // The pods of `namespace_name` that `selector` matches, from the pod informer's cache (name
  // order); nullopt until it has synced.
  std::optional<std::vector<kube::Pod>> cached_pods(const std::string& namespace_name,
                                                    const kube::Selector& selector) const;

  const ControllerMetrics& metrics() const;
  // Prometheus text exposition: kube-controller-manager's horizontal_pod_autoscaler_controller_*
  // families (controller/monitor.h: every pass and metric computation, counted and timed on the
  // clock's monotonic reading; the LLMAutoscalers held and their desired replicas), then
  // metrics() and the REST client's requests by verb.
  std::string metrics_text() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// The object lister of `llmscale controller`'s metrics adapter: the pods of a namespace from the
// attached controller's pod informer once it has synced (no request, nothing waits on the loop
// thread); everything else, and pods before the sync or across every namespace, from
// `fallback`. Used on the controller's loop thread.
class InformerPodLister final : public adapter::ObjectLister {
 public:
  // REQUIRES: `fallback` outlives this lister.
  explicit InformerPodLister(adapter::ObjectLister& fallback) : fallback_(fallback) {}
  // REQUIRES: `controller` outlives its use here (null detaches).
  void attach(const ClusterController* controller) { controller_ = controller; }

  core::Result<std::vector<std::string>> list(const adapter::GroupResource& resource,
                                              const std::string& namespace_name,
                                              const kube::Selector& selector) override;
  core::Result<std::vector<adapter::ListedObject>> list_objects(
      const adapter::GroupResource& resource, const std::string& namespace_name,
      const kube::Selector& selector) override;

 private:
  std::optional<std::vector<kube::Pod>> cached(const adapter::GroupResource& resource,
                                               const std::string& namespace_name,
                                               const kube::Selector& selector) const;
  adapter::ObjectLister& fallback_;
  const ClusterController* controller_ = nullptr;
};

}  // namespace llmscale::cluster
