// Cold-start progress of `llmscale up`: a replica that is not ready yet gets a line every
// `interval` (elapsed, and the expected cold start when known: a serveSim profile's startup
// phases or --startup-seconds), so a 6-minute vLLM-on-TPU start is not silent between
// "started" and "ready". Pure: it is fed the pods and the time, and returns the lines.
//
// Not thread-safe (the event loop's thread).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/time.h"
#include "kube/objects.h"

namespace llmscale::up {

class ColdStartProgress {
 public:
  explicit ColdStartProgress(core::Duration interval = std::chrono::seconds(15));

  // The lines due at `now` for the pods of `fleet`. A pod is starting from the first update that
  // sees it neither ready, nor terminating, nor waiting in CrashLoopBackOff; a crash starts it
  // over. `expected`: the fleet's cold start, if known.
  std::vector<std::string> update(const std::string& fleet, const std::vector<kube::Pod>& pods,
                                  std::optional<core::Duration> expected, core::Time now);

 private:
  struct Starting {
    std::string fleet;
    core::Time since;
    std::int64_t printed = 0;  // intervals already reported
  };
  core::Duration interval_;
  std::map<std::string, Starting> starting_;  // by pod UID
};

// "1m5s" style, whole seconds (Go's time.Duration.Round(time.Second).String()).
std::string whole_seconds(core::Duration d);

}  // namespace llmscale::up
