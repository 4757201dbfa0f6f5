// URL parsing and percent-encoding with Go's net/url rules.
#include "net/url.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace llmscale::net {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_escaped(std::string& out, unsigned char c) {
  out.push_back('%');
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 15]);
}

// Bytes RFC 9112 does not allow in a request-target, escaped so a URL given with a space or
// non-ASCII text still yields a valid request line.
std::string escape_target_part(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' ||
        c == '`' || c == '{' || c == '|' || c == '}') {
      append_escaped(out, c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool valid_reg_name(std::string_view host) {
  for (unsigned char c : host) {
    if (is_unreserved(c)) continue;
    // sub-delims and pct-encoded are legal in reg-name; DNS names never need them but Go
    // accepts them, so do we (except what would break the request line).
    if (c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' ||
        c == '+' || c == ',' || c == ';' || c == '=' || c == '%') {
      continue;
    }
    return false;
  }
  return true;
}

}  // namespace

std::string Url::authority() const {
  std::string out;
  out.reserve(host.size() + 8);
  if (host_is_ipv6()) {
    out.push_back('[');
    out.append(host);
    out.push_back(']');
  } else {
    out.append(host);
  }
  std::uint16_t default_port = is_https() ? 443 : 80;
  if (port != default_port) {
    out.push_back(':');
    out.append(std::to_string(port));
  }
  return out;
}

std::string Url::target() const {
  if (query.empty()) return path;
  return path + "?" + query;
}

std::string Url::to_string() const {
  return scheme + "://" + authority() + target();
}

core::Result<Url> parse_url(std::string_view text) {
  auto fail = [&](std::string_view why) {
    return core::invalid_argument("parse url \"" + std::string(text) + "\": " + std::string(why));
  };
  Url url;
  std::size_t colon = text.find("://");
  if (colon == std::string_view::npos) return fail("missing scheme (want http:// or https://)");
  url.scheme = lower_ascii(text.substr(0, colon));
  if (url.scheme != "http" && url.scheme != "https") {
    return fail("unsupported scheme \"" + url.scheme + "\"");
  }
  std::string_view rest = text.substr(colon + 3);
  std::size_t fragment = rest.find('#');
  if (fragment != std::string_view::npos) rest = rest.substr(0, fragment);
  std::size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view path_and_query =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);

  std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    url.userinfo = std::string(authority.substr(0, at));
    authority = authority.substr(at + 1);
  }
  std::string_view host;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("missing ']' in IPv6 host");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("unexpected text after IPv6 host");
      port = after.substr(1);
    }
    // Zone ids ("fe80::1%25eth0") are kept as given but validated without the zone.
    std::string address(host.substr(0, host.find('%')));
    in6_addr parsed{};
    if (inet_pton(AF_INET6, address.c_str(), &parsed) != 1) {
      return fail("invalid IPv6 address \"" + std::string(host) + "\"");
    }
    url.host = lower_ascii(host);
  } else {
    std::size_t port_colon = authority.rfind(':');
    if (port_colon != std::string_view::npos) {
      host = authority.substr(0, port_colon);
      port = authority.substr(port_colon + 1);
      if (host.find(':') != std::string_view::npos) {
        return fail("IPv6 address must be in brackets");
      }
    } else {
      host = authority;
    }
    if (!valid_reg_name(host)) return fail("invalid character in host name");
    url.host = lower_ascii(host);
  }
  if (url.host.empty()) return fail("missing host");

  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return fail("invalid port \"" + std::string(port) + "\"");
    }
    url.port = static_cast<std::uint16_t>(value);
  } else {
    url.port = url.is_https() ? 443 : 80;
  }

  std::size_t question = path_and_query.find('?');
  std::string_view path = path_and_query.substr(0, question);
  url.path = path.empty() ? "/" : escape_target_part(path);
  if (question != std::string_view::npos) {
    url.query = escape_target_part(path_and_query.substr(question + 1));
  }
  return url;
}

std::string query_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  for (unsigned char c : text) {
    if (is_unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      append_escaped(out, c);
    }
  }
  return out;
}

std::string path_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 4);
  for (unsigned char c : text) {
    // Go: shouldEscape(c, encodePathSegment) is false for unreserved and for $ & + : = @.
    if (is_unreserved(c) || c == '$' || c == '&' || c == '+' || c == ':' || c == '=' || c == '@') {
      out.push_back(static_cast<char>(c));
    } else {
      append_escaped(out, c);
    }
  }
  return out;
}

core::Result<std::string> percent_decode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
      int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        std::string_view bad = text.substr(i, std::min<std::size_t>(3, text.size() - i));
        return core::invalid_argument("invalid URL escape \"" + std::string(bad) + "\"");
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void QueryParams::add(std::string name, std::string value) {
  params_.emplace_back(std::move(name), std::move(value));
}

void QueryParams::set(std::string_view name, std::string value) {
  std::erase_if(params_, [&](const Param& p) { return p.first == name; });
  params_.emplace_back(std::string(name), std::move(value));
}

std::optional<std::string_view> QueryParams::get(std::string_view name) const {
  for (const auto& p : params_) {
    if (p.first == name) return std::string_view(p.second);
  }
  return std::nullopt;
}

std::vector<std::string_view> QueryParams::get_all(std::string_view name) const {
  std::vector<std::string_view> values;
  for (const auto& p : params_) {
    if (p.first == name) values.emplace_back(p.second);
  }
  return values;
}

std::string QueryParams::encode() const {
  std::string out;
  for (const auto& [name, value] : params_) {
    if (!out.empty()) out.push_back('&');
    out += query_escape(name);
    out.push_back('=');
    out += query_escape(value);
  }
  return out;
}

namespace {

// Go's parseQuery loop: returns the first error but keeps going.
core::Status parse_query_into(std::string_view raw, QueryParams& params) {
  core::Status first_error;
  while (!raw.empty()) {
    std::size_t amp = raw.find('&');
    std::string_view pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    if (pair.empty()) continue;
    if (pair.find(';') != std::string_view::npos) {
      // Go 1.17+: semicolons are no longer separators; the pair is rejected.
      if (first_error) first_error = core::invalid_argument("invalid semicolon separator in query");
      continue;
    }
    std::size_t eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq), true);
    if (!name) {
      if (first_error) first_error = tl::unexpected(name.error());
      continue;
    }
    std::string value;
    if (eq != std::string_view::npos) {
      auto decoded = percent_decode(pair.substr(eq + 1), true);
      if (!decoded) {
        if (first_error) first_error = tl::unexpected(decoded.error());
        continue;
      }
      value = std::move(*decoded);
    }
    params.add(std::move(*name), std::move(value));
  }
  return first_error;
}

}  // namespace

core::Result<QueryParams> parse_query(std::string_view raw) {
  QueryParams params;
  auto status = parse_query_into(raw, params);
  if (!status) return tl::unexpected(status.error());
  return params;
}

QueryParams parse_query_lenient(std::string_view raw) {
  QueryParams params;
  (void)parse_query_into(raw, params);
  return params;
}

}  // namespace llmscale::net
