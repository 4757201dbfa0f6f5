// Request bodies and response decoders for the OpenAI, TGI and JetStream APIs (see api.h).
#include "loadgen/api.h"

#include <nlohmann/json.hpp>

#include "core/json.h"
#include "core/strings.h"
#include "loadgen/prompt.h"
#include "net/sse.h"

namespace llmscale::loadgen {
namespace {

using nlohmann::json;

constexpr std::size_t kDetailChars = 120;
// A single event (or JetStream object) larger than this is an error, not a reason to buffer.
constexpr std::size_t kMaxEventBytes = 4 * 1024 * 1024;

// A server's answer, parsed once its nesting is known to be bounded (core's bound); discarded
// otherwise, like any malformed answer.
json parse_answer(std::string_view text) {
  if (!core::check_json_depth(text)) return json(json::value_t::discarded);
  return json::parse(text, nullptr, /*allow_exceptions=*/false);
}

std::string snippet(std::string_view text) {
  if (text.size() <= kDetailChars) return std::string(text);
  return std::string(text.substr(0, kDetailChars)) + "...";
}

const json* member(const json& object, const char* name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

bool non_empty_string(const json* value) {
  return value != nullptr && value->is_string() && !value->get_ref<const std::string&>().empty();
}

std::optional<std::int64_t> integer(const json* value) {
  if (value == nullptr || !value->is_number_integer()) return std::nullopt;
  return value->get<std::int64_t>();
}

// The server's error message, when `doc` is an error object ({"error": ...} from vLLM, TGI and
// OpenAI; {"object": "error", "message": ...} from older vLLM).
std::optional<std::string> error_message(const json& doc) {
  if (!doc.is_object()) return std::nullopt;
  if (const json* error = member(doc, "error")) {
    if (error->is_string()) return error->get<std::string>();
    if (const json* message = member(*error, "message"); message && message->is_string()) {
      return message->get<std::string>();
    }
    return error->dump();
  }
  if (const json* object = member(doc, "object");
      object && object->is_string() && object->get_ref<const std::string&>() == "error") {
    const json* message = member(doc, "message");
    return message && message->is_string() ? message->get<std::string>() : doc.dump();
  }
  return std::nullopt;
}

}  // namespace

core::Result<Api> parse_api(std::string_view text) {
  if (text == "openai-chat" || text == "chat") return Api::kOpenAiChat;
  if (text == "openai-completions" || text == "completions") return Api::kOpenAiCompletions;
  if (text == "tgi") return Api::kTgi;
  if (text == "jetstream") return Api::kJetStream;
  return core::invalid_argument("unknown API " + core::go_quote(text) +
                                " (openai-chat, openai-completions, tgi, jetstream)");
}

std::string_view api_name(Api api) {
  switch (api) {
    case Api::kOpenAiChat: return "openai-chat";
    case Api::kOpenAiCompletions: return "openai-completions";
    case Api::kTgi: return "tgi";
    case Api::kJetStream: return "jetstream";
  }
  return "openai-chat";
}

std::string_view default_endpoint(Api api, bool streaming) {
  switch (api) {
    case Api::kOpenAiChat: return "/v1/chat/completions";
    case Api::kOpenAiCompletions: return "/v1/completions";
    case Api::kTgi: return streaming ? "/generate_stream" : "/generate";
    case Api::kJetStream: return "/generate";
  }
  return "/";
}

core::Result<std::pair<std::string, std::string>> parse_extra_input(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return core::invalid_argument("--extra-inputs " + core::go_quote(text) +
                                  ": expected name:value");
  }
  std::string name(text.substr(0, colon));
  std::string_view value = text.substr(colon + 1);
  json parsed = parse_answer(value);
  if (parsed.is_discarded()) parsed = std::string(value);
  return std::pair{name, parsed.dump()};
}

std::string build_request_body(const RequestOptions& options, std::string_view prompt,
                               std::int64_t prompt_tokens, std::int64_t max_tokens) {
  // Ordered, so fields appear as built (what people compare against curl commands).
  using Body = core::Json;
  Body body = Body::object();
  Body* extras_target = &body;
  switch (options.api) {
    case Api::kOpenAiChat:
    case Api::kOpenAiCompletions:
      if (!options.model.empty()) body["model"] = options.model;
      if (options.api == Api::kOpenAiChat) {
        body["messages"] = Body::array({{{"role", "user"}, {"content", prompt}}});
      } else {
        body["prompt"] = prompt;
      }
      if (max_tokens > 0) body["max_tokens"] = max_tokens;
      if (options.ignore_eos) {
        body["ignore_eos"] = true;
        if (max_tokens > 0) body["min_tokens"] = max_tokens;
      }
      body["stream"] = options.streaming;
      if (options.streaming) body["stream_options"] = {{"include_usage", true}};
      break;
    case Api::kTgi: {
      body["inputs"] = prompt;
      Body parameters = Body::object();
      if (max_tokens > 0) parameters["max_new_tokens"] = max_tokens;
      parameters["details"] = true;
      body["parameters"] = std::move(parameters);
      extras_target = &body["parameters"];
      break;
    }
    case Api::kJetStream:
      body["prompt"] = prompt;
      if (max_tokens > 0) body["max_tokens"] = max_tokens;
      if (options.streaming) body["stream"] = true;
      break;
  }
  for (const auto& [name, value] : options.extra_inputs) {
    (*extras_target)[name] = Body::parse(value, nullptr, false);
  }
  if (!options.prompt_tokens_field.empty()) body[options.prompt_tokens_field] = prompt_tokens;
  return body.dump();
}

struct ResponseDecoder::State {
  Api api;
  bool streaming;
  net::SseParser sse{kMaxEventBytes};
  std::string body;  // non-streaming body, or JetStream's partial object
  std::optional<DecodeError> error;
  std::vector<TimePoint> token_times;
  std::int64_t events = 0;  // token-bearing events
  std::int64_t words = 0;
  std::optional<std::int64_t> server_tokens;
  bool complete = false;  // end marker seen
  // JetStream object splitter.
  int depth = 0;
  bool in_string = false;
  bool escaped = false;

  void fail(std::string kind, std::string_view text) {
    if (!error) error = DecodeError{std::move(kind), snippet(text)};
  }

  void token(TimePoint at) {
    ++events;
    token_times.push_back(at);
  }

  // One SSE event of an OpenAI or TGI stream.
  void on_event(std::string_view data, TimePoint at) {
    if (error || complete) return;
    if (api != Api::kTgi && data == "[DONE]") {
      complete = true;
      return;
    }
    json doc = parse_answer(data);
    if (doc.is_discarded() || !doc.is_object()) return fail("malformed json", data);
    if (auto message = error_message(doc)) return fail("response error", *message);
    if (api == Api::kTgi) {
      if (member(doc, "token") != nullptr) token(at);
      if (member(doc, "generated_text") != nullptr) {
        complete = true;
        if (const json* details = member(doc, "details")) {
          if (auto n = integer(member(*details, "generated_tokens"))) server_tokens = *n;
        }
      }
      return;
    }
    if (const json* usage = member(doc, "usage")) {
      if (auto n = integer(member(*usage, "completion_tokens"))) server_tokens = *n;
    }
    const json* choices = member(doc, "choices");
    if (choices == nullptr || !choices->is_array() || choices->empty()) return;
    const json& choice = (*choices)[0];
    bool has_token = false;
    if (api == Api::kOpenAiChat) {
      if (const json* delta = member(choice, "delta")) {
        has_token = non_empty_string(member(*delta, "content")) ||
                    non_empty_string(member(*delta, "reasoning_content"));
      }
    } else {
      has_token = non_empty_string(member(choice, "text"));
    }
    if (has_token) token(at);
  }

  // JetStream's stream: JSON objects back to back.
  void feed_jetstream(std::string_view bytes, TimePoint at) {
    for (char c : bytes) {
      if (error) return;
      if (depth == 0) {
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        if (c != '{') return fail("malformed json", bytes);
        body.clear();
      }
      body += c;
      if (body.size() > kMaxEventBytes) return fail("malformed sse", "object too large");
      if (in_string) {
        if (escaped) {
          escaped = false;
        } else if (c == '\\') {
          escaped = true;
        } else if (c == '"') {
          in_string = false;
        }
        continue;
      }
      if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          json doc = parse_answer(body);
          if (doc.is_discarded() || !doc.is_object()) return fail("malformed json", body);
          if (auto message = error_message(doc)) return fail("response error", *message);
          if (member(doc, "text") == nullptr) return fail("malformed json", body);
          token(at);
        }
      }
    }
  }

  void finish_whole_body() {
    json doc = parse_answer(body);
    if (doc.is_discarded()) return fail("malformed json", body);
    if (api == Api::kTgi && doc.is_array() && !doc.empty()) doc = doc[0];
    if (!doc.is_object()) return fail("malformed json", body);
    if (auto message = error_message(doc)) return fail("response error", *message);
    const json* text = nullptr;
    switch (api) {
      case Api::kOpenAiChat:
      case Api::kOpenAiCompletions: {
        const json* choices = member(doc, "choices");
        if (choices == nullptr || !choices->is_array() || choices->empty()) {
          return fail("malformed json", body);
        }
        const json& choice = (*choices)[0];
        if (api == Api::kOpenAiChat) {
          const json* message = member(choice, "message");
          text = message ? member(*message, "content") : nullptr;
          if (message == nullptr) return fail("malformed json", body);
        } else {
          text = member(choice, "text");
          if (text == nullptr) return fail("malformed json", body);
        }
        if (const json* usage = member(doc, "usage")) {
          if (auto n = integer(member(*usage, "completion_tokens"))) server_tokens = *n;
        }
        break;
      }
      case Api::kTgi:
        text = member(doc, "generated_text");
        if (text == nullptr) return fail("malformed json", body);
        if (const json* details = member(doc, "details")) {
          if (auto n = integer(member(*details, "generated_tokens"))) server_tokens = *n;
        }
        break;
      case Api::kJetStream:
        text = member(doc, "response");
        if (text == nullptr) return fail("malformed json", body);
        break;
    }
    if (text != nullptr && text->is_string())
      words = count_words(text->get_ref<const std::string&>());
  }
};

ResponseDecoder::ResponseDecoder(Api api, bool streaming) : state_(std::make_unique<State>()) {
  state_->api = api;
  state_->streaming = streaming;
}
ResponseDecoder::~ResponseDecoder() = default;
ResponseDecoder::ResponseDecoder(ResponseDecoder&&) noexcept = default;
ResponseDecoder& ResponseDecoder::operator=(ResponseDecoder&&) noexcept = default;

bool ResponseDecoder::feed(std::string_view bytes, TimePoint at) {
  State& s = *state_;
  if (s.error) return false;
  if (!s.streaming) {
    s.body.append(bytes);
    return true;
  }
  if (s.api == Api::kJetStream) {
    s.feed_jetstream(bytes, at);
    return !s.error;
  }
  bool ok = s.sse.feed(bytes, [&](const net::SseEvent& event) { s.on_event(event.data, at); });
  if (!ok) s.fail("malformed sse", "event larger than 4 MiB");
  return !s.error;
}

bool ResponseDecoder::finish() {
  State& s = *state_;
  if (s.error) return false;
  if (!s.streaming) {
    s.finish_whole_body();
  } else if (s.api == Api::kJetStream) {
    if (s.depth != 0) s.fail("incomplete stream", s.body);
  } else if (!s.complete) {
    s.fail("incomplete stream", s.api == Api::kTgi ? "no final event" : "no [DONE]");
  }
  return !s.error;
}

const std::optional<DecodeError>& ResponseDecoder::error() const {
  return state_->error;
}

const std::vector<ResponseDecoder::TimePoint>& ResponseDecoder::token_times() const {
  return state_->token_times;
}

std::int64_t ResponseDecoder::output_tokens() const {
  const State& s = *state_;
  if (s.server_tokens) return *s.server_tokens;
  return s.streaming ? s.events : s.words;
}

bool ResponseDecoder::server_counted() const {
  return state_->server_tokens.has_value();
}

}  // namespace llmscale::loadgen
