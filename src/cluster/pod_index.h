// PodIndex: the pods an informer holds, decoded once and indexed by namespace and label, so a
// reconcile pass finds its target's pods without a LIST (as the HPA controller reads a pod
// lister) and without scanning every pod in the namespace.
//
// Value type fed by the pod informer's handlers; not thread-safe (the controller's loop thread).
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/json.h"
#include "kube/label_selector.h"
#include "kube/objects.h"

namespace llmscale::cluster {

class PodIndex {
 public:
  // Adds or replaces the pod (an undecodable one is dropped, as a LIST pass drops it).
  void upsert(const core::Json& pod);
  void remove(const core::Json& pod);

  // The pods in `namespace_name` that `selector` matches, in name order.
  std::vector<kube::Pod> select(const std::string& namespace_name,
                                const kube::Selector& selector) const;

  std::size_t size() const { return pods_.size(); }

 private:
  using Key = std::pair<std::string, std::string>;  // namespace, name
  void unindex(const Key& key);

  std::map<Key, kube::Pod> pods_;
  // (namespace, "label=value") -> pod names.
  std::map<std::pair<std::string, std::string>, std::set<std::string>> by_label_;
};

}  // namespace llmscale::cluster
