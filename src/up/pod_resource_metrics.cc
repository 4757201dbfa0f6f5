// Resource metrics of local replicas from /proc (pod_resource_metrics.h).
#include "up/pod_resource_metrics.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "kube/label_selector.h"
#include "net/server.h"

namespace llmscale::up {
namespace {

using core::Json;

net::Response status(int code, const std::string& reason, const std::string& message) {
  Json body = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", Json::object()},
               {"status", "Failure"}, {"message", message}, {"reason", reason},
               {"code", code}};
  return net::Response::json(code, core::to_compact_json(body) + "\n");
}

Json pod_metrics(const PodUsage& u) {
  Json meta = {{"name", u.pod.metadata.name},
               {"namespace", u.pod.metadata.namespace_},
               {"creationTimestamp", core::format_rfc3339(u.timestamp)}};
  if (!u.pod.metadata.labels.empty()) meta["labels"] = u.pod.metadata.labels;
  // Quantities as metrics-server writes them: CPU in nanocores ("n"), memory in Ki.
  std::string cpu = std::to_string(static_cast<std::int64_t>(std::llround(u.nanocores))) + "n";
  std::string memory = std::to_string(u.memory_bytes / 1024) + "Ki";
  double window_s = std::chrono::duration<double>(u.window).count();
  return Json{
      {"metadata", meta},
      {"timestamp", core::format_rfc3339(u.timestamp)},
      {"window", core::go_format_float(window_s) + "s"},
      {"containers",
       Json::array({Json{{"name", u.container}, {"usage", {{"cpu", cpu}, {"memory", memory}}}}})}};
}

}  // namespace

std::optional<ProcessSample> read_process_sample(pid_t pid, const std::string& proc_root) {
  std::string base = proc_root + "/" + std::to_string(pid);
  std::ifstream stat(base + "/stat");
  std::string line;
  if (!stat || !std::getline(stat, line)) return std::nullopt;
  // Fields after the command name (which may hold spaces, inside parentheses): utime is the
  // 14th field, stime the 15th (proc(5)).
  std::size_t close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  std::string field;
  std::vector<std::string> fields;
  while (rest >> field && fields.size() < 13) fields.push_back(field);
  if (fields.size() < 13) return std::nullopt;
  long ticks = sysconf(_SC_CLK_TCK);
  if (ticks <= 0) ticks = 100;
  ProcessSample sample;
  char* end = nullptr;
  double utime = std::strtod(fields[11].c_str(), &end);
  double stime = std::strtod(fields[12].c_str(), &end);
  sample.cpu_seconds = (utime + stime) / static_cast<double>(ticks);
  std::ifstream status(base + "/status");
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      sample.rss_bytes = std::strtoll(line.c_str() + 6, nullptr, 10) * 1024;
      break;
    }
  }
  return sample;
}

PodResourceSampler::PodResourceSampler(Reader reader)
    : reader_(reader ? std::move(reader)
                     : Reader([](pid_t pid) { return read_process_sample(pid); })) {}

void PodResourceSampler::sample(const std::vector<std::pair<kube::Pod, pid_t>>& pods,
                                core::Time now) {
  std::map<std::string, Previous> next;
  std::vector<PodUsage> usage;
  for (const auto& [pod, pid] : pods) {
    auto current = reader_(pid);
    if (!current) continue;
    std::string key = pod.metadata.namespace_ + "/" + pod.metadata.name;
    auto it = previous_.find(key);
    if (it != previous_.end() && it->second.pid == pid && now > it->second.at) {
      double seconds = std::chrono::duration<double>(now - it->second.at).count();
      PodUsage u;
      u.pod = pod;
      u.container = pod.containers.empty() ? pod.metadata.name : pod.containers[0].name;
      u.nanocores =
          std::max(0.0, (current->cpu_seconds - it->second.sample.cpu_seconds) / seconds * 1e9);
      u.memory_bytes = current->rss_bytes;
      u.timestamp = now;
      u.window = now - it->second.at;
      usage.push_back(std::move(u));
    }
    next[key] = Previous{pid, *current, now};
  }
  previous_ = std::move(next);
  usage_ = std::move(usage);
}

net::Response pod_metrics_response(const std::vector<PodUsage>& usage,
                                   const net::ServerRequest& request) {
  if (request.method != "GET" && request.method != "HEAD")
    return status(405, "MethodNotAllowed",
                  "the server does not allow this method on the requested resource");
  std::vector<std::string> parts;
  for (std::string_view p : core::split(request.path, '/'))
    if (!p.empty()) parts.emplace_back(p);
  // parts: apis, metrics.k8s.io[, v1beta1[, namespaces, NS], pods[, NAME]]
  if (parts.size() == 2) {
    Json gv = {{"groupVersion", "metrics.k8s.io/v1beta1"}, {"version", "v1beta1"}};
    Json group = {{"kind", "APIGroup"},
                  {"apiVersion", "v1"},
                  {"name", "metrics.k8s.io"},
                  {"versions", Json::array({gv})},
                  {"preferredVersion", gv}};
    return net::Response::json(200, core::to_compact_json(group) + "\n");
  }
  if (parts.size() < 3 || parts[2] != "v1beta1")
    return status(404, "NotFound", "the server could not find the requested resource");
  if (parts.size() == 3) {
    Json verbs = Json::array({"get", "list"});
    Json list = {{"kind", "APIResourceList"},
                 {"apiVersion", "v1"},
                 {"groupVersion", "metrics.k8s.io/v1beta1"},
                 {"resources", Json::array({Json{{"name", "pods"},
                                                 {"singularName", ""},
                                                 {"namespaced", true},
                                                 {"kind", "PodMetrics"},
                                                 {"verbs", verbs}}})}};
    return net::Response::json(200, core::to_compact_json(list) + "\n");
  }
  std::string ns;
  std::size_t at = 3;
  if (parts.size() >= 5 && parts[3] == "namespaces") {
    ns = parts[4];
    at = 5;
  }
  if (parts.size() <= at || parts[at] != "pods" || parts.size() > at + 2)
    return status(404, "NotFound", "the server could not find the requested resource");
  std::string name = parts.size() == at + 2 ? parts[at + 1] : "";
  auto selector = kube::Selector::parse(request.query.get("labelSelector").value_or(""));
  if (!selector) return status(400, "BadRequest", selector.error().message);
  Json items = Json::array();
  for (const PodUsage& u : usage) {
    if (!ns.empty() && u.pod.metadata.namespace_ != ns) continue;
    if (!name.empty() && u.pod.metadata.name != name) continue;
    if (!selector->matches(u.pod.metadata.labels)) continue;
    items.push_back(pod_metrics(u));
  }
  if (!name.empty()) {
    if (items.empty())
      return status(404, "NotFound", "podmetrics.metrics.k8s.io \"" + name + "\" not found");
    Json item = items[0];
    item["kind"] = "PodMetrics";
    item["apiVersion"] = "metrics.k8s.io/v1beta1";
    return net::Response::json(200, core::to_compact_json(item) + "\n");
  }
  Json list = {{"kind", "PodMetricsList"},
               {"apiVersion", "metrics.k8s.io/v1beta1"},
               {"metadata", Json::object()},
               {"items", items}};
  return net::Response::json(200, core::to_compact_json(list) + "\n");
}

}  // namespace llmscale::up
