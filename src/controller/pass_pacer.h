// PassPacer: the "reconcile this HPA soon" requests that fresh scrapes make, coalesced and paced.
//
// `llmscale up` and the fleet simulator reconcile an HPA right after a scrape of its target's
// pods, so a decision follows fresh metrics within milliseconds instead of a 15 s sync period.
// With N pods scraped once per interval at spread offsets that would be N passes per interval,
// each reading all N pods: quadratic in the fleet. The pacer keeps at most one pass pending per
// HPA (requests while one is pending join it, like client-go's workqueue dedupes a queued key)
// and starts an HPA's paced passes at least `min_interval` apart (a request sooner than that
// waits for the rest of it), so a pass sees many fresh scrapes at once. min_interval 0 runs
// every request's pass right after the current event (same-instant requests still coalesce).
//
// Not thread-safe: runs on the thread that runs the Clock; `pass` is called there.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "core/clock.h"

namespace llmscale::controller {

// The default spacing of post-scrape passes (`up --min-pass-interval`, simulate's): a quarter
// of llmscale's 1 s scrape interval, so a decision waits at most 250 ms for its pass.
inline constexpr core::Duration kDefaultMinPassInterval = std::chrono::milliseconds(250);

class PassPacer {
 public:
  // Called with the HPA's namespace and name when its pass is due.
  using Pass = std::function<void(const std::string& ns, const std::string& name)>;

  PassPacer(core::Clock& clock, core::Duration min_interval, Pass pass);
  ~PassPacer();
  PassPacer(const PassPacer&) = delete;
  PassPacer& operator=(const PassPacer&) = delete;

  // Asks for a pass of ns/name soon (see above).
  void request(const std::string& ns, const std::string& name);

  core::Duration min_interval() const { return min_interval_; }

 private:
  struct State {
    std::optional<core::Clock::TimerId> pending;
    std::optional<core::MonotonicTime> last_pass;
  };

  core::Clock& clock_;
  core::Duration min_interval_;
  Pass pass_;
  std::map<std::pair<std::string, std::string>, State> hpas_;
};

}  // namespace llmscale::controller
