// The in-memory object store of the embedded API server (see store.h).
#include "apiserver/store.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "core/time.h"

namespace llmscale::apiserver {
namespace {

using core::Json;

const Json* find_path(const Json& object, const char* a, const char* b) {
  auto i = object.find(a);
  if (i == object.end() || !i->is_object()) return nullptr;
  auto j = i->find(b);
  return j == i->end() ? nullptr : &*j;
}

std::string string_at(const Json& object, const char* a, const char* b) {
  const Json* v = find_path(object, a, b);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

// Everything but metadata and status: what metadata.generation tracks.
bool same_desired_state(const Json& a, const Json& b) {
  auto strip = [](const Json& o) {
    Json copy = Json::object();
    for (auto it = o.begin(); it != o.end(); ++it)
      if (it.key() != "metadata" && it.key() != "status") copy[it.key()] = it.value();
    return copy;
  };
  return strip(a) == strip(b);
}

// A version-4-shaped UUID from a SplitMix64 stream (unique within a store; the API server's
// are random, nothing depends on their bits).
std::string make_uid(std::uint64_t seed) {
  auto next = [&seed] {
    std::uint64_t z = core::splitmix64(seed);
    seed += core::kGoldenGamma;
    return z;
  };
  std::uint64_t hi = next();
  std::uint64_t lo = next();
  char out[37];
  std::snprintf(out, sizeof out, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0x0fff),
                static_cast<unsigned>(((lo >> 48) & 0x3fff) | 0x8000),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return out;
}

}  // namespace

const char* event_type_name(EventType type) {
  switch (type) {
    case EventType::kAdded: return "ADDED";
    case EventType::kModified: return "MODIFIED";
    case EventType::kDeleted: return "DELETED";
  }
  return "ADDED";
}

std::uint64_t object_resource_version(const Json& object) {
  std::string text = string_at(object, "metadata", "resourceVersion");
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || value > (UINT64_MAX - 9) / 10) return 0;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

ApiResult<std::optional<std::uint64_t>> parse_resource_version(const std::string& text) {
  if (text.empty()) return std::optional<std::uint64_t>();
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9' || value > (UINT64_MAX - 9) / 10 || text.size() > 19)
      // apiserver/pkg/storage: APIObjectVersioner.ParseResourceVersion.
      return tl::unexpected(bad_request("invalid resource version \"" + text + "\""));
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return std::optional<std::uint64_t>(value);
}

Store::Store(const core::Clock& clock, std::size_t history_limit)
    : clock_(clock), history_limit_(history_limit == 0 ? 1 : history_limit) {}

std::uint64_t Store::oldest_resumable() const {
  return compacted_;
}

void Store::record(EventType type, const std::string& resource, const Key& key, ObjectPtr object,
                   ObjectPtr previous) {
  StoreEvent event{type,      resource,          key.first,          key.second,
                   revision_, std::move(object), std::move(previous)};
  history_.push_back(event);
  while (history_.size() > history_limit_) {
    compacted_ = history_.front().resource_version;
    history_.pop_front();
  }
  // Listeners may unsubscribe (or subscribe) while being called: iterate over a snapshot.
  std::vector<int> ids;
  ids.reserve(listeners_.size());
  for (const auto& [id, listener] : listeners_) ids.push_back(id);
  for (int id : ids) {
    auto it = listeners_.find(id);
    if (it != listeners_.end()) it->second(event);
  }
}

ApiResult<ObjectPtr> Store::create(const GroupResource& resource, Json object, bool keep_identity) {
  if (!object.is_object()) return tl::unexpected(bad_request("the object must be a JSON object"));
  Json& meta = object["metadata"];
  if (!meta.is_object()) meta = Json::object();
  std::string name = meta.value("name", std::string());
  std::string ns = meta.value("namespace", std::string());
  if (meta.contains("resourceVersion") && !string_at(object, "metadata", "resourceVersion").empty())
    // apiserver/pkg/registry/generic/registry: Store.Create.
    return tl::unexpected(
        bad_request("resourceVersion should not be set on objects to be created"));
  std::string key_name = resource.to_string();
  auto& bucket = objects_[key_name];
  Key key{ns, name};
  if (bucket.count(key) != 0) return tl::unexpected(already_exists(resource, name));
  ++revision_;
  if (!keep_identity || string_at(object, "metadata", "uid").empty())
    meta["uid"] = make_uid((revision_ << 20) ^ ++uid_counter_ ^
                           static_cast<std::uint64_t>(clock_.now().time_since_epoch().count()));
  meta["resourceVersion"] = std::to_string(revision_);
  meta["generation"] = 1;
  if (!keep_identity || string_at(object, "metadata", "creationTimestamp").empty())
    meta["creationTimestamp"] = core::format_rfc3339(clock_.now());
  auto stored = std::make_shared<const Json>(std::move(object));
  bucket.emplace(key, stored);
  record(EventType::kAdded, key_name, key, stored, nullptr);
  return ObjectPtr(stored);
}

ApiResult<ObjectPtr> Store::get(const GroupResource& resource, const std::string& ns,
                                const std::string& name) const {
  auto bucket = objects_.find(resource.to_string());
  if (bucket != objects_.end()) {
    auto it = bucket->second.find(Key{ns, name});
    if (it != bucket->second.end()) return it->second;
  }
  return tl::unexpected(not_found(resource, name));
}

Store::List Store::list(const GroupResource& resource, const std::string& ns) const {
  List out;
  out.resource_version = revision_;
  auto bucket = objects_.find(resource.to_string());
  if (bucket == objects_.end()) return out;
  if (ns.empty()) {
    out.items.reserve(bucket->second.size());
    for (const auto& [key, object] : bucket->second) out.items.push_back(object);
    return out;
  }
  for (auto it = bucket->second.lower_bound(Key{ns, ""});
       it != bucket->second.end() && it->first.first == ns; ++it)
    out.items.push_back(it->second);
  return out;
}

ApiResult<ObjectPtr> Store::update(const GroupResource& resource, Json object) {
  if (!object.is_object()) return tl::unexpected(bad_request("the object must be a JSON object"));
  Json& meta = object["metadata"];
  if (!meta.is_object()) meta = Json::object();
  std::string name = meta.value("name", std::string());
  std::string ns = meta.value("namespace", std::string());
  std::string key_name = resource.to_string();
  auto& bucket = objects_[key_name];
  Key key{ns, name};
  auto it = bucket.find(key);
  if (it == bucket.end()) return tl::unexpected(not_found(resource, name));
  const Json& old = *it->second;
  std::string sent_version = string_at(object, "metadata", "resourceVersion");
  std::string stored_version = string_at(old, "metadata", "resourceVersion");
  if (!sent_version.empty() && sent_version != stored_version)
    return tl::unexpected(stale_conflict(resource, name));
  std::string sent_uid = string_at(object, "metadata", "uid");
  if (!sent_uid.empty() && sent_uid != string_at(old, "metadata", "uid"))
    // Precondition failed: UID in precondition: x, UID in object meta: y.
    return tl::unexpected(
        conflict(resource, name,
                 "Precondition failed: UID in precondition: " + sent_uid +
                     ", UID in object meta: " + string_at(old, "metadata", "uid")));
  const Json& old_meta = old.at("metadata");
  meta["uid"] = old_meta.value("uid", std::string());
  meta["creationTimestamp"] = old_meta.value("creationTimestamp", std::string());
  std::int64_t generation = old_meta.value("generation", std::int64_t{1});
  meta["generation"] = same_desired_state(old, object) ? generation : generation + 1;
  meta["resourceVersion"] = stored_version;
  if (object == old) return it->second;  // no-op write: no new version, no event
  ++revision_;
  meta["resourceVersion"] = std::to_string(revision_);
  auto stored = std::make_shared<const Json>(std::move(object));
  ObjectPtr previous = it->second;
  it->second = stored;
  record(EventType::kModified, key_name, key, stored, std::move(previous));
  return ObjectPtr(stored);
}

ApiResult<ObjectPtr> Store::remove(const GroupResource& resource, const std::string& ns,
                                   const std::string& name, const Preconditions& preconditions) {
  std::string key_name = resource.to_string();
  auto bucket = objects_.find(key_name);
  Key key{ns, name};
  if (bucket == objects_.end() || bucket->second.count(key) == 0)
    return tl::unexpected(not_found(resource, name));
  auto it = bucket->second.find(key);
  const Json& old = *it->second;
  if (preconditions.uid && *preconditions.uid != string_at(old, "metadata", "uid"))
    return tl::unexpected(
        conflict(resource, name,
                 "Precondition failed: UID in precondition: " + *preconditions.uid +
                     ", UID in object meta: " + string_at(old, "metadata", "uid")));
  if (preconditions.resource_version &&
      *preconditions.resource_version != string_at(old, "metadata", "resourceVersion"))
    return tl::unexpected(conflict(
        resource, name,
        "Precondition failed: ResourceVersion in precondition: " + *preconditions.resource_version +
            ", ResourceVersion in object meta: " + string_at(old, "metadata", "resourceVersion")));
  ++revision_;
  Json last = old;
  last["metadata"]["resourceVersion"] = std::to_string(revision_);
  auto deleted = std::make_shared<const Json>(std::move(last));
  ObjectPtr previous = it->second;
  bucket->second.erase(it);
  record(EventType::kDeleted, key_name, key, deleted, std::move(previous));
  return ObjectPtr(deleted);
}

ApiResult<std::vector<StoreEvent>> Store::events_since(const std::string& resource,
                                                       std::uint64_t resource_version) const {
  if (resource_version < compacted_)
    return tl::unexpected(expired(resource_version, compacted_ + 1));
  std::vector<StoreEvent> out;
  for (const StoreEvent& e : history_)
    if (e.resource_version > resource_version && e.resource == resource) out.push_back(e);
  return out;
}

int Store::subscribe(Listener listener) {
  int id = next_listener_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void Store::unsubscribe(int id) {
  listeners_.erase(id);
}

}  // namespace llmscale::apiserver
