// ControlApi: the loopback API of a running `llmscale up`, shaped like the Kubernetes API so
// `llmscale get hpa -w`, `get pods` and `describe hpa` read the same objects kubectl would:
//
//   GET /apis/autoscaling/v2[/namespaces/{ns}]/horizontalpodautoscalers[?watch=true]
//   GET /apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/{name}
//   GET /api/v1[/namespaces/{ns}]/pods[?labelSelector=...]
//   GET /api/v1/namespaces/{ns}/events[?fieldSelector=involvedObject.name=NAME,...]
//   GET /healthz
//
// Lists are `...List` objects; a watch is a chunked stream of one `{"type":"ADDED"|"MODIFIED",
// "object":{...}}` line per change (ADDED for every HPA first, then MODIFIED whenever an HPA's
// object changed after a pass), as the API server streams them. Errors are metav1.Status
// (`horizontalpodautoscalers.autoscaling "x" not found`, 404).
//
// Runs on the thread of the Controller's clock (the EventLoop of `up`, one thread).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "controller/controller.h"
#include "core/json.h"
#include "kube/objects.h"

namespace llmscale::net {
class Router;
}

namespace llmscale::controller {

class ControlApi {
 public:
  using PodLister = std::function<std::vector<kube::Pod>()>;

  ControlApi(Controller& controller, PodLister pods);

  // Adds the routes above to `router`. The ControlApi must outlive the server using them.
  void add_routes(net::Router& router);

 private:
  Controller& controller_;
  PodLister pods_;
};

// core/v1 Event objects for an HPA's recorded events (kubectl describe reads these).
core::Json encode_hpa_events(const kube::HorizontalPodAutoscaler& hpa,
                             const std::vector<RecordedEvent>& events);
// The events of an EventList as RecordedEvent (fields kubectl describe shows).
core::Result<std::vector<RecordedEvent>> decode_event_list(const core::Json& list);

}  // namespace llmscale::controller
