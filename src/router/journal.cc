// RequestJournal (journal.h).
#include "router/journal.h"

#include <algorithm>
#include <chrono>

namespace llmscale::router {

RequestJournal::RequestJournal(std::size_t capacity)
    : capacity_(std::max<std::size_t>(capacity, 1)) {}

void RequestJournal::record(const JournalEntry& entry) {
  std::lock_guard lock(mutex_);
  if (ring_.size() < capacity_) {
    ring_.push_back(entry);
    return;
  }
  ring_[next_] = entry;
  next_ = (next_ + 1) % capacity_;
  ++dropped_;
}

std::vector<JournalEntry> RequestJournal::since(core::Time since) const {
  std::vector<JournalEntry> out;
  std::lock_guard lock(mutex_);
  out.reserve(ring_.size());
  for (std::size_t i = 0; i < ring_.size(); ++i) {
    const JournalEntry& e = ring_[(next_ + i) % ring_.size()];
    if (e.arrived >= since) out.push_back(e);
  }
  // Handlers on several threads record in completion order; a trace is in arrival order.
  std::stable_sort(out.begin(), out.end(), [](const JournalEntry& a, const JournalEntry& b) {
    return a.arrived < b.arrived;
  });
  return out;
}

std::uint64_t RequestJournal::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

std::string to_trace_lines(const std::vector<JournalEntry>& entries, core::Time origin) {
  std::string out;
  out.reserve(entries.size() * 64);
  for (const JournalEntry& e : entries) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(e.arrived - origin).count();
    out += "{\"timestamp\": " + std::to_string(std::max<std::int64_t>(ms, 0)) +
           ", \"input_length\": " + std::to_string(std::max<std::uint32_t>(e.input_tokens, 1)) +
           ", \"output_length\": " + std::to_string(std::max<std::uint32_t>(e.output_tokens, 1)) +
           "}\n";
  }
  return out;
}

}  // namespace llmscale::router
