// One event loop, HTTP client and executor per client thread (see client_threads.h).
#include "loadgen/client_threads.h"

#include <algorithm>
#include <thread>

namespace llmscale::loadgen {

struct ClientThreads::Thread {
  Thread(const net::ClientOptions& options, const HttpTarget& target)
      : client(loop, options), executor(client, target) {}
  net::EventLoop loop{1};
  net::HttpClient client;
  HttpExecutor executor;
};

ClientThreads::ClientThreads(int threads, net::ClientOptions options, const HttpTarget& target) {
  auto count = static_cast<std::size_t>(std::max(threads, 1));
  options.max_connections_per_host =
      std::max<std::size_t>(1, (options.max_connections_per_host + count - 1) / count);
  threads_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    threads_.push_back(std::make_unique<Thread>(options, target));
  }
}

ClientThreads::~ClientThreads() {
  stop_and_join();
}

core::Status ClientThreads::check_tls_config() {
  return threads_.front()->client.check_tls_config();
}

std::vector<RunnerShard> ClientThreads::shards() {
  std::vector<RunnerShard> out;
  out.reserve(threads_.size());
  for (auto& thread : threads_) out.push_back(RunnerShard{&thread->loop, &thread->executor});
  return out;
}

net::EventLoop& ClientThreads::primary() {
  return threads_.front()->loop;
}

void ClientThreads::start() {
  for (auto& thread : threads_) thread->loop.start();
}

void ClientThreads::stop_and_join() {
  for (auto& thread : threads_) thread->loop.stop();
  for (auto& thread : threads_) thread->loop.join();
}

int auto_client_threads(std::size_t connections) {
  std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  return static_cast<int>(std::clamp<std::size_t>(std::min(cores, connections), 1, 256));
}

}  // namespace llmscale::loadgen
