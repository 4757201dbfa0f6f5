// The controller's pod cache with a label index; see pod_index.h.
#include "cluster/pod_index.h"

#include <nlohmann/json.hpp>

#include "kube/json_codec.h"

namespace llmscale::cluster {

namespace {

std::string label_key(const std::string& key, const std::string& value) {
  return key + "=" + value;
}

}  // namespace

void PodIndex::unindex(const Key& key) {
  auto it = pods_.find(key);
  if (it == pods_.end()) return;
  for (const auto& [label, value] : it->second.metadata.labels) {
    auto entry = by_label_.find({key.first, label_key(label, value)});
    if (entry == by_label_.end()) continue;
    entry->second.erase(key.second);
    if (entry->second.empty()) by_label_.erase(entry);
  }
  pods_.erase(it);
}

void PodIndex::upsert(const core::Json& object) {
  auto pod = kube::decode_pod(object, "pod");
  if (!pod) {
    remove(object);
    return;
  }
  Key key{pod->metadata.namespace_, pod->metadata.name};
  unindex(key);
  for (const auto& [label, value] : pod->metadata.labels) {
    by_label_[{key.first, label_key(label, value)}].insert(key.second);
  }
  pods_.emplace(key, std::move(*pod));
}

void PodIndex::remove(const core::Json& object) {
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object()) {
    return;
  }
  const core::Json& meta = object["metadata"];
  unindex({meta.value("namespace", ""), meta.value("name", "")});
}

std::vector<kube::Pod> PodIndex::select(const std::string& namespace_name,
                                        const kube::Selector& selector) const {
  std::vector<kube::Pod> out;
  if (selector.is_nothing()) return out;
  // Narrow by the first requirement that names one value (key=value, key in (value)).
  const std::set<std::string>* candidates = nullptr;
  static const std::set<std::string> kNone;
  for (const kube::Requirement& requirement : selector.requirements()) {
    bool equality =
        requirement.op == kube::SelectorOperator::kEquals ||
        requirement.op == kube::SelectorOperator::kDoubleEquals ||
        (requirement.op == kube::SelectorOperator::kIn && requirement.values.size() == 1);
    if (!equality || requirement.values.size() != 1) continue;
    auto entry =
        by_label_.find({namespace_name, label_key(requirement.key, requirement.values[0])});
    candidates = entry == by_label_.end() ? &kNone : &entry->second;
    break;
  }
  if (candidates != nullptr) {
    for (const std::string& name : *candidates) {
      const kube::Pod& pod = pods_.at({namespace_name, name});
      if (selector.matches(pod.metadata.labels)) out.push_back(pod);
    }
    return out;
  }
  for (auto it = pods_.lower_bound({namespace_name, ""});
       it != pods_.end() && it->first.first == namespace_name; ++it) {
    if (selector.matches(it->second.metadata.labels)) out.push_back(it->second);
  }
  return out;
}

}  // namespace llmscale::cluster
