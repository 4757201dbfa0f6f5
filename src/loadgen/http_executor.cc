// One request over HTTP: body, send, streamed decode with per-read arrival times.
#include "loadgen/http_executor.h"

#include <chrono>

#include "core/strings.h"
#include "loadgen/prompt.h"

namespace llmscale::loadgen {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kDetailChars = 160;

std::string first_words(std::string_view text) {
  std::string out(text.substr(0, kDetailChars));
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (text.size() > kDetailChars) out += "...";
  return out;
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && core::to_lower(text.substr(0, prefix.size())) == prefix;
}

}  // namespace

std::string classify_client_error(const core::Error& error) {
  std::string_view kind = net::client_error_kind(error);
  if (!kind.empty()) return std::string(kind);
  return core::error_code_name(error.code);
}

HttpExecutor::HttpExecutor(net::HttpClient& client, HttpTarget target)
    : client_(client), target_(std::move(target)), body_(target_.api) {}

net::Awaitable<RequestResult> HttpExecutor::execute(const PlannedRequest& request,
                                                    core::Duration time_left) {
  RequestResult result;
  const Arrival& arrival = request.arrival;
  std::string prompt = make_prompt(arrival.input_tokens, arrival.prompt_seed, arrival.hash_ids);
  std::string body = body_.render(prompt, arrival.input_tokens, arrival.output_tokens);
  net::Request http = net::Request::post(target_.url, std::move(body), "application/json");
  for (const auto& [name, value] : target_.headers) http.headers.add(name, value);
  bool sse = target_.api.streaming && target_.api.api != Api::kJetStream;
  if (sse && !http.headers.contains("Accept")) http.headers.set("Accept", "text/event-stream");
  http.total_timeout = time_left;
  http.response_head_timeout = target_.first_byte_timeout;
  http.idle_timeout = target_.idle_timeout;

  SteadyClock::time_point started = SteadyClock::now();
  auto stream = co_await client_.open(std::move(http));
  if (!stream) {
    result.error_kind = classify_client_error(stream.error());
    result.error_detail = first_words(stream.error().message);
    result.e2e = SteadyClock::now() - started;
    co_return result;
  }
  result.http_status = stream->status();
  if (result.http_status < 200 || result.http_status > 299) {
    auto error_body = co_await stream->read_all(target_.max_error_body_bytes);
    result.error_kind = "http " + std::to_string(result.http_status);
    result.error_detail = error_body ? first_words(*error_body) : "";
    result.e2e = SteadyClock::now() - started;
    co_return result;
  }

  bool streaming = target_.api.streaming;
  // A server that ignores "stream": true answers with one JSON document; decode it as such.
  if (sse && starts_with_ci(stream->headers().value("Content-Type"), "application/json")) {
    streaming = false;
  }
  ResponseDecoder decoder(target_.api.api, streaming);
  SteadyClock::time_point last = stream->head_received_at();
  std::optional<core::Error> read_error;
  while (true) {
    auto chunk = co_await stream->read_chunk();
    if (!chunk) {
      read_error = chunk.error();
      break;
    }
    if (chunk->data.empty()) {
      decoder.finish();
      break;
    }
    last = chunk->received_at;
    if (!decoder.feed(chunk->data, chunk->received_at)) break;
  }
  result.e2e = (read_error ? SteadyClock::now() : last) - started;
  const auto& times = decoder.token_times();
  if (!times.empty()) {
    result.ttft = times.front() - started;
    result.token_gaps.reserve(times.size() - 1);
    for (std::size_t i = 1; i < times.size(); ++i) {
      result.token_gaps.push_back(times[i] - times[i - 1]);
    }
  }
  result.output_tokens = decoder.output_tokens();
  if (read_error) {
    result.error_kind = classify_client_error(*read_error);
    result.error_detail = first_words(read_error->message);
  } else if (decoder.error()) {
    result.error_kind = decoder.error()->kind;
    result.error_detail = first_words(decoder.error()->detail);
  } else {
    result.ok = true;
  }
  co_return result;
}

}  // namespace llmscale::loadgen
