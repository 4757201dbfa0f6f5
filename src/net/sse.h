// Server-Sent Events (text/event-stream): an incremental parser and the writer.
//
// The parser follows the WHATWG HTML "event stream interpretation" rules: lines end with CRLF,
// LF or CR (also when split between two feeds), a leading UTF-8 BOM is dropped, lines opening
// with ':' are comments, a field without ':' has an empty value, one space after ':' is
// removed, `data` lines join with '\n', `id` persists across events (and is ignored if it holds
// NUL), `retry` takes only ASCII digits, unknown fields are ignored, and an event is dispatched
// at a blank line only when its data buffer is non-empty. A partial event at end of stream is
// discarded (call nothing; simply stop feeding).
//
// Pure code; an SseParser is a single-threaded value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llmscale::net {

struct SseEvent {
  // Event type. The parser reports "message" when the stream named none; the writer omits the
  // `event:` line when this is empty.
  std::string event;
  std::string data;
  // The parser reports the last event ID in effect (WHATWG lastEventId); the writer emits an
  // `id:` line only when this is non-empty.
  std::string id;
  std::optional<std::int64_t> retry_ms;

  bool operator==(const SseEvent&) const = default;
};

class SseParser {
 public:
  // An event (or a single line) larger than `max_event_bytes` puts the parser in the failed
  // state, so a peer cannot make us buffer without bound.
  explicit SseParser(std::size_t max_event_bytes = 16 * 1024 * 1024)
      : max_event_bytes_(max_event_bytes) {}

  // Parses `bytes`, calling `on_event` for each dispatched event in order. Returns false once
  // the parser has failed (then it ignores further input).
  bool feed(std::string_view bytes, const std::function<void(const SseEvent&)>& on_event);
  // Convenience: the events completed by `bytes`.
  std::vector<SseEvent> feed(std::string_view bytes);

  bool failed() const { return failed_; }
  // The last event ID seen (persists across events, as in the browser's EventSource).
  const std::string& last_event_id() const { return last_id_; }
  // The last valid `retry` value, in milliseconds.
  std::optional<std::int64_t> retry_ms() const { return retry_; }
  // Forgets any partial line and event (e.g. before reconnecting); keeps last_event_id.
  void reset_partial();

 private:
  void process_line(std::string_view line, const std::function<void(const SseEvent&)>& on_event);
  void dispatch(const std::function<void(const SseEvent&)>& on_event);

  std::size_t max_event_bytes_;
  std::string partial_line_;
  std::string data_;
  std::string event_type_;
  std::string last_id_;
  std::optional<std::int64_t> retry_;
  std::optional<std::int64_t> event_retry_;
  SseEvent scratch_;
  bool skip_lf_ = false;
  bool bom_checked_ = false;
  bool failed_ = false;
};

// Appends one event in wire form: "event: E\n", "id: I\n", "retry: N\n" when set, one
// "data: line\n" per line of `data` (split at CRLF, LF or CR; an empty line as "data:"), then
// a blank line. CR and LF in `event`/`id` (and NUL in `id`) are dropped, since they would
// change the framing.
void append_sse_event(std::string& out, const SseEvent& event);
std::string format_sse_event(const SseEvent& event);
// Just the data of an unnamed event: "data: <line>\n"... "\n" (OpenAI-style token chunks).
void append_sse_data(std::string& out, std::string_view data);
// A comment block (": text\n" per line, then "\n"); clients ignore it, proxies see traffic,
// so it serves as a keep-alive.
std::string format_sse_comment(std::string_view text);

}  // namespace llmscale::net
