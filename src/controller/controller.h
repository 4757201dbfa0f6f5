// Controller: the HPA controller's loop (kube-controller-manager's horizontal-pod-autoscaler
// controller) around the pure decision engine.
//
// Each HPA is reconciled when it is applied, then every sync period after each pass (upstream's
// fixed-interval requeue), and additionally whenever reconcile_now() is called — `llmscale up`
// calls it right after a scrape of the HPA's targets so decisions follow fresh metrics within
// milliseconds. A pass reads the target's scale and pods through ScaleTarget, then fetches the
// metrics the pass needs (hpa::metric_requests) through hpa::MetricsProvider, each timed for the
// HPA monitor, decides with hpa::reconcile() on those recorded answers, writes the scale, and
// keeps the status, the events (deduplicated like Kubernetes events) and the engine's history.
// The provider is synchronous: up's and the simulator's answer from the in-process TSDB in
// microseconds (a provider that waits on the network belongs to `llmscale controller`, whose
// passes are coroutines: src/cluster).
//
// Unlike upstream, the history can be persisted to a state file after every pass, so a restart
// does not forget the stabilization window (upstream starts over and holds scale-down for 5 min).
// The file is replaced atomically (core::write_file_atomically); when that fails the old file
// stays, the reason is logged once and state_file() reports it until a write works again.
//
// Not thread-safe: everything runs on the thread that runs the Clock (an io_context thread, or
// the simulator's loop); listeners are called there too.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controller/monitor.h"
#include "controller/scale_target.h"
#include "core/atomic_file.h"
#include "core/clock.h"
#include "core/result.h"
#include "hpa/engine.h"
#include "hpa/metrics_provider.h"

namespace llmscale::controller {

struct ControllerOptions {
  hpa::ControllerConfig hpa;  // controller flags and feature gates
  core::Duration sync_period = std::chrono::seconds(15);
  std::string state_file;       // empty: history kept in memory only
  std::size_t max_events = 50;  // per HPA, oldest dropped first
};

// A Kubernetes Event as `kubectl describe` shows it: repeats of the same type/reason/message
// increase `count` and move `last_timestamp`.
struct RecordedEvent {
  std::string type;
  std::string reason;
  std::string message;
  int count = 1;
  core::Time first_timestamp;
  core::Time last_timestamp;
  // Who reported it (source.component, else reportingComponent); empty: the HPA controller.
  std::string source;
};

// What the controller knows about one HPA after its latest pass.
struct HpaView {
  kube::HorizontalPodAutoscaler hpa;  // spec as applied, status as last written
  std::optional<hpa::Decision> last_decision;
  std::vector<RecordedEvent> events;
  std::optional<core::Time> last_sync;
  std::uint64_t passes = 0;
  // The last pass as kube-controller-manager's HPA monitor records it: action and error labels,
  // how long it took (scale read, metrics, decision, scale and status writes) and each metric's
  // labels and fetch time, all measured on the clock's monotonic reading (monitor.h).
  ReconciliationResult last_result;
};

class Controller {
 public:
  using Listener = std::function<void(const HpaView&)>;

  Controller(core::Clock& clock, hpa::MetricsProvider& metrics, ScaleTargetResolver& targets,
             ControllerOptions options);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Reads the state file (if configured and present): histories, statuses and events are
  // restored for HPAs applied afterwards. Errors name the file and the field.
  core::Status load_state();

  // Adds or updates an HPA (keyed by namespace/name). A new HPA, or a changed spec, is
  // reconciled at once; status and history are kept across spec updates.
  void apply(kube::HorizontalPodAutoscaler hpa);
  // Removes an HPA and forgets its history (as upstream does on delete).
  bool remove(const std::string& namespace_name, const std::string& name);
  // Reconciles now and restarts the HPA's sync period from here. False when unknown.
  bool reconcile_now(const std::string& namespace_name, const std::string& name);

  std::vector<HpaView> list() const;
  std::optional<HpaView> get(const std::string& namespace_name, const std::string& name) const;

  // The state file and how its writes went; null without options.state_file.
  const core::StateFile* state_file() const { return state_file_.get(); }
  // Tests: the state file's system calls (to inject ENOSPC).
  void set_state_file_calls(core::FileSystemCalls calls);

  // Called after every pass of any HPA. Returns an id for unsubscribe().
  int subscribe(Listener listener);
  void unsubscribe(int id);

 private:
  struct Entry {
    HpaView view;
    hpa::History history;
    std::string last_selector;  // the target's selector at the last pass (AmbiguousSelector)
    core::Clock::TimerId timer = 0;
    bool timer_armed = false;
  };

  void schedule(Entry& entry, core::Duration delay);
  void pass(const std::string& key);
  void record_events(Entry& entry, const std::vector<hpa::Event>& events, core::Time now);
  void save_state();

  core::Clock& clock_;
  hpa::MetricsProvider& metrics_;
  ScaleTargetResolver& targets_;
  ControllerOptions options_;
  std::map<std::string, Entry> entries_;   // key: namespace/name
  std::map<std::string, Entry> restored_;  // from the state file, not yet applied
  std::map<int, Listener> listeners_;
  int next_listener_ = 1;
  std::unique_ptr<core::StateFile> state_file_;
};

}  // namespace llmscale::controller
