// The HPA controller's recorded events as core/v1 Event objects (what `kubectl describe hpa`
// reads from the API), and back.
#pragma once

#include <vector>

#include "controller/controller.h"
#include "core/json.h"
#include "core/result.h"
#include "kube/objects.h"

namespace llmscale::controller {

// core/v1 Event objects for an HPA's recorded events, in order; metadata.name is
// "<hpa>.<16 hex digits>" numbered from the oldest (the embedding names them for good).
core::Json encode_hpa_events(const kube::HorizontalPodAutoscaler& hpa,
                             const std::vector<RecordedEvent>& events);
// An HPA event's source.component when RecordedEvent::source is empty.
inline constexpr const char* kHpaEventSource = "horizontal-pod-autoscaler";

// The events of an EventList as RecordedEvent (the fields kubectl describe shows). The source is
// source.component, else reportingComponent (events.k8s.io/v1's reportingController), as kubectl
// describe prints it.
core::Result<std::vector<RecordedEvent>> decode_event_list(const core::Json& list);

}  // namespace llmscale::controller
