// Lease-based leader election with client-go's rules; see leader_election.h.
#include "kubeclient/leader_election.h"

#include <random>

#include "core/log.h"

namespace llmscale::kubeclient {

using core::Json;

namespace {

std::optional<core::Time> time_field(const Json& spec, const char* key) {
  auto it = spec.find(key);
  if (it == spec.end() || !it->is_string()) return std::nullopt;
  auto time = core::parse_rfc3339(it->get<std::string>());
  if (!time) return std::nullopt;
  return *time;
}

}  // namespace

Json lease_spec(const LeaderElectionRecord& record) {
  // Kubernetes: LeaderElectionRecordToLeaseSpec (MicroTime timestamps).
  Json spec = Json::object();
  spec["holderIdentity"] = record.holder_identity;
  spec["leaseDurationSeconds"] = record.lease_duration_seconds;
  if (record.acquire_time) spec["acquireTime"] = core::format_rfc3339_micro(*record.acquire_time);
  if (record.renew_time) spec["renewTime"] = core::format_rfc3339_micro(*record.renew_time);
  spec["leaseTransitions"] = record.leader_transitions;
  return spec;
}

LeaderElectionRecord record_from_lease(const Json& lease) {
  LeaderElectionRecord record;
  if (!lease.is_object() || !lease.contains("spec") || !lease["spec"].is_object()) return record;
  const Json& spec = lease["spec"];
  record.holder_identity = spec.value("holderIdentity", "");
  if (spec.contains("leaseDurationSeconds") && spec["leaseDurationSeconds"].is_number_integer()) {
    record.lease_duration_seconds = spec["leaseDurationSeconds"].get<int>();
  }
  record.acquire_time = time_field(spec, "acquireTime");
  record.renew_time = time_field(spec, "renewTime");
  if (spec.contains("leaseTransitions") && spec["leaseTransitions"].is_number_integer()) {
    record.leader_transitions = spec["leaseTransitions"].get<int>();
  }
  return record;
}

ApiLeaseLock::ApiLeaseLock(RestClient& client, std::string namespace_name, std::string name)
    : client_(client), namespace_name_(std::move(namespace_name)), name_(std::move(name)) {}

net::Awaitable<ApiResult<std::optional<LeaderElectionRecord>>> ApiLeaseLock::get() {
  auto lease = co_await client_.get(leases_resource(), namespace_name_, name_);
  if (!lease) {
    if (lease.error().not_found()) co_return std::optional<LeaderElectionRecord>();
    co_return tl::unexpected(lease.error());
  }
  lease_ = std::move(*lease);
  co_return std::optional<LeaderElectionRecord>(record_from_lease(lease_));
}

net::Awaitable<ApiResult<bool>> ApiLeaseLock::create(LeaderElectionRecord record) {
  Json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", name_}, {"namespace", namespace_name_}}},
                {"spec", lease_spec(record)}};
  auto created = co_await client_.create(leases_resource(), namespace_name_, std::move(lease));
  if (!created) co_return tl::unexpected(created.error());
  lease_ = std::move(*created);
  co_return true;
}

net::Awaitable<ApiResult<bool>> ApiLeaseLock::update(LeaderElectionRecord record) {
  if (!lease_.is_object()) {
    co_return tl::unexpected(ApiError{0, "", "lease not initialized, call get or create first"});
  }
  Json lease = lease_;
  lease["spec"] = lease_spec(record);
  auto updated = co_await client_.update(leases_resource(), namespace_name_, std::move(lease));
  if (!updated) co_return tl::unexpected(updated.error());
  lease_ = std::move(*updated);
  co_return true;
}

std::string ApiLeaseLock::describe() const {
  return namespace_name_ + "/" + name_;
}

struct LeaderElector::State {
  LeaseLock& lock;
  core::Clock& clock;
  LeaderElectionConfig config;
  LeaderCallbacks callbacks;
  std::mt19937_64 random;

  LeaderElectionRecord observed;
  core::Time observed_time;
  bool have_observed = false;
  std::string reported_leader;
  std::optional<core::Time> last_renew;
  bool stopped = false;
  bool abandoned = false;
  bool running = false;
  bool leading = false;

  State(LeaseLock& lock, core::Clock& clock, LeaderElectionConfig config, LeaderCallbacks callbacks)
      : lock(lock),
        clock(clock),
        config(std::move(config)),
        callbacks(std::move(callbacks)),
        random(this->config.seed) {}

  bool is_leader() const { return have_observed && observed.holder_identity == config.identity; }
  bool lease_valid(core::Time now) const {
    return have_observed &&
           observed_time + std::chrono::seconds(observed.lease_duration_seconds) > now;
  }
  void set_observed(const LeaderElectionRecord& record) {
    observed = record;
    observed_time = clock.now();
    have_observed = true;
  }
  void report_transition() {
    if (observed.holder_identity == reported_leader) return;
    reported_leader = observed.holder_identity;
    if (callbacks.on_new_leader) callbacks.on_new_leader(reported_leader);
  }
  core::Duration jittered_retry() {
    // Kubernetes: wait.Jitter(RetryPeriod, JitterFactor).
    double fraction = std::uniform_real_distribution<double>(0.0, 1.0)(random);
    return config.retry_period + core::from_seconds(core::to_seconds(config.retry_period) *
                                                    config.jitter_factor * fraction);
  }
  int lease_seconds() const {
    return static_cast<int>(
        std::chrono::duration_cast<std::chrono::seconds>(config.lease_duration).count());
  }

  // Kubernetes: tryAcquireOrRenew.
  net::Awaitable<bool> try_acquire_or_renew() {
    core::Time now = clock.now();
    LeaderElectionRecord record;
    record.holder_identity = config.identity;
    record.lease_duration_seconds = lease_seconds();
    record.renew_time = now;
    record.acquire_time = now;

    // Fast path: the leader with a valid lease updates without reading first.
    if (is_leader() && lease_valid(now)) {
      record.acquire_time = observed.acquire_time;
      record.leader_transitions = observed.leader_transitions;
      auto updated = co_await lock.update(record);
      if (updated) {
        set_observed(record);
        co_return true;
      }
      core::log_warn("leader election: failed to update lease " + lock.describe() + ": " +
                     updated.error().to_string());
    }

    auto current = co_await lock.get();
    if (!current) {
      core::log_warn("leader election: error retrieving lease " + lock.describe() + ": " +
                     current.error().to_string());
      co_return false;
    }
    if (!*current) {
      auto created = co_await lock.create(record);
      if (!created) {
        core::log_warn("leader election: error initially creating lease " + lock.describe() + ": " +
                       created.error().to_string());
        co_return false;
      }
      set_observed(record);
      co_return true;
    }
    const LeaderElectionRecord& old = **current;
    if (!have_observed || !(old == observed)) set_observed(old);
    if (!old.holder_identity.empty() && lease_valid(now) && !is_leader()) {
      co_return false;  // held by another and not yet expired
    }
    if (is_leader()) {
      record.acquire_time = old.acquire_time;
      record.leader_transitions = old.leader_transitions;
    } else {
      record.leader_transitions = old.leader_transitions + 1;
    }
    auto updated = co_await lock.update(record);
    if (!updated) {
      core::log_warn("leader election: failed to update lease " + lock.describe() + ": " +
                     updated.error().to_string());
      co_return false;
    }
    set_observed(record);
    co_return true;
  }

  net::Awaitable<void> release() {
    if (!is_leader()) co_return;
    core::Time now = clock.now();
    LeaderElectionRecord record;
    record.lease_duration_seconds = 1;
    record.renew_time = now;
    record.acquire_time = now;
    record.leader_transitions = observed.leader_transitions;
    auto updated = co_await lock.update(record);
    if (!updated) {
      core::log_warn("leader election: failed to release lease " + lock.describe() + ": " +
                     updated.error().to_string());
      co_return;
    }
    set_observed(record);
  }
};

namespace {

net::Awaitable<void> run_elector(std::shared_ptr<LeaderElector::State> state) {
  state->running = true;
  core::Clock& clock = state->clock;
  // ---- acquire ----
  bool acquired = false;
  while (!state->stopped) {
    acquired = co_await state->try_acquire_or_renew();
    if (state->abandoned) break;
    state->report_transition();
    if (acquired || state->stopped) break;
    co_await net::sleep_for(clock, state->jittered_retry());
  }
  if (acquired && !state->stopped && !state->abandoned) {
    core::log_info("leader election: " + state->config.identity + " acquired lease " +
                   state->lock.describe());
    state->leading = true;
    state->last_renew = clock.now();
    if (state->callbacks.on_started_leading) state->callbacks.on_started_leading();
    // ---- renew ----
    while (!state->stopped && !state->abandoned) {
      co_await net::sleep_for(clock, state->config.retry_period);
      if (state->stopped || state->abandoned) break;
      core::Time deadline = *state->last_renew + state->config.renew_deadline;
      bool renewed = false;
      // Kubernetes: PollImmediateUntil(RetryPeriod, tryAcquireOrRenew) within RenewDeadline.
      while (!state->stopped && !state->abandoned && clock.now() < deadline) {
        renewed = co_await state->try_acquire_or_renew();
        if (renewed || state->abandoned) break;
        core::Duration left = deadline - clock.now();
        if (left <= core::Duration::zero()) break;
        co_await net::sleep_for(clock, std::min(state->config.retry_period, left));
      }
      if (state->abandoned) break;
      state->report_transition();
      if (renewed) {
        state->last_renew = clock.now();
        continue;
      }
      if (state->stopped) break;
      core::log_warn("leader election: " + state->config.identity + " failed to renew lease " +
                     state->lock.describe() + " within the renew deadline");
      break;
    }
  }
  if (!state->abandoned) {
    bool was_leading = state->leading;
    state->leading = false;
    if (was_leading && state->stopped && state->config.release_on_cancel) {
      co_await state->release();
    }
    if (state->callbacks.on_stopped_leading) state->callbacks.on_stopped_leading();
  }
  state->leading = false;
  state->running = false;
}

}  // namespace

core::Result<std::unique_ptr<LeaderElector>> LeaderElector::create(LeaseLock& lock,
                                                                   core::Clock& clock,
                                                                   LeaderElectionConfig config,
                                                                   LeaderCallbacks callbacks) {
  // Kubernetes: NewLeaderElector's checks, same messages.
  if (config.lease_duration <= config.renew_deadline) {
    return core::invalid_argument("leaseDuration must be greater than renewDeadline");
  }
  if (config.renew_deadline <=
      core::from_seconds(config.jitter_factor * core::to_seconds(config.retry_period))) {
    return core::invalid_argument("renewDeadline must be greater than retryPeriod*JitterFactor");
  }
  if (config.lease_duration < std::chrono::seconds(1) ||
      config.retry_period <= core::Duration::zero()) {
    return core::invalid_argument("leaseDuration must be at least 1s and retryPeriod positive");
  }
  if (config.identity.empty()) return core::invalid_argument("Lock identity is empty");
  auto state = std::make_shared<State>(lock, clock, std::move(config), std::move(callbacks));
  return std::unique_ptr<LeaderElector>(new LeaderElector(std::move(state)));
}

LeaderElector::LeaderElector(std::shared_ptr<State> state) : state_(std::move(state)) {}
LeaderElector::~LeaderElector() {
  state_->stopped = true;
}

void LeaderElector::start(net::EventLoop& loop) {
  net::spawn(loop, run_elector(state_), "leader election");
}

void LeaderElector::stop() {
  state_->stopped = true;
}

void LeaderElector::abandon() {
  state_->abandoned = true;
  state_->stopped = true;
  state_->leading = false;
}

bool LeaderElector::leading() const {
  return state_->leading && state_->last_renew &&
         state_->clock.now() < *state_->last_renew + state_->config.renew_deadline;
}

bool LeaderElector::running() const {
  return state_->running;
}
std::string LeaderElector::observed_leader() const {
  return state_->reported_leader;
}

}  // namespace llmscale::kubeclient
