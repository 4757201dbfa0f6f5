// The HPA controller loop: schedule, one pass per HPA, status, events, persisted history.
#include "controller/controller.h"

#include <nlohmann/json.hpp>

#include "core/file.h"
#include "core/json_reader.h"
#include "core/log.h"
#include "hpa/reconcile_io.h"
#include "kube/hpa_validation.h"
#include "kube/json_codec.h"

namespace llmscale::controller {
namespace {

std::string key_of(const std::string& ns, const std::string& name) {
  return ns + "/" + name;
}
std::string key_of(const kube::HorizontalPodAutoscaler& hpa) {
  return key_of(hpa.metadata.namespace_, hpa.metadata.name);
}

// Writes the scale through the target; the engine calls it at most once per pass.
class TargetWriter final : public hpa::ScaleWriter {
 public:
  explicit TargetWriter(ScaleTarget* target) : target_(target) {}
  core::Status set_replicas(std::int32_t replicas) override {
    if (target_ == nullptr)
      return core::make_error(core::ErrorCode::kUnavailable, "no scale target");
    return target_->set_replicas(replicas);
  }

 private:
  ScaleTarget* target_;
};

bool same_spec(const kube::HorizontalPodAutoscaler& a, const kube::HorizontalPodAutoscaler& b) {
  return core::to_compact_json(kube::encode_hpa_spec(a.spec)) ==
         core::to_compact_json(kube::encode_hpa_spec(b.spec));
}

}  // namespace

Controller::Controller(core::Clock& clock, hpa::MetricsProvider& metrics,
                       ScaleTargetResolver& targets, ControllerOptions options)
    : clock_(clock), metrics_(metrics), targets_(targets), options_(std::move(options)) {
  if (!options_.state_file.empty())
    state_file_ = std::make_unique<core::StateFile>(options_.state_file, "controller state");
}

void Controller::set_state_file_calls(core::FileSystemCalls calls) {
  if (state_file_) state_file_->set_calls(std::move(calls));
}

Controller::~Controller() {
  for (auto& [key, entry] : entries_) {
    if (entry.timer_armed) clock_.cancel(entry.timer);
  }
}

void Controller::schedule(Entry& entry, core::Duration delay) {
  if (entry.timer_armed) clock_.cancel(entry.timer);
  std::string key = key_of(entry.view.hpa);
  entry.timer = clock_.call_after(delay, [this, key] { pass(key); });
  entry.timer_armed = true;
}

void Controller::apply(kube::HorizontalPodAutoscaler hpa) {
  if (hpa.metadata.namespace_.empty()) hpa.metadata.namespace_ = "default";
  kube::apply_hpa_defaults(hpa);
  if (!hpa.metadata.creation_timestamp) hpa.metadata.creation_timestamp = clock_.now();
  std::string key = key_of(hpa);
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    bool changed = !same_spec(it->second.view.hpa, hpa);
    hpa.status = it->second.view.hpa.status;
    hpa.metadata.creation_timestamp = it->second.view.hpa.metadata.creation_timestamp;
    hpa.metadata.generation = it->second.view.hpa.metadata.generation + (changed ? 1 : 0);
    it->second.view.hpa = std::move(hpa);
    if (changed) schedule(it->second, core::Duration(0));
    return;
  }
  Entry entry;
  if (auto restored = restored_.find(key); restored != restored_.end()) {
    entry.history = std::move(restored->second.history);
    entry.view.events = std::move(restored->second.view.events);
    hpa.status = restored->second.view.hpa.status;
    restored_.erase(restored);
    core::log_info("hpa " + key + ": restored history (" +
                   std::to_string(entry.history.recommendations.size()) +
                   " recommendations) from " + options_.state_file);
  }
  if (hpa.metadata.generation == 0) hpa.metadata.generation = 1;
  entry.view.hpa = std::move(hpa);
  auto [inserted, ok] = entries_.emplace(key, std::move(entry));
  schedule(inserted->second, core::Duration(0));  // a new HPA is queued immediately
}

bool Controller::remove(const std::string& ns, const std::string& name) {
  auto it = entries_.find(key_of(ns, name));
  if (it == entries_.end()) return false;
  if (it->second.timer_armed) clock_.cancel(it->second.timer);
  entries_.erase(it);
  save_state();
  return true;
}

bool Controller::reconcile_now(const std::string& ns, const std::string& name) {
  std::string key = key_of(ns, name);
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  if (it->second.timer_armed) clock_.cancel(it->second.timer);
  it->second.timer_armed = false;
  pass(key);
  return true;
}

void Controller::pass(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  Entry& entry = it->second;
  entry.timer_armed = false;
  const core::MonotonicTime started = clock_.monotonic_now();
  const kube::HorizontalPodAutoscaler& hpa = entry.view.hpa;

  hpa::ReconcileInput input;
  input.now = clock_.now();
  input.config = options_.hpa;
  input.hpa = hpa;
  input.history = entry.history;
  auto target = targets_.resolve(hpa.metadata.namespace_, hpa.spec.scale_target_ref);
  ScaleTarget* scale_target = nullptr;
  if (!target) {
    input.scale = tl::unexpected(target.error());
  } else {
    scale_target = *target;
    input.scale = scale_target->get_scale();
    input.pods = scale_target->pods();
  }
  for (const auto& [other_key, other] : entries_) {
    if (other_key == key || other.view.hpa.metadata.namespace_ != hpa.metadata.namespace_) continue;
    if (!other.last_selector.empty()) {
      input.other_hpas.push_back({other.view.hpa.metadata.name, other.last_selector});
    }
  }
  // Fetch first, then decide on the recorded answers.
  FetchedMetrics fetched = fetch_metrics(clock_, metrics_, hpa::metric_requests(input));
  TargetWriter writer(scale_target);
  hpa::Decision decision = hpa::reconcile(input, fetched.answers, writer);

  if (input.scale) entry.last_selector = input.scale->selector;
  entry.history = decision.history;
  entry.view.hpa.status = decision.status;
  record_events(entry, decision.events, input.now);
  if (decision.rescale) {
    core::log_info("hpa " + key + ": " + std::to_string(decision.current_replicas) + " -> " +
                   std::to_string(decision.desired_replicas) + " (" + decision.rescale_reason +
                   ")");
  }
  if (decision.error) core::log_debug("hpa " + key + ": " + *decision.error);
  entry.view.last_decision = std::move(decision);
  entry.view.last_sync = input.now;
  ++entry.view.passes;
  schedule(entry, options_.sync_period);
  save_state();
  entry.view.last_result = reconciliation_result(input.hpa, *entry.view.last_decision,
                                                 fetched.fetches, clock_.monotonic_now() - started);
  // Listeners may apply or remove HPAs; give them a copy.
  HpaView snapshot = entry.view;
  for (const auto& [id, listener] : std::map<int, Listener>(listeners_)) listener(snapshot);
}

void Controller::record_events(Entry& entry, const std::vector<hpa::Event>& events,
                               core::Time now) {
  for (const auto& e : events) {
    bool merged = false;
    for (auto& existing : entry.view.events) {
      if (existing.type == e.type && existing.reason == e.reason && existing.message == e.message) {
        ++existing.count;
        existing.last_timestamp = now;
        merged = true;
        break;
      }
    }
    if (!merged) {
      RecordedEvent& added = entry.view.events.emplace_back();
      added.type = e.type;
      added.reason = e.reason;
      added.message = e.message;
      added.first_timestamp = added.last_timestamp = now;
    }
  }
  while (entry.view.events.size() > options_.max_events)
    entry.view.events.erase(entry.view.events.begin());
}

std::vector<HpaView> Controller::list() const {
  std::vector<HpaView> out;
  for (const auto& [key, entry] : entries_) out.push_back(entry.view);
  return out;
}

std::optional<HpaView> Controller::get(const std::string& ns, const std::string& name) const {
  auto it = entries_.find(key_of(ns, name));
  if (it == entries_.end()) return std::nullopt;
  return it->second.view;
}

int Controller::subscribe(Listener listener) {
  int id = next_listener_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void Controller::unsubscribe(int id) {
  listeners_.erase(id);
}

// ---- persistence ----------------------------------------------------------------------------

void Controller::save_state() {
  if (!state_file_) return;
  core::Json doc = core::Json::object();
  doc["kind"] = "LlmscaleControllerState";
  doc["version"] = 1;
  doc["savedAt"] = core::format_rfc3339_nano(clock_.now());
  core::Json hpas = core::Json::array();
  auto add = [&](const Entry& entry) {
    core::Json item = core::Json::object();
    item["namespace"] = entry.view.hpa.metadata.namespace_;
    item["name"] = entry.view.hpa.metadata.name;
    item["status"] = kube::encode_hpa_status(entry.view.hpa.status);
    item["history"] = hpa::encode_history(entry.history);
    core::Json events = core::Json::array();
    for (const auto& e : entry.view.events) {
      events.push_back({{"type", e.type},
                        {"reason", e.reason},
                        {"message", e.message},
                        {"count", e.count},
                        {"firstTimestamp", core::format_rfc3339_nano(e.first_timestamp)},
                        {"lastTimestamp", core::format_rfc3339_nano(e.last_timestamp)}});
    }
    item["events"] = events;
    hpas.push_back(item);
  };
  for (const auto& [key, entry] : entries_) add(entry);
  for (const auto& [key, entry] : restored_) add(entry);  // not re-applied yet: keep them
  doc["hpas"] = hpas;
  // Temp file, fsync, rename: a crash or a full disk never leaves a cut file. A failure is
  // logged once by StateFile and retried after the next pass.
  (void)state_file_->write(core::to_pretty_json(doc) + "\n");
}

core::Status Controller::load_state() {
  if (options_.state_file.empty()) return {};
  auto text = core::read_file(options_.state_file);
  if (!text && text.error().code == core::ErrorCode::kNotFound) return {};  // first run
  if (!text) return tl::unexpected(text.error());
  auto doc = core::parse_document(*text);
  if (!doc) return core::invalid_argument(options_.state_file + ": " + doc.error().message);
  core::JsonReader r(*doc, "");
  std::string kind;
  std::int64_t version = 0;
  r.read("kind", kind);
  r.read("version", version);
  r.ignore({"savedAt"});
  if (r.ok() && (kind != "LlmscaleControllerState" || version != 1)) {
    r.fail("kind", "expected LlmscaleControllerState version 1");
  }
  std::vector<Entry> loaded;
  r.read_list("hpas", loaded, [](core::JsonReader& item, Entry& entry) {
    item.read("namespace", entry.view.hpa.metadata.namespace_);
    item.read("name", entry.view.hpa.metadata.name);
    item.read_object("status", entry.view.hpa.status, kube::decode_hpa_status);
    item.read_object("history", entry.history, hpa::decode_history);
    item.read_list("events", entry.view.events, [](core::JsonReader& e, RecordedEvent& ev) {
      e.read("type", ev.type);
      e.read("reason", ev.reason);
      e.read("message", ev.message);
      e.read("count", ev.count);
      e.read("firstTimestamp", ev.first_timestamp);
      e.read("lastTimestamp", ev.last_timestamp);
    });
  });
  if (auto status = r.finish(); !status) {
    return core::invalid_argument(options_.state_file + ": " + status.error().message);
  }
  for (auto& entry : loaded) {
    std::string key = key_of(entry.view.hpa);
    if (auto live = entries_.find(key); live != entries_.end()) {
      live->second.history = std::move(entry.history);
      live->second.view.events = std::move(entry.view.events);
    } else {
      restored_[key] = std::move(entry);
    }
  }
  return {};
}

}  // namespace llmscale::controller
