// Listing a pass's metric requests by running the engine over a recording provider.
#include "hpa/metric_requests.h"

namespace llmscale::hpa {
namespace {

std::string selector_key(const kube::Selector& selector) {
  // A selector of nothing prints as the empty text, like one of everything: mark it.
  return (selector.is_nothing() ? "!" : "") + selector.to_string();
}

// Records every call and answers each with a failed fetch; the engine computes every metric
// whatever the previous ones answered, so the calls are those of a pass with real answers.
class RequestRecorder final : public MetricsProvider {
 public:
  std::vector<MetricRequest> requests;

  core::Result<std::vector<kube::PodMetrics>> resource_metrics(
      const std::string& ns, const kube::Selector& pod_selector) override {
    requests.push_back(
        MetricRequest::of(MetricRequest::Api::kResource, ns, "", pod_selector, {}, {}));
    return not_fetched();
  }
  core::Result<std::vector<kube::MetricValue>> pods_metric(
      const std::string& ns, const std::string& metric, const kube::Selector& pod_selector,
      const kube::Selector& metric_selector) override {
    requests.push_back(MetricRequest::of(MetricRequest::Api::kPods, ns, metric, pod_selector,
                                         metric_selector, {}));
    return not_fetched();
  }
  core::Result<std::vector<kube::MetricValue>> object_metric(
      const std::string& ns, const std::string& metric,
      const kube::CrossVersionObjectReference& object,
      const kube::Selector& metric_selector) override {
    requests.push_back(
        MetricRequest::of(MetricRequest::Api::kObject, ns, metric, {}, metric_selector, object));
    return not_fetched();
  }
  core::Result<std::vector<kube::ExternalMetricValue>> external_metric(
      const std::string& ns, const std::string& metric,
      const kube::Selector& metric_selector) override {
    requests.push_back(
        MetricRequest::of(MetricRequest::Api::kExternal, ns, metric, {}, metric_selector, {}));
    return not_fetched();
  }

 private:
  static tl::unexpected<core::Error> not_fetched() {
    return core::make_error(core::ErrorCode::kUnavailable, "not fetched");
  }
};

}  // namespace

MetricRequest MetricRequest::of(Api api, const std::string& namespace_name,
                                const std::string& metric, const kube::Selector& pod_selector,
                                const kube::Selector& metric_selector,
                                const kube::CrossVersionObjectReference& object) {
  MetricRequest r;
  r.api = api;
  r.namespace_name = namespace_name;
  r.metric = metric;
  r.pod_selector = pod_selector;
  r.metric_selector = metric_selector;
  r.object = object;
  return r;
}

std::string MetricRequest::key() const {
  std::string out;
  auto field = [&out](std::string_view value) {
    out += value;
    out += '\0';
  };
  field(std::to_string(static_cast<int>(api)));
  field(namespace_name);
  field(metric);
  field(selector_key(pod_selector));
  field(selector_key(metric_selector));
  field(object.api_version);
  field(object.kind);
  field(object.name);
  return out;
}

std::vector<MetricRequest> metric_requests(const ReconcileInput& input) {
  RequestRecorder recorder;
  AcceptingScaleWriter writer;  // the probe's decision is thrown away
  (void)reconcile(input, recorder, writer);
  return std::move(recorder.requests);
}

}  // namespace llmscale::hpa
