// PodSource implementations, Pod manifest decoding and Kubernetes pod discovery labels.
#include "prom/scrape/pod_source.h"

#include <nlohmann/json.hpp>

#include "core/json_reader.h"
#include "core/strings.h"

namespace llmscale::prom {

StaticPodSource::StaticPodSource(std::vector<PodInfo> pods) {
  for (auto& pod : pods) {
    std::string key = pod.key();
    pods_[key] = std::move(pod);
  }
}

std::vector<PodInfo> StaticPodSource::pods() const {
  std::lock_guard lock(mu_);
  std::vector<PodInfo> out;
  out.reserve(pods_.size());
  for (const auto& [key, pod] : pods_) out.push_back(pod);
  return out;
}

PodSource::ListenerId StaticPodSource::subscribe(Listener listener) {
  std::lock_guard lock(listeners_mu_);
  ListenerId id = next_id_++;
  listeners_[id] = std::move(listener);
  return id;
}

void StaticPodSource::unsubscribe(ListenerId id) {
  std::lock_guard lock(listeners_mu_);
  listeners_.erase(id);
}

void StaticPodSource::notify() {
  std::lock_guard lock(listeners_mu_);
  for (const auto& [id, listener] : listeners_) listener();
}

void StaticPodSource::set_pods(std::vector<PodInfo> pods) {
  {
    std::lock_guard lock(mu_);
    pods_.clear();
    for (auto& pod : pods) {
      std::string key = pod.key();
      pods_[key] = std::move(pod);
    }
  }
  notify();
}

void StaticPodSource::upsert(PodInfo pod) {
  {
    std::lock_guard lock(mu_);
    std::string key = pod.key();
    pods_[key] = std::move(pod);
  }
  notify();
}

bool StaticPodSource::remove(std::string_view pod_namespace, std::string_view name) {
  bool removed = false;
  {
    std::lock_guard lock(mu_);
    removed = pods_.erase(std::string(pod_namespace) + "/" + std::string(name)) > 0;
  }
  if (removed) notify();
  return removed;
}

// ---- manifests --------------------------------------------------------------------------------

namespace {

void decode_container(core::JsonReader& r, PodContainer& c) {
  r.read("name", c.name);
  r.read("image", c.image);
  r.read_list("ports", c.ports, [](core::JsonReader& p, PodContainerPort& port) {
    p.read("name", port.name);
    p.read("containerPort", port.container_port);
    p.read("protocol", port.protocol);
    if (port.protocol.empty()) port.protocol = "TCP";
  });
}

}  // namespace

core::Result<PodInfo> decode_pod_manifest(const core::Json& object, const std::string& where) {
  PodInfo pod;
  core::JsonReader r(object, "", /*strict=*/false);
  std::string kind;
  r.read("kind", kind);
  if (!kind.empty() && kind != "Pod") {
    return core::invalid_argument(where + ": kind " + core::go_quote(kind) + " is not a Pod");
  }
  r.read_object("metadata", pod, [](core::JsonReader& m, PodInfo& out) {
    m.read("name", out.name);
    std::string ns;
    m.read("namespace", ns);
    if (!ns.empty()) out.namespace_ = ns;
    m.read("uid", out.uid);
    m.read("labels", out.labels);
    m.read("annotations", out.annotations);
    struct Owner {
      std::string kind, name;
      bool controller = false;
    };
    std::vector<Owner> owners;
    m.read_list("ownerReferences", owners, [](core::JsonReader& o, Owner& owner) {
      o.read("kind", owner.kind);
      o.read("name", owner.name);
      o.read("controller", owner.controller);
    });
    for (const auto& owner : owners) {
      if (owner.controller) {
        out.controller_kind = owner.kind;
        out.controller_name = owner.name;
      }
    }
  });
  std::vector<PodContainer> init;
  r.read_object("spec", pod, [&init](core::JsonReader& s, PodInfo& out) {
    s.read("nodeName", out.node_name);
    s.read_list("containers", out.containers, decode_container);
    s.read_list("initContainers", init, decode_container);
  });
  r.read_object("status", pod, [](core::JsonReader& s, PodInfo& out) {
    s.read("podIP", out.pod_ip);
    s.read("hostIP", out.host_ip);
    std::string phase;
    s.read("phase", phase);
    if (!phase.empty()) out.phase = phase;
    struct Condition {
      std::string type, status;
    };
    std::vector<Condition> conditions;
    s.read_list("conditions", conditions, [](core::JsonReader& c, Condition& cond) {
      c.read("type", cond.type);
      c.read("status", cond.status);
    });
    for (const auto& cond : conditions) {
      if (cond.type == "Ready") {
        if (cond.status == "True") out.ready = true;
        if (cond.status == "False") out.ready = false;
      }
    }
  });
  if (auto status = r.finish(); !status) return core::with_context(status.error(), where);
  if (pod.name.empty()) return core::invalid_argument(where + ": metadata.name: Required value");
  for (auto& c : init) {
    c.init = true;
    pod.containers.push_back(std::move(c));
  }
  return pod;
}

core::Result<std::vector<PodInfo>> parse_pod_manifests(std::string_view text) {
  auto documents = core::parse_documents(text);
  if (!documents) return tl::unexpected(documents.error());
  std::vector<PodInfo> out;
  for (std::size_t d = 0; d < documents->size(); ++d) {
    const core::Json& doc = (*documents)[d];
    std::string where = "document " + std::to_string(d);
    if (!doc.is_object()) return core::invalid_argument(where + ": expected an object");
    if (doc.contains("items")) {
      const core::Json& items = doc["items"];
      if (!items.is_array()) return core::invalid_argument(where + ": items: expected a list");
      for (std::size_t i = 0; i < items.size(); ++i) {
        auto pod = decode_pod_manifest(items[i], where + " items[" + std::to_string(i) + "]");
        if (!pod) return tl::unexpected(pod.error());
        out.push_back(std::move(*pod));
      }
      continue;
    }
    auto pod = decode_pod_manifest(doc, where);
    if (!pod) return tl::unexpected(pod.error());
    out.push_back(std::move(*pod));
  }
  return out;
}

// ---- discovery labels -------------------------------------------------------------------------

namespace {

// net.JoinHostPort.
std::string join_host_port(const std::string& host, std::int32_t port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace

TargetGroup pod_target_group(const PodInfo& pod) {
  static const std::string kMeta = "__meta_kubernetes_";
  TargetGroup group;
  group.source = "pod/" + pod.namespace_ + "/" + pod.name;
  // The pod IP can be empty while a pod starts or after eviction: no targets then.
  if (pod.pod_ip.empty()) return group;
  std::vector<std::pair<std::string, std::string>> labels = {
      {kMeta + "namespace", pod.namespace_},
      {kMeta + "pod_name", pod.name},
      {kMeta + "pod_ip", pod.pod_ip},
      {kMeta + "pod_ready", pod.ready ? (*pod.ready ? "true" : "false") : "unknown"},
      {kMeta + "pod_phase", pod.phase},
      {kMeta + "pod_node_name", pod.node_name},
      {kMeta + "pod_host_ip", pod.host_ip},
      {kMeta + "pod_uid", pod.uid},
      {kMeta + "pod_controller_kind", pod.controller_kind},
      {kMeta + "pod_controller_name", pod.controller_name},
  };
  for (const auto& [key, value] : pod.labels) {
    labels.emplace_back(kMeta + "pod_label_" + sanitize_label_name(key), value);
    labels.emplace_back(kMeta + "pod_labelpresent_" + sanitize_label_name(key), "true");
  }
  for (const auto& [key, value] : pod.annotations) {
    labels.emplace_back(kMeta + "pod_annotation_" + sanitize_label_name(key), value);
    labels.emplace_back(kMeta + "pod_annotationpresent_" + sanitize_label_name(key), "true");
  }
  group.labels = Labels::from_pairs(std::move(labels));
  for (const auto& c : pod.containers) {
    std::string init = c.init ? "true" : "false";
    if (c.ports.empty()) {
      // No declared port: one target at the pod IP; the user has to add a port.
      group.targets.push_back(Labels::from_pairs({{"__address__", pod.pod_ip},
                                                  {kMeta + "pod_container_name", c.name},
                                                  {kMeta + "pod_container_image", c.image},
                                                  {kMeta + "pod_container_init", init}}));
      continue;
    }
    for (const auto& port : c.ports) {
      std::string number = std::to_string(port.container_port);
      group.targets.push_back(
          Labels::from_pairs({{"__address__", join_host_port(pod.pod_ip, port.container_port)},
                              {kMeta + "pod_container_name", c.name},
                              {kMeta + "pod_container_image", c.image},
                              {kMeta + "pod_container_port_number", number},
                              {kMeta + "pod_container_port_name", port.name},
                              {kMeta + "pod_container_port_protocol", port.protocol},
                              {kMeta + "pod_container_init", init}}));
    }
  }
  return group;
}

}  // namespace llmscale::prom
