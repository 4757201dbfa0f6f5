// HTTP value types: header lists, shared bodies and gzip negotiation, reason phrases, dates.
#include "net/http.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "core/strings.h"
#include "net/gzip.h"

namespace llmscale::net {

namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

void Headers::add(std::string_view name, std::string_view value) {
  fields_.emplace_back(std::string(name), std::string(value));
}

void Headers::set(std::string_view name, std::string_view value) {
  for (auto it = fields_.begin(); it != fields_.end(); ++it) {
    if (iequals(it->first, name)) {
      it->second.assign(value);
      // Drop later duplicates so exactly one field remains.
      auto rest = std::remove_if(it + 1, fields_.end(),
                                 [&](const Field& f) { return iequals(f.first, name); });
      fields_.erase(rest, fields_.end());
      return;
    }
  }
  add(name, value);
}

std::size_t Headers::remove(std::string_view name) {
  auto rest = std::remove_if(fields_.begin(), fields_.end(),
                             [&](const Field& f) { return iequals(f.first, name); });
  std::size_t removed = static_cast<std::size_t>(fields_.end() - rest);
  fields_.erase(rest, fields_.end());
  return removed;
}

std::optional<std::string_view> Headers::get(std::string_view name) const {
  for (const auto& f : fields_) {
    if (iequals(f.first, name)) return std::string_view(f.second);
  }
  return std::nullopt;
}

std::string_view Headers::value(std::string_view name) const {
  auto v = get(name);
  return v ? *v : std::string_view();
}

std::vector<std::string_view> Headers::get_all(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const auto& f : fields_) {
    if (iequals(f.first, name)) values.emplace_back(f.second);
  }
  return values;
}

bool Headers::contains(std::string_view name) const {
  return get(name).has_value();
}

bool Headers::has_token(std::string_view name, std::string_view token) const {
  for (const auto& f : fields_) {
    if (!iequals(f.first, name)) continue;
    for (std::string_view part : core::split(f.second, ',')) {
      if (iequals(core::trim(part), token)) return true;
    }
  }
  return false;
}

Request Request::get(std::string url) {
  Request r;
  r.url = std::move(url);
  return r;
}

Request Request::post(std::string url, std::string body, std::string_view content_type) {
  Request r;
  r.method = "POST";
  r.url = std::move(url);
  r.body = std::move(body);
  if (!content_type.empty()) r.headers.add("Content-Type", content_type);
  return r;
}

Response Response::text(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.add("Content-Type", "text/plain; charset=utf-8");
  r.body = std::move(body);
  return r;
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.add("Content-Type", "application/json");
  r.body = std::move(body);
  return r;
}

std::shared_ptr<const std::string> SharedBody::plain() const {
  return {shared_from_this(), &bytes_};
}

std::shared_ptr<const std::string> SharedBody::gzipped() const {
  // Kubernetes compresses at level 1: far cheaper, and within ~1.1-1.3x of level 6's size
  // (kubernetes/kubernetes#112296).
  std::call_once(gzip_once_, [this] { gzip_ = gzip_compress(bytes_, 1); });
  return {shared_from_this(), &gzip_};
}

bool accepts_gzip(const Headers& request_headers) {
  // Kubernetes reads the first Accept-Encoding field only (http.Header.Get).
  auto field = request_headers.get("Accept-Encoding");
  if (!field) return false;
  for (auto element : core::split(*field, ',')) {
    if (core::trim(element) == "gzip") return true;
  }
  return false;
}

void set_shared_body(Response& response, const std::shared_ptr<const SharedBody>& body,
                     const Headers& request_headers, std::size_t gzip_threshold) {
  response.body.clear();
  if (body->bytes().size() > gzip_threshold && accepts_gzip(request_headers)) {
    response.shared_body = body->gzipped();
    response.headers.set("Content-Encoding", "gzip");
    response.headers.add("Vary", "Accept-Encoding");
  } else {
    response.shared_body = body->plain();
  }
}

std::string Endpoint::to_string() const {
  if (address.find(':') != std::string::npos) {
    return "[" + address + "]:" + std::to_string(port);
  }
  return address + ":" + std::to_string(port);
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

bool is_hop_by_hop_header(std::string_view name) {
  static constexpr std::string_view kHopByHop[] = {"Connection",
                                                   "Keep-Alive",
                                                   "Proxy-Connection",
                                                   "TE",
                                                   "Trailer",
                                                   "Transfer-Encoding",
                                                   "Upgrade",
                                                   "Proxy-Authenticate",
                                                   "Proxy-Authorization"};
  for (std::string_view h : kHopByHop) {
    if (iequals(h, name)) return true;
  }
  return false;
}

std::string http_date(core::Time time) {
  std::time_t seconds =
      std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buffer;
}

}  // namespace llmscale::net
