// Coalesced, paced post-scrape passes (pass_pacer.h).
#include "controller/pass_pacer.h"

#include <algorithm>

namespace llmscale::controller {

PassPacer::PassPacer(core::Clock& clock, core::Duration min_interval, Pass pass)
    : clock_(clock),
      min_interval_(std::max(min_interval, core::Duration::zero())),
      pass_(std::move(pass)) {}

PassPacer::~PassPacer() {
  for (auto& [key, state] : hpas_) {
    if (state.pending) clock_.cancel(*state.pending);
  }
}

void PassPacer::request(const std::string& ns, const std::string& name) {
  auto key = std::pair(ns, name);
  State& state = hpas_[key];
  if (state.pending) return;
  core::Duration delay = core::Duration::zero();
  if (state.last_pass) {
    core::Duration since = clock_.monotonic_now() - *state.last_pass;
    if (since < min_interval_) delay = min_interval_ - since;
  }
  state.pending = clock_.call_after(delay, [this, key] {
    State& due = hpas_[key];
    due.pending.reset();
    due.last_pass = clock_.monotonic_now();
    pass_(key.first, key.second);
  });
}

}  // namespace llmscale::controller
