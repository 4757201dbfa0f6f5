// From `llmscale load` flags to a validated plan: stages (sweeps, defaults for bounds and
// warm-up), the HTTP target, timeouts, gates, and the loaded trace. Kept out of the CLI so the
// flag semantics are unit-tested without spawning the binary.
//
// Rules (docs/loadgen.md has the user-facing version):
//  * exactly one workload: --concurrency LIST, --rate LIST, --burst N or --trace FILE; none
//    given means --concurrency 1 (genai-perf's default);
//  * a comma list (--concurrency 10,100,200) makes one stage per value; in a concurrency sweep
//    each stage warms up with one request per user unless --warmup-requests is given;
//  * bounds apply per stage; without --requests or --duration, closed and open loops stop after
//    60 s (a note says so), a burst after its requests, a trace at its end;
//  * --url is the server's base URL ("host:port" gets http://); the API's path is appended
//    unless --endpoint overrides it or the URL already has a path.
// Errors are kInvalidArgument with the flag named; a missing trace file is kNotFound.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "loadgen/client_threads.h"
#include "loadgen/http_executor.h"
#include "loadgen/report.h"
#include "loadgen/runner.h"

namespace llmscale::loadgen {

inline constexpr int kMaxThreads = 256;

struct LoadFlags {
  std::string url;
  std::string api = "openai-chat";
  std::string endpoint;
  std::string model;
  bool streaming = false;
  std::vector<std::string> headers;  // "Name: value"
  // https: trusted CA file (system store when empty), client certificate and key, no checks.
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool insecure = false;

  std::string concurrency;  // "10" or "10,100,200"
  std::string rate;         // "5" or "1,5,10" (requests per second)
  std::string arrival = "poisson";
  double burstiness = 1;
  int burst = 0;
  std::string burst_interval;
  std::string trace;
  std::string trace_format = "auto";
  std::string on_bad_row = "skip";
  double time_scale = 1;
  double rate_scale = 1;

  std::optional<std::uint64_t> requests;
  std::string duration;
  std::string warmup;
  std::optional<std::uint64_t> warmup_requests;
  std::string drain_timeout = "60s";

  double input_tokens_mean = 550;
  double input_tokens_stddev = 0;
  double output_tokens_mean = 0;
  double output_tokens_stddev = 0;
  bool ignore_eos = false;
  std::vector<std::string> extra_inputs;  // "name:value"
  std::string prompt_tokens_field;

  std::size_t max_inflight = 10000;
  int threads = 0;  // client threads; 0: auto_client_threads(connections)
  std::string connect_timeout = "10s";
  std::string first_byte_timeout = "0s";
  std::string idle_timeout = "60s";
  std::string request_timeout = "10m";

  std::uint64_t seed = 1;
  std::string interval = "1s";
  std::string slo;
  std::optional<double> fail_on_errors;
  std::optional<double> fail_on_goodput;
  bool keep_rows = false;
};

struct LoadPlan {
  RunOptions run;
  HttpTarget target;
  std::string base_url;
  std::string endpoint;
  core::Duration connect_timeout{};
  net::TlsClientOptions tls;
  std::size_t max_connections = 1;  // per host, for the HttpClient pool
  int threads = 1;                  // client event loops (ClientThreads), resolved from --threads
  Gates gates;
  std::optional<TraceSummary> trace;
  std::vector<std::string> notes;  // defaults the user may want to know about
};

core::Result<LoadPlan> build_load_plan(const LoadFlags& flags);

}  // namespace llmscale::loadgen
