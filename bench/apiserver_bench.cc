// Watch fan-out of the embedded API server: W watchers of pods (raw loopback HTTP/1.1
// connections, `?watch=true`) while a fleet scales 0 -> 50 -> 0 (50 pod creations, then 50
// deletions). Reports delivered events per second and the lag from each write to its arrival
// at each watcher (p50, p99, max). The server runs on its own event loop thread, as in `up`.
//
//   build/bench/apiserver_bench --benchmark_filter=WatchFanout
//
// Listing 1,000 pods: one GET of the list as kubectl asks for it (server-side Table) and as JSON,
// over a loopback connection per request; and the real `kubectl get pods` end to end (process
// start, discovery from its cache, the request, printing).
//
//   build/bench/apiserver_bench --benchmark_filter='ListPods|KubectlGetPods'
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "apiserver/api_server.h"
#include "net/event_loop.h"
#include "net/router.h"
#include "net/server.h"

namespace {

using namespace llmscale;
using Clock = std::chrono::steady_clock;

// One watch connection read without a client library: de-chunks the body and finds each
// event's resourceVersion.
struct Watcher {
  int fd = -1;
  std::string buffer;  // raw bytes not yet de-chunked
  std::string body;    // de-chunked bytes not yet split into lines
  bool head_done = false;
  std::size_t chunk_left = 0;
  std::vector<std::pair<std::uint64_t, Clock::time_point>> arrivals;

  void feed(const char* data, std::size_t n, Clock::time_point now) {
    buffer.append(data, n);
    if (!head_done) {
      std::size_t end = buffer.find("\r\n\r\n");
      if (end == std::string::npos) return;
      buffer.erase(0, end + 4);
      head_done = true;
    }
    while (true) {
      if (chunk_left == 0) {
        std::size_t eol = buffer.find("\r\n");
        if (eol == std::string::npos) break;
        if (eol == 0) {  // the CRLF after a chunk
          buffer.erase(0, 2);
          continue;
        }
        chunk_left = std::stoul(buffer.substr(0, eol), nullptr, 16);
        buffer.erase(0, eol + 2);
        if (chunk_left == 0) break;
      }
      std::size_t take = std::min(chunk_left, buffer.size());
      if (take == 0) break;
      body.append(buffer, 0, take);
      buffer.erase(0, take);
      chunk_left -= take;
    }
    std::size_t start = 0;
    while (true) {
      std::size_t eol = body.find('\n', start);
      if (eol == std::string::npos) break;
      std::size_t at = body.find("\"resourceVersion\":\"", start);
      if (at != std::string::npos && at < eol) {
        at += 19;
        arrivals.emplace_back(std::stoull(body.substr(at, body.find('"', at) - at)), now);
      }
      start = eol + 1;
    }
    body.erase(0, start);
  }
};

int connect_watch(std::uint16_t port, std::uint64_t resource_version) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return -1;
  std::string request = "GET /api/v1/namespaces/default/pods?watch=true&resourceVersion=" +
                        std::to_string(resource_version) +
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n";
  if (::send(fd, request.data(), request.size(), 0) < 0) return -1;
  return fd;
}

core::Json pod(int i) {
  return core::Json{{"metadata",
                     {{"name", "llm-" + std::to_string(i)},
                      {"namespace", "default"},
                      {"labels", {{"app", "llm"}}}}},
                    {"spec", {{"containers", {{{"name", "server"}, {"image", "vllm"}}}}}}};
}

void BM_WatchFanout(benchmark::State& state) {
  const int watchers = static_cast<int>(state.range(0));
  constexpr int kPods = 50;
  std::vector<double> lags_ms;
  double events_per_second = 0;
  for (auto _ : state) {
    net::EventLoop loop;
    apiserver::Store store(loop.clock());
    apiserver::ApiServer api(store, loop.clock(), apiserver::builtin_resources());
    api.create(*api.find("", "namespaces"), core::Json{{"metadata", {{"name", "default"}}}});
    net::Router router;
    api.add_routes(router);
    net::HttpServer server(loop, net::ServerOptions{});
    if (!server.start(router.handler())) {
      state.SkipWithError("cannot listen");
      return;
    }
    std::uint64_t start_version = store.resource_version();
    loop.start();

    std::vector<Watcher> conns(static_cast<std::size_t>(watchers));
    for (Watcher& w : conns) w.fd = connect_watch(server.port(), start_version);
    // Let every watch register before the writes start.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));

    std::mutex mu;
    std::map<std::uint64_t, Clock::time_point> committed;
    std::atomic<int> writes_done{0};
    auto write = [&](bool create, int i) {
      loop.post([&, create, i] {
        if (create) {
          api.create(*api.find("", "pods"), pod(i));
        } else {
          store.remove({"", "pods"}, "default", "llm-" + std::to_string(i));
        }
        std::lock_guard<std::mutex> lock(mu);
        committed[store.resource_version()] = Clock::now();
        ++writes_done;
      });
    };
    // A write every millisecond, from a thread of its own while this one reads: far faster
    // than a real fleet changes, slow enough that each delivery is measured on its own.
    std::thread producer([&] {
      for (int i = 0; i < kPods; ++i) {
        write(true, i);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      for (int i = 0; i < kPods; ++i) {
        write(false, i);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });

    const std::size_t expected = 2 * kPods;
    auto deadline = Clock::now() + std::chrono::seconds(30);
    std::vector<pollfd> fds;
    for (Watcher& w : conns) fds.push_back(pollfd{w.fd, POLLIN, 0});
    char buf[65536];
    while (Clock::now() < deadline) {
      bool all = std::all_of(conns.begin(), conns.end(),
                             [&](const Watcher& w) { return w.arrivals.size() >= expected; });
      if (all) break;
      if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
      Clock::time_point now = Clock::now();
      for (std::size_t i = 0; i < fds.size(); ++i) {
        if ((fds[i].revents & POLLIN) == 0) continue;
        ssize_t n = ::recv(fds[i].fd, buf, sizeof buf, 0);
        if (n > 0) conns[i].feed(buf, static_cast<std::size_t>(n), now);
      }
    }
    producer.join();
    for (Watcher& w : conns) ::close(w.fd);
    loop.stop();
    loop.join();

    Clock::time_point first = Clock::time_point::max();
    Clock::time_point last = Clock::time_point::min();
    std::size_t delivered = 0;
    for (const Watcher& w : conns) {
      for (const auto& [rv, at] : w.arrivals) {
        auto it = committed.find(rv);
        if (it == committed.end()) continue;
        lags_ms.push_back(std::chrono::duration<double, std::milli>(at - it->second).count());
        first = std::min(first, it->second);
        last = std::max(last, at);
        ++delivered;
      }
    }
    if (delivered != expected * conns.size()) {
      state.SkipWithError(("delivered " + std::to_string(delivered) + " of " +
                           std::to_string(expected * conns.size()))
                              .c_str());
      return;
    }
    events_per_second =
        static_cast<double>(delivered) / std::chrono::duration<double>(last - first).count();
  }
  std::sort(lags_ms.begin(), lags_ms.end());
  auto pct = [&](double p) {
    return lags_ms[std::min(lags_ms.size() - 1, static_cast<std::size_t>(p * lags_ms.size()))];
  };
  state.counters["events_per_s"] = events_per_second;
  state.counters["lag_p50_ms"] = pct(0.50);
  state.counters["lag_p99_ms"] = pct(0.99);
  state.counters["lag_max_ms"] = lags_ms.back();
}
BENCHMARK(BM_WatchFanout)->Arg(10)->Arg(100)->Iterations(3)->Unit(benchmark::kMillisecond);

// An API server on its own loop thread holding `pods` Running pods with a full status.
struct PodServer {
  net::EventLoop loop;
  apiserver::Store store{loop.clock()};
  apiserver::ApiServer api{store, loop.clock(), apiserver::builtin_resources()};
  net::Router router;
  net::HttpServer server{loop, net::ServerOptions{}};

  explicit PodServer(int pods) {
    api.create(*api.find("", "namespaces"), core::Json{{"metadata", {{"name", "default"}}}});
    for (int i = 0; i < pods; ++i) {
      core::Json p = pod(i);
      p["status"] = {{"phase", "Running"},
                     {"podIP", "127.0.0.1"},
                     {"conditions", {{{"type", "Ready"}, {"status", "True"}}}},
                     {"containerStatuses",
                      {{{"name", "server"},
                        {"ready", true},
                        {"restartCount", 0},
                        {"state", {{"running", core::Json::object()}}}}}}};
      store.create({"", "pods"}, p);
    }
    api.add_routes(router);
    (void)server.start(router.handler());
    loop.start();
  }
  ~PodServer() {
    loop.stop();
    loop.join();
  }
};

// One request on a new loopback connection; returns the bytes of the answer.
std::size_t get_once(std::uint16_t port, const std::string& target, const std::string& accept) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 0;
  std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: " + accept +
                        "\r\nConnection: close\r\n\r\n";
  (void)::send(fd, request.data(), request.size(), 0);
  std::size_t total = 0;
  char buf[65536];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) total += static_cast<std::size_t>(n);
  ::close(fd);
  return total;
}

void BM_ListPods(benchmark::State& state) {
  PodServer pods(static_cast<int>(state.range(0)));
  const bool table = state.range(1) == 1;
  std::string accept =
      table ? "application/json;as=Table;v=v1;g=meta.k8s.io,application/json" : "application/json";
  std::size_t bytes = 0;
  for (auto _ : state)
    bytes = get_once(pods.server.port(), "/api/v1/namespaces/default/pods?limit=500", accept);
  state.counters["response_bytes"] = static_cast<double>(bytes);
  state.SetLabel(table ? "Table (kubectl get)" : "JSON (-o json, clients)");
}
BENCHMARK(BM_ListPods)->Args({1000, 1})->Args({1000, 0})->Unit(benchmark::kMillisecond);

void BM_KubectlGetPods(benchmark::State& state) {
  if (::access("/usr/bin/kubectl", X_OK) != 0) {
    state.SkipWithError("kubectl not installed");
    return;
  }
  PodServer pods(static_cast<int>(state.range(0)));
  std::string server = "http://127.0.0.1:" + std::to_string(pods.server.port());
  std::string command = "kubectl --server " + server + " get pods > /dev/null 2>&1";
  (void)std::system(command.c_str());  // warm kubectl's discovery cache, as a user's is
  for (auto _ : state) {
    int rc = std::system(command.c_str());
    if (rc != 0) {
      state.SkipWithError("kubectl failed");
      return;
    }
  }
}
BENCHMARK(BM_KubectlGetPods)->Arg(1000)->Iterations(10)->Unit(benchmark::kMillisecond);

}  // namespace
