// Fleet: a local Deployment. Replica processes that the HPA controller scales through
// controller::ScaleTarget, with Kubernetes' pod lifecycle.
//
//   Pending     the pod exists, ports are allocated, the process is being started
//   Running     the process was seen alive (the phase stays Running across crash restarts,
//               as with restartPolicy: Always)
//   Ready       successThreshold consecutive readiness successes, probing every periodSeconds
//               from the process start, results ignored before initialDelaySeconds; lost after
//               failureThreshold consecutive failures (the pod stays Running)
//   Terminating scale-down or shutdown: listeners drain it, then SIGTERM, then SIGKILL
//
// A crashed process restarts in place after kubelet's CrashLoopBackOff (10 s, doubling, at most
// 5 min; reset once a process ran 10 min) and restartCount counts the restarts; its endpoint is
// not ready from the moment the exit is seen. The pod's container status then carries what the
// kubelet shows: state.waiting {CrashLoopBackOff, "back-off 10s restarting failed container=..."}
// and lastState.terminated {exitCode, reason Error, message = the tail of the run's log, as with
// terminationMessagePolicy FallbackToLogsOnError}; listeners hear on_crash_loop() once per new
// crash reason of the fleet (exit status and last log line), not at every restart.
//
// Pods are created at most `creation_burst` at a time, one burst per `creation_interval` (the
// ReplicaSet controller's burstReplicas bounds creations per sync the same way), so a large
// scale-up never blocks the event loop, and spec.replicas is capped by `max_replicas`. Scale-down
// picks victims as the ReplicaSet controller does (ActivePodsWithRanks, pod-deletion-cost
// included: pods carry their own annotations beside the template's). Names and labels follow
// the Deployment controller:
// `<fleet>-<pod-template-hash>-<5 random chars>`, label pod-template-hash.
//
// Time and processes are injected (Clock, Launcher, Prober), so the whole state machine runs on
// a SimulatedClock with fakes. Exit detection polls the launcher's handles on a Clock timer.
//
// Thread-safety: not thread-safe; every call, timer and callback runs on the clock's thread
// (the event loop's). Ownership: the Fleet owns its processes; its destructor SIGKILLs and
// reaps whatever still runs. Clock, Launcher, Prober and listeners must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "controller/scale_target.h"
#include "core/clock.h"
#include "core/result.h"
#include "fleet/launcher.h"
#include "fleet/prober.h"
#include "fleet/spec.h"
#include "kube/objects.h"

namespace llmscale::fleet {

// Where a replica serves, for the router and the scraper (an EndpointSlice entry).
struct Endpoint {
  std::string pod;
  std::string namespace_;
  kube::Labels labels;
  // EndpointSlice conditions: ready = serving and not terminating.
  bool ready = false;
  bool serving = false;  // the pod's Ready condition
  bool terminating = false;
  std::string host;
  std::uint16_t api_port = 0;
  std::uint16_t metrics_port = 0;  // the API port when the template has no separate one
  // The port allocated for each of the template's ports, in order (empty without ports).
  std::vector<std::uint16_t> ports;
};

// Why a replica crashed, for a person: what the process printed last.
struct CrashReport {
  std::string pod;
  ExitStatus status;
  std::int32_t restart_count = 0;     // restarts so far (before the coming one)
  core::Duration backoff{0};          // until the restart
  std::string log_path;               // empty when output is discarded
  std::vector<std::string> log_tail;  // the last lines this run wrote (at most 80, 2048 bytes)
};

// Hooks for the router and the scraper. Called on the fleet's thread, after the state changed.
class FleetListener {
 public:
  virtual ~FleetListener() = default;
  virtual void on_ready(const Endpoint& endpoint) { (void)endpoint; }
  virtual void on_not_ready(const Endpoint& endpoint) { (void)endpoint; }
  // The pod stops receiving new work. Call `drained` (on the fleet's thread, once) when its
  // in-flight requests have finished; the fleet sends SIGTERM after every listener has, or
  // when terminationGracePeriodSeconds runs out. The default drains at once.
  // NOLINTNEXTLINE(performance-unnecessary-value-param): overrides keep the callback.
  virtual void on_terminating(const kube::Pod& pod, std::function<void()> drained) {
    (void)pod;
    drained();
  }
  // The process is gone and the pod no longer listed.
  virtual void on_removed(const kube::Pod& pod) { (void)pod; }
  // A pod's process crashed for a reason this fleet has not reported yet (see above).
  virtual void on_crash_loop(const CrashReport& report) { (void)report; }
  // Something pods() or endpoints() show changed: a pod created, started, running, ready or not,
  // restarted or exited, terminating, removed, annotated. Called after the change, often
  // several times in a burst (coalesce); `up` resyncs discovery and the API on it instead of
  // polling.
  virtual void on_changed() {}
};

struct FleetOptions {
  std::string exe;         // the llmscale binary for serveSim templates (/proc/self/exe)
  std::string log_dir;     // <log_dir>/<pod>.log; empty: output discarded
  std::uint64_t seed = 0;  // pod names and UIDs; 0: from std::random_device
  std::string host = "127.0.0.1";
  // How often exits are polled (waitpid WNOHANG).
  core::Duration exit_poll_interval = std::chrono::milliseconds(100);
  // A free port on `host`; tests substitute a counter.
  std::function<core::Result<std::uint16_t>(const std::string& host)> allocate_port =
      allocate_free_port;
  // The most replicas set_replicas() accepts (`llmscale up --max-replicas`).
  std::int32_t max_replicas = std::numeric_limits<std::int32_t>::max();
  // At most this many pods are created at once; the next ones after creation_interval.
  std::size_t creation_burst = 8;
  core::Duration creation_interval = std::chrono::milliseconds(500);
};

class Fleet final : public controller::ScaleTarget {
 public:
  // REQUIRES: `spec` passed parse_fleet().
  Fleet(core::Clock& clock, FleetSpec spec, Launcher& launcher, Prober& prober,
        FleetOptions options);
  ~Fleet() override;
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  void add_listener(FleetListener* listener);

  // Starts spec.replicas pods.
  void start();

  // controller::ScaleTarget. status replicas counts pods not terminating (ReplicaSet status).
  core::Result<kube::Scale> get_scale() override;
  // Takes effect at once: pods are created (in bursts, see above), or victims start
  // terminating. Refused (kUnavailable) after shutdown(), and (kInvalidArgument) for a negative
  // count or one above options.max_replicas.
  core::Status set_replicas(std::int32_t replicas) override;
  // Every pod, terminating ones included (with deletionTimestamp), oldest first.
  std::vector<kube::Pod> pods() override;
  // Deletes one pod as `kubectl delete pod` does: it drains and stops within its grace period,
  // and the fleet (its ReplicaSet) creates a replacement. NotFound for an unknown or already
  // terminating pod.
  core::Status delete_pod(const std::string& name);

  // Sets (a value) or removes (nullopt) one of the pod's own annotations, shown beside the
  // template's in pods() (`kubectl annotate pod`); an own annotation hides the template's of the
  // same key. NotFound for an unknown pod. Takes effect at the next scale-down.
  core::Status annotate_pod(const std::string& name, const std::string& key,
                            std::optional<std::string> value);
  // annotate_pod(name, kube::kPodDeletionCost, cost): the ReplicaSet deletes lower costs first.
  core::Status set_deletion_cost(const std::string& name, std::int32_t cost);
  // Runs each time the fleet is about to choose scale-down victims, before it ranks them (it may
  // call set_deletion_cost/annotate_pod, nothing else of the fleet). `llmscale up
  // --scale-down=drain-aware` sets the costs from the router's in-flight load here.
  void set_before_scale_down(std::function<void()> hook) { before_scale_down_ = std::move(hook); }

  // Every pod that has ports, in pods() order.
  std::vector<Endpoint> endpoints() const;

  // Terminates every pod (drain, SIGTERM, SIGKILL as on scale-down) and calls `done` once
  // none is left. set_replicas() is refused from then on.
  void shutdown(std::function<void()> done);
  // SIGKILLs and reaps every process now (a second Ctrl-C); listeners hear on_removed.
  void kill_all();

  const FleetSpec& spec() const { return spec_; }
  const std::string& pod_template_hash() const { return template_hash_; }
  // PIDs of the processes alive now (for tests and `get pods -o wide`).
  std::vector<pid_t> pids() const;
  // The process of each pod that has one, by pod name (resource metrics of local replicas).
  std::map<std::string, pid_t> pod_pids() const;

 private:
  struct Pod;

  void reconcile();
  void create_pod();
  void report_crash(Pod& pod, const ExitStatus& status);
  void start_process(Pod& pod);
  void schedule_probe(Pod& pod, core::Duration delay);
  void run_probe(const std::string& uid, std::uint64_t container);
  void on_probe_result(const std::string& uid, std::uint64_t container, bool success);
  void set_ready(Pod& pod, bool ready);
  // Tells the listeners that what pods()/endpoints() show changed (FleetListener::on_changed).
  void changed();
  void poll_exits();
  void ensure_exit_polling();
  void on_exit(Pod& pod, const ExitStatus& status);
  void begin_termination(Pod& pod);
  void on_drained(const std::string& uid);
  void send_sigterm(Pod& pod);
  void remove_pod(const std::string& uid);
  void cancel_timers(Pod& pod);
  void check_shutdown_done();
  Pod* find(const std::string& uid);
  std::vector<Pod*> ranked_for_deletion();
  kube::Pod to_kube(const Pod& pod) const;
  Endpoint to_endpoint(const Pod& pod) const;
  std::string random_string(std::size_t n);

  core::Clock& clock_;
  FleetSpec spec_;
  Launcher& launcher_;
  Prober& prober_;
  FleetOptions options_;
  std::vector<std::string> command_;
  std::string template_hash_;
  std::mt19937_64 rng_;
  std::vector<FleetListener*> listeners_;
  std::vector<std::unique_ptr<Pod>> pods_;  // creation order
  std::int32_t desired_ = 0;
  bool started_ = false;
  bool shutting_down_ = false;
  std::function<void()> shutdown_done_;
  std::optional<core::Clock::TimerId> exit_poll_timer_;
  std::optional<core::Clock::TimerId> creation_timer_;  // the next burst of pod creations
  std::set<std::string> crash_reasons_;                 // reported by on_crash_loop
  std::function<void()> before_scale_down_;
  // Late callbacks (probes, drains) check this before touching the fleet.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The Deployment controller's pod-template-hash: FNV-32a of the template, rand.SafeEncodeString
// of its decimal form (alphabet bcdfghjklmnpqrstvwxz2456789). Upstream hashes Go's printing of
// the PodTemplateSpec; here its canonical JSON, so values differ but the shape is the same.
std::string pod_template_hash(const FleetSpec& spec);

// ActivePodsWithRanks.Less for one node: Pending < Running, not ready < ready, lower
// pod-deletion-cost < higher (invalid values count as 0), ready more recently (log2 buckets of
// time since ready, as LogarithmicScaleDown) < longer, more restarts < fewer, newer (log2
// buckets of age) < older, then by UID; a missing time counts as newest. True when `a` goes
// first.
bool delete_before(const kube::Pod& a, const kube::Pod& b, core::Time now);

}  // namespace llmscale::fleet
