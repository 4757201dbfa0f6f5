// URLs, percent-encoding and query strings, with Go's net/url semantics where peers depend on
// them (Prometheus reads `?query=` with url.ParseQuery; kubectl escapes path segments with
// url.PathEscape, so `*` arrives as `%2A`).
//
// Pure functions and values; no I/O; safe to call from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace llmscale::net {

// An absolute http or https URL, split for a client connection.
struct Url {
  std::string scheme;      // "http" or "https", lower case
  std::string userinfo;    // raw "user:password" before '@', usually empty
  std::string host;        // DNS name (lower case) or IP literal; IPv6 without brackets
  std::uint16_t port = 0;  // explicit port, or 80/443 from the scheme
  std::string path;        // raw, percent-encoded as given; "/" when the URL had none
  std::string query;       // raw, without '?'; fragment dropped

  bool is_https() const { return scheme == "https"; }
  bool host_is_ipv6() const { return host.find(':') != std::string::npos; }
  // host[:port] as the Host header wants it: brackets around IPv6, default port omitted.
  std::string authority() const;
  // The request-target: path[?query].
  std::string target() const;
  // scheme://authority/path[?query] (userinfo omitted).
  std::string to_string() const;
};

// Parses "http://host[:port][/path][?query][#fragment]". Accepts IPv6 literals
// ("http://[::1]:8080/"), upper-case schemes and hosts. Bytes a request-target may not carry
// (spaces, controls, non-ASCII, `"<>\^`{|}`) are percent-encoded in path and query.
// Errors (kInvalidArgument): other schemes, a missing host, a bad port, a bad IPv6 literal.
core::Result<Url> parse_url(std::string_view text);

// Go's url.QueryEscape: unreserved bytes (ALPHA DIGIT - . _ ~) kept, ' ' as '+', the rest %XX.
std::string query_escape(std::string_view text);
// Go's url.PathEscape (one path segment): also keeps $ & + : = @, escapes / ; , ? * and the rest.
std::string path_escape(std::string_view text);
// Decodes %XX escapes (and '+' as ' ' when `plus_as_space`). A '%' not followed by two hex
// digits is an error (kInvalidArgument), as in Go.
core::Result<std::string> percent_decode(std::string_view text, bool plus_as_space = false);

// Query or form parameters: ordered, multi-valued, decoded.
class QueryParams {
 public:
  using Param = std::pair<std::string, std::string>;
  using const_iterator = std::vector<Param>::const_iterator;

  QueryParams() = default;
  QueryParams(std::initializer_list<Param> params) : params_(params) {}

  void add(std::string name, std::string value);
  // Replaces every value of `name` by one.
  void set(std::string_view name, std::string value);
  // The first value of `name`.
  std::optional<std::string_view> get(std::string_view name) const;
  std::vector<std::string_view> get_all(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }

  // "a=1&b=x+y" in insertion order, escaped with query_escape (Go sorts keys in
  // Values.Encode; we keep the caller's order so URLs read the way they were built).
  std::string encode() const;

  const_iterator begin() const { return params_.begin(); }
  const_iterator end() const { return params_.end(); }
  std::size_t size() const { return params_.size(); }
  bool empty() const { return params_.empty(); }

 private:
  std::vector<Param> params_;
};

// Go's url.ParseQuery: '&'-separated, '+' is a space, "a" means a="". A pair with a ';' or a
// bad escape is skipped and the first such problem is returned as the error.
core::Result<QueryParams> parse_query(std::string_view raw);
// As parse_query, but keeps the good pairs and drops the bad (Go's URL.Query()).
QueryParams parse_query_lenient(std::string_view raw);

}  // namespace llmscale::net
