// URL paths of custom.metrics.k8s.io and external.metrics.k8s.io, and metav1.Status errors.
#include "adapter/request.h"

#include "core/json.h"
#include "core/strings.h"

namespace llmscale::adapter {
namespace {

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding ('+' is a space in query values).
std::optional<std::string> unescape(std::string_view s, bool query) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += char(hi * 16 + lo);
      i += 2;
    } else if (query && s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::string query_parameter(std::string_view raw_query, std::string_view key) {
  for (auto pair : core::split(raw_query, '&')) {
    auto eq = pair.find('=');
    std::string_view k = pair.substr(0, eq);
    if (k != key) continue;
    auto value =
        unescape(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    return value.value_or("");
  }
  return "";
}

std::string ApiError::to_json() const {
  std::string out =
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)";
  core::append_go_json_string(out, message);
  out += R"(,"reason":)";
  core::append_go_json_string(out, reason);
  if (details) {
    // metav1.StatusDetails in Go's field order, omitempty.
    out += R"(,"details":{)";
    bool first = true;
    auto field = [&](const char* key, const std::string& value) {
      if (value.empty()) return;
      out += first ? "\"" : ",\"";
      out += key;
      out += "\":";
      core::append_go_json_string(out, value);
      first = false;
    };
    field("name", details->name);
    field("group", details->group);
    field("kind", details->kind);
    out += "}";
  }
  out += R"(,"code":)" + std::to_string(code) + "}";
  return out;
}

ApiError object_not_found(const std::string& group, const std::string& resource,
                          const std::string& name) {
  std::string qualified = group.empty() ? resource : resource + "." + group;
  return {404, "NotFound", qualified + " " + core::go_quote(name) + " not found",
          StatusDetails{name, group, resource}};
}

ApiError not_found(std::string message) {
  return {404, "NotFound", std::move(message), std::nullopt};
}
ApiError bad_request(std::string message) {
  return {400, "BadRequest", std::move(message), std::nullopt};
}
ApiError internal_error(std::string message) {
  return {500, "InternalError", "Internal error occurred: " + message, std::nullopt};
}

ApiResult<MetricsRequest> parse_metrics_request(std::string_view path, std::string_view raw_query) {
  auto invalid = [] { return tl::unexpected(bad_request("invalid request path")); };
  std::vector<std::string> segments;
  for (auto raw : core::split(path, '/')) {
    if (raw.empty()) continue;
    auto segment = unescape(raw, false);
    if (!segment) return invalid();
    segments.push_back(std::move(*segment));
  }
  if (segments.size() < 3 || segments[0] != "apis") return invalid();
  MetricsRequest request;
  const std::string& group = segments[1];
  const std::string& version = segments[2];
  if (group == "custom.metrics.k8s.io" && version == "v1beta1")
    request.api = MetricsApi::kCustomV1Beta1;
  else if (group == "custom.metrics.k8s.io" && version == "v1beta2")
    request.api = MetricsApi::kCustomV1Beta2;
  else if (group == "external.metrics.k8s.io" && version == "v1beta1")
    request.api = MetricsApi::kExternalV1Beta1;
  else
    return invalid();
  std::vector<std::string> rest(segments.begin() + 3, segments.end());

  auto selector = [&](std::string_view key) -> ApiResult<kube::Selector> {
    auto parsed = kube::Selector::parse(query_parameter(raw_query, key));
    if (!parsed) return tl::unexpected(bad_request(parsed.error().message));
    return *parsed;
  };

  if (request.external()) {
    // /namespaces/{ns}/{metric}
    if (rest.size() != 3 || rest[0] != "namespaces") return invalid();
    request.namespace_name = rest[1];
    request.metric = rest[2];
    auto metric_selector = selector("labelSelector");
    if (!metric_selector) return tl::unexpected(metric_selector.error());
    request.metric_selector = *metric_selector;
    return request;
  }
  if (rest.size() == 4 && rest[0] == "namespaces" && rest[2] == "metrics") {
    // /namespaces/{ns}/metrics/{metric}: a metric describing the namespace itself.
    request.resource = GroupResource{"", "namespaces"};
    request.name = rest[1];
    request.metric = rest[3];
  } else if (rest.size() == 5 && rest[0] == "namespaces") {
    request.namespace_name = rest[1];
    request.resource = normalize_resource("", rest[2]);
    request.name = rest[3];
    request.metric = rest[4];
  } else if (rest.size() == 3 && rest[0] != "namespaces") {
    request.resource = normalize_resource("", rest[0]);
    request.name = rest[1];
    request.metric = rest[2];
  } else {
    return invalid();
  }
  auto objects = selector("labelSelector");
  if (!objects) return tl::unexpected(objects.error());
  request.object_selector = *objects;
  auto metric_selector = selector("metricLabelSelector");
  if (!metric_selector) return tl::unexpected(metric_selector.error());
  request.metric_selector = *metric_selector;
  return request;
}

}  // namespace llmscale::adapter
