// Route classification and API-shaped error bodies.
#include "router/api.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/json.h"
#include "core/words.h"

namespace llmscale::router {
namespace {

enum class Shape { kOpenAi, kTgi, kFastApi, kText };

// TGI's /generate takes {"inputs": ...}; the JetStream HTTP server's takes {"prompt": ...}.
bool has_inputs_field(std::string_view body) {
  // A client's body: refused before the parser builds something deep (core's nesting bound).
  if (!core::check_json_depth(body)) return false;
  auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  return parsed.is_object() && parsed.contains("inputs");
}

Shape shape_for(std::string_view path, std::string_view body) {
  if (path == "/generate_stream") return Shape::kTgi;
  if (path == "/generate") return has_inputs_field(body) ? Shape::kTgi : Shape::kFastApi;
  if (path == "/v1/generate") return Shape::kFastApi;
  if (path.starts_with("/v1/")) return Shape::kOpenAi;
  return Shape::kText;
}

std::string_view openai_type(RouterError error) {
  switch (router_error_status(error)) {
    case 502: return "BadGatewayError";
    case 504: return "GatewayTimeoutError";
    default: return "ServiceUnavailableError";
  }
}

std::string_view tgi_type(RouterError error) {
  switch (error) {
    case RouterError::kQueueFull:
    case RouterError::kQueueTimeout: return "overloaded";
    case RouterError::kShuttingDown: return "unavailable";
    case RouterError::kUpstreamUnreachable: return "backend_unreachable";
    case RouterError::kUpstreamTimeout: return "backend_timeout";
  }
  return "unavailable";
}

}  // namespace

Route classify_route(std::string_view path) {
  if (path == "/v1/completions") return Route::kCompletions;
  if (path == "/v1/chat/completions") return Route::kChatCompletions;
  if (path == "/v1/models") return Route::kModels;
  if (path == "/generate" || path == "/v1/generate") return Route::kGenerate;
  if (path == "/generate_stream") return Route::kGenerateStream;
  return Route::kOther;
}

std::string_view route_label(Route route) {
  switch (route) {
    case Route::kCompletions: return "completions";
    case Route::kChatCompletions: return "chat_completions";
    case Route::kModels: return "models";
    case Route::kGenerate: return "generate";
    case Route::kGenerateStream: return "generate_stream";
    case Route::kOther: return "other";
  }
  return "other";
}

int router_error_status(RouterError error) {
  switch (error) {
    case RouterError::kQueueFull:
    case RouterError::kQueueTimeout:
    case RouterError::kShuttingDown: return 503;
    case RouterError::kUpstreamUnreachable: return 502;
    case RouterError::kUpstreamTimeout: return 504;
  }
  return 502;
}

net::Response router_error_response(std::string_view path, std::string_view request_body,
                                    RouterError error, std::string_view message,
                                    int retry_after_seconds) {
  int status = router_error_status(error);
  net::Response response;
  switch (shape_for(path, request_body)) {
    case Shape::kOpenAi: {
      core::Json body = {{"error",
                          {{"message", message},
                           {"type", openai_type(error)},
                           {"param", nullptr},
                           {"code", status}}}};
      response = net::Response::json(status, core::to_compact_json(body));
      break;
    }
    case Shape::kTgi: {
      core::Json body = {{"error", message}, {"error_type", tgi_type(error)}};
      response = net::Response::json(status, core::to_compact_json(body));
      break;
    }
    case Shape::kFastApi: {
      core::Json body = {{"detail", message}};
      response = net::Response::json(status, core::to_compact_json(body));
      break;
    }
    case Shape::kText: response = net::Response::text(status, std::string(message) + "\n"); break;
  }
  if (status == 503 && retry_after_seconds > 0) {
    response.headers.set("Retry-After", std::to_string(retry_after_seconds));
  }
  return response;
}

std::uint64_t estimate_prompt_tokens(std::string_view body) {
  return static_cast<std::uint64_t>(std::max<std::int64_t>(core::count_words(body), 1));
}

std::uint64_t count_stream_events(std::string_view chunk) {
  constexpr std::string_view kData = "data:";
  std::uint64_t events = 0;
  for (std::size_t at = 0; at < chunk.size();) {
    if (chunk.compare(at, kData.size(), kData) == 0) {
      std::string_view rest = chunk.substr(at + kData.size());
      if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      if (rest.substr(0, 6) != "[DONE]") ++events;
    }
    std::size_t nl = chunk.find('\n', at);
    if (nl == std::string_view::npos) break;
    at = nl + 1;
  }
  return events;
}

namespace {

// The first non-negative integer value of `"key":` in a JSON text, by a scan (no parse: the
// router reads every answer; a miss only loses an estimate).
std::optional<std::uint64_t> integer_field(std::string_view json, std::string_view key) {
  std::string quoted = "\"" + std::string(key) + "\"";
  for (std::size_t at = json.find(quoted); at != std::string_view::npos;
       at = json.find(quoted, at + 1)) {
    std::size_t i = at + quoted.size();
    while (i < json.size() && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n')) ++i;
    if (i >= json.size() || json[i] != ':') continue;
    ++i;
    while (i < json.size() && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n')) ++i;
    std::uint64_t value = 0;
    auto [end, ec] = std::from_chars(json.data() + i, json.data() + json.size(), value);
    if (ec == std::errc() && end != json.data() + i) return value;
  }
  return std::nullopt;
}

}  // namespace

std::uint64_t answer_output_tokens(std::string_view request_body, std::string_view answer_body) {
  for (std::string_view key : {"completion_tokens", "generated_tokens"})
    if (auto n = integer_field(answer_body, key)) return *n;
  for (std::string_view key : {"max_tokens", "max_new_tokens", "max_completion_tokens"})
    if (auto n = integer_field(request_body, key)) return *n;
  return 0;
}

}  // namespace llmscale::router
