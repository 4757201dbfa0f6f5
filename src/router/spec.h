// Text forms the `llmscale route` command (and the lead's `up` config) accept for the router:
// a listen address and backend specs. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace llmscale::router {

struct ListenAddress {
  std::string address;  // "127.0.0.1", "0.0.0.0", "::1"
  std::uint16_t port = 0;
};

// "HOST:PORT", ":PORT" (all interfaces, 0.0.0.0), "[IPv6]:PORT", or "PORT" (loopback).
// kInvalidArgument otherwise.
core::Result<ListenAddress> parse_listen_address(std::string_view text);

struct BackendSpec {
  std::string id;
  std::string url;
};

// "URL" or "NAME=URL". Without a name the backend is called "backend-<index>". The URL is
// checked later by Balancer::add_backend.
core::Result<BackendSpec> parse_backend_spec(std::string_view text, std::size_t index);

}  // namespace llmscale::router
