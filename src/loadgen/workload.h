// Workloads: what a stage sends and when. Pure, deterministic for a seed, and clock-free: an
// ArrivalGenerator yields the intended send offsets and token counts; the Runner turns them
// into requests on a core::Clock.
//
// Kinds (one per stage):
//  * closed loop: `concurrency` users, each sending its next request when the previous one
//    ends (genai-perf --concurrency, the seeds' `while true; do curl ...; done` loops);
//  * open loop: arrivals at `rate` per second, Poisson, gamma or constant; the gamma process
//    uses vLLM benchmark_serving's burstiness knob: shape = burstiness, mean gap = 1/rate, so
//    burstiness 1 is Poisson, below 1 burstier, above 1 more regular (CV = 1/sqrt(burstiness));
//  * burst: `burst_size` requests at once (seed 000's `seq 100 | xargs -P 100 curl`), repeated
//    every `burst_interval` when that is set;
//  * trace replay: the rows of a Trace at their offsets x time_scale; rate_scale R keeps the
//    time span but sends each row floor(R) or ceil(R) times (mean R, R < 1 thins), spreading the
//    copies evenly up to the next row's time, so the rate curve keeps its shape.
// The first arrival of an open-loop, burst or trace stage is at offset 0.
//
// Synthetic token counts are normal(mean, stddev) rounded and clamped to >= 1, as genai-perf's
// synthetic prompts; an output mean of 0 leaves max_tokens unset (the server decides).
//
// An ArrivalGenerator is a single-threaded value; the WorkloadSpec (and its trace) must outlive
// it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "loadgen/trace.h"

namespace llmscale::loadgen {

enum class WorkloadKind { kClosedLoop, kOpenLoop, kBurst, kTrace };
enum class ArrivalProcess { kPoisson, kGamma, kConstant };

core::Result<ArrivalProcess> parse_arrival_process(std::string_view text);
std::string_view arrival_process_name(ArrivalProcess process);
std::string_view workload_kind_name(WorkloadKind kind);

struct TokenDistribution {
  double mean = 0;  // 0: unset (for output tokens: no max_tokens)
  double stddev = 0;
};

struct WorkloadSpec {
  WorkloadKind kind = WorkloadKind::kClosedLoop;
  int concurrency = 1;  // closed loop

  double rate = 1;  // open loop, requests per second
  ArrivalProcess arrival = ArrivalProcess::kPoisson;
  double burstiness = 1;  // gamma shape

  int burst_size = 0;               // burst
  core::Duration burst_interval{};  // 0: one burst

  std::shared_ptr<const Trace> trace;  // trace replay
  double time_scale = 1;
  double rate_scale = 1;

  TokenDistribution input{550, 0};  // genai-perf's default synthetic prompt length
  TokenDistribution output{0, 0};

  // "concurrency=10", "rate=5/s poisson", "burst=100", "trace x0.5".
  std::string describe() const;
};

// One request to send: when (for open-loop kinds) and what size.
struct Arrival {
  core::Duration offset{};         // intended send time, from the stage start (0: closed loop)
  std::int64_t input_tokens = 1;   // prompt tokens (whitespace words of the prompt)
  std::int64_t output_tokens = 0;  // max_tokens; 0: unset
  // Mooncake prefix blocks of this request (points into the trace), or null.
  const std::vector<std::uint64_t>* hash_ids = nullptr;
  // Seeds the synthetic prompt text of this request.
  std::uint64_t prompt_seed = 0;
};

// Small deterministic random source (mt19937_64 plus our own distributions, so a seed gives the
// same workload with any standard library).
class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}
  std::uint64_t next_u64() { return engine_(); }
  // Uniform in [0, 1).
  double uniform();
  double exponential(double rate);
  double normal(double mean, double stddev);
  // Gamma(shape k, scale theta) by Marsaglia and Tsang (with the k < 1 boost).
  double gamma(double shape, double scale);

 private:
  std::mt19937_64 engine_;
  std::optional<double> spare_normal_;
};

class ArrivalGenerator {
 public:
  // REQUIRES: spec validated (validate_workload).
  ArrivalGenerator(const WorkloadSpec& spec, std::uint64_t seed);

  // The next arrival in offset order; nullopt when the workload has no more (one burst sent,
  // trace exhausted). Closed-loop and open-loop workloads never run out.
  std::optional<Arrival> next();

 private:
  Arrival synthetic(core::Duration offset);

  const WorkloadSpec& spec_;
  Random random_;
  core::Duration next_offset_{};
  std::int64_t emitted_in_burst_ = 0;
  // Trace replay state: the row being copied and its remaining copies.
  std::size_t row_ = 0;
  std::int64_t copies_ = -1;
  std::int64_t copy_ = 0;
};

// Checks ranges: concurrency >= 1, rate > 0, burstiness > 0, burst size >= 1, scales > 0, a
// trace with rows, token means/stddevs >= 0 and finite. Messages name the flag-like field.
core::Status validate_workload(const WorkloadSpec& spec);

}  // namespace llmscale::loadgen
