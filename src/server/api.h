// The simulated server's HTTP APIs as wire formats: request bodies decoded into an engine
// RequestSpec (with each server's validation messages), and the bodies, SSE chunks and error
// shapes each server sends back. No I/O and no clock: SimServer (sim_server.h) drives these;
// golden tests pin them (tests/server/golden/).
//
// APIs:
//   OpenAI   POST /v1/completions, /v1/chat/completions (vLLM's protocol: max_tokens,
//            max_completion_tokens, min_tokens, ignore_eos, stream, stream_options.include_usage,
//            stream_options.continuous_usage_stats; one prompt, n = 1)
//   TGI      POST /generate, /generate_stream, / ({"inputs", "parameters": {max_new_tokens,
//            details, ...}}; SSE `data:{...}` without a space, as axum writes it)
//   JetStream POST /generate ({"prompt", "max_tokens"} -> {"response"}), the HTTP server of the
//            GKE JetStream recipes; POST /v1/generate (JetStream's own entrypoint,
//            {"max_tokens", "text_content": {"text"}}, streamed protobuf-JSON objects)
//
// Extension (every API): a top-level object `"llmscale": {"prompt_tokens": N, "output_tokens": M,
// "prefix_hash_ids": [..], "prefix_block_tokens": B}` gives the prompt's token count (instead of
// counting words), the reply's natural length (the request stops with reason `stop` there, as if
// the model emitted EOS), and Mooncake-style prefix block ids for the prefix cache. Real servers
// ignore unknown fields (vLLM logs them), so a load generator can always send it.
//
// Error shapes (ErrorKind -> status and body) follow each server: vLLM V1 nests
// {"error": {"message", "type", "param", "code"}}; vLLM V0, NIM and SGLang answer the older flat
// {"object": "error", "message", "type", "param", "code"}; TGI answers {"error", "error_type"} and,
// for bodies axum cannot decode, plain text (400 syntax, 422 data); FastAPI's own 404/405/422
// bodies are {"detail": ...}. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "engine/request.h"
#include "net/http.h"
#include "server/flavor.h"

namespace llmscale::server {

enum class Api : std::uint8_t {
  kCompletions,        // POST /v1/completions
  kChatCompletions,    // POST /v1/chat/completions
  kTgiGenerate,        // POST /generate (TGI)
  kTgiGenerateStream,  // POST /generate_stream (TGI)
  kTgiCompat,          // POST / (TGI: "stream" selects; non-streaming answers a one-item list)
  kJetStreamGenerate,  // POST /generate (JetStream HTTP server: {"prompt", "max_tokens"})
  kJetStreamDecode,    // POST /v1/generate (JetStream: streamed DecodeResponse JSON)
};
std::string_view api_name(Api api);
bool is_openai(Api api);
bool is_tgi(Api api);

enum class ErrorKind : std::uint8_t {
  kJsonSyntax,        // the body is not JSON
  kSchema,            // JSON of the wrong shape: missing field, wrong type
  kValidation,        // well-formed but refused (max_tokens <= 0, context window)
  kModelNotFound,     // OpenAI "model" names another model
  kNotReady,          // cold start or draining: 503
  kGeneration,        // injected failure (error-rate fault)
  kOverloaded,        // TGI: more than max_concurrent_requests in flight (429)
  kRouteNotFound,     // 404
  kMethodNotAllowed,  // 405
};

struct ApiError {
  ErrorKind kind = ErrorKind::kValidation;
  std::string message;
  // The offending field as a dotted path ("messages.0.role", OpenAI "param"), or empty; for
  // kJsonSyntax the byte offset of the error.
  std::string param;
  // kSchema: pydantic's error type ("missing", "int_type", "bool_type", "string_type"...),
  // which each server renders its own way.
  std::string schema_type;
};

// What decoding needs to know about the server.
struct ApiContext {
  Flavor flavor = Flavor::kVllmV1;
  std::string served_model;
  std::int64_t max_model_len = 0;
  // The model's chat-template preamble (ModelConfig::chat_system_preamble_tokens): counted in
  // every chat prompt, with the system block's header when the request has no system message.
  std::int64_t chat_system_preamble_tokens = 0;
};

// A decoded inference request.
struct GenerationRequest {
  Api api = Api::kCompletions;
  engine::RequestSpec spec;
  // max_tokens / max_new_tokens as sent (absent: the server's default applies).
  std::optional<std::int64_t> max_tokens_param;
  bool stream = false;
  bool include_usage = false;     // OpenAI stream_options.include_usage
  bool continuous_usage = false;  // vLLM stream_options.continuous_usage_stats
  bool details = false;           // TGI parameters.details
  std::string model;              // OpenAI "model" as sent
  std::string prompt;             // TGI return_full_text echoes it
  bool return_full_text = false;  // TGI
};

// Decodes `body` for `api`. Prompt tokens: llmscale.prompt_tokens, else count_prompt_tokens()
// (chat: the Llama 3 template around the messages; token-id prompts: their length). Context
// window and max_tokens checks that need the final count are left to the engine's submit(),
// whose messages are vLLM's; TGI's own wording is checked here.
tl::expected<GenerationRequest, ApiError> decode_request(Api api, std::string_view body,
                                                         const ApiContext& context);

// The error response `flavor` sends for `error` on `api`.
net::Response error_response(Flavor flavor, Api api, const ApiError& error);
// The response for an unknown path or a wrong method (FastAPI {"detail"} or axum's empty body).
net::Response route_error_response(Flavor flavor, ErrorKind kind);
// The body of a 503 from /health during cold start or drain (empty except for TGI).
net::Response unhealthy_response(Flavor flavor);

// GET /v1/models.
std::string models_body(Flavor flavor, std::string_view model, std::int64_t max_model_len,
                        std::int64_t created);

// Formats the response of one request. Created once the request is accepted; the generated
// text is synthetic_text(seed, sequence, ...). Not thread-safe (one per request).
class OutputFormatter {
 public:
  OutputFormatter(const GenerationRequest& request, std::string_view model, std::uint64_t seed,
                  std::uint64_t sequence, std::int64_t created_unix);

  // SSE bytes announcing output tokens [first, last] (1-based), the last one finishing the
  // request with `finish` when given. OpenAI chat sends the assistant role chunk before token 1.
  // Coalesces the tokens into one chunk where the server does (vLLM sends one chunk per engine
  // step; TGI one event per token).
  std::string stream_tokens(std::int64_t first, std::int64_t last,
                            std::optional<engine::FinishReason> finish);
  // Bytes after the last token: the usage chunk (include_usage) and "data: [DONE]" (OpenAI);
  // nothing for TGI and JetStream.
  std::string stream_end(std::int64_t output_tokens);
  // A complete non-streaming response.
  net::Response full_response(std::int64_t output_tokens, engine::FinishReason finish);

  std::int64_t prompt_tokens() const { return prompt_tokens_; }
  const std::string& id() const { return id_; }
  // The streaming Content-Type ("text/event-stream", JetStream too).
  static constexpr std::string_view kStreamContentType = "text/event-stream";

 private:
  std::string usage_json(std::int64_t output_tokens) const;
  std::string tgi_token_json(std::int64_t index) const;
  std::string finish_reason(engine::FinishReason finish) const;

  GenerationRequest request_;
  std::string model_json_;  // the model name as a JSON string
  std::uint64_t seed_;
  std::uint64_t sequence_;
  std::int64_t created_;
  std::int64_t prompt_tokens_;
  std::string id_;
  std::string chunk_head_;  // OpenAI chunk JSON up to "choices"
};

}  // namespace llmscale::server
