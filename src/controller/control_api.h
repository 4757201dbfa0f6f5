// ControlApi: the loopback API of a running `llmscale up`, shaped like the Kubernetes API so
// `llmscale get hpa|pods|deploy|events [-w]` and `describe hpa` read the same objects kubectl
// would:
//
//   GET /apis/autoscaling/v2[/namespaces/{ns}]/horizontalpodautoscalers[?watch=true]
//   GET /apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/{name}
//   GET /api/v1[/namespaces/{ns}]/pods[?labelSelector=...][&watch=true]
//   GET /api/v1/namespaces/{ns}/pods/{name}
//   GET /apis/apps/v1[/namespaces/{ns}]/deployments[?labelSelector=...][&watch=true]
//   GET /apis/apps/v1/namespaces/{ns}/deployments/{name}
//   GET /api/v1[/namespaces/{ns}]/events[?fieldSelector=involvedObject.name=NAME,...][&watch=true]
//   GET /api/v1/namespaces/{ns}/events/{name}
//   GET /healthz
//
// Lists are `...List` objects; a watch is a chunked stream of one `{"type":"ADDED"|"MODIFIED"|
// "DELETED","object":{...}}` line per change (ADDED for every object first, then MODIFIED
// whenever an object changed, DELETED when it went), as the API server streams them. Watches
// look again after every controller pass and every notify(). Errors are metav1.Status
// (`pods "x" not found`, reason NotFound, 404), as the API server's.
//
// Runs on the thread of the Controller's clock (the EventLoop of `up`, one thread).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "controller/controller.h"
#include "core/json.h"
#include "kube/objects.h"
#include "kube/workloads.h"

namespace llmscale::net {
class Router;
}

namespace llmscale::controller {

class ControlApi {
 public:
  using PodLister = std::function<std::vector<kube::Pod>()>;
  using DeploymentLister = std::function<std::vector<kube::Deployment>()>;

  ControlApi(Controller& controller, PodLister pods, DeploymentLister deployments = {});
  ~ControlApi();
  ControlApi(const ControlApi&) = delete;
  ControlApi& operator=(const ControlApi&) = delete;

  // Adds the routes above to `router`. The ControlApi must outlive the server using them.
  void add_routes(net::Router& router);

  // Tells open watches to look again (pods or deployments may have changed).
  void notify();

  struct Watches;

 private:
  Controller& controller_;
  PodLister pods_;
  DeploymentLister deployments_;
  std::shared_ptr<Watches> watches_;
};

// core/v1 Event objects for an HPA's recorded events (kubectl describe reads these).
core::Json encode_hpa_events(const kube::HorizontalPodAutoscaler& hpa,
                             const std::vector<RecordedEvent>& events);
// The events of an EventList as RecordedEvent (fields kubectl describe shows).
core::Result<std::vector<RecordedEvent>> decode_event_list(const core::Json& list);

}  // namespace llmscale::controller
