// Request bodies and response decoders for the OpenAI, TGI and JetStream APIs (see api.h).
#include "loadgen/api.h"

#include <algorithm>
#include <array>
#include <initializer_list>
#include <limits>

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

// What the decoders read from one answer or event, gathered by a SAX walk (no DOM is built: a
// DOM costs a map and strings per member, several times the scan itself, on every response).
// Paths are relative to the document, or to its first element when `unwrap_array` is set and
// the document is an array (TGI's non-streaming answer). "present" means present and not null,
// as member() reads it. Anything that looks like an error object is left to the DOM path, which
// formats the message.
struct Answer {
  bool object = false;          // the (unwrapped) document is an object
  bool error_like = false;      // "error" present, or "object": "error"
  bool choices_array = false;   // choices is an array
  bool has_choice = false;      // choices[0] exists
  bool text_token = false;      // choices[0].text is a non-empty string
  bool delta_token = false;     // choices[0].delta.content or .reasoning_content is one
  bool choice_text = false;     // choices[0].text present
  bool choice_message = false;  // choices[0].message present
  bool token = false;           // token present (TGI)
  bool generated_text = false;  // generated_text present (TGI)
  bool text = false;            // text present (JetStream events)
  bool response = false;        // response present (JetStream)
  std::optional<std::int64_t> completion_tokens;  // usage.completion_tokens
  std::optional<std::int64_t> generated_tokens;   // details.generated_tokens
  // Words of each text an API may answer with (when it is a string).
  std::int64_t choice_text_words = 0;     // choices[0].text
  std::int64_t message_words = 0;         // choices[0].message.content
  std::int64_t generated_text_words = 0;  // generated_text
  std::int64_t response_words = 0;        // response
};

class AnswerScanner final : public nlohmann::json_sax<json> {
 public:
  // nullopt when `text` is not one well-formed JSON value or nests deeper than core's bound.
  std::optional<Answer> scan(std::string_view text, bool unwrap_array) {
    answer_ = Answer{};
    unwrap_ = unwrap_array;
    frames_.clear();
    size_ = 0;
    root_array_ = false;
    if (!json::sax_parse(text.begin(), text.end(), this)) return std::nullopt;
    return answer_;
  }

  bool null() override { return scalar(Kind::kNull); }
  bool boolean(bool) override { return scalar(Kind::kOther); }
  bool number_integer(number_integer_t value) override { return integer(value); }
  bool number_unsigned(number_unsigned_t value) override {
    return value > static_cast<number_unsigned_t>(std::numeric_limits<std::int64_t>::max())
               ? scalar(Kind::kOther)
               : integer(static_cast<std::int64_t>(value));
  }
  bool number_float(number_float_t, const string_t&) override { return scalar(Kind::kOther); }
  bool string(string_t& value) override {
    string_ = &value;
    bool ok = scalar(Kind::kString);
    string_ = nullptr;
    return ok;
  }
  bool binary(binary_t&) override { return scalar(Kind::kOther); }
  bool start_object(std::size_t) override { return open(false); }
  bool start_array(std::size_t) override { return open(true); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& name) override {
    key_ = segment_for(name);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  enum class Seg : std::uint8_t {
    kOther,
    kFirst,  // array element 0
    kError,
    kObject,
    kUsage,
    kCompletionTokens,
    kChoices,
    kDelta,
    kContent,
    kReasoningContent,
    kText,
    kMessage,
    kToken,
    kGeneratedText,
    kDetails,
    kGeneratedTokens,
    kResponse,
  };
  enum class Kind { kNull, kString, kObject, kArray, kOther };
  struct Frame {
    bool array = false;
    std::size_t next = 0;
  };
  static constexpr std::size_t kTracked = 6;  // deeper segments are never read

  static Seg segment_for(std::string_view name) {
    static constexpr std::pair<std::string_view, Seg> kNames[] = {
        {"error", Seg::kError},       {"object", Seg::kObject},
        {"usage", Seg::kUsage},       {"completion_tokens", Seg::kCompletionTokens},
        {"choices", Seg::kChoices},   {"delta", Seg::kDelta},
        {"content", Seg::kContent},   {"reasoning_content", Seg::kReasoningContent},
        {"text", Seg::kText},         {"message", Seg::kMessage},
        {"token", Seg::kToken},       {"generated_text", Seg::kGeneratedText},
        {"details", Seg::kDetails},   {"generated_tokens", Seg::kGeneratedTokens},
        {"response", Seg::kResponse},
    };
    for (const auto& [text, seg] : kNames) {
      if (text == name) return seg;
    }
    return Seg::kOther;
  }

  // Pushes the segment of the value that starts now (the root has none).
  void begin_value() {
    Seg seg = key_;
    if (!frames_.empty() && frames_.back().array) {
      seg = frames_.back().next++ == 0 ? Seg::kFirst : Seg::kOther;
    }
    if (!frames_.empty()) {
      if (size_ < kTracked) path_[size_] = seg;
      ++size_;
    }
  }
  void end_value() {
    if (size_ > 0) --size_;
  }

  bool scalar(Kind kind) {
    begin_value();
    note(kind);
    end_value();
    return true;
  }
  bool integer(std::int64_t value) {
    begin_value();
    note(Kind::kOther);
    if (std::optional<Path> p = relative()) {
      if (p->is({Seg::kUsage, Seg::kCompletionTokens})) answer_.completion_tokens = value;
      if (p->is({Seg::kDetails, Seg::kGeneratedTokens})) answer_.generated_tokens = value;
    }
    end_value();
    return true;
  }
  bool open(bool array) {
    begin_value();
    note(array ? Kind::kArray : Kind::kObject);
    if (frames_.size() >= static_cast<std::size_t>(core::kMaxJsonDepth)) return false;
    if (frames_.empty()) root_array_ = array;
    frames_.push_back(Frame{array, 0});
    return true;
  }
  bool close() {
    frames_.pop_back();
    end_value();
    return true;
  }

  // The current value's path below the (unwrapped) document; nullopt outside it or too deep.
  struct Path {
    const Seg* segs;
    std::size_t size;
    bool is(std::initializer_list<Seg> want) const {
      return want.size() == size && std::equal(want.begin(), want.end(), segs);
    }
  };
  std::optional<Path> relative() const {
    if (size_ > kTracked) return std::nullopt;
    std::size_t skip = 0;
    if (unwrap_ && root_array_) {
      if (size_ == 0 || path_[0] != Seg::kFirst) return std::nullopt;
      skip = 1;
    }
    return Path{path_.data() + skip, size_ - skip};
  }

  void note(Kind kind) {
    bool root_value = frames_.empty();
    if (root_value) {
      // The document itself (an array stands for its first element when unwrapping).
      if (!(unwrap_ && kind == Kind::kArray)) answer_.object = kind == Kind::kObject;
      return;
    }
    std::optional<Path> p = relative();
    if (!p) return;
    if (p->size == 0) {  // the unwrapped first element
      answer_.object = kind == Kind::kObject;
      return;
    }
    bool present = kind != Kind::kNull;
    bool non_empty = kind == Kind::kString && !string_->empty();
    if (p->is({Seg::kError})) answer_.error_like |= present;
    if (p->is({Seg::kObject}) && kind == Kind::kString && *string_ == "error") {
      answer_.error_like = true;
    }
    if (p->is({Seg::kChoices})) answer_.choices_array = kind == Kind::kArray;
    if (p->is({Seg::kChoices, Seg::kFirst})) answer_.has_choice = true;
    if (p->is({Seg::kChoices, Seg::kFirst, Seg::kText})) {
      answer_.choice_text = present;
      answer_.text_token = non_empty;
      if (kind == Kind::kString) answer_.choice_text_words = count_words(*string_);
    }
    if (p->is({Seg::kChoices, Seg::kFirst, Seg::kDelta, Seg::kContent}) ||
        p->is({Seg::kChoices, Seg::kFirst, Seg::kDelta, Seg::kReasoningContent})) {
      answer_.delta_token |= non_empty;
    }
    if (p->is({Seg::kChoices, Seg::kFirst, Seg::kMessage})) answer_.choice_message = present;
    if (p->is({Seg::kChoices, Seg::kFirst, Seg::kMessage, Seg::kContent}) &&
        kind == Kind::kString) {
      answer_.message_words = count_words(*string_);
    }
    if (p->is({Seg::kToken})) answer_.token = present;
    if (p->is({Seg::kGeneratedText})) {
      answer_.generated_text = present;
      if (kind == Kind::kString) answer_.generated_text_words = count_words(*string_);
    }
    if (p->is({Seg::kText})) answer_.text = present;
    if (p->is({Seg::kResponse})) {
      answer_.response = present;
      if (kind == Kind::kString) answer_.response_words = count_words(*string_);
    }
  }

  Answer answer_;
  bool unwrap_ = false;
  bool root_array_ = false;
  std::vector<Frame> frames_;
  std::array<Seg, kTracked> path_{};
  std::size_t size_ = 0;  // depth of the current value below the root (may exceed kTracked)
  Seg key_ = Seg::kOther;
  const string_t* string_ = nullptr;
};

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

namespace {

// The body as a document: `prompt`, `prompt_tokens` and `max_tokens` are the JSON values written
// for them (markers, for RequestBodyTemplate); `has_max_tokens` says whether a limit is sent.
// Ordered, so fields appear as built (what people compare against curl commands).
core::Json body_document(const RequestOptions& options, const core::Json& prompt,
                         const core::Json& prompt_tokens, const core::Json& max_tokens,
                         bool has_max_tokens) {
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
      if (has_max_tokens) body["max_tokens"] = max_tokens;
      if (options.ignore_eos) {
        body["ignore_eos"] = true;
        if (has_max_tokens) body["min_tokens"] = max_tokens;
      }
      body["stream"] = options.streaming;
      if (options.streaming) body["stream_options"] = {{"include_usage", true}};
      break;
    case Api::kTgi: {
      body["inputs"] = prompt;
      Body parameters = Body::object();
      if (has_max_tokens) parameters["max_new_tokens"] = max_tokens;
      parameters["details"] = true;
      body["parameters"] = std::move(parameters);
      extras_target = &body["parameters"];
      break;
    }
    case Api::kJetStream:
      body["prompt"] = prompt;
      if (has_max_tokens) body["max_tokens"] = max_tokens;
      if (options.streaming) body["stream"] = true;
      break;
  }
  for (const auto& [name, value] : options.extra_inputs) {
    (*extras_target)[name] = Body::parse(value, nullptr, false);
  }
  if (!options.prompt_tokens_field.empty()) body[options.prompt_tokens_field] = prompt_tokens;
  return body;
}

// Stand-ins for the per-request values: strings no prompt or extra input contains (control
// characters, dumped as \u0001).
constexpr std::string_view kPromptMarker = "\x01llmscale:prompt\x01";
constexpr std::string_view kPromptTokensMarker = "\x01llmscale:prompt_tokens\x01";
constexpr std::string_view kMaxTokensMarker = "\x01llmscale:max_tokens\x01";

std::string dumped(std::string_view marker) {
  return core::Json(std::string(marker)).dump();
}

}  // namespace

std::string build_request_body(const RequestOptions& options, std::string_view prompt,
                               std::int64_t prompt_tokens, std::int64_t max_tokens) {
  return body_document(options, core::Json(std::string(prompt)), core::Json(prompt_tokens),
                       core::Json(max_tokens), max_tokens > 0)
      .dump();
}

RequestBodyTemplate::RequestBodyTemplate(const RequestOptions& options) : options_(options) {
  core::Json prompt(std::string{kPromptMarker});
  core::Json prompt_tokens(std::string{kPromptTokensMarker});
  core::Json max_tokens(std::string{kMaxTokensMarker});
  with_max_tokens_ = split(body_document(options, prompt, prompt_tokens, max_tokens, true).dump());
  without_max_tokens_ =
      split(body_document(options, prompt, prompt_tokens, max_tokens, false).dump());
}

std::vector<RequestBodyTemplate::Part> RequestBodyTemplate::split(const std::string& body) {
  const std::pair<std::string, Slot> markers[] = {
      {dumped(kPromptMarker), Slot::kPrompt},
      {dumped(kPromptTokensMarker), Slot::kPromptTokens},
      {dumped(kMaxTokensMarker), Slot::kMaxTokens}};
  std::vector<Part> parts;
  std::size_t from = 0;
  while (true) {
    std::size_t best = std::string::npos;
    const std::pair<std::string, Slot>* found = nullptr;
    for (const auto& marker : markers) {
      std::size_t at = body.find(marker.first, from);
      if (at < best) {
        best = at;
        found = &marker;
      }
    }
    if (found == nullptr) {
      parts.push_back(Part{body.substr(from), Slot::kNone});
      return parts;
    }
    parts.push_back(Part{body.substr(from, best - from), found->second});
    from = best + found->first.size();
  }
}

std::string RequestBodyTemplate::render(std::string_view prompt, std::int64_t prompt_tokens,
                                        std::int64_t max_tokens) const {
  // For ASCII, Python's escapes are nlohmann's. Other text goes through the document, which
  // checks its UTF-8 (synthetic prompts are ASCII words).
  for (char c : prompt) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      return build_request_body(options_, prompt, prompt_tokens, max_tokens);
    }
  }
  const std::vector<Part>& parts = max_tokens > 0 ? with_max_tokens_ : without_max_tokens_;
  std::string out;
  std::size_t size = prompt.size() + 2;
  for (const Part& part : parts) size += part.literal.size() + 24;
  out.reserve(size);
  for (const Part& part : parts) {
    out += part.literal;
    switch (part.slot) {
      case Slot::kNone: break;
      case Slot::kPrompt: core::append_python_json_string(out, prompt); break;
      case Slot::kPromptTokens: out += std::to_string(prompt_tokens); break;
      case Slot::kMaxTokens: out += std::to_string(max_tokens); break;
    }
  }
  return out;
}

struct ResponseDecoder::State {
  Api api;
  bool streaming;
  net::SseParser sse{kMaxEventBytes};
  AnswerScanner scanner;
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

  // Scans one answer or event; nullopt (after failing) when it is malformed or an error object.
  std::optional<Answer> read(std::string_view text, bool unwrap_array) {
    std::optional<Answer> answer = scanner.scan(text, unwrap_array);
    if (!answer || !answer->object) {
      fail("malformed json", text);
      return std::nullopt;
    }
    if (answer->error_like) {
      // Rare: let the DOM format the server's message.
      json doc = parse_answer(text);
      if (unwrap_array && doc.is_array() && !doc.empty()) doc = doc[0];
      fail("response error", error_message(doc).value_or(std::string(text)));
      return std::nullopt;
    }
    return answer;
  }

  // One SSE event of an OpenAI or TGI stream.
  void on_event(std::string_view data, TimePoint at) {
    if (error || complete) return;
    if (api != Api::kTgi && data == "[DONE]") {
      complete = true;
      return;
    }
    std::optional<Answer> answer = read(data, false);
    if (!answer) return;
    if (api == Api::kTgi) {
      if (answer->token) token(at);
      if (answer->generated_text) {
        complete = true;
        if (answer->generated_tokens) server_tokens = *answer->generated_tokens;
      }
      return;
    }
    if (answer->completion_tokens) server_tokens = *answer->completion_tokens;
    if (api == Api::kOpenAiChat ? answer->delta_token : answer->text_token) token(at);
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
          std::optional<Answer> answer = read(body, false);
          if (!answer) return;
          if (!answer->text) return fail("malformed json", body);
          token(at);
        }
      }
    }
  }

  void finish_whole_body() {
    std::optional<Answer> answer = read(body, api == Api::kTgi);
    if (!answer) return;
    switch (api) {
      case Api::kOpenAiChat:
      case Api::kOpenAiCompletions:
        if (!answer->choices_array || !answer->has_choice) return fail("malformed json", body);
        if (api == Api::kOpenAiChat) {
          if (!answer->choice_message) return fail("malformed json", body);
          words = answer->message_words;
        } else {
          if (!answer->choice_text) return fail("malformed json", body);
          words = answer->choice_text_words;
        }
        if (answer->completion_tokens) server_tokens = *answer->completion_tokens;
        break;
      case Api::kTgi:
        if (!answer->generated_text) return fail("malformed json", body);
        if (answer->generated_tokens) server_tokens = *answer->generated_tokens;
        words = answer->generated_text_words;
        break;
      case Api::kJetStream:
        if (!answer->response) return fail("malformed json", body);
        words = answer->response_words;
        break;
    }
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
