// List-then-watch informer with client-go's Reflector rules; see informer.h.
#include "kubeclient/informer.h"

#include <algorithm>

#include "core/log.h"
#include "net/client.h"

namespace llmscale::kubeclient {
namespace {

using core::Json;
using namespace std::chrono_literals;

std::string object_key(const Json& object) {
  const Json& meta = object.contains("metadata") ? object["metadata"] : Json::object();
  std::string ns = meta.is_object() ? meta.value("namespace", "") : "";
  std::string name = meta.is_object() ? meta.value("name", "") : "";
  return ns.empty() ? name : ns + "/" + name;
}

std::string object_resource_version(const Json& object) {
  if (!object.is_object() || !object.contains("metadata")) return "";
  const Json& meta = object["metadata"];
  return meta.is_object() ? meta.value("resourceVersion", "") : "";
}

}  // namespace

Backoff::Backoff(core::Clock& clock, core::Duration initial, core::Duration max,
                 core::Duration reset_after, double factor, double jitter, std::uint64_t seed)
    : clock_(clock),
      initial_(initial),
      max_(max),
      reset_after_(reset_after),
      factor_(factor),
      jitter_(jitter),
      current_(initial),
      random_(seed) {}

core::Duration Backoff::next() {
  core::Time now = clock_.now();
  // Kubernetes: exponentialBackoffManagerImpl resets after resetDuration without a back-off.
  if (!last_start_ || now - *last_start_ > reset_after_) current_ = initial_;
  last_start_ = now;
  core::Duration base = std::min(current_, max_);
  current_ = std::min(max_, core::from_seconds(core::to_seconds(current_) * factor_));
  double fraction = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
  return base + core::from_seconds(core::to_seconds(base) * jitter_ * fraction);
}

struct Informer::State {
  State(RestClient& client, ResourceRef ref, InformerOptions options, InformerHandlers handlers)
      : client(client),
        ref(std::move(ref)),
        options(std::move(options)),
        handlers(std::move(handlers)),
        backoff(client.clock(), this->options.backoff_initial, this->options.backoff_max,
                this->options.backoff_reset, 2.0, 1.0, this->options.seed),
        random(this->options.seed + 1) {}

  RestClient& client;
  ResourceRef ref;
  InformerOptions options;
  InformerHandlers handlers;
  Backoff backoff;
  std::mt19937_64 random;

  std::map<std::string, Json> objects;
  std::string last_sync_rv;
  bool last_sync_rv_unavailable = false;
  bool synced = false;
  bool stopped = false;
  bool running = false;
  WatchStream* current_watch = nullptr;
  InformerStats stats;

  // Kubernetes: reflector relistResourceVersion.
  std::string relist_resource_version() const {
    if (last_sync_rv_unavailable) return "";
    if (last_sync_rv.empty()) return "0";
    return last_sync_rv;
  }

  void replace(const Json& list) {
    std::map<std::string, Json> fresh;
    if (list.contains("items") && list["items"].is_array()) {
      for (const Json& item : list["items"]) {
        Json object = item;
        // Items in a list carry no kind; fill it in as client-go's decoder does for typed lists.
        fresh.emplace(object_key(object), std::move(object));
      }
    }
    for (auto it = objects.begin(); it != objects.end();) {
      if (!fresh.contains(it->first)) {
        Json gone = std::move(it->second);
        it = objects.erase(it);
        if (handlers.on_delete) handlers.on_delete(gone);
      } else {
        ++it;
      }
    }
    for (auto& [key, object] : fresh) {
      auto it = objects.find(key);
      if (it == objects.end()) {
        const Json& added = objects.emplace(key, std::move(object)).first->second;
        if (handlers.on_add) handlers.on_add(added);
      } else {
        Json old = std::move(it->second);
        it->second = std::move(object);
        if (handlers.on_update) handlers.on_update(old, it->second);
      }
    }
  }

  void apply(const WatchEvent& event) {
    std::string key = object_key(event.object);
    if (event.type == "ADDED" || event.type == "MODIFIED") {
      auto it = objects.find(key);
      if (it == objects.end()) {
        const Json& added = objects.emplace(key, event.object).first->second;
        if (handlers.on_add) handlers.on_add(added);
      } else {
        Json old = std::move(it->second);
        it->second = event.object;
        if (handlers.on_update) handlers.on_update(old, it->second);
      }
    } else if (event.type == "DELETED") {
      auto it = objects.find(key);
      Json gone;
      if (it != objects.end()) {
        gone = std::move(it->second);
        objects.erase(it);
      } else {
        gone = event.object;
      }
      if (handlers.on_delete) handlers.on_delete(gone);
    }
  }
};

namespace {

// Whether a failed watch open should be retried as a watch (not a relist).
bool rewatchable(const ApiError& error) {
  if (error.status == 429) return true;
  return error.status == 0 && error.message.find("connection refused") != std::string::npos;
}

net::Awaitable<void> run_informer(std::shared_ptr<Informer::State> state) {
  state->running = true;
  RestClient& client = state->client;
  core::Clock& clock = client.clock();
  auto wait_backoff = [&]() -> net::Awaitable<void> {
    co_await net::sleep_for(clock, state->backoff.next());
  };
  while (!state->stopped) {
    // ---- list ----
    ListOptions list_options;
    list_options.label_selector = state->options.label_selector;
    list_options.field_selector = state->options.field_selector;
    list_options.resource_version = state->relist_resource_version();
    auto list = co_await client.list(state->ref, state->options.namespace_name, list_options);
    if (state->stopped) break;
    if (!list && list.error().gone() && !list_options.resource_version.empty() &&
        list_options.resource_version != "0") {
      // Kubernetes: an expired version relists at once with a consistent read.
      ++state->stats.gone;
      state->last_sync_rv_unavailable = true;
      continue;
    }
    if (!list) {
      ++state->stats.failures;
      core::log_warn("kubeclient: list " + state->ref.resource +
                     " failed: " + list.error().to_string());
      co_await wait_backoff();
      continue;
    }
    ++state->stats.lists;
    state->last_sync_rv_unavailable = false;
    state->replace(*list);
    state->last_sync_rv = object_resource_version(*list);
    state->synced = true;

    // ---- watch until something needs a relist ----
    bool relist = false;
    while (!state->stopped && !relist) {
      WatchOptions watch_options;
      watch_options.label_selector = state->options.label_selector;
      watch_options.field_selector = state->options.field_selector;
      watch_options.resource_version = state->last_sync_rv;
      watch_options.allow_bookmarks = true;
      double factor = 1.0 + std::uniform_real_distribution<double>(0.0, 1.0)(state->random);
      watch_options.timeout_seconds =
          static_cast<int>(core::to_seconds(state->options.min_watch_timeout) * factor);
      ++state->stats.watches;
      core::Time opened = clock.now();
      auto stream = co_await client.watch(state->ref, state->options.namespace_name, watch_options);
      if (state->stopped) break;
      if (!stream) {
        ++state->stats.failures;
        if (stream.error().gone()) {
          ++state->stats.gone;
          state->last_sync_rv_unavailable = true;
          relist = true;
        } else if (!rewatchable(stream.error())) {
          relist = true;
        }
        core::log_warn("kubeclient: watch " + state->ref.resource +
                       " failed: " + stream.error().to_string());
        co_await wait_backoff();
        continue;
      }
      state->current_watch = &*stream;
      std::uint64_t events = 0;
      while (!state->stopped) {
        auto event = co_await stream->next();
        if (state->stopped) break;
        if (!event) {
          if (event.error().status != 0) {
            // An ERROR event: Kubernetes reflector returns and ListAndWatch runs again.
            if (event.error().gone()) {
              ++state->stats.gone;
              state->last_sync_rv_unavailable = true;
            }
            relist = true;
          } else {
            ++state->stats.watch_breaks;
          }
          break;
        }
        if (!*event) break;  // the server ended the watch (timeoutSeconds)
        ++events;
        std::string rv = object_resource_version((*event)->object);
        if ((*event)->type == "BOOKMARK") {
          ++state->stats.bookmarks;
        } else {
          ++state->stats.events;
          state->apply(**event);
        }
        if (!rv.empty()) state->last_sync_rv = rv;
      }
      state->current_watch = nullptr;
      if (state->stopped) break;
      // Kubernetes: a watch that ended within a second with no event counts as a failure
      // ("very short watch"), to keep a broken server from being hammered.
      if (relist || (events == 0 && clock.now() - opened < 1s)) {
        relist = true;
        co_await wait_backoff();
      }
    }
  }
  state->running = false;
}

}  // namespace

Informer::Informer(RestClient& client, ResourceRef ref, InformerOptions options,
                   InformerHandlers handlers)
    : state_(std::make_shared<State>(client, std::move(ref), std::move(options),
                                     std::move(handlers))) {}

Informer::~Informer() {
  stop();
}

void Informer::start(net::EventLoop& loop) {
  state_->stopped = false;
  net::spawn(loop, run_informer(state_), "informer " + state_->ref.resource);
}

void Informer::stop() {
  state_->stopped = true;
  if (state_->current_watch != nullptr) state_->current_watch->cancel();
}

bool Informer::running() const {
  return state_->running;
}
bool Informer::has_synced() const {
  return state_->synced;
}

const Json* Informer::get(const std::string& namespace_name, const std::string& name) const {
  std::string key = namespace_name.empty() ? name : namespace_name + "/" + name;
  auto it = state_->objects.find(key);
  return it == state_->objects.end() ? nullptr : &it->second;
}

std::vector<Json> Informer::items() const {
  std::vector<Json> out;
  out.reserve(state_->objects.size());
  for (const auto& [key, object] : state_->objects) out.push_back(object);
  return out;
}

std::vector<std::string> Informer::keys() const {
  std::vector<std::string> out;
  out.reserve(state_->objects.size());
  for (const auto& entry : state_->objects) out.push_back(entry.first);
  return out;
}

void Informer::for_each(const std::string& namespace_name,
                        const std::function<void(const Json& object)>& fn) const {
  if (namespace_name.empty()) {
    for (const auto& entry : state_->objects) fn(entry.second);
    return;
  }
  std::string prefix = namespace_name + "/";
  for (auto it = state_->objects.lower_bound(prefix);
       it != state_->objects.end() && it->first.starts_with(prefix); ++it) {
    fn(it->second);
  }
}

std::string Informer::resource_version() const {
  return state_->last_sync_rv;
}
const InformerStats& Informer::stats() const {
  return state_->stats;
}

}  // namespace llmscale::kubeclient
