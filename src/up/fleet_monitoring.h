// How a fleet's pods are scraped, shared by `up` and the fleet simulator (one rule for both): a
// port's discovery name, PodMonitoring ports given by number mapped to the fleet's port names,
// and the PodMonitoring used when a folder has none.
#pragma once

#include <string>
#include <vector>

#include "fleet/spec.h"
#include "prom/scrape_config.h"

namespace llmscale::up {

// The name a fleet pod's port has in discovery: the template's, or one made from its number.
std::string port_name(const fleet::ContainerPort& port);

// A PodMonitoring endpoint naming a container port by number names it by the fleet's port name
// instead: fleet ports are allocated per pod, so the number in the manifest is not the one the
// replica listens on.
void map_port_numbers(prom::PodMonitoring& pm, const std::vector<fleet::FleetSpec>& fleets);

// When no PodMonitoring is given: scrape each fleet's metrics port (or API port) every 15 s.
prom::PodMonitoring default_pod_monitoring(const fleet::FleetSpec& fleet);

}  // namespace llmscale::up
