// Progress lines for replicas in their cold start.
#include "up/progress.h"

#include <set>

#include "core/duration.h"

namespace llmscale::up {

ColdStartProgress::ColdStartProgress(core::Duration interval) : interval_(interval) {}

std::string whole_seconds(core::Duration d) {
  return core::format_go_duration(std::chrono::round<std::chrono::seconds>(d));
}

std::vector<std::string> ColdStartProgress::update(const std::string& fleet,
                                                   const std::vector<kube::Pod>& pods,
                                                   std::optional<core::Duration> expected,
                                                   core::Time now) {
  std::vector<std::string> lines;
  std::set<std::string> seen;
  for (const kube::Pod& pod : pods) {
    const std::string& uid = pod.metadata.uid;
    const kube::PodCondition* ready = pod.ready_condition();
    bool crash_looping = false;
    for (const auto& c : pod.container_statuses)
      crash_looping = crash_looping || c.waiting_reason == "CrashLoopBackOff";
    if ((ready != nullptr && ready->status == "True") || pod.metadata.deletion_timestamp ||
        crash_looping)
      continue;
    seen.insert(uid);
    auto [it, added] = starting_.try_emplace(uid, Starting{fleet, now, 0});
    if (added) continue;
    Starting& s = it->second;
    core::Duration elapsed = now - s.since;
    auto due = static_cast<std::int64_t>(elapsed / interval_);
    if (interval_ <= core::Duration::zero() || due <= s.printed) continue;
    s.printed = due;
    std::string line =
        "fleet " + fleet + ": pod " + pod.metadata.name + " starting, " + whole_seconds(elapsed);
    if (expected && elapsed <= *expected) {
      line += " of about " + whole_seconds(*expected) + " (" +
              std::to_string(
                  static_cast<int>(100 * (elapsed / std::chrono::duration<double>(*expected)))) +
              "%)";
    } else if (expected) {
      line += ", longer than the expected " + whole_seconds(*expected);
    }
    line += "; not ready yet";
    lines.push_back(std::move(line));
  }
  for (auto it = starting_.begin(); it != starting_.end();) {
    // Forgotten when ready, crashed or gone (a restart starts over).
    bool gone = it->second.fleet == fleet && seen.count(it->first) == 0;
    it = gone ? starting_.erase(it) : std::next(it);
  }
  return lines;
}

}  // namespace llmscale::up
