// Fleet: the ReplicaSet controller and the kubelet for local processes.
#include "fleet/fleet.h"

#include <signal.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/duration.h"
#include "core/log.h"
#include "core/strings.h"

namespace llmscale::fleet {
namespace {

using namespace std::chrono_literals;

// Kubernetes: utilrand's alphabet, without vowels and easily confused characters.
constexpr std::string_view kAlphanums = "bcdfghjklmnpqrstvwxz2456789";
// Kubernetes: names.SimpleNameGenerator keeps generateName under 63 - 5 characters.
constexpr std::size_t kMaxGeneratedBaseLength = 58;
// Kubernetes: kubelet's CrashLoopBackOff (initial 10 s, doubling, at most 300 s) and the
// running time after which it is forgotten.
constexpr core::Duration kInitialBackoff = 10s;
constexpr core::Duration kMaxBackoff = 300s;
constexpr core::Duration kBackoffReset = 600s;
// Kubernetes: kubelet's minimumGracePeriodInSeconds between SIGTERM and SIGKILL.
constexpr core::Duration kMinimumGrace = 2s;
// Kubernetes: FallbackToLogsOnError keeps the last 80 lines or 2048 bytes, whichever is smaller.
constexpr std::size_t kTerminationMessageLines = 80;
constexpr std::size_t kTerminationMessageBytes = 2048;
// Distinct crash reasons reported per fleet; beyond it crashes are only logged.
constexpr std::size_t kMaxCrashReasons = 64;

// The last lines `path` got after `offset` (what one run of the process wrote), at most
// kTerminationMessageLines lines and kTerminationMessageBytes bytes, without a cut first line.
std::vector<std::string> log_tail(const std::string& path, std::uintmax_t offset) {
  std::vector<std::string> lines;
  std::ifstream in(path, std::ios::binary);
  if (!in) return lines;
  in.seekg(0, std::ios::end);
  auto size = static_cast<std::uintmax_t>(std::max<std::streamoff>(in.tellg(), 0));
  if (size <= offset) return lines;
  std::uintmax_t from = std::max<std::uintmax_t>(
      offset, size > kTerminationMessageBytes ? size - kTerminationMessageBytes : 0);
  in.seekg(static_cast<std::streamoff>(from));
  std::string text(static_cast<std::size_t>(size - from), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  std::size_t start = 0;
  if (from > offset) {  // began inside a line: drop its end
    auto nl = text.find('\n');
    start = nl == std::string::npos ? text.size() : nl + 1;
  }
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    std::size_t end = nl == std::string::npos ? text.size() : nl;
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    start = end + 1;
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.size() > kTerminationMessageLines)
    lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(kTerminationMessageLines));
  return lines;
}

bool is_ready(const kube::Pod& pod) {
  const kube::PodCondition* c = pod.ready_condition();
  return c != nullptr && c->status == "True";
}

int phase_ordinal(const std::string& phase) {
  // Kubernetes: podPhaseToOrdinal; phases missing from the map count as 0.
  if (phase == "Unknown") return 1;
  if (phase == "Running") return 2;
  return 0;
}

std::int64_t log_rank(core::Time t, core::Time now) {
  auto d = (now - t).count();
  return d > 0 ? static_cast<std::int64_t>(std::log2(static_cast<double>(d))) : -1;
}

std::int32_t max_restarts(const kube::Pod& pod) {
  std::int32_t most = 0;
  for (const auto& c : pod.container_statuses) most = std::max(most, c.restart_count);
  return most;
}

core::Json template_json(const PodTemplateSpec& t) {
  core::Json j;
  j["labels"] = t.labels;
  j["annotations"] = t.annotations;
  if (t.serve_sim) {
    j["serveSim"] = {{"flavor", t.serve_sim->flavor},
                     {"profile", t.serve_sim->profile},
                     {"args", t.serve_sim->args}};
  }
  j["command"] = t.command;
  core::Json ports = core::Json::array();
  for (const auto& p : t.ports)
    ports.push_back({{"name", p.name}, {"containerPort", p.container_port}});
  j["ports"] = ports;
  core::Json env = core::Json::array();
  for (const auto& e : t.env) env.push_back({{"name", e.name}, {"value", e.value}});
  j["env"] = env;
  if (t.readiness_probe) {
    const auto& p = *t.readiness_probe;
    j["readinessProbe"] = {{"path", p.path},
                           {"port", p.port},
                           {"initialDelaySeconds", p.initial_delay_seconds},
                           {"periodSeconds", p.period_seconds},
                           {"timeoutSeconds", p.timeout_seconds},
                           {"successThreshold", p.success_threshold},
                           {"failureThreshold", p.failure_threshold}};
  }
  j["terminationGracePeriodSeconds"] = t.termination_grace_period_seconds;
  return j;
}

}  // namespace

std::string pod_template_hash(const FleetSpec& spec) {
  std::string text = core::to_compact_json(template_json(spec.template_));
  std::uint32_t hash = 2166136261u;  // FNV-32a
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 16777619u;
  }
  // Kubernetes: rand.SafeEncodeString(fmt.Sprint(hash)) maps each digit into the alphabet.
  std::string digits = std::to_string(hash);
  std::string out;
  for (unsigned char c : digits) out += kAlphanums[c % kAlphanums.size()];
  return out;
}

namespace {

// Kubernetes: afterOrZero — a zero (absent) time counts as after any other.
bool after_or_zero(const std::optional<core::Time>& a, const std::optional<core::Time>& b) {
  if (!a || !b) return !a;
  return *a > *b;
}

// Kubernetes: ActivePodsWithRanks.Less, steps 6 and 8 (LogarithmicScaleDown, on since 1.22):
// times in log2 buckets of their distance to `now`, one bucket ordered by UID.
std::optional<bool> newer_first(const kube::Pod& a, const kube::Pod& b,
                                const std::optional<core::Time>& ta,
                                const std::optional<core::Time>& tb, core::Time now) {
  if (ta == tb) return std::nullopt;
  if (!ta || !tb) return after_or_zero(ta, tb);
  std::int64_t diff = log_rank(*ta, now) - log_rank(*tb, now);
  if (diff == 0) return a.metadata.uid < b.metadata.uid;
  return diff < 0;
}

// Kubernetes: podReadyTime — the Ready condition's lastTransitionTime when ready, else zero.
std::optional<core::Time> ready_time(const kube::Pod& pod) {
  if (!is_ready(pod)) return std::nullopt;
  return pod.ready_condition()->last_transition_time;
}

}  // namespace

bool delete_before(const kube::Pod& a, const kube::Pod& b, core::Time now) {
  // Kubernetes: controller.ActivePodsWithRanks.Less, with every pod on one node: step 1
  // (unassigned first) never applies and step 5 (more colocated pods first) compares equal
  // ranks. Feature gates as on by default: PodDeletionCost (beta since 1.22) and
  // LogarithmicScaleDown.
  // 2. Pending < Unknown < Running.
  if (phase_ordinal(a.phase) != phase_ordinal(b.phase)) {
    return phase_ordinal(a.phase) < phase_ordinal(b.phase);
  }
  // 3. Not ready < ready.
  if (is_ready(a) != is_ready(b)) return !is_ready(a);
  // 4. Lower controller.kubernetes.io/pod-deletion-cost first; an invalid value counts as 0.
  std::int32_t cost_a = kube::pod_deletion_cost(a.metadata.annotations).value_or(0);
  std::int32_t cost_b = kube::pod_deletion_cost(b.metadata.annotations).value_or(0);
  if (cost_a != cost_b) return cost_a < cost_b;
  // 6. Both ready: ready more recently first.
  if (is_ready(a) && is_ready(b)) {
    if (auto first = newer_first(a, b, ready_time(a), ready_time(b), now)) return *first;
  }
  // 7. More container restarts first.
  if (max_restarts(a) != max_restarts(b)) return max_restarts(a) > max_restarts(b);
  // 8. Created more recently first.
  if (auto first =
          newer_first(a, b, a.metadata.creation_timestamp, b.metadata.creation_timestamp, now))
    return *first;
  return false;
}

struct Fleet::Pod {
  std::string name;
  std::string generate_name;
  std::string uid;
  core::Time created;
  std::vector<std::uint16_t> ports;  // one per template port (or one API port)
  std::uint16_t api_port = 0;
  std::uint16_t metrics_port = 0;
  std::uint16_t probe_port = 0;

  std::unique_ptr<ProcessHandle> process;
  std::uint64_t container = 0;  // which start; stale probe results compare it
  bool running = false;         // seen alive once: phase Running
  std::optional<core::Time> started_at;
  std::string waiting_reason = "ContainerCreating";
  std::int32_t restart_count = 0;
  std::optional<core::Time> last_exit;     // lastState.terminated.finishedAt
  std::optional<core::Time> last_started;  // lastState.terminated.startedAt
  ExitStatus last_status;                  // lastState.terminated exitCode, signal
  std::string last_message;                // lastState.terminated.message (the log's tail)
  std::string log_path;
  std::uintmax_t log_offset = 0;  // the log's size when this run started
  core::Duration backoff = core::Duration::zero();

  bool ready = false;
  core::Time ready_since;
  int successes = 0;
  int failures = 0;
  bool probe_in_flight = false;

  std::map<std::string, std::string> annotations;  // the pod's own, over the template's

  bool terminating = false;
  core::Time deletion_timestamp;
  std::size_t drains_pending = 0;
  bool sigterm_sent = false;

  std::optional<core::Clock::TimerId> probe_timer;
  std::optional<core::Clock::TimerId> restart_timer;
  std::optional<core::Clock::TimerId> grace_timer;
  std::optional<core::Clock::TimerId> kill_timer;
};

Fleet::Fleet(core::Clock& clock, FleetSpec spec, Launcher& launcher, Prober& prober,
             FleetOptions options)
    : clock_(clock),
      spec_(std::move(spec)),
      launcher_(launcher),
      prober_(prober),
      options_(std::move(options)),
      command_(command_template(spec_, options_.exe)),
      template_hash_(fleet::pod_template_hash(spec_)),
      rng_(options_.seed != 0 ? options_.seed : std::random_device{}()),
      desired_(std::min(spec_.replicas, options_.max_replicas)) {
  if (options_.creation_burst == 0) options_.creation_burst = 1;
}

Fleet::~Fleet() {
  alive_.reset();
  if (exit_poll_timer_) clock_.cancel(*exit_poll_timer_);
  if (creation_timer_) clock_.cancel(*creation_timer_);
  for (auto& pod : pods_) cancel_timers(*pod);
  pods_.clear();  // each handle SIGKILLs and reaps its process
}

void Fleet::add_listener(FleetListener* listener) {
  listeners_.push_back(listener);
}

void Fleet::start() {
  started_ = true;
  reconcile();
}

core::Result<kube::Scale> Fleet::get_scale() {
  kube::Scale scale;
  scale.spec_replicas = desired_;
  scale.status_replicas = static_cast<std::int32_t>(
      std::count_if(pods_.begin(), pods_.end(), [](const auto& p) { return !p->terminating; }));
  scale.selector = spec_.selector_string();
  return scale;
}

core::Status Fleet::set_replicas(std::int32_t replicas) {
  if (replicas < 0) {
    return core::invalid_argument("replicas: must be greater than or equal to 0, got " +
                                  std::to_string(replicas));
  }
  if (replicas > options_.max_replicas) {
    return core::invalid_argument("replicas: must be less than or equal to " +
                                  std::to_string(options_.max_replicas) +
                                  " (--max-replicas), got " + std::to_string(replicas));
  }
  if (shutting_down_) {
    return core::make_error(core::ErrorCode::kUnavailable,
                            "fleet " + spec_.name + " is shutting down");
  }
  if (replicas != desired_) {
    core::log_info("fleet " + spec_.name + ": scaled from " + std::to_string(desired_) + " to " +
                   std::to_string(replicas) + " replicas");
  }
  desired_ = replicas;
  if (started_) reconcile();
  return {};
}

core::Status Fleet::delete_pod(const std::string& name) {
  for (auto& pod : pods_) {
    if (pod->name != name || pod->terminating) continue;
    begin_termination(*pod);
    reconcile();
    return {};
  }
  return core::make_error(core::ErrorCode::kNotFound, "pods \"" + name + "\" not found");
}

core::Status Fleet::annotate_pod(const std::string& name, const std::string& key,
                                 std::optional<std::string> value) {
  for (auto& pod : pods_) {
    if (pod->name != name) continue;
    auto it = pod->annotations.find(key);
    if (value) {
      if (it != pod->annotations.end() && it->second == *value) return {};
      pod->annotations[key] = std::move(*value);
    } else {
      if (it == pod->annotations.end()) return {};
      pod->annotations.erase(it);
    }
    changed();
    return {};
  }
  return core::make_error(core::ErrorCode::kNotFound, "pods \"" + name + "\" not found");
}

core::Status Fleet::set_deletion_cost(const std::string& name, std::int32_t cost) {
  return annotate_pod(name, kube::kPodDeletionCost, std::to_string(cost));
}

std::vector<kube::Pod> Fleet::pods() {
  std::vector<kube::Pod> out;
  out.reserve(pods_.size());
  for (const auto& pod : pods_) out.push_back(to_kube(*pod));
  return out;
}

std::vector<Endpoint> Fleet::endpoints() const {
  std::vector<Endpoint> out;
  for (const auto& pod : pods_) {
    if (pod->api_port != 0) out.push_back(to_endpoint(*pod));
  }
  return out;
}

std::vector<pid_t> Fleet::pids() const {
  std::vector<pid_t> out;
  for (const auto& pod : pods_) {
    if (pod->process) out.push_back(pod->process->pid());
  }
  return out;
}

std::map<std::string, pid_t> Fleet::pod_pids() const {
  std::map<std::string, pid_t> out;
  for (const auto& pod : pods_)
    if (pod->process) out[pod->name] = pod->process->pid();
  return out;
}

Fleet::Pod* Fleet::find(const std::string& uid) {
  for (auto& pod : pods_) {
    if (pod->uid == uid) return pod.get();
  }
  return nullptr;
}

std::string Fleet::random_string(std::size_t n) {
  std::uniform_int_distribution<std::size_t> pick(0, kAlphanums.size() - 1);
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += kAlphanums[pick(rng_)];
  return out;
}

void Fleet::reconcile() {
  if (!started_ || shutting_down_) return;
  auto active =
      std::count_if(pods_.begin(), pods_.end(), [](const auto& p) { return !p->terminating; });
  // A burst now, the rest on a timer: the loop keeps serving signals and requests meanwhile.
  if (active < desired_ && !creation_timer_) {
    for (std::size_t n = 0; active < desired_ && n < options_.creation_burst; ++active, ++n)
      create_pod();
    if (active < desired_) {
      std::weak_ptr<bool> alive = alive_;
      creation_timer_ = clock_.call_after(options_.creation_interval, [this, alive] {
        if (!alive.lock()) return;
        creation_timer_.reset();
        reconcile();
      });
    }
  }
  if (active > desired_) {
    if (before_scale_down_) before_scale_down_();
    std::vector<std::string> victims;
    for (Pod* pod : ranked_for_deletion()) {
      if (static_cast<std::int64_t>(victims.size()) == active - desired_) break;
      victims.push_back(pod->uid);
    }
    for (const auto& uid : victims) {
      if (Pod* pod = find(uid)) begin_termination(*pod);
    }
  }
}

std::vector<Fleet::Pod*> Fleet::ranked_for_deletion() {
  std::vector<std::pair<Pod*, kube::Pod>> ranked;
  for (auto& pod : pods_) {
    if (!pod->terminating) ranked.emplace_back(pod.get(), to_kube(*pod));
  }
  core::Time now = clock_.now();
  std::stable_sort(ranked.begin(), ranked.end(), [now](const auto& a, const auto& b) {
    return delete_before(a.second, b.second, now);
  });
  std::vector<Pod*> out;
  out.reserve(ranked.size());
  for (auto& [pod, _] : ranked) out.push_back(pod);
  return out;
}

void Fleet::create_pod() {
  auto pod = std::make_unique<Pod>();
  pod->generate_name = spec_.name + "-" + template_hash_ + "-";
  if (pod->generate_name.size() > kMaxGeneratedBaseLength) {
    pod->generate_name.resize(kMaxGeneratedBaseLength);
  }
  do {
    pod->name = pod->generate_name + random_string(5);
  } while (
      std::any_of(pods_.begin(), pods_.end(), [&](const auto& p) { return p->name == pod->name; }));
  // A version 4 UUID, as the API server assigns.
  std::uniform_int_distribution<std::uint32_t> word;
  std::uint32_t w[4] = {word(rng_), word(rng_), word(rng_), word(rng_)};
  char uid[40];
  std::snprintf(uid, sizeof uid, "%08x-%04x-4%03x-%04x-%04x%08x", w[0], w[1] >> 16, w[1] & 0xfff,
                (w[2] >> 16 & 0x3fff) | 0x8000, w[2] & 0xffff, w[3]);
  pod->uid = uid;
  pod->created = clock_.now();
  pod->ready_since = pod->created;
  Pod& ref = *pod;
  pods_.push_back(std::move(pod));
  core::log_info("fleet " + spec_.name + ": created pod " + ref.name);
  start_process(ref);
}

void Fleet::start_process(Pod& pod) {
  pod.container++;
  pod.successes = pod.failures = 0;
  pod.probe_in_flight = false;
  std::string error;
  if (pod.api_port == 0) {
    // Ports are allocated once per pod and kept across restarts (like a pod's IP).
    std::size_t count = std::max<std::size_t>(spec_.template_.ports.size(), 1);
    std::vector<std::uint16_t> ports;
    for (std::size_t i = 0; i < count && error.empty(); ++i) {
      auto port = options_.allocate_port(options_.host);
      if (port) {
        ports.push_back(*port);
      } else {
        error = port.error().message;
      }
    }
    if (error.empty()) {
      pod.ports = ports;
      int api = spec_.api_port_index();
      int metrics = spec_.metrics_port_index();
      int probe = spec_.probe_port_index();
      pod.api_port = ports[api < 0 ? 0 : static_cast<std::size_t>(api)];
      pod.metrics_port = metrics < 0 ? pod.api_port : ports[static_cast<std::size_t>(metrics)];
      pod.probe_port = probe < 0 ? pod.api_port : ports[static_cast<std::size_t>(probe)];
    }
  }
  if (error.empty()) {
    PlaceholderValues values{pod.api_port, pod.metrics_port, pod.name, spec_.namespace_};
    LaunchSpec launch;
    for (const auto& arg : command_) launch.argv.push_back(expand_placeholders(arg, values));
    // Kubernetes: a container's HOSTNAME is its pod's name.
    launch.env.emplace_back("HOSTNAME", pod.name);
    for (const auto& e : spec_.template_.env) {
      launch.env.emplace_back(e.name, expand_placeholders(e.value, values));
    }
    if (!options_.log_dir.empty()) launch.log_path = options_.log_dir + "/" + pod.name + ".log";
    pod.log_path = launch.log_path;
    std::error_code ec;
    pod.log_offset = pod.log_path.empty() ? 0 : std::filesystem::file_size(pod.log_path, ec);
    if (ec) pod.log_offset = 0;
    auto handle = launcher_.launch(launch);
    if (handle) {
      pod.process = std::move(*handle);
    } else {
      error = handle.error().message;
    }
  }
  pod.started_at = clock_.now();
  if (!error.empty()) {
    core::log_warn("fleet " + spec_.name + ": pod " + pod.name + " failed to start: " + error);
    on_exit(pod, ExitStatus{127, 0});
    return;
  }
  changed();
  pod.waiting_reason.clear();
  core::log_info("fleet " + spec_.name + ": pod " + pod.name + " started (pid " +
                 std::to_string(pod.process->pid()) + ", port " + std::to_string(pod.api_port) +
                 ")");
  if (spec_.template_.readiness_probe) schedule_probe(pod, core::Duration::zero());
  ensure_exit_polling();
}

void Fleet::schedule_probe(Pod& pod, core::Duration delay) {
  std::weak_ptr<bool> alive = alive_;
  pod.probe_timer =
      clock_.call_after(delay, [this, alive, uid = pod.uid, container = pod.container] {
        if (alive.lock()) run_probe(uid, container);
      });
}

void Fleet::run_probe(const std::string& uid, std::uint64_t container) {
  Pod* pod = find(uid);
  if (pod == nullptr || pod->container != container || !pod->process || pod->terminating) return;
  pod->probe_timer.reset();
  const HttpProbe& spec = *spec_.template_.readiness_probe;
  // Kubernetes: the prober ticks every periodSeconds from the container start.
  schedule_probe(*pod, std::chrono::seconds(spec.period_seconds));
  // Kubernetes: results are skipped while int32(seconds since start) < initialDelaySeconds.
  auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(clock_.now() - *pod->started_at);
  if (elapsed.count() < spec.initial_delay_seconds) return;
  if (pod->probe_in_flight) return;
  pod->probe_in_flight = true;
  ProbeRequest request;
  request.host = options_.host;
  request.port = pod->probe_port;
  request.path = spec.path;
  request.timeout = std::chrono::seconds(spec.timeout_seconds);
  std::weak_ptr<bool> alive = alive_;
  prober_.probe(request, [this, alive, uid, container](const ProbeResult& result) {
    if (alive.lock()) on_probe_result(uid, container, result.success);
  });
}

void Fleet::on_probe_result(const std::string& uid, std::uint64_t container, bool success) {
  Pod* pod = find(uid);
  if (pod == nullptr || pod->container != container) return;
  pod->probe_in_flight = false;
  if (pod->terminating || !pod->process) return;
  const HttpProbe& spec = *spec_.template_.readiness_probe;
  // Kubernetes: a result takes effect after successThreshold / failureThreshold in a row.
  if (success) {
    pod->failures = 0;
    if (++pod->successes >= spec.success_threshold) set_ready(*pod, true);
  } else {
    pod->successes = 0;
    if (++pod->failures >= spec.failure_threshold) set_ready(*pod, false);
  }
}

void Fleet::set_ready(Pod& pod, bool ready) {
  if (pod.ready == ready) return;
  pod.ready = ready;
  pod.ready_since = clock_.now();
  core::log_info("fleet " + spec_.name + ": pod " + pod.name + (ready ? " ready" : " not ready"));
  Endpoint endpoint = to_endpoint(pod);
  for (FleetListener* l : listeners_) {
    if (ready) {
      l->on_ready(endpoint);
    } else {
      l->on_not_ready(endpoint);
    }
  }
  changed();
}

void Fleet::changed() {
  for (FleetListener* l : listeners_) l->on_changed();
}

void Fleet::ensure_exit_polling() {
  if (exit_poll_timer_) return;
  std::weak_ptr<bool> alive = alive_;
  exit_poll_timer_ = clock_.call_after(options_.exit_poll_interval, [this, alive] {
    if (alive.lock()) poll_exits();
  });
}

void Fleet::poll_exits() {
  exit_poll_timer_.reset();
  std::vector<std::string> uids;
  for (const auto& pod : pods_) uids.push_back(pod->uid);
  for (const auto& uid : uids) {
    Pod* pod = find(uid);
    if (pod == nullptr || !pod->process) continue;
    if (auto status = pod->process->poll_exit()) {
      on_exit(*pod, *status);
      continue;
    }
    if (!pod->running) {
      pod->running = true;
      changed();
    }
    // Kubernetes: without a readiness probe a running container is ready.
    if (!spec_.template_.readiness_probe && !pod->terminating) set_ready(*pod, true);
  }
  bool any =
      std::any_of(pods_.begin(), pods_.end(), [](const auto& p) { return p->process != nullptr; });
  if (any) ensure_exit_polling();
}

void Fleet::on_exit(Pod& pod, const ExitStatus& status) {
  bool had_process = pod.process != nullptr;
  if (had_process) {
    core::log_info("fleet " + spec_.name + ": pod " + pod.name + " process " +
                   std::to_string(pod.process->pid()) + " ended: " + status.to_string());
  }
  pod.process.reset();
  if (pod.probe_timer) clock_.cancel(*pod.probe_timer);
  pod.probe_timer.reset();
  if (pod.terminating) {
    remove_pod(pod.uid);
    return;
  }
  set_ready(pod, false);
  // Kubernetes: CrashLoopBackOff doubles from 10 s to 5 min, forgotten after 10 min of running.
  bool long_run = pod.started_at && clock_.now() - *pod.started_at >= kBackoffReset;
  if (pod.backoff == core::Duration::zero() || long_run) {
    pod.backoff = kInitialBackoff;
  } else {
    pod.backoff = std::min(pod.backoff * 2, kMaxBackoff);
  }
  pod.waiting_reason = "CrashLoopBackOff";
  if (had_process) {
    pod.last_exit = clock_.now();
    pod.last_started = pod.started_at;
    pod.last_status = status;
    core::log_warn("fleet " + spec_.name + ": pod " + pod.name + " crashed (" + status.to_string() +
                   "); restarting in " + core::format_go_duration(pod.backoff));
    report_crash(pod, status);
  }
  std::weak_ptr<bool> alive = alive_;
  pod.restart_timer = clock_.call_after(pod.backoff, [this, alive, uid = pod.uid] {
    if (!alive.lock()) return;
    Pod* p = find(uid);
    if (p == nullptr || p->terminating) return;
    p->restart_timer.reset();
    p->restart_count++;
    start_process(*p);
  });
  changed();
}

void Fleet::report_crash(Pod& pod, const ExitStatus& status) {
  CrashReport report;
  report.pod = pod.name;
  report.status = status;
  report.restart_count = pod.restart_count;
  report.backoff = pod.backoff;
  report.log_path = pod.log_path;
  if (!pod.log_path.empty()) report.log_tail = log_tail(pod.log_path, pod.log_offset);
  pod.last_message = core::join(report.log_tail, "\n");
  // One report per reason: the exit status and the last line, digits aside (timestamps, PIDs
  // and ports differ between restarts of the same failure).
  std::string key = status.to_string() + "\n";
  if (!report.log_tail.empty()) {
    for (char c : report.log_tail.back())
      key += std::isdigit(static_cast<unsigned char>(c)) ? '#' : c;
  }
  if (crash_reasons_.size() >= kMaxCrashReasons || !crash_reasons_.insert(key).second) return;
  for (FleetListener* l : listeners_) l->on_crash_loop(report);
}

void Fleet::begin_termination(Pod& pod) {
  pod.terminating = true;
  pod.deletion_timestamp = clock_.now();
  if (pod.probe_timer) clock_.cancel(*pod.probe_timer);
  if (pod.restart_timer) clock_.cancel(*pod.restart_timer);
  pod.probe_timer.reset();
  pod.restart_timer.reset();
  core::log_info("fleet " + spec_.name + ": terminating pod " + pod.name);
  changed();
  std::string uid = pod.uid;
  kube::Pod snapshot = to_kube(pod);
  if (!pod.process) {
    for (FleetListener* l : listeners_) l->on_terminating(snapshot, [] {});
    remove_pod(uid);
    return;
  }
  auto grace = std::chrono::seconds(spec_.template_.termination_grace_period_seconds);
  std::weak_ptr<bool> alive = alive_;
  // Kubernetes: draining plays the part of a preStop hook; it consumes the grace period.
  pod.grace_timer = clock_.call_after(grace, [this, alive, uid] {
    if (!alive.lock()) return;
    if (Pod* p = find(uid)) {
      p->grace_timer.reset();
      send_sigterm(*p);
    }
  });
  pod.drains_pending = listeners_.size();
  if (pod.drains_pending == 0) {
    send_sigterm(pod);
    return;
  }
  for (FleetListener* l : listeners_) {
    auto called = std::make_shared<bool>(false);
    l->on_terminating(snapshot, [this, alive, uid, called] {
      if (*called || !alive.lock()) return;
      *called = true;
      on_drained(uid);
    });
  }
}

void Fleet::on_drained(const std::string& uid) {
  Pod* pod = find(uid);
  if (pod == nullptr || pod->sigterm_sent) return;
  if (pod->drains_pending > 0 && --pod->drains_pending == 0) send_sigterm(*pod);
}

void Fleet::send_sigterm(Pod& pod) {
  if (pod.sigterm_sent) return;
  pod.sigterm_sent = true;
  if (pod.grace_timer) clock_.cancel(*pod.grace_timer);
  pod.grace_timer.reset();
  if (!pod.process) return;
  auto grace = std::chrono::seconds(spec_.template_.termination_grace_period_seconds);
  core::Duration remaining = grace - (clock_.now() - pod.deletion_timestamp);
  remaining = std::max(remaining, kMinimumGrace);
  core::log_info("fleet " + spec_.name + ": SIGTERM to pod " + pod.name + " (pid " +
                 std::to_string(pod.process->pid()) + "), SIGKILL in " +
                 core::format_go_duration(remaining));
  pod.process->send_signal(SIGTERM);
  std::weak_ptr<bool> alive = alive_;
  pod.kill_timer = clock_.call_after(remaining, [this, alive, uid = pod.uid] {
    if (!alive.lock()) return;
    Pod* p = find(uid);
    if (p == nullptr || !p->process) return;
    p->kill_timer.reset();
    core::log_warn("fleet " + spec_.name + ": pod " + p->name +
                   " outlived its grace period; SIGKILL");
    p->process->send_signal(SIGKILL);
  });
}

void Fleet::cancel_timers(Pod& pod) {
  for (auto* timer : {&pod.probe_timer, &pod.restart_timer, &pod.grace_timer, &pod.kill_timer}) {
    if (*timer) clock_.cancel(**timer);
    timer->reset();
  }
}

void Fleet::remove_pod(const std::string& uid) {
  auto it = std::find_if(pods_.begin(), pods_.end(), [&](const auto& p) { return p->uid == uid; });
  if (it == pods_.end()) return;
  std::unique_ptr<Pod> pod = std::move(*it);
  pods_.erase(it);
  cancel_timers(*pod);
  kube::Pod snapshot = to_kube(*pod);
  pod->process.reset();  // SIGKILLs and reaps a process still running (kill_all)
  core::log_info("fleet " + spec_.name + ": removed pod " + pod->name);
  for (FleetListener* l : listeners_) l->on_removed(snapshot);
  changed();
  check_shutdown_done();
}

void Fleet::shutdown(std::function<void()> done) {
  shutting_down_ = true;
  if (creation_timer_) clock_.cancel(*creation_timer_);
  creation_timer_.reset();
  shutdown_done_ = std::move(done);
  desired_ = 0;
  std::vector<std::string> uids;
  for (const auto& pod : pods_) {
    if (!pod->terminating) uids.push_back(pod->uid);
  }
  for (const auto& uid : uids) {
    if (Pod* pod = find(uid)) begin_termination(*pod);
  }
  check_shutdown_done();
}

void Fleet::kill_all() {
  std::vector<std::string> uids;
  for (const auto& pod : pods_) uids.push_back(pod->uid);
  for (const auto& uid : uids) {
    if (Pod* pod = find(uid)) {
      pod->terminating = true;
      remove_pod(uid);
    }
  }
}

void Fleet::check_shutdown_done() {
  if (!shutting_down_ || !pods_.empty() || !shutdown_done_) return;
  auto done = std::move(shutdown_done_);
  shutdown_done_ = nullptr;
  std::weak_ptr<bool> alive = alive_;
  // Never inside shutdown() itself.
  clock_.call_after(core::Duration::zero(), [alive, done = std::move(done)] {
    if (alive.lock()) done();
  });
}

kube::Pod Fleet::to_kube(const Pod& pod) const {
  kube::Pod out;
  out.metadata.name = pod.name;
  out.metadata.generate_name = pod.generate_name;
  out.metadata.namespace_ = spec_.namespace_;
  out.metadata.uid = pod.uid;
  out.metadata.creation_timestamp = pod.created;
  if (pod.terminating) out.metadata.deletion_timestamp = pod.deletion_timestamp;
  out.metadata.labels = spec_.template_.labels;
  out.metadata.labels["pod-template-hash"] = template_hash_;
  out.metadata.annotations = spec_.template_.annotations;
  for (const auto& [key, value] : pod.annotations) out.metadata.annotations[key] = value;
  kube::Container container;
  container.name = spec_.name;
  out.containers.push_back(container);
  out.phase = pod.running ? "Running" : "Pending";
  out.start_time = pod.created;
  const char* ready = pod.ready ? "True" : "False";
  out.conditions = {{"PodScheduled", "True", pod.created},
                    {"Initialized", "True", pod.created},
                    {"ContainersReady", ready, pod.ready_since},
                    {"Ready", ready, pod.ready_since}};
  out.pod_ip = options_.host;
  kube::ContainerStatus status;
  status.name = spec_.name;
  status.ready = pod.ready;
  status.restart_count = pod.restart_count;
  if (!pod.process || !pod.waiting_reason.empty()) status.waiting_reason = pod.waiting_reason;
  status.last_terminated_at = pod.last_exit;
  if (pod.last_exit) {
    // Kubernetes: the runtime's reason is "Error" for a non-zero exit, "Completed" for zero.
    status.last_exit_code = pod.last_status.exit_code;
    status.last_signal = pod.last_status.signal;
    status.last_terminated_reason = pod.last_status.exit_code == 0 ? "Completed" : "Error";
    status.last_terminated_message = pod.last_message;
    status.last_started_at = pod.last_started;
  }
  if (status.waiting_reason == "CrashLoopBackOff") {
    // Kubernetes: kubelet's message, "back-off %s restarting failed container=%s pod=%s" with
    // the pod as format.Pod prints it (name_namespace(uid)).
    status.waiting_message = "back-off " + core::format_go_duration(pod.backoff) +
                             " restarting failed container=" + spec_.name + " pod=" + pod.name +
                             "_" + spec_.namespace_ + "(" + pod.uid + ")";
  }
  out.container_statuses.push_back(status);
  return out;
}

Endpoint Fleet::to_endpoint(const Pod& pod) const {
  Endpoint e;
  e.pod = pod.name;
  e.namespace_ = spec_.namespace_;
  e.labels = spec_.template_.labels;
  e.labels["pod-template-hash"] = template_hash_;
  e.serving = pod.ready;
  e.terminating = pod.terminating;
  e.ready = pod.ready && !pod.terminating;
  e.host = options_.host;
  e.api_port = pod.api_port;
  e.metrics_port = pod.metrics_port;
  if (!spec_.template_.ports.empty()) e.ports = pod.ports;
  return e;
}

}  // namespace llmscale::fleet
