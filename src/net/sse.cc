// SSE parsing (WHATWG HTML §9.2.6 "Interpreting an event stream") and framing.
#include "net/sse.h"

#include <algorithm>

namespace llmscale::net {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// Offset of the first CR or LF at or after `from`, or npos.
std::size_t find_line_end(std::string_view text, std::size_t from) {
  const char* begin = text.data() + from;
  const char* end = text.data() + text.size();
  for (const char* p = begin; p < end; ++p) {
    if (*p == '\n' || *p == '\r') return static_cast<std::size_t>(p - text.data());
  }
  return std::string_view::npos;
}

void append_without(std::string& out, std::string_view text, bool drop_nul) {
  for (char c : text) {
    if (c == '\r' || c == '\n' || (drop_nul && c == '\0')) continue;
    out.push_back(c);
  }
}

}  // namespace

bool SseParser::feed(std::string_view bytes, const std::function<void(const SseEvent&)>& on_event) {
  if (failed_) return false;
  std::string carried;
  if (!bom_checked_) {
    // The BOM may itself arrive split, so hold bytes until three are known.
    partial_line_.append(bytes);
    std::string_view head = partial_line_;
    if (head.size() < kBom.size() && kBom.substr(0, head.size()) == head) return true;
    bom_checked_ = true;
    if (head.substr(0, kBom.size()) == kBom) partial_line_.erase(0, kBom.size());
    carried.swap(partial_line_);
    bytes = carried;
  }
  std::size_t pos = 0;
  if (skip_lf_ && !bytes.empty()) {
    if (bytes[0] == '\n') pos = 1;
    skip_lf_ = false;
  }
  while (pos < bytes.size()) {
    std::size_t end = find_line_end(bytes, pos);
    if (end == std::string_view::npos) {
      partial_line_.append(bytes.substr(pos));
      if (partial_line_.size() > max_event_bytes_) {
        failed_ = true;
        return false;
      }
      return true;
    }
    std::string_view line = bytes.substr(pos, end - pos);
    if (!partial_line_.empty()) {
      partial_line_.append(line);
      std::string whole;
      whole.swap(partial_line_);
      process_line(whole, on_event);
    } else {
      process_line(line, on_event);
    }
    if (failed_) return false;
    pos = end + 1;
    if (bytes[end] == '\r') {
      if (pos < bytes.size()) {
        if (bytes[pos] == '\n') ++pos;
      } else {
        skip_lf_ = true;  // a CRLF split between two feeds is still one line break
      }
    }
  }
  return true;
}

std::vector<SseEvent> SseParser::feed(std::string_view bytes) {
  std::vector<SseEvent> events;
  feed(bytes, [&](const SseEvent& e) { events.push_back(e); });
  return events;
}

void SseParser::reset_partial() {
  partial_line_.clear();
  data_.clear();
  event_type_.clear();
  event_retry_.reset();
  skip_lf_ = false;
}

void SseParser::process_line(std::string_view line,
                             const std::function<void(const SseEvent&)>& on_event) {
  if (line.empty()) {
    dispatch(on_event);
    return;
  }
  if (line.front() == ':') return;  // comment
  std::string_view field = line;
  std::string_view value;
  std::size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    data_.append(value);
    data_.push_back('\n');
    if (data_.size() > max_event_bytes_) failed_ = true;
  } else if (field == "event") {
    event_type_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
  } else if (field == "retry") {
    bool digits =
        !value.empty() && value.size() <= 18 &&
        std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) {
      std::int64_t ms = 0;
      for (char c : value) ms = ms * 10 + (c - '0');
      retry_ = ms;
      event_retry_ = ms;
    }
  }
}

void SseParser::dispatch(const std::function<void(const SseEvent&)>& on_event) {
  if (data_.empty()) {
    event_type_.clear();
    event_retry_.reset();
    return;
  }
  data_.pop_back();  // the trailing '\n' of the last data line
  scratch_.event.assign(event_type_.empty() ? std::string_view("message")
                                            : std::string_view(event_type_));
  scratch_.data.swap(data_);
  scratch_.id.assign(last_id_);
  scratch_.retry_ms = event_retry_;
  data_.clear();
  event_type_.clear();
  event_retry_.reset();
  on_event(scratch_);
}

void append_sse_event(std::string& out, const SseEvent& event) {
  if (!event.event.empty()) {
    out.append("event: ");
    append_without(out, event.event, false);
    out.push_back('\n');
  }
  if (!event.id.empty()) {
    out.append("id: ");
    append_without(out, event.id, true);
    out.push_back('\n');
  }
  if (event.retry_ms) {
    out.append("retry: ");
    out.append(std::to_string(*event.retry_ms));
    out.push_back('\n');
  }
  append_sse_data(out, event.data);
}

std::string format_sse_event(const SseEvent& event) {
  std::string out;
  out.reserve(event.data.size() + 32);
  append_sse_event(out, event);
  return out;
}

void append_sse_data(std::string& out, std::string_view data) {
  std::size_t pos = 0;
  while (true) {
    std::size_t end = find_line_end(data, pos);
    std::string_view line = data.substr(pos, end == std::string_view::npos ? data.npos : end - pos);
    if (line.empty()) {
      out.append("data:\n");
    } else {
      out.append("data: ");
      out.append(line);
      out.push_back('\n');
    }
    if (end == std::string_view::npos) break;
    pos = end + 1;
    if (data[end] == '\r' && pos < data.size() && data[pos] == '\n') ++pos;
    if (pos == data.size()) {
      // A trailing line break means one more (empty) data line.
      out.append("data:\n");
      break;
    }
  }
  out.push_back('\n');
}

std::string format_sse_comment(std::string_view text) {
  std::string out;
  std::size_t pos = 0;
  while (true) {
    std::size_t end = find_line_end(text, pos);
    std::string_view line = text.substr(pos, end == std::string_view::npos ? text.npos : end - pos);
    out.append(line.empty() ? ":" : ": ");
    out.append(line);
    out.push_back('\n');
    if (end == std::string_view::npos) break;
    pos = end + 1;
    if (text[end] == '\r' && pos < text.size() && text[pos] == '\n') ++pos;
    if (pos == text.size()) break;
  }
  out.push_back('\n');
  return out;
}

}  // namespace llmscale::net
