// HttpExecutor: the Executor that talks to a real inference server with net::HttpClient.
//
// For each request it builds the prompt (prompt.h) and the API body (api.h, from a template made
// once), POSTs it, and reads the response as it arrives: every body read carries its arrival
// time (steady clock), so TTFT is first-token arrival minus the moment the request was handed to
// the client (connection set-up and pool waits included), and each ITL is the gap between two
// token-bearing reads. Events that arrive in the same read share its time, as they would for
// any client.
//
// Error classes (RequestResult::error_kind): the HttpClient kinds ("connection refused",
// "connect timeout", "connection reset", "response head timeout", "idle timeout",
// "total timeout", "dns", "unreachable", "tls", "malformed response", ...), "http <status>"
// for a non-2xx answer, and the decoder's kinds ("malformed json", "malformed sse",
// "response error", "incomplete stream").
//
// Timeouts: connect (TCP + TLS), first byte (the response head), idle (between two reads of a
// streamed body) and the request's total, which the Runner lowers near a stage's hard deadline.
//
// Thread-safety: execute() may run concurrently; the HttpClient must outlive the executor's
// requests.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "loadgen/api.h"
#include "loadgen/executor.h"
#include "net/client.h"

namespace llmscale::loadgen {

struct HttpTarget {
  std::string url;  // the full endpoint URL: base URL + API path
  RequestOptions api;
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  core::Duration first_byte_timeout{};                       // 0: only the total timeout applies
  core::Duration idle_timeout = std::chrono::seconds(60);
  std::size_t max_error_body_bytes = 4096;
};

class HttpExecutor final : public Executor {
 public:
  HttpExecutor(net::HttpClient& client, HttpTarget target);

  net::Awaitable<RequestResult> execute(const PlannedRequest& request,
                                        core::Duration time_left) override;

 private:
  net::HttpClient& client_;
  HttpTarget target_;
  RequestBodyTemplate body_;
};

// "http 503", "connection refused": the error class of a client failure.
std::string classify_client_error(const core::Error& error);

}  // namespace llmscale::loadgen
