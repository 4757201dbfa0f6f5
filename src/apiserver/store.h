// Store: the objects of the embedded API server — what etcd and the watch cache are to
// kube-apiserver, in memory.
//
// One resourceVersion counter for all objects (as etcd's revision): every create, update and
// delete takes the next number, and lists report the counter. Writes check the resourceVersion
// a client sent (optimistic concurrency: 409 Conflict when it is stale), fill uid,
// creationTimestamp and generation on create, and bump generation when anything but metadata
// and status changed. A bounded history of changes lets watches resume from a resourceVersion;
// one older than the history answers 410 Expired, as the watch cache does.
//
// Objects are JSON documents (the API's wire form, one version per resource); the caller
// validates and defaults them before they get here. Values handed out are shared immutable
// snapshots, so lists and watch fan-out copy nothing.
//
// Thread-safety: none; use it from one thread (the event loop of `up`).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "apiserver/status.h"
#include "core/clock.h"
#include "core/json.h"

namespace llmscale::apiserver {

using ObjectPtr = std::shared_ptr<const core::Json>;

enum class EventType { kAdded, kModified, kDeleted };
const char* event_type_name(EventType type);  // "ADDED", "MODIFIED", "DELETED"

struct StoreEvent {
  EventType type = EventType::kAdded;
  std::string resource;  // GroupResource::to_string()
  std::string namespace_;
  std::string name;
  std::uint64_t resource_version = 0;
  // The object after the change; for kDeleted, the last state with the deletion's
  // resourceVersion (what watchers receive).
  ObjectPtr object;
  // The object before the change (null for kAdded): a watch with a selector turns a
  // modification that leaves (enters) the selection into DELETED (ADDED), as the API server does.
  ObjectPtr previous;
};

struct Preconditions {
  std::optional<std::string> uid;
  std::optional<std::string> resource_version;
};

class Store {
 public:
  explicit Store(const core::Clock& clock, std::size_t history_limit = 10'000);

  // Adds `object` (metadata.name set; metadata.namespace set for namespaced resources, "" for
  // cluster-scoped ones). AlreadyExists when the name is taken. Fills uid, creationTimestamp,
  // generation 1 and resourceVersion; a resourceVersion sent by the client is an error, as on
  // the API server ("resourceVersion should not be set on objects to be created").
  // `keep_identity`: an object mirrored from elsewhere (a local replica as a Pod) keeps the uid
  // and creationTimestamp it has, as a kubelet-reported pod keeps its own.
  ApiResult<ObjectPtr> create(const GroupResource& resource, core::Json object,
                              bool keep_identity = false);

  ApiResult<ObjectPtr> get(const GroupResource& resource, const std::string& ns,
                           const std::string& name) const;

  struct List {
    std::vector<ObjectPtr> items;  // sorted by namespace, then name (as etcd's key order)
    std::uint64_t resource_version = 0;
  };
  // `ns` empty lists every namespace.
  List list(const GroupResource& resource, const std::string& ns) const;

  // Replaces an existing object. A non-empty metadata.resourceVersion in `object` must equal
  // the stored one (Conflict otherwise); an empty one means "unconditional" (as for PUT without
  // one on resources that allow it). uid and creationTimestamp are kept from the stored object.
  // Returns the stored object; a write that changes nothing keeps the resourceVersion and sends
  // no event, as the API server does.
  ApiResult<ObjectPtr> update(const GroupResource& resource, core::Json object);

  // Deletes an object. Returns the deleted object (with the deletion's resourceVersion).
  ApiResult<ObjectPtr> remove(const GroupResource& resource, const std::string& ns,
                              const std::string& name, const Preconditions& preconditions = {});

  std::uint64_t resource_version() const { return revision_; }
  // The oldest resourceVersion a watch can resume from.
  std::uint64_t oldest_resumable() const;

  // Changes to `resource` after `resource_version`, oldest first; Expired when the history
  // no longer reaches back that far.
  ApiResult<std::vector<StoreEvent>> events_since(const std::string& resource,
                                                  std::uint64_t resource_version) const;

  // Called after every change, synchronously, in order. Returns an id for unsubscribe().
  using Listener = std::function<void(const StoreEvent&)>;
  int subscribe(Listener listener);
  void unsubscribe(int id);

 private:
  using Key = std::pair<std::string, std::string>;  // namespace, name
  void record(EventType type, const std::string& resource, const Key& key, ObjectPtr object,
              ObjectPtr previous);

  const core::Clock& clock_;
  std::size_t history_limit_;
  std::uint64_t revision_ = 0;
  std::uint64_t uid_counter_ = 0;
  std::map<std::string, std::map<Key, ObjectPtr>> objects_;
  std::deque<StoreEvent> history_;
  std::uint64_t compacted_ = 0;  // the newest revision dropped from history_
  std::map<int, Listener> listeners_;
  int next_listener_ = 1;
};

// metadata.resourceVersion of a stored object as a number (0 when absent or malformed).
std::uint64_t object_resource_version(const core::Json& object);
// Parses a resourceVersion query parameter: "" -> nullopt; digits -> value; else BadRequest.
ApiResult<std::optional<std::uint64_t>> parse_resource_version(const std::string& text);

}  // namespace llmscale::apiserver
