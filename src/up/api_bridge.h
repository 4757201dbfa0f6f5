// ApiBridge: keeps the embedded Kubernetes API (apiserver::Store) and the running parts of
// `llmscale up` in step, as a cluster's controllers and kubelets keep etcd and the machines:
//
//   HorizontalPodAutoscalers  the store is the source of truth: an HPA created or whose spec
//                             changed (kubectl apply/edit/patch) is applied to the Controller,
//                             which reconciles it at once; a deleted one stops. After every pass
//                             the HPA's status and its v1 Events are written back.
//   Deployments               one per fleet. spec.replicas in the store is what the fleet runs:
//                             the HPA writes it through the scale subresource (ScaleTarget below),
//                             and so can `kubectl scale` (the HPA corrects it on its next pass,
//                             as on a cluster). status (replicas, readyReplicas,
//                             availableReplicas, conditions, observedGeneration) follows the pods.
//                             Deleting one scales its fleet to zero.
//   Pods                      mirrored from the fleets (phase, conditions, podIP, ownerReferences
//                             to the ReplicaSet `<fleet>-<pod-template-hash>`); `kubectl delete
//                             pod` stops the replica and the fleet replaces it; a client's
//                             change of a pod's annotations (`kubectl annotate pod ...
//                             controller.kubernetes.io/pod-deletion-cost=N`) goes to the fleet's
//                             pod, so its scale-down ranks by it.
//   Namespaces                "default" and every namespace a fleet or HPA uses.
//
// Threads: none of its own; everything runs on the event loop of `up` (the Store, the fleets and
// the Controller are single-threaded). Store changes are handled on a later turn of the loop, so
// a client's write never re-enters the store from inside its own listener.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "apiserver/api_server.h"
#include "apiserver/store.h"
#include "controller/controller.h"
#include "core/clock.h"
#include "kube/objects.h"

namespace llmscale::fleet {
class Fleet;
}

namespace llmscale::up {

class ApiBridge final : public controller::ScaleTargetResolver {
 public:
  // REQUIRES: every argument outlives the bridge; all run on the clock's thread.
  ApiBridge(apiserver::ApiServer& api, apiserver::Store& store, core::Clock& clock);
  ~ApiBridge() override;
  ApiBridge(const ApiBridge&) = delete;
  ApiBridge& operator=(const ApiBridge&) = delete;

  // Before start(): a fleet served as a Deployment named like it — `manifest` when the fleet was
  // made from one (a seed's own Deployment, kept as written), else one describing the fleet.
  void add_fleet(fleet::Fleet& fleet, const core::Json* manifest = nullptr);

  // Creates the namespaces, the fleets' Deployments and `hpas` (through admission, as `kubectl
  // create` would), then hands HPA changes to `controller` from here on. Errors name the object.
  core::Status start(controller::Controller& controller,
                     const std::vector<kube::HorizontalPodAutoscaler>& hpas);

  // Mirrors the fleets' pods and the Deployments' status into the store; cheap when nothing
  // changed. Call after the fleets change (up calls it on every pod refresh and pass).
  void sync();

  // Writes an HPA's status and events after a pass.
  void on_pass(const controller::HpaView& view);

  // Stores an event of `hpa` recorded by another component than the HPA controller (the
  // activator), as a core/v1 Event that `describe hpa` lists; a repeat updates its count.
  void record_event(const kube::HorizontalPodAutoscaler& hpa,
                    const controller::RecordedEvent& event, const std::string& component);

  // Consulted before a scale written through the scale subresource (the HPA's, the activator's)
  // reaches a fleet: an error refuses it. `kubectl scale` and deletes are not checked.
  using ScaleCheck =
      std::function<core::Status(const std::string& ns, const std::string& name, std::int32_t)>;
  void set_scale_check(ScaleCheck check) { scale_check_ = std::move(check); }

  // The HPA's scale target: the Deployment (or Fleet) named like a fleet.
  core::Result<controller::ScaleTarget*> resolve(
      const std::string& namespace_name, const kube::CrossVersionObjectReference& ref) override;

 private:
  class DeploymentTarget;
  struct FleetEntry {
    fleet::Fleet* fleet = nullptr;
    const core::Json* manifest = nullptr;
    std::unique_ptr<DeploymentTarget> target;
  };

  core::Status ensure_namespace(const std::string& name);
  core::Status create_deployment(const FleetEntry& entry);
  void on_store_event(const apiserver::StoreEvent& event);
  void apply_hpa(const std::string& ns, const std::string& name);
  void apply_deployment(const std::string& ns, const std::string& name);
  void delete_pod(const std::string& ns, const std::string& name);
  void update_pod(const std::string& ns, const std::string& name);
  // Copies the annotations a client changed in the stored pod (against what the bridge last
  // wrote) to the fleet's pod; true when there was a change.
  bool import_annotations(FleetEntry& entry, const std::string& ns, const std::string& name);
  void sync_deployment(FleetEntry& entry);
  void sync_pods(FleetEntry& entry);
  FleetEntry* find_fleet(const std::string& ns, const std::string& name);
  // Creates the Event or updates the stored one's count and times; returns its name.
  std::string store_event(const std::string& ns, const std::string& uid, core::Json event);

  apiserver::ApiServer& api_;
  apiserver::Store& store_;
  core::Clock& clock_;
  controller::Controller* controller_ = nullptr;
  std::vector<FleetEntry> fleets_;
  int subscription_ = 0;
  std::map<std::string, std::string> applied_specs_;         // ns/name -> HPA spec handed over
  std::map<std::string, std::string> mirrored_pods_;         // ns/name -> pod JSON last written
  std::set<std::string> deleting_pods_;                      // ns/name removed by the bridge itself
  std::map<std::string, core::Json> written_annotations_;    // ns/name -> annotations last written
  std::map<std::string, std::set<std::string>> hpa_events_;  // ns/hpa -> event names stored
  std::set<std::string> pending_;                            // store changes not yet handled
  ScaleCheck scale_check_;
};

}  // namespace llmscale::up
