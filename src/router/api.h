// What the router knows about the inference APIs it forwards: which route a path is (for
// metrics labels) and the error body each API's clients expect when the router itself answers
// (queue full, no backend reachable), so an OpenAI SDK, genai-perf or a TGI client reads the
// router's 503 the way it reads the server's own errors.
//
// Error shapes, following each server:
//  * OpenAI paths (/v1/..., vLLM's ErrorResponse): {"error": {"message", "type", "param": null,
//    "code": <HTTP status>}} with a vLLM-style type ("ServiceUnavailableError").
//  * TGI (/generate_stream, or /generate with an "inputs" body; router/src/server.rs
//    ErrorResponse): {"error": "...", "error_type": "..."}.
//  * JetStream's HTTP servers (FastAPI: /v1/generate, or /generate with a "prompt" body):
//    {"detail": "..."}.
//  * anything else: text/plain.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "net/http.h"

namespace llmscale::router {

enum class Route {
  kCompletions,      // POST /v1/completions (OpenAI, vLLM, NIM)
  kChatCompletions,  // POST /v1/chat/completions
  kModels,           // GET /v1/models
  kGenerate,         // POST /generate (TGI, JetStream HTTP), /v1/generate (JetStream)
  kGenerateStream,   // POST /generate_stream (TGI, SSE)
  kOther,            // passed through as is
};

Route classify_route(std::string_view path);
// "completions", "chat_completions", "models", "generate", "generate_stream", "other".
std::string_view route_label(Route route);

// Why the router answers instead of a backend; picks the status, the type names and the
// Retry-After header.
enum class RouterError {
  kQueueFull,            // 503 + Retry-After
  kQueueTimeout,         // 503 + Retry-After
  kShuttingDown,         // 503
  kUpstreamUnreachable,  // 502: refused, reset, DNS, TLS, malformed response
  kUpstreamTimeout,      // 504: no response head in time
};

int router_error_status(RouterError error);

// The router's token counts for a replica's in-flight load (drain-aware scale-down), cheap
// enough for every request and chunk. A prompt counts as the whitespace-separated words of the
// request body as sent — the rule `llmscale load` and serve-sim use for prompts (one word, one
// token; real tokenizers give about as many for English) — at least 1.
std::uint64_t estimate_prompt_tokens(std::string_view body);
// Output tokens in a chunk of a streamed response: its server-sent events ("data:" at the start
// of a line), "data: [DONE]" aside. vLLM, NIM, SGLang and TGI stream one event per token.
std::uint64_t count_stream_events(std::string_view chunk);
// Output tokens of an answer read whole: its usage (OpenAI `completion_tokens`, TGI's
// `generated_tokens`), else what the request asked for (`max_tokens`, `max_new_tokens`), else 0.
std::uint64_t answer_output_tokens(std::string_view request_body, std::string_view answer_body);

// The response for `error` on this request, in the API's own error shape. `retry_after_seconds`
// (> 0) adds Retry-After on 503s.
net::Response router_error_response(std::string_view path, std::string_view request_body,
                                    RouterError error, std::string_view message,
                                    int retry_after_seconds);

}  // namespace llmscale::router
