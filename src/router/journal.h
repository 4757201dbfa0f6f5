// RequestJournal: what the router has served lately — each request's arrival, prompt and output
// tokens and status — kept in a bounded ring so a running `llmscale up` can hand its own traffic
// to the simulator ("what would target 3 have done over the last hour?", sim/from_up.h).
//
// Token counts follow the router's estimates (router/api.h): the prompt is the request body's
// words; the output is the streamed events, else the answer's usage (`completion_tokens`,
// TGI's `generated_tokens`), else what the request asked for (`max_tokens`, `max_new_tokens`).
// When the ring is full the oldest entry is dropped and counted.
//
// Thread-safe: the proxy records from any loop thread; readers copy a window out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "core/time.h"

namespace llmscale::router {

struct JournalEntry {
  core::Time arrived{};
  std::uint32_t input_tokens = 0;
  std::uint32_t output_tokens = 0;
  int status = 0;  // what the client got (499: it left)
};

class RequestJournal {
 public:
  // REQUIRES: capacity >= 1.
  explicit RequestJournal(std::size_t capacity);

  void record(const JournalEntry& entry);
  // Entries that arrived at or after `since`, oldest first.
  std::vector<JournalEntry> since(core::Time since) const;
  std::size_t capacity() const { return capacity_; }
  // Entries dropped because the ring was full.
  std::uint64_t dropped() const;

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::vector<JournalEntry> ring_;  // grows to capacity_, then wraps at next_
  std::size_t next_ = 0;
  std::uint64_t dropped_ = 0;
};

// The entries as Mooncake trace lines ({"timestamp": ms, "input_length": n, "output_length": n}
// with timestamps in milliseconds since `origin`), the JSON-lines form loadgen's and the
// simulator's trace reader takes (loadgen/trace.h). Entries without output tokens count one.
std::string to_trace_lines(const std::vector<JournalEntry>& entries, core::Time origin);

}  // namespace llmscale::router
