// The Kubernetes REST API of the embedded API server (see api_server.h): request routing,
// discovery, CRUD with admission, patches, subresources, server-side tables and watches.
#include "apiserver/api_server.h"

#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "apiserver/openapi.h"
#include "apiserver/patch.h"
#include "core/hash.h"
#include "core/json_reader.h"
#include "core/strings.h"
#include "core/time.h"
#include "kube/field_selector.h"
#include "kube/json_codec.h"
#include "kube/label_selector.h"
#include "kube/printers.h"
#include "net/notifier.h"
#include "net/router.h"

namespace llmscale::apiserver {
namespace {

using core::Json;

// ---- small helpers ------------------------------------------------------------------------

net::Response json_response(int code, const Json& body) {
  return net::Response::json(code, core::to_compact_json(body) + "\n");
}

net::Response status_response(const ApiStatus& status) {
  net::Response response = net::Response::json(status.code, status.body());
  if (status.details && status.details->retry_after_seconds > 0)
    response.headers.set("Retry-After", std::to_string(status.details->retry_after_seconds));
  return response;
}

ApiStatus path_not_found() {
  ApiStatus status;
  status.code = 404;
  status.reason = "NotFound";
  status.message = "the server could not find the requested resource";
  status.details = StatusDetails{};
  return status;
}

const Json* find_key(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

std::string meta_string(const Json& object, const char* key) {
  const Json* meta = find_key(object, "metadata");
  if (meta == nullptr) return "";
  const Json* v = find_key(*meta, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

kube::Labels meta_labels(const Json& object) {
  kube::Labels labels;
  const Json* meta = find_key(object, "metadata");
  const Json* l = meta == nullptr ? nullptr : find_key(*meta, "labels");
  if (l != nullptr && l->is_object())
    for (auto it = l->begin(); it != l->end(); ++it)
      if (it->is_string()) labels[it.key()] = it->get<std::string>();
  return labels;
}

// Built outside coroutines: GCC 12 mishandles braced initializer lists in coroutine bodies.
net::Headers stream_headers() {
  return net::Headers{{"Content-Type", "application/json"}, {"Cache-Control", "no-cache"}};
}

std::string error_event_line(const ApiStatus& status) {
  Json event{{"type", "ERROR"}, {"object", status.to_json()}};
  return core::to_compact_json(event) + "\n";
}

ApiStatus field_manager_required() {
  return invalid("meta.k8s.io", "PatchOptions", "",
                 {kube::required("fieldManager", "is required for apply patch")});
}

// Go's strconv.ParseBool truths, as the API server decodes boolean query parameters.
bool query_true(const net::ServerRequest& request, std::string_view name) {
  auto v = request.query.get(name);
  return v && (*v == "true" || *v == "1" || *v == "True" || *v == "TRUE" || *v == "t" || *v == "T");
}

// ---- request parsing (apiserver/pkg/endpoints/request.RequestInfoFactory) ------------------

struct RequestInfo {
  std::string group;
  std::string version;
  std::string namespace_;
  std::string resource;
  std::string name;
  std::string subresource;
  bool discovery = false;  // /api/v1 or /apis/g/v itself
};

// ---- the watch of one client ----------------------------------------------------------------

struct WatchSession {
  net::Notifier notifier;
  std::deque<std::string> lines;
  bool closed = false;
  bool overflow = false;
  bool timed_out = false;
  bool bookmark_due = false;
};

}  // namespace

struct ApiServer::Impl {
  Store& store;
  core::Clock& clock;
  std::vector<ResourceType> resources;
  ApiServerOptions options;
  std::vector<std::pair<std::string, std::string>> external_groups;

  // The resources of the watches in progress (listener id -> timers), released by the watch
  // when it ends or by the destructor when the server goes first: a watch coroutine's frame may
  // be destroyed after the ApiServer (when its event loop is), and must not touch it then.
  struct WatchResources {
    core::Clock::TimerId timeout_timer = 0;
    std::shared_ptr<core::Clock::TimerId> bookmark_timer;
  };
  std::map<int, WatchResources> watches;
  std::shared_ptr<Impl*> self = std::make_shared<Impl*>(this);

  Impl(Store& s, core::Clock& c, std::vector<ResourceType> r, ApiServerOptions o)
      : store(s), clock(c), resources(std::move(r)), options(o) {}

  ~Impl() {
    while (!watches.empty()) end_watch(watches.begin()->first);
  }

  void end_watch(int listener) {
    auto it = watches.find(listener);
    if (it == watches.end()) return;
    store.unsubscribe(listener);
    if (it->second.timeout_timer != 0) clock.cancel(it->second.timeout_timer);
    if (*it->second.bookmark_timer != 0) clock.cancel(*it->second.bookmark_timer);
    watches.erase(it);
  }

  const ResourceType* find(std::string_view group, std::string_view version,
                           std::string_view resource) const {
    for (const ResourceType& t : resources)
      if (t.group == group && (version.empty() || t.version == version) && t.resource == resource)
        return &t;
    return nullptr;
  }

  bool serves_group_version(std::string_view group, std::string_view version) const {
    return std::any_of(resources.begin(), resources.end(), [&](const ResourceType& t) {
      return t.group == group && t.version == version;
    });
  }

  // Groups in the order kube-apiserver lists them: the first resource's group first.
  std::vector<std::pair<std::string, std::string>> group_versions() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const ResourceType& t : resources) {
      std::pair<std::string, std::string> gv{t.group, t.version};
      if (!t.group.empty() && std::find(out.begin(), out.end(), gv) == out.end()) out.push_back(gv);
    }
    for (const auto& gv : external_groups)
      if (std::find(out.begin(), out.end(), gv) == out.end()) out.push_back(gv);
    return out;
  }

  // ---- discovery -------------------------------------------------------------------------

  Json version_json() const {
    std::string v(kKubernetesVersion);
    std::string minor = v.substr(v.find('.') + 1);
    minor = minor.substr(0, minor.find('.'));
    return Json{{"major", "1"},
                {"minor", minor},
                {"emulationMajor", "1"},
                {"emulationMinor", minor},
                {"minCompatibilityMajor", "1"},
                {"minCompatibilityMinor", std::to_string(std::max(0, std::stoi(minor) - 1))},
                {"gitVersion", v + "+llmscale"},
                {"gitCommit", ""},
                {"gitTreeState", "clean"},
                {"buildDate", ""},
                {"goVersion", ""},
                {"compiler", "gc"},
                {"platform", "linux/amd64"}};
  }

  Json api_versions(const net::ServerRequest& request) const {
    std::string host(request.header("Host"));
    return Json{{"kind", "APIVersions"},
                {"versions", Json::array({"v1"})},
                {"serverAddressByClientCIDRs",
                 Json::array({Json{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", host}}})}};
  }

  // One APIGroup with every version served, the first listed preferred (kube-apiserver lists
  // versions by priority: autoscaling v2 before v1).
  Json group_json(const std::string& group) const {
    Json versions = Json::array();
    for (const auto& [g, version] : group_versions())
      if (g == group)
        versions.push_back(Json{{"groupVersion", group + "/" + version}, {"version", version}});
    Json preferred = versions.empty() ? Json::object() : versions[0];
    return Json{{"name", group}, {"versions", versions}, {"preferredVersion", preferred}};
  }

  Json group_list() const {
    Json groups = Json::array();
    std::vector<std::string> seen;
    for (const auto& [group, version] : group_versions()) {
      if (std::find(seen.begin(), seen.end(), group) != seen.end()) continue;
      seen.push_back(group);
      groups.push_back(group_json(group));
    }
    return Json{{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
  }

  net::Response group_response(const std::string& group) const {
    Json g = group_json(group);
    if (g["versions"].empty()) return status_response(path_not_found());
    g["kind"] = "APIGroup";
    g["apiVersion"] = "v1";
    return json_response(200, g);
  }

  Json resource_list(const std::string& group, const std::string& version) const {
    Json list = Json::array();
    const Json verbs = Json::array(
        {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"});
    for (const ResourceType& t : resources) {
      if (t.group != group || t.version != version) continue;
      Json r{{"name", t.resource},
             {"singularName", t.singular},
             {"namespaced", t.namespaced},
             {"kind", t.kind},
             {"verbs", verbs}};
      if (!t.short_names.empty()) r["shortNames"] = t.short_names;
      if (!t.categories.empty()) r["categories"] = t.categories;
      list.push_back(std::move(r));
      if (t.scale_subresource)
        list.push_back(Json{{"name", t.resource + "/scale"},
                            {"singularName", ""},
                            {"namespaced", t.namespaced},
                            {"group", "autoscaling"},
                            {"version", "v1"},
                            {"kind", "Scale"},
                            {"verbs", Json::array({"get", "patch", "update"})}});
      if (t.status_subresource)
        list.push_back(Json{{"name", t.resource + "/status"},
                            {"singularName", ""},
                            {"namespaced", t.namespaced},
                            {"kind", t.kind},
                            {"verbs", Json::array({"get", "patch", "update"})}});
    }
    return Json{{"kind", "APIResourceList"},
                {"apiVersion", "v1"},
                {"groupVersion", group.empty() ? version : group + "/" + version},
                {"resources", list}};
  }

  net::Response openapi_document(const std::string& gv) const {
    std::vector<std::string> parts;
    for (std::string_view p : core::split(gv, '/'))
      if (!p.empty()) parts.emplace_back(p);
    std::optional<Json> doc;
    if (parts.size() == 2 && parts[0] == "api") doc = openapi_v3_document(resources, "", parts[1]);
    if (parts.size() == 3 && parts[0] == "apis")
      doc = openapi_v3_document(resources, parts[1], parts[2]);
    if (!doc) return status_response(path_not_found());
    return json_response(200, *doc);
  }

  // ---- tables ----------------------------------------------------------------------------

  static bool wants_table(const net::ServerRequest& request) {
    std::string_view accept = request.header("Accept");
    for (std::string_view part : core::split(accept, ',')) {
      if (part.find("as=Table") != std::string_view::npos &&
          part.find("g=meta.k8s.io") != std::string_view::npos &&
          part.find("application/json") != std::string_view::npos)
        return true;
    }
    return false;
  }

  static std::vector<TableColumn> columns_of(const ResourceType& type) {
    if (!type.columns.empty()) return type.columns;
    return {{"Name", "string", "name", "", 0}, {"Age", "date", "", "", 0}};
  }

  Json column_definitions(const ResourceType& type) const {
    Json out = Json::array();
    for (const TableColumn& c : columns_of(type))
      out.push_back(Json{{"name", c.name},
                         {"type", c.type},
                         {"format", c.format},
                         {"description", c.description},
                         {"priority", c.priority}});
    return out;
  }

  Json table_row(const ResourceType& type, const Json& object, std::string_view include) const {
    core::Time now = clock.now();
    Json cells = Json::array();
    if (type.cells) {
      for (Json& c : type.cells(object, now)) cells.push_back(std::move(c));
    } else {
      cells.push_back(meta_string(object, "name"));
      std::string created = meta_string(object, "creationTimestamp");
      auto t = core::parse_rfc3339(created);
      cells.push_back(t ? kube::human_duration(now - *t) : std::string("<unknown>"));
    }
    Json row{{"cells", cells}};
    if (include == "Object") {
      row["object"] = object;
    } else if (include != "None") {
      Json meta = object.contains("metadata") ? object["metadata"] : Json::object();
      meta.erase("managedFields");
      row["object"] = Json{
          {"kind", "PartialObjectMetadata"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", meta}};
    }
    return row;
  }

  Json table(const ResourceType& type, const std::vector<const Json*>& objects,
             std::uint64_t resource_version, std::string_view include, bool headers) const {
    Json rows = Json::array();
    for (const Json* o : objects) rows.push_back(table_row(type, *o, include));
    Json meta = Json::object();
    if (resource_version != 0) meta["resourceVersion"] = std::to_string(resource_version);
    Json out{{"kind", "Table"}, {"apiVersion", "meta.k8s.io/v1"}, {"metadata", meta}};
    out["columnDefinitions"] = headers ? column_definitions(type) : Json();
    out["rows"] = std::move(rows);
    return out;
  }

  // ---- reads -------------------------------------------------------------------------------

  struct Filter {
    std::string namespace_;
    kube::Selector labels;
    kube::FieldSelector fields;

    bool matches(const Json& object) const {
      if (!namespace_.empty() && meta_string(object, "namespace") != namespace_) return false;
      return labels.matches(meta_labels(object)) && kube::matches(fields, object);
    }
  };

  ApiResult<Filter> make_filter(const ResourceType& type, const RequestInfo& info,
                                const net::ServerRequest& request) const {
    Filter filter;
    filter.namespace_ = info.namespace_;
    auto labels = kube::Selector::parse(request.query.get("labelSelector").value_or(""));
    if (!labels) return tl::unexpected(bad_request(labels.error().message));
    filter.labels = std::move(*labels);
    auto fields = kube::parse_field_selector(request.query.get("fieldSelector").value_or(""),
                                             type.field_labels);
    if (!fields) return tl::unexpected(bad_request(fields.error().message));
    filter.fields = std::move(*fields);
    return filter;
  }

  net::Response list(const ResourceType& type, const RequestInfo& info,
                     const net::ServerRequest& request) const {
    auto filter = make_filter(type, info, request);
    if (!filter) return status_response(filter.error());
    auto rv =
        parse_resource_version(std::string(request.query.get("resourceVersion").value_or("")));
    if (!rv) return status_response(rv.error());
    // Only the newest state is kept: an exact older version cannot be served.
    if (*rv && **rv != 0 &&
        request.query.get("resourceVersionMatch") == std::string_view("Exact") &&
        **rv != store.resource_version())
      return status_response(expired(**rv, store.resource_version()));
    Store::List all = store.list(type.group_resource(), info.namespace_);
    std::vector<const Json*> items;
    for (const ObjectPtr& o : all.items)
      if (filter->matches(*o)) items.push_back(o.get());
    if (wants_table(request))
      return json_response(200,
                           table(type, items, all.resource_version,
                                 request.query.get("includeObject").value_or("Metadata"), true));
    Json list_items = Json::array();
    for (const Json* o : items) list_items.push_back(present(type, *o));
    return json_response(200, list_json(type, std::move(list_items), all.resource_version));
  }

  static Json list_json(const ResourceType& type, Json items, std::uint64_t resource_version) {
    return Json{{"kind", type.kind + "List"},
                {"apiVersion", type.group_version()},
                {"metadata", {{"resourceVersion", std::to_string(resource_version)}}},
                {"items", std::move(items)}};
  }

  net::Response object_response(int code, const ResourceType& type, const Json& object,
                                const net::ServerRequest& request) const {
    if (wants_table(request))
      return json_response(code,
                           table(type, {&object}, object_resource_version(object),
                                 request.query.get("includeObject").value_or("Metadata"), true));
    return json_response(code, present(type, object));
  }

  // A stored object in the version `type` serves (resource.h: from_storage).
  static Json present(const ResourceType& type, const Json& stored) {
    return type.from_storage ? type.from_storage(stored) : stored;
  }

  // ---- writes ------------------------------------------------------------------------------

  ApiResult<Json> decode_body(const ResourceType& type, const RequestInfo& info,
                              const net::ServerRequest& request) const {
    auto parsed = core::parse_document(request.body);
    if (!parsed)
      return tl::unexpected(bad_request(type.kind + " in version \"" + type.version +
                                        "\" cannot be handled as a " + type.kind + ": " +
                                        parsed.error().message));
    Json object = std::move(*parsed);
    if (!object.is_object())
      return tl::unexpected(bad_request("Object 'Kind' is missing in '" + request.body + "'"));
    return check_identity(type, info, std::move(object));
  }

  // apiVersion/kind filled or checked; namespace from the path; name from the path on PUT.
  ApiResult<Json> check_identity(const ResourceType& type, const RequestInfo& info,
                                 Json object) const {
    // A merge patch that is not an object replaces the whole document (RFC 7386): what is left
    // is no Kubernetes object.
    if (!object.is_object())
      return tl::unexpected(
          bad_request("Object 'Kind' is missing in '" + core::to_compact_json(object) + "'"));
    std::string api_version = object.value("apiVersion", "");
    std::string kind = object.value("kind", "");
    if (!api_version.empty() && api_version != type.group_version())
      return tl::unexpected(bad_request("the API version in the data (" + api_version +
                                        ") does not match the expected API version (" +
                                        type.group_version() + ")"));
    if (!kind.empty() && kind != type.kind)
      return tl::unexpected(bad_request("the kind in the data (" + kind +
                                        ") does not match the expected kind (" + type.kind + ")"));
    if (object.find("apiVersion") == object.end() || api_version.empty())
      object["apiVersion"] = type.group_version();
    if (object.find("kind") == object.end() || kind.empty()) object["kind"] = type.kind;
    Json& meta = object["metadata"];
    if (!meta.is_object()) meta = Json::object();
    if (type.namespaced) {
      std::string ns = meta.value("namespace", "");
      if (!ns.empty() && ns != info.namespace_)
        return tl::unexpected(bad_request(
            "the namespace of the provided object does not match the namespace sent on the "
            "request"));
      meta["namespace"] = info.namespace_;
    } else {
      meta.erase("namespace");
    }
    if (!info.name.empty()) {
      std::string name = meta.value("name", "");
      if (name.empty()) {
        meta["name"] = info.name;
      } else if (name != info.name) {
        return tl::unexpected(bad_request("the name of the object (" + name +
                                          ") does not match the name on the URL (" + info.name +
                                          ")"));
      }
    }
    // Fields only the server sets.
    meta.erase("managedFields");
    meta.erase("selfLink");
    return object;
  }

  ApiOutcome namespace_exists(const ResourceType& type, const std::string& ns) const {
    if (!type.namespaced) return {};
    if (ns.empty())
      return tl::unexpected(bad_request("the server could not find the requested resource"));
    if (!store.get({"", "namespaces"}, "", ns))
      return tl::unexpected(not_found({"", "namespaces"}, ns));
    return {};
  }

  std::string generate_name(const std::string& prefix) {
    static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    std::uint64_t x = store.resource_version() * core::kGoldenGamma +
                      static_cast<std::uint64_t>(clock.now().time_since_epoch().count());
    std::string out = prefix;
    for (int i = 0; i < 5; ++i) {
      x ^= x >> 33;
      x *= 0xff51afd7ed558ccdULL;
      out += kAlphabet[x % (sizeof kAlphabet - 1)];
    }
    return out;
  }

  ApiResult<ObjectPtr> create_object(const ResourceType& type, Json object, bool strict,
                                     bool dry_run) {
    if (type.to_storage) {
      auto stored = type.to_storage(object);
      if (!stored) return tl::unexpected(stored.error());
      object = std::move(*stored);
    }
    Json& meta = object["metadata"];
    if (meta.value("name", "").empty() && !meta.value("generateName", "").empty())
      meta["name"] = generate_name(meta["generateName"].get<std::string>());
    if (auto ok = namespace_exists(type, meta.value("namespace", "")); !ok)
      return tl::unexpected(ok.error());
    if (type.status_subresource && type.resource != "namespaces" && type.resource != "pods")
      object.erase("status");  // PrepareForCreate resets status
    if (type.admit) {
      if (auto ok = type.admit(object, nullptr, strict); !ok) return tl::unexpected(ok.error());
    }
    if (dry_run) {
      if (store.get(type.group_resource(), meta_string(object, "namespace"),
                    meta_string(object, "name")))
        return tl::unexpected(already_exists(type.group_resource(), meta_string(object, "name")));
      object["metadata"].erase("resourceVersion");
      return std::make_shared<const Json>(std::move(object));
    }
    return store.create(type.group_resource(), std::move(object));
  }

  // An update through the main endpoint (status kept) or the status subresource (only status
  // taken).
  ApiResult<ObjectPtr> update_object(const ResourceType& type, Json object, const Json& old,
                                     bool status_only, bool strict, bool dry_run) {
    if (type.to_storage) {
      auto stored = type.to_storage(object);
      if (!stored) return tl::unexpected(stored.error());
      object = std::move(*stored);
    }
    if (status_only) {
      Json merged = old;
      merged["status"] = object.contains("status") ? object["status"] : Json::object();
      merged["metadata"]["resourceVersion"] = meta_string(object, "resourceVersion");
      object = std::move(merged);
    } else if (type.status_subresource) {
      if (old.contains("status")) {
        object["status"] = old["status"];
      } else {
        object.erase("status");
      }
    }
    if (type.admit && !status_only) {
      if (auto ok = type.admit(object, &old, strict); !ok) return tl::unexpected(ok.error());
      if (type.status_subresource && old.contains("status")) object["status"] = old["status"];
    }
    if (dry_run) {
      std::string sent = meta_string(object, "resourceVersion");
      if (!sent.empty() && sent != meta_string(old, "resourceVersion"))
        return tl::unexpected(stale_conflict(type.group_resource(), meta_string(old, "name")));
      return std::make_shared<const Json>(std::move(object));
    }
    return store.update(type.group_resource(), std::move(object));
  }

  // ---- scale subresource -------------------------------------------------------------------

  static Json scale_of(const Json& object) {
    Json meta{{"name", meta_string(object, "name")},
              {"namespace", meta_string(object, "namespace")},
              {"uid", meta_string(object, "uid")},
              {"resourceVersion", meta_string(object, "resourceVersion")},
              {"creationTimestamp", meta_string(object, "creationTimestamp")}};
    std::int64_t replicas = 0;
    if (const Json* spec = find_key(object, "spec"); spec != nullptr) {
      const Json* r = find_key(*spec, "replicas");
      if (r != nullptr && r->is_number_integer()) replicas = r->get<std::int64_t>();
    }
    std::int64_t current = 0;
    if (const Json* status = find_key(object, "status"); status != nullptr) {
      const Json* r = find_key(*status, "replicas");
      if (r != nullptr && r->is_number_integer()) current = r->get<std::int64_t>();
    }
    Json status{{"replicas", current}};
    // metav1.FormatLabelSelector(spec.selector), what the HPA controller parses.
    std::string selector;
    if (const Json* spec = find_key(object, "spec"); spec != nullptr) {
      if (const Json* sel = find_key(*spec, "selector"); sel != nullptr && sel->is_object()) {
        kube::LabelSelector parsed;
        core::JsonReader reader(*sel, "spec.selector", /*strict=*/false);
        kube::decode_label_selector(reader, parsed);
        if (auto compiled = kube::to_selector(parsed)) selector = compiled->to_string();
      }
    }
    if (!selector.empty()) status["selector"] = selector;
    return Json{{"kind", "Scale"},
                {"apiVersion", "autoscaling/v1"},
                {"metadata", meta},
                {"spec", {{"replicas", replicas}}},
                {"status", status}};
  }

  ApiResult<ObjectPtr> write_scale(const ResourceType& type, const Json& scale, const Json& old,
                                   bool dry_run) {
    const Json* spec = find_key(scale, "spec");
    const Json* replicas = spec == nullptr ? nullptr : find_key(*spec, "replicas");
    std::int64_t value = 0;
    if (replicas != nullptr && !replicas->is_null()) {
      if (!replicas->is_number_integer())
        return tl::unexpected(bad_request(
            "Scale in version \"v1\" cannot be handled as a Scale: json: cannot unmarshal " +
            std::string(replicas->type_name()) +
            " into Go struct field ScaleSpec.spec.replicas of type int32"));
      value = replicas->get<std::int64_t>();
    }
    if (value < 0)
      return tl::unexpected(invalid("autoscaling", "Scale", meta_string(old, "name"),
                                    {kube::invalid("spec.replicas", std::to_string(value),
                                                   "must be greater than or equal to 0")}));
    std::string sent = meta_string(scale, "resourceVersion");
    if (!sent.empty() && sent != meta_string(old, "resourceVersion"))
      return tl::unexpected(stale_conflict(type.group_resource(), meta_string(old, "name")));
    Json updated = old;
    updated["spec"]["replicas"] = value;
    // The scale subresource updates its parent through the parent's own update validation
    // (kube-apiserver's scale REST calls the Deployment registry's Update).
    if (type.admit) {
      if (auto ok = type.admit(updated, &old, false); !ok) return tl::unexpected(ok.error());
      if (old.contains("status")) updated["status"] = old["status"];
    }
    if (dry_run) return std::make_shared<const Json>(std::move(updated));
    return store.update(type.group_resource(), std::move(updated));
  }

  // ---- watch -------------------------------------------------------------------------------

  // The last plain-JSON event line: every watcher of a change gets the same bytes, so one
  // serialization serves them all (fan-out to 100 watchers would otherwise encode 100 times).
  // Keyed by the object's uid and resourceVersion (one stored state), never by its address.
  struct EventLineCache {
    std::string uid;
    std::string resource_version;
    const char* type_name = nullptr;
    std::string line;
  };
  mutable EventLineCache line_cache;

  std::string event_line(const char* type_name, const ResourceType& type, const Json& object,
                         bool as_table, std::string_view include) const {
    if (!as_table) {
      std::string uid = meta_string(object, "uid");
      std::string version = meta_string(object, "resourceVersion");
      if (type.from_storage) version += " " + type.version;  // the cache holds one version's line
      if (uid.empty() || line_cache.uid != uid || line_cache.resource_version != version ||
          line_cache.type_name != type_name) {
        Json event = Json::object();
        event["type"] = type_name;
        event["object"] = present(type, object);
        line_cache = {std::move(uid), std::move(version), type_name,
                      core::to_compact_json(event) + "\n"};
      }
      return line_cache.line;
    }
    Json event = Json::object();
    event["type"] = type_name;
    event["object"] =
        as_table ? table(type, {&object}, object_resource_version(object), include, true) : object;
    return core::to_compact_json(event) + "\n";
  }

  std::string bookmark_line(const ResourceType& type, std::uint64_t rv,
                            bool initial_events_end) const {
    Json meta{{"resourceVersion", std::to_string(rv)}, {"creationTimestamp", nullptr}};
    if (initial_events_end) meta["annotations"] = Json{{"k8s.io/initial-events-end", "true"}};
    Json event{{"type", "BOOKMARK"},
               {"object",
                {{"kind", type.kind}, {"apiVersion", type.group_version()}, {"metadata", meta}}}};
    return core::to_compact_json(event) + "\n";
  }

  net::Awaitable<void> watch(const ResourceType& type, const RequestInfo& info,
                             net::ServerRequest& request, net::ResponseWriter& writer) {
    auto filter = make_filter(type, info, request);
    if (!filter) {
      co_await writer.send(status_response(filter.error()));
      co_return;
    }
    auto rv =
        parse_resource_version(std::string(request.query.get("resourceVersion").value_or("")));
    if (!rv) {
      co_await writer.send(status_response(rv.error()));
      co_return;
    }
    core::Duration timeout = options.default_watch_timeout;
    if (auto t = request.query.get("timeoutSeconds")) {
      long long seconds = -1;
      std::string text(*t);
      if (!text.empty() && text.size() < 10 &&
          text.find_first_not_of("0123456789") == std::string::npos)
        seconds = std::stoll(text);
      if (seconds < 0) {
        co_await writer.send(
            status_response(bad_request("invalid value for timeoutSeconds: " + std::string(*t))));
        co_return;
      }
      if (seconds > 0) timeout = std::chrono::seconds(seconds);
    }
    bool bookmarks = query_true(request, "allowWatchBookmarks");
    bool as_table = wants_table(request);
    std::string include(request.query.get("includeObject").value_or("Metadata"));
    auto send_initial = request.query.get("sendInitialEvents");
    bool initial_events = !*rv || **rv == 0;
    if (send_initial) initial_events = query_true(request, "sendInitialEvents");

    auto session = std::make_shared<WatchSession>();
    std::string resource_key = type.group_resource().to_string();
    auto enqueue = [this, session, &type, as_table, include](const char* name, const Json& o) {
      if (session->lines.size() >= options.max_pending_events) {
        session->overflow = true;
        session->notifier.notify();
        return;
      }
      session->lines.push_back(event_line(name, type, o, as_table, include));
      session->notifier.notify();
    };
    auto deliver = [&filter, enqueue](const StoreEvent& e) {
      bool now_matches = filter->matches(*e.object);
      bool was_matching = e.previous != nullptr && filter->matches(*e.previous);
      switch (e.type) {
        case EventType::kAdded:
          if (now_matches) enqueue("ADDED", *e.object);
          break;
        case EventType::kModified:
          if (now_matches && was_matching) {
            enqueue("MODIFIED", *e.object);
          } else if (now_matches) {
            enqueue("ADDED", *e.object);
          } else if (was_matching) {
            enqueue("DELETED", *e.object);
          }
          break;
        case EventType::kDeleted:
          if (was_matching) enqueue("DELETED", *e.object);
          break;
      }
    };

    // Everything below until the first co_await runs without interruption, so no change can
    // slip between the initial state and the subscription.
    if (initial_events) {
      for (const ObjectPtr& o : store.list(type.group_resource(), info.namespace_).items)
        if (filter->matches(*o)) enqueue("ADDED", *o);
      if (send_initial && bookmarks)
        session->lines.push_back(bookmark_line(type, store.resource_version(), true));
    } else {
      auto past = store.events_since(resource_key, **rv);
      if (!past) {
        if (co_await writer.begin_stream(200, stream_headers())) {
          std::string line = error_event_line(past.error());
          co_await writer.write(line);
        }
        co_return;
      }
      for (const StoreEvent& e : *past) deliver(e);
    }
    // Unsubscribes and cancels the timers however the coroutine ends (also when its frame is
    // destroyed unresumed at shutdown), unless the server went first and did it already.
    auto bookmark_timer = std::make_shared<core::Clock::TimerId>(0);
    struct Cleanup {
      std::weak_ptr<Impl*> server;
      int listener = 0;
      ~Cleanup() {
        if (auto impl = server.lock()) (*impl)->end_watch(listener);
      }
    } cleanup{self, 0};
    cleanup.listener = store.subscribe([resource_key, deliver](const StoreEvent& e) {
      if (e.resource == resource_key) deliver(e);
    });
    WatchResources& resources_of_watch = watches[cleanup.listener];
    resources_of_watch.bookmark_timer = bookmark_timer;
    resources_of_watch.timeout_timer = clock.call_after(timeout, [session] {
      session->timed_out = true;
      session->notifier.notify();
    });
    // Bookmarks re-arm themselves while the watch lives.
    std::function<void()> arm_bookmark;
    if (bookmarks) {
      auto weak = std::weak_ptr<WatchSession>(session);
      arm_bookmark = [this, weak, bookmark_timer] {
        *bookmark_timer = clock.call_after(options.bookmark_interval, [weak] {
          if (auto s = weak.lock()) {
            s->bookmark_due = true;
            s->notifier.notify();
          }
        });
      };
      arm_bookmark();
    }
    writer.on_disconnect([session] {
      session->closed = true;
      session->notifier.notify();
    });

    bool ok = static_cast<bool>(co_await writer.begin_stream(200, stream_headers()));
    while (ok && !session->closed && !session->overflow) {
      if (session->bookmark_due) {
        session->bookmark_due = false;
        session->lines.push_back(bookmark_line(type, store.resource_version(), false));
        arm_bookmark();
      }
      if (!session->lines.empty()) {
        std::string chunk;
        while (!session->lines.empty() && chunk.size() < 256 * 1024) {
          chunk += session->lines.front();
          session->lines.pop_front();
        }
        ok = static_cast<bool>(co_await writer.write(chunk));
        continue;
      }
      if (session->timed_out) break;
      co_await session->notifier.wait();
    }
    if (ok && !session->closed) co_await writer.end();
  }

  // ---- dispatch ----------------------------------------------------------------------------

  ApiResult<RequestInfo> parse(std::string_view path) const {
    std::vector<std::string> parts;
    for (std::string_view p : core::split(path, '/'))
      if (!p.empty()) parts.emplace_back(p);
    RequestInfo info;
    std::size_t i = 0;
    if (parts.size() >= 2 && parts[0] == "api") {
      info.version = parts[1];
      i = 2;
    } else if (parts.size() >= 3 && parts[0] == "apis") {
      info.group = parts[1];
      info.version = parts[2];
      i = 3;
    } else {
      return tl::unexpected(path_not_found());
    }
    if (!serves_group_version(info.group, info.version)) return tl::unexpected(path_not_found());
    std::vector<std::string> rest(parts.begin() + static_cast<std::ptrdiff_t>(i), parts.end());
    if (rest.empty()) {
      info.discovery = true;
      return info;
    }
    if (rest[0] == "namespaces" && rest.size() >= 3 && rest[2] != "status" &&
        rest[2] != "finalize") {
      info.namespace_ = rest[1];
      rest.erase(rest.begin(), rest.begin() + 2);
    }
    if (rest.size() > 3) return tl::unexpected(path_not_found());
    info.resource = rest[0];
    if (rest.size() >= 2) info.name = rest[1];
    if (rest.size() >= 3) info.subresource = rest[2];
    return info;
  }

  net::Awaitable<void> serve(net::ServerRequest& request, net::ResponseWriter& writer) {
    const std::string& path = request.path;
    if (path == "/version" || path == "/version/") {
      co_await writer.send(json_response(200, version_json()));
      co_return;
    }
    if (path == "/api" || path == "/api/") {
      co_await writer.send(json_response(200, api_versions(request)));
      co_return;
    }
    if (path == "/openapi/v3" || path == "/openapi/v3/") {
      co_await writer.send(json_response(200, openapi_v3_index(resources)));
      co_return;
    }
    if (path.rfind("/openapi/v3/", 0) == 0) {
      co_await writer.send(openapi_document(path.substr(std::string("/openapi/v3/").size())));
      co_return;
    }
    if (path == "/apis" || path == "/apis/") {
      co_await writer.send(json_response(200, group_list()));
      co_return;
    }
    {
      std::vector<std::string_view> parts;
      for (std::string_view p : core::split(path, '/'))
        if (!p.empty()) parts.push_back(p);
      if (parts.size() == 2 && parts[0] == "apis") {
        net::Response response = group_response(std::string(parts[1]));
        co_await writer.send(std::move(response));
        co_return;
      }
    }
    auto info = parse(path);
    if (!info) {
      co_await writer.send(status_response(info.error()));
      co_return;
    }
    if (info->discovery) {
      if (request.method != "GET" && request.method != "HEAD") {
        co_await writer.send(status_response(method_not_allowed()));
        co_return;
      }
      co_await writer.send(json_response(200, resource_list(info->group, info->version)));
      co_return;
    }
    const ResourceType* type = find(info->group, info->version, info->resource);
    if (type == nullptr) {
      co_await writer.send(status_response(path_not_found()));
      co_return;
    }
    if (!type->namespaced && !info->namespace_.empty()) {
      co_await writer.send(status_response(path_not_found()));
      co_return;
    }
    if (!info->subresource.empty() &&
        !((info->subresource == "status" && type->status_subresource) ||
          (info->subresource == "scale" && type->scale_subresource))) {
      co_await writer.send(status_response(path_not_found()));
      co_return;
    }
    if ((request.method == "GET" || request.method == "HEAD") && info->name.empty() &&
        query_true(request, "watch")) {
      co_await watch(*type, *info, request, writer);
      co_return;
    }
    co_await writer.send(answer(*type, *info, request));
  }

  static ApiResult<bool> dry_run_of(const net::ServerRequest& request) {
    auto values = request.query.get_all("dryRun");
    for (std::string_view v : values)
      if (v != "All")
        return tl::unexpected(
            invalid("", "", "", {kube::not_supported("dryRun", core::go_quote(v), {"All"})}));
    return !values.empty();
  }

  static bool strict_fields(const net::ServerRequest& request) {
    return request.query.get("fieldValidation").value_or("") == "Strict";
  }

  // Every request but a watch: a plain function, so no temporaries live across suspension
  // points (GCC 12's coroutines mishandle those in conditional expressions).
  net::Response answer(const ResourceType& type, const RequestInfo& info,
                       const net::ServerRequest& request) {
    const std::string& method = request.method;
    GroupResource gr = type.group_resource();
    auto dry_run = dry_run_of(request);
    if (!dry_run) {
      return status_response(dry_run.error());
    }
    bool strict = strict_fields(request);

    if (info.name.empty()) {
      if (method == "GET" || method == "HEAD") return list(type, info, request);
      if (method == "POST") {
        auto object = decode_body(type, info, request);
        if (!object) {
          return status_response(object.error());
        }
        auto created = create_object(type, std::move(*object), strict, *dry_run);
        return created ? object_response(201, type, **created, request)
                       : status_response(created.error());
      }
      if (method == "DELETE") {
        auto filter = make_filter(type, info, request);
        if (!filter) {
          return status_response(filter.error());
        }
        Json items = Json::array();
        for (const ObjectPtr& o : store.list(gr, info.namespace_).items) {
          if (!filter->matches(*o)) continue;
          if (*dry_run) {
            items.push_back(present(type, *o));
          } else if (auto gone =
                         store.remove(gr, meta_string(*o, "namespace"), meta_string(*o, "name"))) {
            items.push_back(present(type, **gone));
          }
        }
        return json_response(200, list_json(type, std::move(items), store.resource_version()));
      }
      return status_response(method_not_allowed());
    }

    auto current = store.get(gr, info.namespace_, info.name);
    bool is_scale = info.subresource == "scale";
    bool is_status = info.subresource == "status";

    if (method == "GET" || method == "HEAD") {
      if (!current) {
        return status_response(current.error());
      } else if (is_scale) {
        return json_response(200, scale_of(**current));
      } else {
        return object_response(200, type, **current, request);
      }
    }

    if (method == "DELETE") {
      Preconditions preconditions;
      if (!request.body.empty()) {
        auto options = core::parse_document(request.body);
        if (options && options->is_object()) {
          if (auto p = options->find("preconditions"); p != options->end() && p->is_object()) {
            if (p->contains("uid") && (*p)["uid"].is_string())
              preconditions.uid = (*p)["uid"].get<std::string>();
            if (p->contains("resourceVersion") && (*p)["resourceVersion"].is_string())
              preconditions.resource_version = (*p)["resourceVersion"].get<std::string>();
          }
        }
      }
      if (!info.subresource.empty()) {
        return status_response(method_not_allowed());
      }
      if (*dry_run) {
        return current ? json_response(200, present(type, **current))
                       : status_response(current.error());
      }
      auto gone = store.remove(gr, info.namespace_, info.name, preconditions);
      return gone ? json_response(200, present(type, **gone)) : status_response(gone.error());
    }

    if (method == "PUT") {
      // As the update handler: the body decodes and names the URL's object before the stored
      // object is looked up.
      if (is_scale) {
        auto scale = core::parse_document(request.body);
        if (!scale || !scale->is_object())
          return status_response(
              bad_request("Scale in version \"v1\" cannot be handled as a Scale: " +
                          (scale ? std::string("not an object") : scale.error().message)));
        if (!current) return status_response(current.error());
        auto result = write_scale(type, *scale, **current, *dry_run);
        return result ? json_response(200, scale_of(**result)) : status_response(result.error());
      }
      auto object = decode_body(type, info, request);
      if (!object) return status_response(object.error());
      if (!current) return status_response(current.error());
      auto result = update_object(type, std::move(*object), **current, is_status, strict, *dry_run);
      return result ? object_response(200, type, **result, request)
                    : status_response(result.error());
    }

    if (method == "PATCH") {
      auto kind = patch_type(request.header("Content-Type"));
      if (!kind) {
        return status_response(kind.error());
      }
      ApiResult<Json> patch = tl::unexpected(internal_error("unreachable"));
      if (*kind == PatchType::kApply) {
        patch = core::parse_document(request.body).map_error([](const core::Error& e) {
          return bad_request("error decoding YAML: " + e.message);
        });
      } else {
        auto parsed = core::parse_document(request.body);
        if (!parsed) {
          return status_response(bad_request(parsed.error().message));
        }
        patch = std::move(*parsed);
      }
      if (!patch) {
        return status_response(patch.error());
      }
      if (*kind == PatchType::kApply) {
        if (request.query.get("fieldManager").value_or("").empty()) {
          return status_response(field_manager_required());
        }
        if (!current && !is_scale && !is_status) {
          // Server-side apply creates what does not exist.
          auto object = check_identity(type, info, std::move(*patch));
          if (!object) {
            return status_response(object.error());
          }
          auto created = create_object(type, std::move(*object), true, *dry_run);
          return created ? object_response(201, type, **created, request)
                         : status_response(created.error());
        }
      }
      if (!current) {
        return status_response(current.error());
      }
      const Json base = is_scale ? scale_of(**current) : present(type, **current);
      ApiResult<Json> patched = tl::unexpected(internal_error("unreachable"));
      switch (*kind) {
        case PatchType::kMerge: patched = apply_merge_patch(base, *patch); break;
        case PatchType::kJson: patched = apply_json_patch(base, *patch); break;
        case PatchType::kStrategic:
        case PatchType::kApply: patched = apply_strategic_merge_patch(base, *patch); break;
      }
      if (!patched) {
        return status_response(patched.error());
      }
      if (is_scale) {
        auto result = write_scale(type, *patched, **current, *dry_run);
        return result ? json_response(200, scale_of(**result)) : status_response(result.error());
      }
      auto object = check_identity(type, info, std::move(*patched));
      if (!object) {
        return status_response(object.error());
      }
      // A patch without a resourceVersion applies to the current state.
      if (meta_string(*patch, "resourceVersion").empty())
        (*object)["metadata"]["resourceVersion"] = meta_string(**current, "resourceVersion");
      auto result = update_object(type, std::move(*object), **current, is_status, strict, *dry_run);
      return result ? object_response(200, type, **result, request)
                    : status_response(result.error());
    }
    return status_response(method_not_allowed());
  }
};

ApiServer::ApiServer(Store& store, core::Clock& clock, std::vector<ResourceType> resources,
                     ApiServerOptions options)
    : impl_(std::make_unique<Impl>(store, clock, std::move(resources), options)) {}

ApiServer::~ApiServer() = default;

void ApiServer::add_routes(net::Router& router) {
  auto handler = [this](net::ServerRequest& request,
                        net::ResponseWriter& writer) -> net::Awaitable<void> {
    co_await impl_->serve(request, writer);
  };
  router.add("*", "/version", handler);
  router.add("*", "/api", handler);
  router.add("*", "/apis", handler);
  router.add("*", "/openapi/v3", handler);
  router.add_prefix("*", "/openapi/v3/", handler);
  router.add_prefix("*", "/api/", handler);
  router.add_prefix("*", "/apis/", handler);
}

void ApiServer::add_external_group(std::string group, std::string version) {
  impl_->external_groups.emplace_back(std::move(group), std::move(version));
}

const ResourceType* ApiServer::find(std::string_view group, std::string_view resource) const {
  return impl_->find(group, "", resource);
}

ApiResult<ObjectPtr> ApiServer::create(const ResourceType& type, core::Json object) {
  RequestInfo info;
  info.namespace_ = object.contains("metadata") && object["metadata"].is_object()
                        ? object["metadata"].value("namespace", std::string("default"))
                        : std::string("default");
  auto checked = impl_->check_identity(type, info, std::move(object));
  if (!checked) return tl::unexpected(checked.error());
  return impl_->create_object(type, std::move(*checked), true, false);
}

net::Awaitable<void> ApiServer::serve(net::ServerRequest& request, net::ResponseWriter& writer) {
  co_await impl_->serve(request, writer);
}

}  // namespace llmscale::apiserver
