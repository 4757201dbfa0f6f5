// Prober: readiness checks of replicas, as the kubelet's httpGet probe does them.
//
// probe() is asynchronous with a completion callback, so the fleet's state machine can be
// driven on a SimulatedClock with a fake prober and no sockets. HttpProber sends
// `GET http://host:port/path` on net::HttpClient with the probe's timeout; like the kubelet,
// 200-399 is success and anything else (refused, timeout, other status) is failure.
//
// Thread-safety: probe() is called on the loop's thread; the callback runs there too.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/time.h"

namespace llmscale::net {
class EventLoop;
class HttpClient;
}  // namespace llmscale::net

namespace llmscale::fleet {

struct ProbeRequest {
  std::string host;
  std::uint16_t port = 0;
  std::string path = "/";
  core::Duration timeout = std::chrono::seconds(1);
};

struct ProbeResult {
  bool success = false;
  std::string message;  // why it failed: "HTTP probe failed with statuscode: 503", "..."
};

class Prober {
 public:
  using Callback = std::function<void(ProbeResult)>;
  virtual ~Prober() = default;
  // Runs one probe; `done` is called exactly once, never inside this call.
  virtual void probe(const ProbeRequest& request, Callback done) = 0;
};

class HttpProber final : public Prober {
 public:
  // REQUIRES: `loop` outlives this prober and the probes it started.
  explicit HttpProber(net::EventLoop& loop);
  ~HttpProber() override;
  void probe(const ProbeRequest& request, Callback done) override;

 private:
  net::EventLoop& loop_;
  std::shared_ptr<net::HttpClient> client_;
};

}  // namespace llmscale::fleet
