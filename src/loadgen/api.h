// The inference APIs the load generator speaks: request bodies and incremental response decoding.
//
//  openai-chat         POST /v1/chat/completions  {"model","messages":[{"role":"user",...}],
//                      "max_tokens","stream","stream_options":{"include_usage":true}}
//  openai-completions  POST /v1/completions       {"model","prompt","max_tokens","stream",...}
//      streaming: SSE `data: {chunk}` events ending with `data: [DONE]`; a token is a chunk
//      whose choices[0] carries non-empty delta.content / delta.reasoning_content (chat) or text
//      (completions); vLLM's first chat chunk (role only, empty content) is not a token, as in
//      genai-perf. The output token count is usage.completion_tokens when the server sends it,
//      else the number of token chunks (non-streaming: the words of the text).
//  tgi                 POST /generate or /generate_stream  {"inputs","parameters":
//                      {"max_new_tokens","details":true}}
//      streaming: SSE `data:{"token":{...},"generated_text":null,...}`, one event per token; the
//      last carries generated_text and details.generated_tokens. Errors: {"error": ...}.
//  jetstream           POST /generate {"prompt","max_tokens"[,"stream":true]}
//      JetStream's HTTP server answers {"response": text}; with "stream": true it writes a
//      sequence of JSON objects {"id","time_created","text"} back to back (no delimiter), one
//      per decode step. It reports no token usage, so output tokens are the objects (streaming)
//      or the words of the text.
//
// `ignore_eos` sets vLLM's ignore_eos and min_tokens = max_tokens (OpenAI APIs), the exact
// output length genai-perf gets with --extra-inputs ignore_eos:true min_tokens:N. Extra inputs
// are JSON fields added to the body (into "parameters" for TGI). The prompt-tokens field, when
// named, carries the exact prompt token count for servers that accept it (llmscale serve-sim).
//
// Errors a decoder reports (their kind is the error class in reports):
//   "malformed json"     a body or event that is not the JSON expected
//   "malformed sse"      the event stream itself is broken (oversized event)
//   "response error"     the server sent an error object in a 200 response or stream
//   "incomplete stream"  the body ended before the API's end marker ([DONE], TGI's final
//                        event)
// Pure code; a ResponseDecoder is a single-threaded value, one per response.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace llmscale::loadgen {

enum class Api { kOpenAiChat, kOpenAiCompletions, kTgi, kJetStream };

core::Result<Api> parse_api(std::string_view text);
std::string_view api_name(Api api);
// The path requests go to unless --endpoint overrides it.
std::string_view default_endpoint(Api api, bool streaming);

struct RequestOptions {
  Api api = Api::kOpenAiChat;
  bool streaming = false;
  std::string model;  // omitted from the body when empty
  bool ignore_eos = false;
  // JSON fields added to each body: (name, JSON text). Later ones win over built-in fields.
  std::vector<std::pair<std::string, std::string>> extra_inputs;
  // When non-empty, a top-level field with this name carries the prompt token count.
  std::string prompt_tokens_field;
};

// Parses genai-perf's `--extra-inputs name:value`: the value is JSON when it parses as JSON
// (true, 12, 0.5, "x", {...}), else a string. kInvalidArgument without a ':' or a name.
core::Result<std::pair<std::string, std::string>> parse_extra_input(std::string_view text);

// The JSON body of one request. `max_tokens` 0 leaves the limit to the server.
std::string build_request_body(const RequestOptions& options, std::string_view prompt,
                               std::int64_t prompt_tokens, std::int64_t max_tokens);

// build_request_body's output with the per-request parts (prompt, prompt tokens, max_tokens)
// left open: built once per run, then filled per request by plain appends instead of building
// and dumping a JSON document. render() returns exactly build_request_body's bytes.
class RequestBodyTemplate {
 public:
  explicit RequestBodyTemplate(const RequestOptions& options);
  std::string render(std::string_view prompt, std::int64_t prompt_tokens,
                     std::int64_t max_tokens) const;

 private:
  enum class Slot { kNone, kPrompt, kPromptTokens, kMaxTokens };
  struct Part {
    std::string literal;  // written before the slot
    Slot slot = Slot::kNone;
  };
  static std::vector<Part> split(const std::string& body);

  RequestOptions options_;
  std::vector<Part> with_max_tokens_;
  std::vector<Part> without_max_tokens_;
};

struct DecodeError {
  std::string kind;    // see the list above
  std::string detail;  // first words of the offending text
};

// Decodes a response body fed in the pieces it arrives in, noting when each token arrived.
class ResponseDecoder {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  ResponseDecoder(Api api, bool streaming);
  ~ResponseDecoder();
  ResponseDecoder(ResponseDecoder&&) noexcept;
  ResponseDecoder& operator=(ResponseDecoder&&) noexcept;

  // Feeds body bytes that arrived at `at`. Returns false once an error was found (further
  // input is ignored).
  bool feed(std::string_view bytes, TimePoint at);
  // The body ended: checks completeness. Returns false when an error was (or is now) found.
  bool finish();

  const std::optional<DecodeError>& error() const;
  // Arrival time of each token-bearing event (streaming); empty for a non-streaming body.
  const std::vector<TimePoint>& token_times() const;
  // Output tokens: the server's count when it reported one, else the events (streaming) or the
  // words (non-streaming).
  std::int64_t output_tokens() const;
  // True when output_tokens() came from the server (usage / details).
  bool server_counted() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace llmscale::loadgen
