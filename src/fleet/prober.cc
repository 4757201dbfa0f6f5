// HttpProber: the kubelet's httpGet readiness probe on net::HttpClient.
#include "fleet/prober.h"

#include <utility>

#include "net/client.h"
#include "net/event_loop.h"
#include "net/http.h"

namespace llmscale::fleet {
namespace {

// The client is held by the coroutine, so a probe in flight survives its prober.
net::Awaitable<void> run_probe(std::shared_ptr<net::HttpClient> client, ProbeRequest request,
                               Prober::Callback done) {
  std::string url = "http://" + request.host + ":" + std::to_string(request.port) + request.path;
  net::Request http = net::Request::get(std::move(url));
  // Kubernetes: the kubelet sends "User-Agent: kube-probe/<version>" and "Accept: */*".
  http.headers.set("User-Agent", "kube-probe/1.33");
  http.headers.set("Accept", "*/*");
  http.total_timeout = request.timeout;
  // Kubernetes: probes disable keep-alive, so each one proves the server still accepts.
  http.headers.set("Connection", "close");
  auto response = co_await client->request(std::move(http));
  ProbeResult result;
  if (!response) {
    result.message = response.error().message;
  } else if (response->status >= 200 && response->status < 400) {
    result.success = true;
  } else {
    result.message = "HTTP probe failed with statuscode: " + std::to_string(response->status);
  }
  done(std::move(result));
}

}  // namespace

HttpProber::HttpProber(net::EventLoop& loop) : loop_(loop) {
  net::ClientOptions options;
  options.user_agent = "kube-probe/1.33";
  client_ = std::make_shared<net::HttpClient>(loop, options);
}

HttpProber::~HttpProber() = default;

void HttpProber::probe(const ProbeRequest& request, Callback done) {
  net::spawn(loop_, run_probe(client_, request, std::move(done)), "readiness probe");
}

}  // namespace llmscale::fleet
