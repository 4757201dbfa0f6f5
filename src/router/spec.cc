// Listen addresses and backend specs in text.
#include "router/spec.h"

#include <charconv>

namespace llmscale::router {
namespace {

core::Result<std::uint16_t> parse_port(std::string_view text, std::string_view whole) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > 65535) {
    return core::invalid_argument("listen address \"" + std::string(whole) +
                                  "\": port must be a number from 0 to 65535");
  }
  return static_cast<std::uint16_t>(value);
}

}  // namespace

core::Result<ListenAddress> parse_listen_address(std::string_view text) {
  ListenAddress out;
  if (text.empty()) return core::invalid_argument("listen address is empty");
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return core::invalid_argument("listen address \"" + std::string(text) +
                                    "\": want [IPv6]:PORT");
    }
    out.address = std::string(text.substr(1, close - 1));
    auto port = parse_port(text.substr(close + 2), text);
    if (!port) return tl::unexpected(port.error());
    out.port = *port;
    return out;
  }
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    out.address = "127.0.0.1";
    auto port = parse_port(text, text);
    if (!port) return tl::unexpected(port.error());
    out.port = *port;
    return out;
  }
  if (text.find(':') != colon) {
    return core::invalid_argument("listen address \"" + std::string(text) +
                                  "\": put IPv6 addresses in brackets, [::1]:8080");
  }
  out.address = colon == 0 ? "0.0.0.0" : std::string(text.substr(0, colon));
  auto port = parse_port(text.substr(colon + 1), text);
  if (!port) return tl::unexpected(port.error());
  out.port = *port;
  return out;
}

core::Result<BackendSpec> parse_backend_spec(std::string_view text, std::size_t index) {
  BackendSpec out;
  auto scheme = text.find("://");
  auto equals = text.find('=');
  if (equals != std::string_view::npos && (scheme == std::string_view::npos || equals < scheme)) {
    out.id = std::string(text.substr(0, equals));
    out.url = std::string(text.substr(equals + 1));
    if (out.id.empty()) {
      return core::invalid_argument("backend \"" + std::string(text) + "\": empty name before '='");
    }
  } else {
    out.id = "backend-" + std::to_string(index);
    out.url = std::string(text);
  }
  if (out.url.empty()) {
    return core::invalid_argument("backend \"" + std::string(text) + "\": URL is empty");
  }
  return out;
}

}  // namespace llmscale::router
