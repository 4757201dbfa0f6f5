// What HttpServer (server.cc: listening, accepting, stopping) and its connections
// (server_connection.cc: parsing, handlers, writing) share. Internal to net (includes Asio).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>

#include "net/server.h"

namespace llmscale::net::detail {

// The server's view of a connection: enough to stop it.
class ServerConnection {
 public:
  virtual ~ServerConnection() = default;
  virtual boost::asio::any_io_executor executor() = 0;
  // Stop requested: close now if idle between requests, else after the current response.
  virtual void begin_close() = 0;
  virtual void force_close() = 0;
};

struct ServerCounters {
  std::atomic<std::uint64_t> accepted{0}, rejected{0}, requests{0}, header_timeouts{0},
      body_timeouts{0}, idle_timeouts{0}, write_timeouts{0}, bad_requests{0}, too_large{0},
      tls_failures{0}, handler_errors{0};
};

// Shared by the HttpServer and every connection (which keep it alive after the HttpServer
// is gone). The registry is locked: with several loop threads, connections leave it from
// their own strands.
struct ServerState : std::enable_shared_from_this<ServerState> {
  ServerState(EventLoop& l, ServerOptions o) : loop(l), options(std::move(o)) {}

  EventLoop& loop;
  const ServerOptions options;
  Handler handler;
  std::shared_ptr<boost::asio::ssl::context> tls;
  std::optional<boost::asio::ip::tcp::acceptor> acceptor;
  boost::asio::any_io_executor acceptor_executor;
  std::uint16_t port = 0;
  bool started = false;
  std::atomic<bool> stopping{false};
  ServerCounters counters;

  std::mutex mutex;
  std::unordered_map<ServerConnection*, std::weak_ptr<ServerConnection>> connections;

  bool multi_threaded() const { return loop.threads() > 1; }
  // A strand per connection with several loop threads, else the loop's own executor.
  boost::asio::any_io_executor new_executor() {
    if (multi_threaded()) return boost::asio::make_strand(detail::io_context_of(loop));
    return detail::io_context_of(loop).get_executor();
  }
  std::size_t active() {
    std::lock_guard lock(mutex);
    return connections.size();
  }
  void add(const std::shared_ptr<ServerConnection>& c) {
    std::lock_guard lock(mutex);
    connections.emplace(c.get(), c);
  }
  void remove(ServerConnection* c) {
    std::lock_guard lock(mutex);
    connections.erase(c);
  }
  std::vector<std::shared_ptr<ServerConnection>> snapshot() {
    std::vector<std::shared_ptr<ServerConnection>> out;
    std::lock_guard lock(mutex);
    for (auto& [raw, weak] : connections) {
      if (auto c = weak.lock()) out.push_back(std::move(c));
    }
    return out;
  }
  void close_listener();
  // Runs `fn` on `executor`: inline with one loop thread, else posted (strands serialize it
  // with the connection's own work).
  template <class Fn>
  void run_on(const boost::asio::any_io_executor& executor, Fn&& fn) {
    if (multi_threaded()) {
      boost::asio::post(executor, std::forward<Fn>(fn));
    } else {
      fn();
    }
  }
};

// Creates the connection for an accepted socket, registers it and starts its coroutine on the
// socket's executor (server_connection.cc).
void start_connection(const std::shared_ptr<ServerState>& state,
                      boost::asio::ip::tcp::socket socket);

}  // namespace llmscale::net::detail
