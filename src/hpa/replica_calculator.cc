// Replica proposals per metric, following upstream's replica calculator line by line.
#include "hpa/replica_calculator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

namespace llmscale::hpa {
namespace {

constexpr std::int64_t kMaxInt64 = std::numeric_limits<std::int64_t>::max();
constexpr std::int32_t kMaxInt32 = std::numeric_limits<std::int32_t>::max();

// Go's int64 arithmetic wraps; do the same without undefined behaviour.
std::int64_t wrap_add(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}
std::int64_t wrap_mul(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b));
}

// int32(math.Ceil(x)), capped at MaxInt32 (upstream caps Value and per-pod proposals; the
// others cannot exceed it in practice, and a wrapped value would be meaningless).
std::int32_t ceil_to_int32(double x) {
  double c = std::ceil(x);
  if (!(c < double(kMaxInt32))) return kMaxInt32;
  if (c < double(std::numeric_limits<std::int32_t>::min()))
    return std::numeric_limits<std::int32_t>::min();
  return static_cast<std::int32_t>(c);
}

std::string fmt_ratio(double r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", r);
  return buf;
}

struct UtilizationRatio {
  double ratio;
  std::int32_t utilization;
  std::int64_t raw_average;
};

// metricsclient.GetResourceUtilizationRatio.
core::Result<UtilizationRatio> utilization_ratio(
    const PodMetricsInfo& metrics, const std::map<std::string, std::int64_t>& requests,
    std::int32_t target) {
  std::int64_t metrics_total = 0, requests_total = 0;
  std::int64_t entries = 0;
  for (const auto& [pod, metric] : metrics) {
    auto request = requests.find(pod);
    if (request == requests.end()) continue;  // missing requests are checked elsewhere
    metrics_total = wrap_add(metrics_total, metric.value);
    requests_total = wrap_add(requests_total, request->second);
    ++entries;
  }
  if (requests_total == 0) {
    return core::invalid_argument("no metrics returned matched known pods");
  }
  auto utilization = static_cast<std::int32_t>(wrap_mul(metrics_total, 100) / requests_total);
  return UtilizationRatio{double(utilization) / double(target), utilization,
                          metrics_total / entries};
}

// metricsclient.GetMetricUsageRatio.
std::pair<double, std::int64_t> usage_ratio(const PodMetricsInfo& metrics, std::int64_t target) {
  std::int64_t total = 0;
  for (const auto& [pod, metric] : metrics) total = wrap_add(total, metric.value);
  std::int64_t current = total / std::int64_t(metrics.size());
  return {double(current) / double(target), current};
}

void remove_pods(PodMetricsInfo& metrics, const std::vector<std::string>& pods) {
  for (const auto& name : pods) metrics.erase(name);
}

}  // namespace

PodGroups group_pods(const std::vector<const kube::Pod*>& pods, const PodMetricsInfo& metrics,
                     const std::string& resource, const PodGroupingConfig& config) {
  PodGroups groups;
  for (const kube::Pod* pod : pods) {
    const std::string& name = pod->metadata.name;
    // Kubernetes: deleted, Failed and (recently) Succeeded pods are ignored.
    if (pod->metadata.deletion_timestamp || pod->phase == "Failed" || pod->phase == "Succeeded") {
      groups.ignored.push_back(name);
      continue;
    }
    if (pod->phase == "Pending") {
      groups.unready.push_back(name);
      continue;
    }
    auto metric = metrics.find(name);
    if (metric == metrics.end()) {
      groups.missing.push_back(name);
      continue;
    }
    // Kubernetes: readiness and CPU initialization only matter for the cpu resource.
    if (resource == "cpu") {
      bool unready;
      const kube::PodCondition* ready = pod->ready_condition();
      if (ready == nullptr || !pod->start_time) {
        unready = true;
      } else {
        // A missing lastTransitionTime is Go's zero time; the zero core::Time plays its part.
        core::Time transition = ready->last_transition_time.value_or(core::Time{});
        if (*pod->start_time + config.cpu_initialization_period > config.now) {
          // Still initializing: the sample must start after readiness last changed.
          bool stale = metric->second.timestamp < transition + metric->second.window;
          unready = ready->status == "False" || stale;
        } else {
          // Unready since it started: it never became ready.
          unready = ready->status == "False" &&
                    *pod->start_time + config.initial_readiness_delay > transition;
        }
      }
      if (unready) {
        groups.unready.push_back(name);
        continue;
      }
    }
    ++groups.ready;
  }
  return groups;
}

core::Result<std::map<std::string, std::int64_t>> calculate_requests(
    const std::vector<const kube::Pod*>& pods, const std::string& container,
    const std::string& resource, bool pod_level_resources) {
  std::map<std::string, std::int64_t> requests;
  for (const kube::Pod* pod : pods) {
    const std::string& pod_name = pod->metadata.name;
    bool use_pod_level = pod_level_resources && pod->pod_requests && !pod->pod_requests->empty() &&
                         container.empty();
    std::int64_t request = 0;
    if (use_pod_level) {
      auto it = pod->pod_requests->find(resource);
      if (it == pod->pod_requests->end()) {
        return core::invalid_argument("missing pod-level request for " + resource + " in Pod " +
                                      pod_name);
      }
      request = it->second.milli_value();
    } else {
      std::vector<const kube::Container*> containers;
      for (const auto& c : pod->containers) containers.push_back(&c);
      for (const auto& c : pod->init_containers) {
        if (c.restart_policy && *c.restart_policy == "Always") containers.push_back(&c);
      }
      bool found = false;
      for (const kube::Container* c : containers) {
        if (container.empty() || container == c->name) {
          auto it = c->requests.find(resource);
          if (it == c->requests.end()) {
            return core::invalid_argument("missing request for " + resource + " in container " +
                                          c->name + " of Pod " + pod_name);
          }
          request = wrap_add(request, it->second.milli_value());
        }
        if (container == c->name) {
          found = true;
          break;
        }
      }
      if (!container.empty() && !found) {
        return core::invalid_argument("container " + container + " not found in Pod " + pod_name);
      }
    }
    requests[pod_name] = request;
  }
  return requests;
}

core::Result<Calculation> resource_utilization_replicas(
    std::int32_t current, std::int32_t target_utilization, const std::string& resource,
    const std::string& container, const Tolerances& tolerances,
    const std::vector<const kube::Pod*>& pods, PodMetricsInfo metrics,
    const PodGroupingConfig& grouping, bool pod_level_resources) {
  if (pods.empty()) {
    return core::invalid_argument("no pods returned by selector while calculating replica count");
  }
  Calculation calc;
  calc.groups = group_pods(pods, metrics, resource, grouping);
  remove_pods(metrics, calc.groups.ignored);
  remove_pods(metrics, calc.groups.unready);
  if (metrics.empty()) {
    return core::invalid_argument(
        "did not receive metrics for targeted pods (pods might be unready)");
  }
  auto requests = calculate_requests(pods, container, resource, pod_level_resources);
  if (!requests) return tl::unexpected(requests.error());
  auto first = utilization_ratio(metrics, *requests, target_utilization);
  if (!first) return tl::unexpected(first.error());
  calc.ratio = first->ratio;
  calc.utilization = first->utilization;
  calc.usage = first->raw_average;

  bool scale_up_with_unready = !calc.groups.unready.empty() && calc.ratio > 1.0;
  if (!scale_up_with_unready && calc.groups.missing.empty()) {
    if (tolerances.within(calc.ratio)) {
      calc.replicas = current;
      calc.notes.push_back("ratio " + fmt_ratio(calc.ratio) + " is within tolerance: keep " +
                           std::to_string(current));
      return calc;
    }
    calc.replicas = ceil_to_int32(calc.ratio * double(calc.groups.ready));
    calc.notes.push_back("ceil(" + fmt_ratio(calc.ratio) + " x " +
                         std::to_string(calc.groups.ready) +
                         " ready pods) = " + std::to_string(calc.replicas));
    return calc;
  }

  if (!calc.groups.missing.empty()) {
    if (calc.ratio < 1.0) {
      // Kubernetes: on a scale-down, missing pods use max(100%, target) of their request.
      std::int64_t fallback = std::max<std::int64_t>(100, target_utilization);
      for (const auto& pod : calc.groups.missing) {
        metrics[pod] = PodMetric{wrap_mul((*requests)[pod], fallback) / 100, {}, {}};
      }
      calc.notes.push_back(std::to_string(calc.groups.missing.size()) +
                           " pods without metrics assumed at " + std::to_string(fallback) +
                           "% of their request (scale-down)");
    } else if (calc.ratio > 1.0) {
      for (const auto& pod : calc.groups.missing) metrics[pod] = PodMetric{};
      calc.notes.push_back(std::to_string(calc.groups.missing.size()) +
                           " pods without metrics assumed at 0 (scale-up)");
    }
  }
  if (scale_up_with_unready) {
    for (const auto& pod : calc.groups.unready) metrics[pod] = PodMetric{};
    calc.notes.push_back(std::to_string(calc.groups.unready.size()) +
                         " unready pods assumed at 0 (scale-up)");
  }
  auto second = utilization_ratio(metrics, *requests, target_utilization);
  if (!second) return tl::unexpected(second.error());
  double adjusted = second->ratio;
  calc.adjusted_ratio = adjusted;
  if (tolerances.within(adjusted) || (calc.ratio < 1.0 && adjusted > 1.0) ||
      (calc.ratio > 1.0 && adjusted < 1.0)) {
    calc.replicas = current;
    calc.notes.push_back("adjusted ratio " + fmt_ratio(adjusted) +
                         " is within tolerance or reverses direction: keep " +
                         std::to_string(current));
    return calc;
  }
  std::int32_t proposal = ceil_to_int32(adjusted * double(metrics.size()));
  if ((adjusted < 1.0 && proposal > current) || (adjusted > 1.0 && proposal < current)) {
    calc.replicas = current;
    calc.notes.push_back("ceil(" + fmt_ratio(adjusted) + " x " + std::to_string(metrics.size()) +
                         ") = " + std::to_string(proposal) + " moves against the ratio: keep " +
                         std::to_string(current));
    return calc;
  }
  calc.replicas = proposal;
  calc.notes.push_back("ceil(" + fmt_ratio(adjusted) + " x " + std::to_string(metrics.size()) +
                       " samples) = " + std::to_string(proposal));
  return calc;
}

core::Result<Calculation> plain_metric_replicas(std::int32_t current, std::int64_t target_usage,
                                                const std::string& resource,
                                                const Tolerances& tolerances,
                                                const std::vector<const kube::Pod*>& pods,
                                                PodMetricsInfo metrics,
                                                const PodGroupingConfig& grouping) {
  if (pods.empty()) {
    return core::invalid_argument("no pods returned by selector while calculating replica count");
  }
  Calculation calc;
  calc.groups = group_pods(pods, metrics, resource, grouping);
  remove_pods(metrics, calc.groups.ignored);
  remove_pods(metrics, calc.groups.unready);
  if (metrics.empty()) {
    return core::invalid_argument(
        "did not receive metrics for targeted pods (pods might be unready)");
  }
  auto [ratio, usage] = usage_ratio(metrics, target_usage);
  calc.ratio = ratio;
  calc.usage = usage;
  bool scale_up_with_unready = !calc.groups.unready.empty() && ratio > 1.0;
  if (!scale_up_with_unready && calc.groups.missing.empty()) {
    if (tolerances.within(ratio)) {
      calc.replicas = current;
      calc.notes.push_back("ratio " + fmt_ratio(ratio) + " is within tolerance: keep " +
                           std::to_string(current));
      return calc;
    }
    calc.replicas = ceil_to_int32(ratio * double(calc.groups.ready));
    calc.notes.push_back("ceil(" + fmt_ratio(ratio) + " x " + std::to_string(calc.groups.ready) +
                         " ready pods) = " + std::to_string(calc.replicas));
    return calc;
  }
  if (!calc.groups.missing.empty()) {
    if (ratio < 1.0) {
      // Kubernetes: on a scale-down, missing pods count at exactly the target.
      for (const auto& pod : calc.groups.missing) metrics[pod] = PodMetric{target_usage, {}, {}};
      calc.notes.push_back(std::to_string(calc.groups.missing.size()) +
                           " pods without metrics assumed at the target (scale-down)");
    } else if (ratio > 1.0) {
      for (const auto& pod : calc.groups.missing) metrics[pod] = PodMetric{};
      calc.notes.push_back(std::to_string(calc.groups.missing.size()) +
                           " pods without metrics assumed at 0 (scale-up)");
    }
  }
  if (scale_up_with_unready) {
    for (const auto& pod : calc.groups.unready) metrics[pod] = PodMetric{};
    calc.notes.push_back(std::to_string(calc.groups.unready.size()) +
                         " unready pods assumed at 0 (scale-up)");
  }
  double adjusted = usage_ratio(metrics, target_usage).first;
  calc.adjusted_ratio = adjusted;
  if (tolerances.within(adjusted) || (ratio < 1.0 && adjusted > 1.0) ||
      (ratio > 1.0 && adjusted < 1.0)) {
    calc.replicas = current;
    calc.notes.push_back("adjusted ratio " + fmt_ratio(adjusted) +
                         " is within tolerance or reverses direction: keep " +
                         std::to_string(current));
    return calc;
  }
  std::int32_t proposal = ceil_to_int32(adjusted * double(metrics.size()));
  if ((adjusted < 1.0 && proposal > current) || (adjusted > 1.0 && proposal < current)) {
    calc.replicas = current;
    calc.notes.push_back("ceil(" + fmt_ratio(adjusted) + " x " + std::to_string(metrics.size()) +
                         ") = " + std::to_string(proposal) + " moves against the ratio: keep " +
                         std::to_string(current));
    return calc;
  }
  calc.replicas = proposal;
  calc.notes.push_back("ceil(" + fmt_ratio(adjusted) + " x " + std::to_string(metrics.size()) +
                       " samples) = " + std::to_string(proposal));
  return calc;
}

core::Result<Calculation> value_replicas(std::int32_t current, std::int64_t usage,
                                         std::int64_t target, const Tolerances& tolerances,
                                         const std::vector<const kube::Pod*>& pods) {
  Calculation calc;
  calc.usage = usage;
  calc.ratio = double(usage) / double(target);
  if (current == 0) {
    // Scaling from zero: ceil(ratio), tolerance not applied.
    calc.replicas = ceil_to_int32(calc.ratio);
    calc.notes.push_back("from zero: ceil(" + fmt_ratio(calc.ratio) +
                         ") = " + std::to_string(calc.replicas));
    return calc;
  }
  if (tolerances.within(calc.ratio)) {
    calc.replicas = current;
    calc.notes.push_back("ratio " + fmt_ratio(calc.ratio) + " is within tolerance: keep " +
                         std::to_string(current));
    return calc;
  }
  if (pods.empty()) {
    return core::invalid_argument("no pods returned by selector while calculating replica count");
  }
  int ready = 0;
  for (const kube::Pod* pod : pods) {
    const kube::PodCondition* condition = pod->ready_condition();
    if (pod->phase == "Running" && condition != nullptr && condition->status == "True") ++ready;
  }
  calc.groups.ready = ready;
  calc.replicas = ceil_to_int32(calc.ratio * double(ready));
  calc.notes.push_back("ceil(" + fmt_ratio(calc.ratio) + " x " + std::to_string(ready) +
                       " Running and Ready pods) = " + std::to_string(calc.replicas));
  return calc;
}

Calculation per_pod_replicas(std::int32_t status_replicas, std::int64_t usage,
                             std::int64_t target_per_pod, const Tolerances& tolerances) {
  Calculation calc;
  calc.replicas = status_replicas;
  calc.ratio = double(usage) / (double(target_per_pod) * double(status_replicas));
  if (!tolerances.within(calc.ratio)) {
    calc.replicas = ceil_to_int32(double(usage) / double(target_per_pod));
    calc.notes.push_back("ceil(" + std::to_string(usage) + "m / " + std::to_string(target_per_pod) +
                         "m per pod) = " + std::to_string(calc.replicas));
  } else {
    calc.notes.push_back(
        "ratio " + fmt_ratio(calc.ratio) + " over " + std::to_string(status_replicas) +
        " replicas (scale status) is within tolerance: keep " + std::to_string(status_replicas));
  }
  if (usage == kMaxInt64) {
    calc.usage = kMaxInt64;
  } else if (status_replicas == 0) {
    calc.usage = 0;
  } else {
    calc.usage = static_cast<std::int64_t>(std::ceil(double(usage) / double(status_replicas)));
  }
  return calc;
}

std::int64_t sum_external(const std::vector<std::int64_t>& values) {
  std::int64_t usage = 0;
  for (std::int64_t v : values) {
    if (v > 0 && usage > kMaxInt64 - v) return kMaxInt64;
    usage = wrap_add(usage, v);
  }
  return usage;
}

}  // namespace llmscale::hpa
