// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection package does
// it, so several replicas of a controller run and exactly one acts.
//
// Rules followed (client-go tools/leaderelection/leaderelection.go):
//  * timings: lease 15 s, renew deadline 10 s, retry period 2 s, jitter factor 1.2 (the
//    defaults kube-controller-manager uses);
//  * acquiring: try at once, then every retry period plus up to 1.2 x retry period of jitter.
//    A lease held by another identity is respected until `lease duration` has passed since this
//    process last saw the record change (its own clock, never the holder's timestamps);
//  * renewing: every retry period; when no renewal succeeded for `renew deadline` the elector
//    stops leading (on_stopped_leading) and does not try again — the process is expected to
//    exit, as kube-controller-manager does;
//  * acquireTime and leaseTransitions are kept across renewals, transitions + 1 on takeover;
//  * every write is an update conditional on the resourceVersion read (409 → not acquired);
//  * release on stop: holderIdentity "", leaseDurationSeconds 1, so a successor takes over
//    within one retry period instead of a whole lease duration.
// leading() additionally answers false once `renew deadline` has passed since the last
// successful renewal, even if the renew loop has not noticed yet: callers check it before every
// write so that a stalled process never acts on a lease it may have lost.
//
// Threads: one EventLoop; callbacks run on it. The lock must outlive the elector's coroutine.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "kubeclient/rest_client.h"

namespace llmscale::kubeclient {

// Kubernetes: resourcelock.LeaderElectionRecord.
struct LeaderElectionRecord {
  std::string holder_identity;
  int lease_duration_seconds = 0;
  std::optional<core::Time> acquire_time;
  std::optional<core::Time> renew_time;
  int leader_transitions = 0;

  bool operator==(const LeaderElectionRecord&) const = default;
};

// Where the record lives. get() remembers the object it read; update() writes conditionally on
// it (client-go's resourcelock.LeaseLock).
class LeaseLock {
 public:
  virtual ~LeaseLock() = default;
  // nullopt when the lease does not exist.
  virtual net::Awaitable<ApiResult<std::optional<LeaderElectionRecord>>> get() = 0;
  virtual net::Awaitable<ApiResult<bool>> create(LeaderElectionRecord record) = 0;
  virtual net::Awaitable<ApiResult<bool>> update(LeaderElectionRecord record) = 0;
  virtual std::string describe() const = 0;
};

// A Lease object through the API.
class ApiLeaseLock final : public LeaseLock {
 public:
  ApiLeaseLock(RestClient& client, std::string namespace_name, std::string name);
  net::Awaitable<ApiResult<std::optional<LeaderElectionRecord>>> get() override;
  net::Awaitable<ApiResult<bool>> create(LeaderElectionRecord record) override;
  net::Awaitable<ApiResult<bool>> update(LeaderElectionRecord record) override;
  std::string describe() const override;

 private:
  RestClient& client_;
  std::string namespace_name_;
  std::string name_;
  core::Json lease_;  // the last object read or written
};

core::Json lease_spec(const LeaderElectionRecord& record);
LeaderElectionRecord record_from_lease(const core::Json& lease);

struct LeaderElectionConfig {
  std::string identity;
  core::Duration lease_duration = std::chrono::seconds(15);
  core::Duration renew_deadline = std::chrono::seconds(10);
  core::Duration retry_period = std::chrono::seconds(2);
  double jitter_factor = 1.2;
  bool release_on_cancel = true;
  std::uint64_t seed = 1;
};

struct LeaderCallbacks {
  std::function<void()> on_started_leading;
  // Called once when leading ends (lost, or stopped), and also when the elector stops without
  // ever having led, as client-go does.
  std::function<void()> on_stopped_leading;
  std::function<void(const std::string& identity)> on_new_leader;
};

class LeaderElector {
 public:
  // REQUIRES: lease_duration > renew_deadline > jitter_factor * retry_period (client-go's
  // NewLeaderElector checks).
  static core::Result<std::unique_ptr<LeaderElector>> create(LeaseLock& lock, core::Clock& clock,
                                                             LeaderElectionConfig config,
                                                             LeaderCallbacks callbacks);
  ~LeaderElector();

  void start(net::EventLoop& loop);
  // Stops trying; a leader releases the lease (when release_on_cancel) and stops leading.
  void stop();
  // Simulates a crash for tests: stops without releasing and without callbacks.
  void abandon();

  // Leading, and the last renewal is younger than the renew deadline.
  bool leading() const;
  bool running() const;
  std::string observed_leader() const;

  struct State;

 private:
  explicit LeaderElector(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace llmscale::kubeclient
