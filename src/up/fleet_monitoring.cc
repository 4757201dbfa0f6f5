// How a fleet's pods are scraped (fleet_monitoring.h).
#include "up/fleet_monitoring.h"

namespace llmscale::up {

std::string port_name(const fleet::ContainerPort& port) {
  return port.name.empty() ? "port-" + std::to_string(port.container_port) : port.name;
}

void map_port_numbers(prom::PodMonitoring& pm, const std::vector<fleet::FleetSpec>& fleets) {
  for (auto& endpoint : pm.endpoints) {
    if (!endpoint.port_name.empty() || endpoint.port_number == 0) continue;
    for (const auto& f : fleets) {
      for (const auto& port : f.template_.ports) {
        if (port.container_port == endpoint.port_number) endpoint.port_name = port_name(port);
      }
    }
    if (!endpoint.port_name.empty()) endpoint.port_number = 0;
  }
}

prom::PodMonitoring default_pod_monitoring(const fleet::FleetSpec& f) {
  prom::PodMonitoring pm;
  pm.name = f.name;
  pm.namespace_ = f.namespace_;
  pm.selector.match_labels = f.selector.match_labels;
  prom::PodMonitoringEndpoint endpoint;
  int index = f.metrics_port_index() >= 0 ? f.metrics_port_index() : f.api_port_index();
  if (index >= 0) endpoint.port_name = port_name(f.template_.ports[index]);
  endpoint.interval = "15s";
  pm.endpoints.push_back(endpoint);
  return pm;
}

}  // namespace llmscale::up
