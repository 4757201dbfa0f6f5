// Request decoding, response bodies, SSE chunks and error shapes of the simulated APIs.
#include "server/api.h"
#include "core/hash.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/json.h"
#include "server/text.h"

namespace llmscale::server {
namespace {

using Json = nlohmann::ordered_json;

// Bodies nested deeper than this are refused before parsing (no parser recursion bombs).
constexpr int kMaxJsonDepth = 64;
// vLLM's CompletionRequest.max_tokens default; TGI's /v1/completions default.
constexpr std::int64_t kOpenAiCompletionsDefaultMaxTokens = 16;
constexpr std::int64_t kTgiCompletionsDefaultMaxTokens = 100;

// A JSON string as the Python servers write it (FastAPI's json.dumps).
std::string json_string(std::string_view text) {
  std::string out;
  core::append_python_json_string(out, text);
  return out;
}

ApiError schema_error(std::string param, std::string schema_type, std::string message) {
  return ApiError{ErrorKind::kSchema, std::move(message), std::move(param), std::move(schema_type)};
}

ApiError validation_error(std::string message, std::string param = "") {
  return ApiError{ErrorKind::kValidation, std::move(message), std::move(param), ""};
}

ApiError missing(std::string param) {
  return schema_error(std::move(param), "missing", "Field required");
}

// Field readers. A null value reads as absent (pydantic Optional, serde Option).
class Fields {
 public:
  Fields(const Json& object, std::string prefix) : object_(object), prefix_(std::move(prefix)) {}

  const Json* get(const char* key) const {
    if (!object_.is_object()) return nullptr;
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  bool present(const char* key) const {
    return object_.is_object() && object_.find(key) != object_.end();
  }
  std::string path(const char* key) const { return prefix_.empty() ? key : prefix_ + "." + key; }

  // Integers; a float with an integral value is accepted (pydantic lax mode).
  std::optional<ApiError> read(const char* key, std::optional<std::int64_t>& out) const {
    const Json* v = get(key);
    if (v == nullptr) return std::nullopt;
    if (v->is_number_integer()) {
      if (v->is_number_unsigned() &&
          v->get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max())) {
        return schema_error(path(key), "int_type", "Input should be a valid integer");
      }
      out = v->get<std::int64_t>();
      return std::nullopt;
    }
    if (v->is_number_float()) {
      double d = v->get<double>();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) {
        out = static_cast<std::int64_t>(d);
        return std::nullopt;
      }
      return schema_error(path(key), "int_from_float",
                          "Input should be a valid integer, got a number with a fractional part");
    }
    return schema_error(path(key), "int_type", "Input should be a valid integer");
  }
  std::optional<ApiError> read(const char* key, bool& out) const {
    const Json* v = get(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) {
      return schema_error(path(key), "bool_type", "Input should be a valid boolean");
    }
    out = v->get<bool>();
    return std::nullopt;
  }
  std::optional<ApiError> read(const char* key, std::optional<std::string>& out) const {
    const Json* v = get(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) {
      return schema_error(path(key), "string_type", "Input should be a valid string");
    }
    out = v->get<std::string>();
    return std::nullopt;
  }
  std::optional<ApiError> object(const char* key, const Json*& out) const {
    out = get(key);
    if (out != nullptr && !out->is_object()) {
      return schema_error(path(key), "model_attributes_type",
                          "Input should be a valid dictionary or object to extract fields from");
    }
    return std::nullopt;
  }

 private:
  const Json& object_;
  std::string prefix_;
};

#define LLMSCALE_TRY(expr)                    \
  do {                                        \
    if (auto error_ = (expr)) return *error_; \
  } while (0)

// The `llmscale` extension object.
std::optional<ApiError> read_extension(const Json& body, GenerationRequest& out,
                                       std::optional<std::int64_t>& prompt_tokens) {
  Fields top(body, "");
  const Json* ext = nullptr;
  LLMSCALE_TRY(top.object("llmscale", ext));
  if (ext == nullptr) return std::nullopt;
  Fields f(*ext, "llmscale");
  LLMSCALE_TRY(f.read("prompt_tokens", prompt_tokens));
  if (prompt_tokens && *prompt_tokens < 1) {
    return validation_error(
        "llmscale.prompt_tokens must be at least 1, got " + std::to_string(*prompt_tokens),
        "llmscale.prompt_tokens");
  }
  std::optional<std::int64_t> output_tokens;
  LLMSCALE_TRY(f.read("output_tokens", output_tokens));
  if (output_tokens) {
    if (*output_tokens < 1) {
      return validation_error(
          "llmscale.output_tokens must be at least 1, got " + std::to_string(*output_tokens),
          "llmscale.output_tokens");
    }
    out.spec.eos_after = *output_tokens;
  }
  if (const Json* ids = f.get("prefix_hash_ids")) {
    if (!ids->is_array()) {
      return schema_error("llmscale.prefix_hash_ids", "list_type", "Input should be a valid list");
    }
    out.spec.prefix_hash_ids.reserve(ids->size());
    for (const Json& id : *ids) {
      if (!id.is_number_unsigned()) {
        return schema_error("llmscale.prefix_hash_ids", "int_type",
                            "Input should be a list of non-negative integers");
      }
      out.spec.prefix_hash_ids.push_back(id.get<std::uint64_t>());
    }
  }
  std::optional<std::int64_t> block_tokens;
  LLMSCALE_TRY(f.read("prefix_block_tokens", block_tokens));
  if (block_tokens) out.spec.prefix_block_tokens = *block_tokens;
  return std::nullopt;
}

// OpenAI "prompt": a string, a list with one string, token ids, or a list with one id list.
std::optional<ApiError> read_completion_prompt(const Json& body, GenerationRequest& out,
                                               std::int64_t& tokens) {
  auto it = body.find("prompt");
  if (it == body.end() || it->is_null()) return missing("prompt");
  const Json& prompt = *it;
  auto one_prompt_only = [](std::size_t n) {
    return validation_error(
        "llmscale serve-sim serves one prompt per request; got " + std::to_string(n), "prompt");
  };
  if (prompt.is_string()) {
    out.prompt = prompt.get<std::string>();
    tokens = count_prompt_tokens(out.prompt);
    return std::nullopt;
  }
  if (!prompt.is_array()) {
    return schema_error("prompt", "string_type", "Input should be a valid string");
  }
  if (prompt.empty()) return validation_error("Prompt cannot be empty.", "prompt");
  bool all_ints = std::all_of(prompt.begin(), prompt.end(),
                              [](const Json& v) { return v.is_number_integer(); });
  if (all_ints) {
    tokens = static_cast<std::int64_t>(prompt.size());
    return std::nullopt;
  }
  if (prompt.size() > 1) return one_prompt_only(prompt.size());
  const Json& first = prompt.front();
  if (first.is_string()) {
    out.prompt = first.get<std::string>();
    tokens = count_prompt_tokens(out.prompt);
    return std::nullopt;
  }
  if (first.is_array() && std::all_of(first.begin(), first.end(),
                                      [](const Json& v) { return v.is_number_integer(); })) {
    if (first.empty()) return validation_error("Prompt cannot be empty.", "prompt");
    tokens = static_cast<std::int64_t>(first.size());
    return std::nullopt;
  }
  return schema_error("prompt", "string_type", "Input should be a valid string");
}

// Text of a chat message's content: a string, or parts of type "text".
std::optional<ApiError> chat_content_tokens(const Json& content, std::size_t index,
                                            std::int64_t& tokens) {
  std::string where = "messages." + std::to_string(index) + ".content";
  if (content.is_null()) return std::nullopt;
  if (content.is_string()) {
    tokens += count_text_tokens(content.get_ref<const std::string&>());
    return std::nullopt;
  }
  if (!content.is_array()) {
    return schema_error(where, "string_type", "Input should be a valid string");
  }
  for (const Json& part : content) {
    if (!part.is_object()) {
      return schema_error(where, "model_attributes_type",
                          "Input should be a valid dictionary or object to extract fields from");
    }
    auto text = part.find("text");
    if (text != part.end() && text->is_string()) {
      tokens += count_text_tokens(text->get_ref<const std::string&>());
    }
  }
  return std::nullopt;
}

std::optional<ApiError> read_chat_messages(const Json& body, const ApiContext& context,
                                           std::int64_t& tokens) {
  auto it = body.find("messages");
  if (it == body.end() || it->is_null()) return missing("messages");
  if (!it->is_array()) return schema_error("messages", "list_type", "Input should be a valid list");
  tokens = 1 + kChatTokensForReply;  // BOS, then the assistant header
  bool has_system = false;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const Json& message = (*it)[i];
    std::string where = "messages." + std::to_string(i);
    if (!message.is_object()) {
      return schema_error(where, "model_attributes_type",
                          "Input should be a valid dictionary or object to extract fields from");
    }
    auto role = message.find("role");
    if (role == message.end() || role->is_null()) return missing(where + ".role");
    if (!role->is_string()) {
      return schema_error(where + ".role", "string_type", "Input should be a valid string");
    }
    tokens += kChatTokensPerMessage;
    has_system = has_system || role->get_ref<const std::string&>() == "system";
    auto content = message.find("content");
    if (content != message.end()) LLMSCALE_TRY(chat_content_tokens(*content, i, tokens));
  }
  // Llama 3.1's template writes its system block (with the knowledge-date preamble) whether or
  // not the request has a system message.
  if (context.chat_system_preamble_tokens > 0) {
    tokens += context.chat_system_preamble_tokens + (has_system ? 0 : kChatTokensPerMessage);
  }
  return std::nullopt;
}

std::optional<ApiError> decode_openai(Api api, const Json& body, const ApiContext& context,
                                      GenerationRequest& out, std::int64_t& tokens) {
  Fields f(body, "");
  if (api == Api::kCompletions) {
    LLMSCALE_TRY(read_completion_prompt(body, out, tokens));
  } else {
    LLMSCALE_TRY(read_chat_messages(body, context, tokens));
  }
  std::optional<std::string> model;
  LLMSCALE_TRY(f.read("model", model));
  if (model) out.model = *model;
  if (context.flavor != Flavor::kTgi && model && *model != context.served_model) {
    return ApiError{ErrorKind::kModelNotFound, "The model `" + *model + "` does not exist.",
                    "model", ""};
  }
  std::optional<std::int64_t> max_tokens;
  LLMSCALE_TRY(f.read("max_tokens", max_tokens));
  if (api == Api::kChatCompletions) {
    std::optional<std::int64_t> max_completion_tokens;
    LLMSCALE_TRY(f.read("max_completion_tokens", max_completion_tokens));
    if (max_completion_tokens) max_tokens = max_completion_tokens;
  } else if (!f.present("max_tokens")) {
    max_tokens = context.flavor == Flavor::kTgi ? kTgiCompletionsDefaultMaxTokens
                                                : kOpenAiCompletionsDefaultMaxTokens;
  }
  if (context.flavor == Flavor::kTgi && api == Api::kChatCompletions && !max_tokens) {
    max_tokens = kTgiCompletionsDefaultMaxTokens;
  }
  out.max_tokens_param = max_tokens;
  if (max_tokens && *max_tokens < 1) {
    return validation_error(
        "max_tokens must be at least 1, got " + std::to_string(*max_tokens) + ".", "max_tokens");
  }
  out.spec.max_tokens = max_tokens;
  std::optional<std::int64_t> min_tokens;
  LLMSCALE_TRY(f.read("min_tokens", min_tokens));
  if (min_tokens) {
    if (*min_tokens < 0) {
      return validation_error(
          "min_tokens must be greater than or equal to 0, got " + std::to_string(*min_tokens) + ".",
          "min_tokens");
    }
    if (max_tokens && *min_tokens > *max_tokens) {
      return validation_error(
          "min_tokens must be less than or equal to max_tokens=" + std::to_string(*max_tokens) +
              ", got " + std::to_string(*min_tokens) + ".",
          "min_tokens");
    }
    out.spec.min_tokens = *min_tokens;
  }
  LLMSCALE_TRY(f.read("ignore_eos", out.spec.ignore_eos));
  LLMSCALE_TRY(f.read("stream", out.stream));
  std::optional<std::int64_t> n;
  LLMSCALE_TRY(f.read("n", n));
  if (n && *n != 1) {
    return validation_error("llmscale serve-sim supports n=1 only, got n=" + std::to_string(*n),
                            "n");
  }
  const Json* options = nullptr;
  LLMSCALE_TRY(f.object("stream_options", options));
  if (options != nullptr) {
    if (!out.stream) {
      return validation_error("Stream options can only be defined when `stream=True`.",
                              "stream_options");
    }
    Fields o(*options, "stream_options");
    LLMSCALE_TRY(o.read("include_usage", out.include_usage));
    LLMSCALE_TRY(o.read("continuous_usage_stats", out.continuous_usage));
  }
  return std::nullopt;
}

std::optional<ApiError> decode_tgi(Api api, const Json& body, const ApiContext& context,
                                   GenerationRequest& out, std::int64_t& tokens,
                                   bool counted_by_extension) {
  Fields f(body, "");
  std::optional<std::string> inputs;
  if (!f.present("inputs")) return missing("inputs");
  LLMSCALE_TRY(f.read("inputs", inputs));
  if (!inputs) return schema_error("inputs", "string_type", "Input should be a valid string");
  out.prompt = *inputs;
  if (!counted_by_extension) tokens = count_prompt_tokens(out.prompt);
  const Json* parameters = nullptr;
  LLMSCALE_TRY(f.object("parameters", parameters));
  std::optional<std::int64_t> max_new_tokens;
  if (parameters != nullptr) {
    Fields p(*parameters, "parameters");
    LLMSCALE_TRY(p.read("max_new_tokens", max_new_tokens));
    if (max_new_tokens && (*max_new_tokens < 0 || *max_new_tokens > 0xFFFFFFFFLL)) {
      return schema_error(
          "parameters.max_new_tokens", "u32",
          "invalid value: integer `" + std::to_string(*max_new_tokens) + "`, expected u32");
    }
    LLMSCALE_TRY(p.read("details", out.details));
    bool full_text = false;
    LLMSCALE_TRY(p.read("return_full_text", full_text));
    out.return_full_text = full_text;
  }
  if (api == Api::kTgiCompat) LLMSCALE_TRY(f.read("stream", out.stream));
  if (api == Api::kTgiGenerateStream) out.stream = true;
  if (api == Api::kTgiGenerate) out.stream = false;
  out.max_tokens_param = max_new_tokens;
  // TGI validation (router/src/validation.rs), in its order.
  std::int64_t max_total = context.max_model_len;
  std::int64_t max_input = std::max<std::int64_t>(1, context.max_model_len - 1);
  if (out.prompt.empty() && !counted_by_extension) {
    return validation_error("Input validation error: `inputs` cannot be empty", "inputs");
  }
  if (max_new_tokens && *max_new_tokens == 0) {
    return validation_error("Input validation error: `max_new_tokens` must be strictly positive",
                            "max_new_tokens");
  }
  if (tokens > max_input) {
    return validation_error("Input validation error: `inputs` must have less than " +
                                std::to_string(max_input) +
                                " tokens. Given: " + std::to_string(tokens),
                            "inputs");
  }
  std::int64_t new_tokens = max_new_tokens ? *max_new_tokens : max_total - tokens;
  if (tokens + new_tokens > max_total) {
    return validation_error(
        "Input validation error: `inputs` tokens + `max_new_tokens` must be <= " +
            std::to_string(max_total) + ". Given: " + std::to_string(tokens) +
            " `inputs` tokens and " + std::to_string(new_tokens) + " `max_new_tokens`",
        "max_new_tokens");
  }
  out.spec.max_tokens = new_tokens;
  return std::nullopt;
}

std::optional<ApiError> decode_jetstream(Api api, const Json& body, GenerationRequest& out,
                                         std::int64_t& tokens, bool counted_by_extension) {
  Fields f(body, "");
  std::optional<std::int64_t> max_tokens;
  if (api == Api::kJetStreamGenerate) {
    std::optional<std::string> prompt;
    if (!f.present("prompt")) return missing("prompt");
    LLMSCALE_TRY(f.read("prompt", prompt));
    if (!prompt) return schema_error("prompt", "string_type", "Input should be a valid string");
    out.prompt = *prompt;
    if (!counted_by_extension) tokens = count_prompt_tokens(out.prompt);
  } else {
    const Json* text_content = nullptr;
    const Json* token_content = nullptr;
    LLMSCALE_TRY(f.object("text_content", text_content));
    LLMSCALE_TRY(f.object("token_content", token_content));
    if (text_content != nullptr) {
      Fields t(*text_content, "text_content");
      std::optional<std::string> text;
      if (!t.present("text")) return missing("text_content.text");
      LLMSCALE_TRY(t.read("text", text));
      out.prompt = text.value_or("");
      if (!counted_by_extension) tokens = count_prompt_tokens(out.prompt);
    } else if (token_content != nullptr) {
      auto ids = token_content->find("token_ids");
      if (ids == token_content->end() || !ids->is_array()) {
        return missing("token_content.token_ids");
      }
      if (!counted_by_extension) tokens = std::max<std::int64_t>(1, std::int64_t(ids->size()));
    } else if (!counted_by_extension) {
      return missing("text_content");
    }
    out.stream = true;
  }
  if (!f.present("max_tokens")) return missing("max_tokens");
  LLMSCALE_TRY(f.read("max_tokens", max_tokens));
  if (!max_tokens) return schema_error("max_tokens", "int_type", "Input should be a valid integer");
  out.max_tokens_param = max_tokens;
  if (*max_tokens < 1) {
    return validation_error("max_tokens must be at least 1, got " + std::to_string(*max_tokens),
                            "max_tokens");
  }
  out.spec.max_tokens = max_tokens;
  return std::nullopt;
}

#undef LLMSCALE_TRY

enum class ErrorFamily { kVllmNested, kVllmFlat, kTgi, kFastApi };

ErrorFamily error_family(Flavor flavor, Api api) {
  if (is_tgi(api) || flavor == Flavor::kTgi) return ErrorFamily::kTgi;
  if (flavor == Flavor::kJetStream) return ErrorFamily::kFastApi;
  if (flavor == Flavor::kVllmV1) return ErrorFamily::kVllmNested;
  return ErrorFamily::kVllmFlat;
}

// pydantic's error list as str(RequestValidationError) prints it.
std::string pydantic_text(const ApiError& error) {
  std::string loc = "'body'";
  if (!error.param.empty()) {
    std::size_t start = 0;
    std::string_view param = error.param;
    while (start <= param.size()) {
      std::size_t dot = param.find('.', start);
      std::string_view part =
          param.substr(start, dot == std::string_view::npos ? dot : dot - start);
      bool numeric = !part.empty() && std::all_of(part.begin(), part.end(),
                                                  [](char c) { return c >= '0' && c <= '9'; });
      loc += ", " + (numeric ? std::string(part) : "'" + std::string(part) + "'");
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
  return "[{'type': '" + error.schema_type + "', 'loc': (" + loc + "), 'msg': '" + error.message +
         "'}]";
}

Json fastapi_detail(const ApiError& error) {
  Json loc = Json::array({"body"});
  if (error.kind == ErrorKind::kJsonSyntax) {
    loc.push_back(std::stoll(error.param.empty() ? "0" : error.param));
  } else if (!error.param.empty()) {
    std::string_view param = error.param;
    std::size_t start = 0;
    while (true) {
      std::size_t dot = param.find('.', start);
      std::string part(param.substr(start, dot == std::string_view::npos ? dot : dot - start));
      bool numeric = !part.empty() && std::all_of(part.begin(), part.end(),
                                                  [](char c) { return c >= '0' && c <= '9'; });
      if (numeric) {
        loc.push_back(std::stoll(part));
      } else {
        loc.push_back(part);
      }
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
  Json item = Json::object();
  item["type"] = error.kind == ErrorKind::kJsonSyntax ? "json_invalid" : error.schema_type;
  item["loc"] = loc;
  item["msg"] = error.kind == ErrorKind::kJsonSyntax ? "JSON decode error" : error.message;
  if (error.kind == ErrorKind::kJsonSyntax) item["ctx"] = {{"error", error.message}};
  return Json::object({{"detail", Json::array({item})}});
}

// serde_json's wording for a TGI body axum could not decode.
std::string serde_text(const ApiError& error) {
  if (error.schema_type == "missing") {
    std::string_view field = error.param;
    auto dot = field.rfind('.');
    if (dot != std::string_view::npos) field = field.substr(dot + 1);
    return "Failed to deserialize the JSON body into the target type: missing field `" +
           std::string(field) + "`";
  }
  std::string expected = "a valid value";
  if (error.schema_type == "int_type" || error.schema_type == "int_from_float" ||
      error.schema_type == "u32") {
    expected = "u32";
  } else if (error.schema_type == "bool_type") {
    expected = "a boolean";
  } else if (error.schema_type == "string_type") {
    expected = "a string";
  } else if (error.schema_type == "list_type") {
    expected = "a sequence";
  } else if (error.schema_type == "model_attributes_type") {
    expected = "a map";
  }
  std::string detail =
      error.schema_type == "u32" ? error.message : "invalid type, expected " + expected;
  return "Failed to deserialize the JSON body into the target type: " + error.param + ": " + detail;
}

int status_of(ErrorFamily family, ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kJsonSyntax: return family == ErrorFamily::kFastApi ? 422 : 400;
    case ErrorKind::kSchema:
      return family == ErrorFamily::kTgi || family == ErrorFamily::kFastApi ? 422 : 400;
    case ErrorKind::kValidation: return family == ErrorFamily::kTgi ? 422 : 400;
    case ErrorKind::kModelNotFound: return 404;
    case ErrorKind::kNotReady: return 503;
    case ErrorKind::kGeneration: return family == ErrorFamily::kTgi ? 424 : 500;
    case ErrorKind::kOverloaded: return 429;
    case ErrorKind::kRouteNotFound: return 404;
    case ErrorKind::kMethodNotAllowed: return 405;
  }
  return 500;
}

std::string vllm_error_type(ErrorFamily family, ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kJsonSyntax:
    case ErrorKind::kSchema:
      // vLLM's RequestValidationError handler: HTTPStatus.BAD_REQUEST.phrase since the nested
      // ErrorResponse; "BadRequestError" before.
      return family == ErrorFamily::kVllmNested ? "Bad Request" : "BadRequestError";
    case ErrorKind::kValidation: return "BadRequestError";
    case ErrorKind::kModelNotFound: return "NotFoundError";
    case ErrorKind::kNotReady: return "ServiceUnavailableError";
    case ErrorKind::kGeneration: return "InternalServerError";
    case ErrorKind::kOverloaded: return "TooManyRequestsError";
    case ErrorKind::kRouteNotFound: return "NotFoundError";
    case ErrorKind::kMethodNotAllowed: return "MethodNotAllowedError";
  }
  return "InternalServerError";
}

std::string tgi_error_type(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kValidation: return "validation";
    case ErrorKind::kGeneration: return "generation";
    case ErrorKind::kOverloaded: return "overloaded";
    case ErrorKind::kNotReady: return "unhealthy";
    default: return "validation";
  }
}

}  // namespace

std::string_view api_name(Api api) {
  switch (api) {
    case Api::kCompletions: return "completions";
    case Api::kChatCompletions: return "chat_completions";
    case Api::kTgiGenerate: return "tgi_generate";
    case Api::kTgiGenerateStream: return "tgi_generate_stream";
    case Api::kTgiCompat: return "tgi_compat";
    case Api::kJetStreamGenerate: return "jetstream_generate";
    case Api::kJetStreamDecode: return "jetstream_decode";
  }
  return "unknown";
}

bool is_openai(Api api) {
  return api == Api::kCompletions || api == Api::kChatCompletions;
}

bool is_tgi(Api api) {
  return api == Api::kTgiGenerate || api == Api::kTgiGenerateStream || api == Api::kTgiCompat;
}

tl::expected<GenerationRequest, ApiError> decode_request(Api api, std::string_view body,
                                                         const ApiContext& context) {
  GenerationRequest out;
  out.api = api;
  if (body.empty()) return tl::unexpected(missing(""));
  if (!core::check_json_depth(body, kMaxJsonDepth)) {
    return tl::unexpected(
        ApiError{ErrorKind::kJsonSyntax,
                 "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels", "0", ""});
  }
  Json json;
  try {
    json = Json::parse(body);
  } catch (const Json::parse_error& e) {
    return tl::unexpected(ApiError{ErrorKind::kJsonSyntax, e.what(),
                                   std::to_string(e.byte > 0 ? e.byte - 1 : 0), ""});
  }
  if (!json.is_object()) {
    return tl::unexpected(
        schema_error("", "model_attributes_type",
                     "Input should be a valid dictionary or object to extract fields from"));
  }
  std::optional<std::int64_t> explicit_tokens;
  if (auto error = read_extension(json, out, explicit_tokens)) return tl::unexpected(*error);
  std::int64_t tokens = explicit_tokens.value_or(0);
  std::optional<ApiError> error;
  switch (api) {
    case Api::kCompletions:
    case Api::kChatCompletions: {
      std::int64_t counted = 0;
      error = decode_openai(api, json, context, out, counted);
      if (!explicit_tokens) tokens = counted;
      break;
    }
    case Api::kTgiGenerate:
    case Api::kTgiGenerateStream:
    case Api::kTgiCompat:
      error = decode_tgi(api, json, context, out, tokens, explicit_tokens.has_value());
      break;
    case Api::kJetStreamGenerate:
    case Api::kJetStreamDecode:
      error = decode_jetstream(api, json, out, tokens, explicit_tokens.has_value());
      break;
  }
  if (error) return tl::unexpected(*error);
  out.spec.prompt_tokens = std::max<std::int64_t>(1, tokens);
  return out;
}

net::Response error_response(Flavor flavor, Api api, const ApiError& error) {
  ErrorFamily family = error_family(flavor, api);
  int status = status_of(family, error.kind);
  if (error.kind == ErrorKind::kRouteNotFound || error.kind == ErrorKind::kMethodNotAllowed) {
    return route_error_response(flavor, error.kind);
  }
  switch (family) {
    case ErrorFamily::kTgi: {
      if (error.kind == ErrorKind::kJsonSyntax) {
        return net::Response::text(status,
                                   "Failed to parse the request body as JSON: " + error.message);
      }
      if (error.kind == ErrorKind::kSchema) return net::Response::text(status, serde_text(error));
      Json body = {{"error", error.message}, {"error_type", tgi_error_type(error.kind)}};
      return net::Response::json(status, core::to_compact_json(body));
    }
    case ErrorFamily::kFastApi: {
      if (error.kind == ErrorKind::kJsonSyntax || error.kind == ErrorKind::kSchema) {
        return net::Response::json(status, core::to_compact_json(fastapi_detail(error)));
      }
      Json body = {{"detail", error.message}};
      return net::Response::json(status, core::to_compact_json(body));
    }
    case ErrorFamily::kVllmNested:
    case ErrorFamily::kVllmFlat: {
      std::string message =
          error.kind == ErrorKind::kSchema || error.kind == ErrorKind::kJsonSyntax
              ? (error.kind == ErrorKind::kSchema
                     ? pydantic_text(error)
                     : "[{'type': 'json_invalid', 'loc': ('body', " +
                           (error.param.empty() ? std::string("0") : error.param) +
                           "), 'msg': 'JSON decode error', 'ctx': {'error': '" + error.message +
                           "'}}]")
              : error.message;
      Json info = Json::object();
      if (family == ErrorFamily::kVllmFlat) info["object"] = "error";
      info["message"] = message;
      info["type"] = vllm_error_type(family, error.kind);
      if (error.param.empty() || error.kind == ErrorKind::kJsonSyntax ||
          error.kind == ErrorKind::kSchema) {
        info["param"] = nullptr;
      } else {
        info["param"] = error.param;
      }
      info["code"] = status;
      Json body = family == ErrorFamily::kVllmNested ? Json{{"error", info}} : info;
      return net::Response::json(status, core::to_compact_json(body));
    }
  }
  return net::Response::text(status, error.message);
}

net::Response route_error_response(Flavor flavor, ErrorKind kind) {
  int status = kind == ErrorKind::kMethodNotAllowed ? 405 : 404;
  if (flavor == Flavor::kTgi) {
    // axum's fallbacks answer with an empty body.
    net::Response response;
    response.status = status;
    return response;
  }
  std::string detail = kind == ErrorKind::kMethodNotAllowed ? "Method Not Allowed" : "Not Found";
  return net::Response::json(status, "{\"detail\":" + json_string(detail) + "}");
}

net::Response unhealthy_response(Flavor flavor) {
  if (flavor == Flavor::kTgi) {
    return net::Response::json(503, R"({"error":"unhealthy","error_type":"healthcheck"})");
  }
  net::Response response;
  response.status = 503;
  return response;
}

std::string models_body(Flavor flavor, std::string_view model, std::int64_t max_model_len,
                        std::int64_t created) {
  Json card = Json::object();
  card["id"] = model;
  card["object"] = "model";
  card["created"] = flavor == Flavor::kTgi ? 0 : created;
  if (flavor == Flavor::kTgi) {
    card["owned_by"] = model;
  } else {
    card["owned_by"] =
        flavor == Flavor::kSglang ? "sglang" : (flavor == Flavor::kNim ? "system" : "vllm");
    card["root"] = model;
    card["parent"] = nullptr;
    card["max_model_len"] = max_model_len;
  }
  Json body = {{"object", "list"}, {"data", Json::array({card})}};
  return core::to_compact_json(body);
}

OutputFormatter::OutputFormatter(const GenerationRequest& request, std::string_view model,
                                 std::uint64_t seed, std::uint64_t sequence,
                                 std::int64_t created_unix)
    : request_(request),
      model_json_(json_string(model)),
      seed_(seed),
      sequence_(sequence),
      created_(created_unix),
      prompt_tokens_(request.spec.prompt_tokens) {
  std::string hex = hex_id(seed, sequence);
  if (request.api == Api::kCompletions) {
    id_ = "cmpl-" + hex;
  } else if (request.api == Api::kChatCompletions) {
    id_ = "chatcmpl-" + hex;
  } else {
    id_ = hex;
  }
  if (is_openai(request.api)) {
    chunk_head_ = "{\"id\":" + json_string(id_) + ",\"object\":\"" +
                  (request.api == Api::kCompletions ? "text_completion" : "chat.completion.chunk") +
                  "\",\"created\":" + std::to_string(created_) + ",\"model\":" + model_json_ +
                  ",\"choices\":[";
  }
}

std::string OutputFormatter::finish_reason(engine::FinishReason finish) const {
  if (is_tgi(request_.api)) {
    return finish == engine::FinishReason::kStop ? "eos_token" : "length";
  }
  return std::string(engine::finish_reason_name(finish));
}

std::string OutputFormatter::usage_json(std::int64_t output_tokens) const {
  return "{\"prompt_tokens\":" + std::to_string(prompt_tokens_) +
         ",\"total_tokens\":" + std::to_string(prompt_tokens_ + output_tokens) +
         ",\"completion_tokens\":" + std::to_string(output_tokens) + "}";
}

std::string OutputFormatter::tgi_token_json(std::int64_t index) const {
  std::string out =
      "{\"id\":" + std::to_string(synthetic_token_id(seed_, sequence_, index)) + ",\"text\":";
  core::append_python_json_string(out, synthetic_token(seed_, sequence_, index));
  // A deterministic log-probability in (-2, 0].
  double logprob =
      -double(core::splitmix64(seed_ ^ core::splitmix64(sequence_ + std::uint64_t(index) * 31)) %
              2000) /
      1000.0;
  out += ",\"logprob\":" + core::go_format_float(logprob) + ",\"special\":false}";
  return out;
}

std::string OutputFormatter::stream_tokens(std::int64_t first, std::int64_t last,
                                           std::optional<engine::FinishReason> finish) {
  std::string out;
  if (last < first) return out;
  switch (request_.api) {
    case Api::kCompletions: {
      out += "data: " + chunk_head_ + "{\"index\":0,\"text\":";
      core::append_python_json_string(out, synthetic_text(seed_, sequence_, first, last));
      out += ",\"logprobs\":null,\"finish_reason\":";
      out += finish ? json_string(finish_reason(*finish)) : "null";
      out += ",\"stop_reason\":null}]";
      if (request_.continuous_usage) out += ",\"usage\":" + usage_json(last);
      out += "}\n\n";
      break;
    }
    case Api::kChatCompletions: {
      if (first == 1) {
        out += "data: " + chunk_head_ +
               "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
               "\"logprobs\":null,\"finish_reason\":null}]";
        if (request_.continuous_usage) out += ",\"usage\":" + usage_json(0);
        out += "}\n\n";
      }
      out += "data: " + chunk_head_ + "{\"index\":0,\"delta\":{\"content\":";
      core::append_python_json_string(out, synthetic_text(seed_, sequence_, first, last));
      out += "},\"logprobs\":null,\"finish_reason\":";
      if (finish) {
        out += json_string(finish_reason(*finish)) + ",\"stop_reason\":null";
      } else {
        out += "null";
      }
      out += "}]";
      if (request_.continuous_usage) out += ",\"usage\":" + usage_json(last);
      out += "}\n\n";
      break;
    }
    case Api::kTgiGenerate:
    case Api::kTgiGenerateStream:
    case Api::kTgiCompat: {
      for (std::int64_t i = first; i <= last; ++i) {
        bool final = finish && i == last;
        out += "data:{\"index\":" + std::to_string(i) + ",\"token\":" + tgi_token_json(i) +
               ",\"generated_text\":";
        if (final) {
          std::string text = synthetic_text(seed_, sequence_, 1, last);
          if (request_.return_full_text) text = request_.prompt + text;
          core::append_python_json_string(out, text);
          out += ",\"details\":";
          if (request_.details) {
            out += "{\"finish_reason\":" + json_string(finish_reason(*finish)) +
                   ",\"generated_tokens\":" + std::to_string(last) +
                   ",\"seed\":null,\"input_length\":" + std::to_string(prompt_tokens_) + "}";
          } else {
            out += "null";
          }
        } else {
          out += "null,\"details\":null";
        }
        out += "}\n\n";
      }
      break;
    }
    case Api::kJetStreamGenerate:
    case Api::kJetStreamDecode: {
      // protobuf json_format.MessageToJson (indent 2) of a DecodeResponse, one per step.
      out += "{\n  \"streamContent\": {\n    \"samples\": [\n      {\n        \"text\": ";
      core::append_python_json_string(out, synthetic_text(seed_, sequence_, first, last));
      out += ",\n        \"tokenIds\": [";
      for (std::int64_t i = first; i <= last; ++i) {
        out += i == first ? "\n" : ",\n";
        out += "          " + std::to_string(synthetic_token_id(seed_, sequence_, i));
      }
      out += "\n        ]\n      }\n    ]\n  }\n}";
      break;
    }
  }
  return out;
}

std::string OutputFormatter::stream_end(std::int64_t output_tokens) {
  if (!is_openai(request_.api)) return {};
  std::string out;
  if (request_.include_usage) {
    out += "data: " + chunk_head_ + "],\"usage\":" + usage_json(output_tokens) + "}\n\n";
  }
  out += "data: [DONE]\n\n";
  return out;
}

net::Response OutputFormatter::full_response(std::int64_t output_tokens,
                                             engine::FinishReason finish) {
  std::string text = synthetic_text(seed_, sequence_, 1, output_tokens);
  std::string body;
  switch (request_.api) {
    case Api::kCompletions:
      body = "{\"id\":" + json_string(id_) +
             ",\"object\":\"text_completion\",\"created\":" + std::to_string(created_) +
             ",\"model\":" + model_json_ +
             ",\"choices\":[{\"index\":0,\"text\":" + json_string(text) +
             ",\"logprobs\":null,\"finish_reason\":" + json_string(finish_reason(finish)) +
             ",\"stop_reason\":null,\"prompt_logprobs\":null}],\"usage\":" +
             usage_json(output_tokens) + "}";
      break;
    case Api::kChatCompletions:
      body = "{\"id\":" + json_string(id_) +
             ",\"object\":\"chat.completion\",\"created\":" + std::to_string(created_) +
             ",\"model\":" + model_json_ +
             ",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":" +
             json_string(text) + ",\"tool_calls\":[]},\"logprobs\":null,\"finish_reason\":" +
             json_string(finish_reason(finish)) +
             ",\"stop_reason\":null}],\"usage\":" + usage_json(output_tokens) +
             ",\"prompt_logprobs\":null}";
      break;
    case Api::kTgiGenerate:
    case Api::kTgiGenerateStream:
    case Api::kTgiCompat: {
      if (request_.return_full_text) text = request_.prompt + text;
      body = "{\"generated_text\":" + json_string(text);
      if (request_.details) {
        body += ",\"details\":{\"finish_reason\":" + json_string(finish_reason(finish)) +
                ",\"generated_tokens\":" + std::to_string(output_tokens) +
                ",\"seed\":null,\"prefill\":[],\"tokens\":[";
        for (std::int64_t i = 1; i <= output_tokens; ++i) {
          if (i > 1) body += ",";
          body += tgi_token_json(i);
        }
        body += "]}";
      }
      body += "}";
      if (request_.api == Api::kTgiCompat) body = "[" + body + "]";
      net::Response response = net::Response::json(200, std::move(body));
      response.headers.add("x-compute-type", "gpu+optimized");
      response.headers.add("x-prompt-tokens", std::to_string(prompt_tokens_));
      response.headers.add("x-generated-tokens", std::to_string(output_tokens));
      return response;
    }
    case Api::kJetStreamGenerate:
    case Api::kJetStreamDecode: body = "{\"response\":" + json_string(text) + "}"; break;
  }
  return net::Response::json(200, std::move(body));
}

}  // namespace llmscale::server
