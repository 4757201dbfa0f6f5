// Informer: a local, watched copy of one resource (client-go's Reflector + Indexer + handlers).
//
// List, then watch from the list's resourceVersion with bookmarks, as client-go's Reflector:
//  * the first list asks for resourceVersion "0" (the watch cache), later relists for the last
//    version seen, and for "" (a consistent read) after a 410 Gone / Expired;
//  * a watch ends after timeoutSeconds in [5 min, 10 min) (minWatchTimeout times 1 + rand) and
//    is reopened from the last version; BOOKMARK events only advance that version;
//  * a watch that breaks off or ends is reopened from the last version (no relist); an ERROR
//    event (410 Expired after compaction) or a watch that could not be opened relists after a
//    back-off; connection refused and 429 re-watch after a back-off;
//  * back-off: 800 ms doubling to 30 s, each plus up to 100% jitter, reset after 2 minutes
//    without trouble (the reflector's ExponentialBackoffManager).
// On a relist, objects absent from the new list are deleted and the others updated (client-go's
// DeltaFIFO Replace; on_update is called for every object still present, changed or not).
//
// Ownership and threads: start() spawns the loop on an EventLoop; everything (handlers, the
// accessors) runs on that loop's thread. The RestClient must outlive the informer's coroutine:
// stop() it and let the loop run (running() turns false) or stop the loop before destroying the
// client.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/clock.h"
#include "kubeclient/rest_client.h"

namespace llmscale::kubeclient {

// wait.ExponentialBackoffManager: next() returns the next delay (jittered).
class Backoff {
 public:
  Backoff(core::Clock& clock, core::Duration initial, core::Duration max,
          core::Duration reset_after, double factor, double jitter, std::uint64_t seed);
  core::Duration next();

 private:
  core::Clock& clock_;
  core::Duration initial_, max_, reset_after_;
  double factor_, jitter_;
  core::Duration current_;
  std::optional<core::Time> last_start_;
  std::mt19937_64 random_;
};

struct InformerOptions {
  std::string namespace_name;  // "" for all namespaces
  std::string label_selector;
  std::string field_selector;
  // Kubernetes: reflector minWatchTimeout.
  core::Duration min_watch_timeout = std::chrono::minutes(5);
  core::Duration backoff_initial = std::chrono::milliseconds(800);
  core::Duration backoff_max = std::chrono::seconds(30);
  core::Duration backoff_reset = std::chrono::minutes(2);
  std::uint64_t seed = 1;
};

struct InformerHandlers {
  std::function<void(const core::Json& object)> on_add;
  std::function<void(const core::Json& old_object, const core::Json& object)> on_update;
  std::function<void(const core::Json& object)> on_delete;
};

struct InformerStats {
  std::uint64_t lists = 0;  // lists applied
  std::uint64_t watches = 0;
  std::uint64_t events = 0;
  std::uint64_t bookmarks = 0;
  std::uint64_t gone = 0;          // 410s that forced a consistent relist
  std::uint64_t watch_breaks = 0;  // watches that ended with a transport error
  std::uint64_t failures = 0;      // list or watch requests that failed
};

class Informer {
 public:
  Informer(RestClient& client, ResourceRef ref, InformerOptions options = {},
           InformerHandlers handlers = {});
  ~Informer();  // stop()
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void start(net::EventLoop& loop);
  // Stops at the next step; the coroutine ends (running() false) once its pending request or
  // sleep completes.
  void stop();
  bool running() const;
  // True once the first list has been applied.
  bool has_synced() const;

  // The cached object, or nullptr.
  const core::Json* get(const std::string& namespace_name, const std::string& name) const;
  std::vector<core::Json> items() const;
  // The cache keys ("namespace/name", or "name" for cluster-scoped objects), without copying
  // the objects.
  std::vector<std::string> keys() const;
  // Calls `fn` for every cached object in `namespace_name` ("" for all), without copying.
  void for_each(const std::string& namespace_name,
                const std::function<void(const core::Json& object)>& fn) const;
  std::string resource_version() const;
  const InformerStats& stats() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace llmscale::kubeclient
