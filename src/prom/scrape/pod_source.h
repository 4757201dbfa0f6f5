// Pods for PodMonitoring: the discovery seam between the scraper and whatever knows the pods
// (the local process fleet, a Kubernetes API watch, a file of Pod manifests).
//
// A PodSource hands out a snapshot of the pods it knows (pods()) and tells subscribers that the
// set changed (subscribe()); the scraper then takes a new snapshot and adds, keeps or removes
// targets, so a source never needs to compute differences. PodInfo holds what Prometheus'
// Kubernetes service discovery (role: pod) reads from a Pod; pod_target_group() turns it into
// the same target group with the same `__meta_kubernetes_*` labels (one target per container
// port, one per container without ports, none while the pod has no IP), which is what
// PodMonitoring's relabel rules select from.
//
// StaticPodSource is the in-memory implementation: tests, `llmscale collect --pods FILE`, and
// any owner that prefers pushing whole lists (set_pods) or single pods (upsert/remove).
//
// Thread-safety: PodSource implementations must allow pods() from any thread and may notify
// from any thread; listeners must be cheap (the scraper only schedules a resync). StaticPodSource
// is fully thread-safe; listeners run on the thread that changed the set, after the change, with
// no lock held.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "prom/scrape/config.h"

namespace llmscale::prom {

struct PodContainerPort {
  std::string name;  // may be empty
  std::int32_t container_port = 0;
  std::string protocol = "TCP";
};

struct PodContainer {
  std::string name;
  std::string image;
  std::vector<PodContainerPort> ports;
  bool init = false;  // an init container (listed after the regular ones)
};

struct PodInfo {
  std::string namespace_ = "default";
  std::string name;
  std::string uid;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::string pod_ip;   // status.podIP; empty: no targets yet
  std::string host_ip;  // status.hostIP
  std::string node_name;
  std::string phase = "Running";  // Pending, Running, Succeeded, Failed, Unknown
  std::optional<bool> ready;      // the Ready condition; nullopt: unknown
  // The controlling owner reference (ReplicaSet, StatefulSet, DaemonSet, Job...).
  std::string controller_kind;
  std::string controller_name;
  std::vector<PodContainer> containers;

  // "<namespace>/<name>".
  std::string key() const { return namespace_ + "/" + name; }
};

class PodSource {
 public:
  using Listener = std::function<void()>;
  using ListenerId = std::uint64_t;

  virtual ~PodSource() = default;
  // The pods known now.
  virtual std::vector<PodInfo> pods() const = 0;
  // `listener` is called after every change of the set. Returns an id for unsubscribe().
  virtual ListenerId subscribe(Listener listener) = 0;
  // After it returns, the listener is not called again.
  virtual void unsubscribe(ListenerId id) = 0;
};

class StaticPodSource final : public PodSource {
 public:
  StaticPodSource() = default;
  explicit StaticPodSource(std::vector<PodInfo> pods);

  std::vector<PodInfo> pods() const override;
  ListenerId subscribe(Listener listener) override;
  void unsubscribe(ListenerId id) override;

  // Replaces the whole set.
  void set_pods(std::vector<PodInfo> pods);
  // Adds or replaces the pod with the same namespace/name.
  void upsert(PodInfo pod);
  // Removes a pod; false when there was none.
  bool remove(std::string_view pod_namespace, std::string_view name);

 private:
  void notify();

  mutable std::mutex mu_;
  std::map<std::string, PodInfo> pods_;  // by key()
  std::mutex listeners_mu_;              // held while notifying: unsubscribe() waits for it
  std::map<ListenerId, Listener> listeners_;
  ListenerId next_id_ = 1;
};

// Pods from Kubernetes manifests (YAML or JSON): Pod documents, and List/PodList items, as
// `kubectl get pods -o yaml` prints them. Reads metadata (name, namespace, uid, labels,
// annotations, ownerReferences with controller: true), spec (nodeName, containers and
// initContainers with name, image, ports) and status (podIP, hostIP, phase, the Ready
// condition). Other fields are ignored. Errors name the document and field.
core::Result<std::vector<PodInfo>> parse_pod_manifests(std::string_view text);
core::Result<PodInfo> decode_pod_manifest(const core::Json& object, const std::string& where);

// Prometheus' Kubernetes SD, role pod: the target group of one pod (source "pod/<ns>/<name>").
TargetGroup pod_target_group(const PodInfo& pod);

}  // namespace llmscale::prom
