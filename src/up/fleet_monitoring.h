// How a fleet's pods are scraped, shared by `up` and the fleet simulator (one rule for both): a
// port's discovery name, PodMonitoring ports given by number mapped to the fleet's port names,
// the PodMonitoring used when a folder has none, and Prometheus Operator's PodMonitor and
// ServiceMonitor (monitoring.coreos.com/v1) as the PodMonitorings the scraper runs.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "fleet/spec.h"
#include "prom/scrape/config.h"

namespace llmscale::up {

// The name a fleet pod's port has in discovery: the template's, or one made from its number.
std::string port_name(const fleet::ContainerPort& port);

// A PodMonitoring endpoint naming a container port by number names it by the fleet's port name
// instead: fleet ports are allocated per pod, so the number in the manifest is not the one the
// replica listens on.
void map_port_numbers(prom::PodMonitoring& pm, const std::vector<fleet::FleetSpec>& fleets);

// When no PodMonitoring is given: scrape each fleet's metrics port (or API port) every 15 s.
prom::PodMonitoring default_pod_monitoring(const fleet::FleetSpec& fleet);

// Prometheus Operator's PodMonitor as the PodMonitoring that scrapes the same pods: selector,
// podMetricsEndpoints (port, portNumber or targetPort; path, scheme, params, interval,
// scrapeTimeout, metricRelabelings, tlsConfig.insecureSkipVerify), podTargetLabels, the sample
// and label limits, filterRunning. An endpoint without an interval gets the operator's 30 s.
// Refused (an error naming the field): a namespaceSelector reaching beyond the object's own
// namespace, target relabelings and authentication (what a PodMonitoring cannot express).
core::Result<prom::PodMonitoring> pod_monitoring_from_pod_monitor(const core::Json& pod_monitor);

// Prometheus Operator's ServiceMonitor over the Services it selects (`services`: the namespace's
// Service objects), scraping the pods behind each Service directly: one PodMonitoring per
// selected Service with a pod selector ("<servicemonitor>-<service>"), the Service's selector as
// the pod selector and each endpoint's Service port resolved to its targetPort (a container port
// name or number). Same refusals as for PodMonitor.
core::Result<std::vector<prom::PodMonitoring>> pod_monitorings_from_service_monitor(
    const core::Json& service_monitor, const std::vector<core::Json>& services);

}  // namespace llmscale::up
