// ServerRequest helpers and the ResponseWriter's SSE conveniences (no Asio here).
#include "net/server.h"

namespace llmscale::net {

core::Status ServerRequest::set_target(std::string request_target) {
  target = std::move(request_target);
  std::string origin;
  std::string_view t = target;
  if (t == "*") {
    // (assign(1, '*') rather than = "*": g++ 12 -Wrestrict false positive, PR105329)
    raw_path.assign(1, '*');
    path.assign(1, '*');
    raw_query.clear();
    query = QueryParams();
    return {};
  }
  if (!t.empty() && t.front() != '/') {
    // absolute-form (RFC 9112 §3.2.2), sent to proxies; servers must accept it too.
    auto url = parse_url(t);
    if (!url) return core::invalid_argument("invalid request target \"" + target + "\"");
    origin = url->target();
    t = origin;
  }
  std::size_t question = t.find('?');
  raw_path.assign(t.substr(0, question));
  raw_query.assign(question == std::string_view::npos ? std::string_view()
                                                      : t.substr(question + 1));
  auto decoded = percent_decode(raw_path, false);
  if (!decoded) return core::invalid_argument("invalid request path: " + decoded.error().message);
  path = std::move(*decoded);
  query = parse_query_lenient(raw_query);
  return {};
}

std::optional<std::string_view> ServerRequest::path_param(std::string_view name) const {
  for (const auto& [key, value] : path_params) {
    if (key == name) return std::string_view(value);
  }
  return std::nullopt;
}

QueryParams ServerRequest::form() const {
  // Go: "Request body parameters take precedence over URL query string values in r.Form."
  QueryParams out;
  std::string_view type = headers.value("Content-Type");
  type = type.substr(0, type.find(';'));
  if ((method == "POST" || method == "PUT" || method == "PATCH") &&
      iequals(type, "application/x-www-form-urlencoded")) {
    for (const auto& [key, value] : parse_query_lenient(body)) out.add(key, value);
  }
  for (const auto& [key, value] : query) out.add(key, value);
  return out;
}

Awaitable<core::Status> ResponseWriter::begin_sse(Headers headers) {
  if (!headers.contains("Content-Type")) headers.add("Content-Type", "text/event-stream");
  if (!headers.contains("Cache-Control")) headers.add("Cache-Control", "no-cache");
  headers.set("X-Accel-Buffering", "no");
  co_return co_await begin_stream(200, std::move(headers));
}

Awaitable<core::Status> ResponseWriter::send_event(const SseEvent& event) {
  sse_buffer_.clear();
  append_sse_event(sse_buffer_, event);
  co_return co_await write(sse_buffer_);
}

Awaitable<core::Status> ResponseWriter::send_data(std::string_view data) {
  sse_buffer_.clear();
  append_sse_data(sse_buffer_, data);
  co_return co_await write(sse_buffer_);
}

Awaitable<core::Status> ResponseWriter::send_comment(std::string_view text) {
  sse_buffer_ = format_sse_comment(text);
  co_return co_await write(sse_buffer_);
}

}  // namespace llmscale::net
