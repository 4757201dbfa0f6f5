// The resource metrics API (metrics.k8s.io/v1beta1 pods) for local replicas, as metrics-server
// serves it from the kubelet's cAdvisor data: each pod's CPU usage (the rate of its process's
// user+system time over the last sampling window, in nanocores) and memory (its resident set,
// what `kubectl top` shows as MEMORY), read from /proc. `kubectl top pods` works against `up`
// without a Prometheus resourceRules configuration.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/time.h"
#include "kube/objects.h"

namespace llmscale::net {
struct ServerRequest;
struct Response;
}  // namespace llmscale::net

namespace llmscale::up {

// One process's counters at one instant (/proc/PID/stat utime+stime, /proc/PID/status VmRSS).
struct ProcessSample {
  double cpu_seconds = 0;
  std::int64_t rss_bytes = 0;
};
// Reads them; nullopt when the process is gone or /proc cannot be read.
std::optional<ProcessSample> read_process_sample(pid_t pid, const std::string& proc_root = "/proc");

// What the API answers for one pod.
struct PodUsage {
  kube::Pod pod;
  std::string container;
  double nanocores = 0;
  std::int64_t memory_bytes = 0;
  core::Time timestamp;
  core::Duration window{};
};

// Keeps the previous sample of each process to turn CPU time into a rate.
class PodResourceSampler {
 public:
  using Reader = std::function<std::optional<ProcessSample>(pid_t)>;
  explicit PodResourceSampler(Reader reader = {});

  // Samples every pod that has a process; pods sampled for the first time have no rate yet
  // (metrics-server skips them likewise until it has two points).
  void sample(const std::vector<std::pair<kube::Pod, pid_t>>& pods, core::Time now);
  const std::vector<PodUsage>& usage() const { return usage_; }

 private:
  struct Previous {
    pid_t pid = 0;
    ProcessSample sample;
    core::Time at;
  };
  Reader reader_;
  std::map<std::string, Previous> previous_;  // namespace/name
  std::vector<PodUsage> usage_;
};

// GET /apis/metrics.k8s.io/v1beta1[/namespaces/NS]/pods[/NAME][?labelSelector=] and the group's
// discovery documents, answered from `usage`.
net::Response pod_metrics_response(const std::vector<PodUsage>& usage,
                                   const net::ServerRequest& request);

}  // namespace llmscale::up
