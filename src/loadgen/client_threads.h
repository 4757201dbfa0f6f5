// ClientThreads: the client side of `llmscale load` spread over threads. Each thread runs its
// own event loop with its own HttpClient (and so its own keep-alive connections) and
// HttpExecutor; the Runner hands each loop its share of the requests (runner.h, "Client
// threads") and merges what they measured. Nothing is shared between the loops but the Runner.
//
// The first loop is the primary one: its clock times the run, and the CLI handles signals on
// it.
//
// Thread-safety: construct, start, stop and join from one thread; shards() are for one Runner.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "core/result.h"
#include "loadgen/http_executor.h"
#include "loadgen/runner.h"
#include "net/client.h"
#include "net/event_loop.h"

namespace llmscale::loadgen {

class ClientThreads {
 public:
  // `options.max_connections_per_host` is the run's total; each thread's client gets its share
  // (rounded up). REQUIRES: threads >= 1.
  ClientThreads(int threads, net::ClientOptions options, const HttpTarget& target);
  ~ClientThreads();
  ClientThreads(const ClientThreads&) = delete;
  ClientThreads& operator=(const ClientThreads&) = delete;

  int size() const { return static_cast<int>(threads_.size()); }
  // Fails when the TLS files cannot be loaded (checked on the first client; all share them).
  core::Status check_tls_config();
  std::vector<RunnerShard> shards();
  net::EventLoop& primary();

  // Runs each loop on a thread of its own; returns at once.
  void start();
  // Stops every loop and waits for its thread.
  void stop_and_join();

 private:
  struct Thread;
  std::vector<std::unique_ptr<Thread>> threads_;
};

// What `--threads 0` (auto) resolves to: one thread per core, but no more than the run's
// connections (a thread without a connection has nothing to do). At least 1.
int auto_client_threads(std::size_t connections);

}  // namespace llmscale::loadgen
