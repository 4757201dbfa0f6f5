// Request decoding and error shapes of the simulated APIs: token counting, the llmscale
// extension, each server's defaults and validation messages, and bad input of every kind
// (invalid JSON, wrong types, missing fields, max_tokens <= 0, deep nesting) answered with the
// server's own error shape.
#include "server/api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/text.h"

namespace llmscale::server {
namespace {

using Json = nlohmann::json;

ApiContext vllm() {
  return ApiContext{Flavor::kVllmV1, "llama", 4096};
}
ApiContext tgi() {
  return ApiContext{Flavor::kTgi, "llama", 4096};
}

TEST(TextTest, CountsWordsPunctuationAndBos) {
  EXPECT_EQ(count_text_tokens(""), 0);
  EXPECT_EQ(count_text_tokens("San Francisco is a"), 4);
  EXPECT_EQ(count_prompt_tokens("San Francisco is a"), 5);  // vLLM reports 5 for Llama 3
  EXPECT_EQ(count_text_tokens("Hello, world!"), 4);
  EXPECT_EQ(count_text_tokens("  tabs\tand\nnew_lines  "), 3);
  EXPECT_EQ(count_text_tokens("naïve café"), 2);  // UTF-8 bytes are word bytes
}

TEST(TextTest, SyntheticTokensAreDeterministic) {
  EXPECT_EQ(synthetic_text(7, 1, 1, 5), synthetic_text(7, 1, 1, 5));
  EXPECT_NE(synthetic_text(7, 1, 1, 8), synthetic_text(7, 2, 1, 8));
  EXPECT_NE(synthetic_text(7, 1, 1, 8), synthetic_text(8, 1, 1, 8));
  EXPECT_EQ(synthetic_text(7, 1, 1, 3), std::string(synthetic_token(7, 1, 1)) +
                                            std::string(synthetic_token(7, 1, 2)) +
                                            std::string(synthetic_token(7, 1, 3)));
  EXPECT_EQ(hex_id(1, 2).size(), 32u);
  EXPECT_EQ(hex_id(1, 2), hex_id(1, 2));
}

TEST(DecodeTest, CompletionDefaultsAndFields) {
  auto r = decode_request(Api::kCompletions, R"({"prompt":"San Francisco is a"})", vllm());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->spec.prompt_tokens, 5);
  EXPECT_EQ(r->spec.max_tokens, 16);  // vLLM's CompletionRequest default
  EXPECT_FALSE(r->stream);

  r = decode_request(Api::kCompletions,
                     R"({"model":"llama","prompt":"x","max_tokens":50,"min_tokens":10,
                         "ignore_eos":true,"stream":true,
                         "stream_options":{"include_usage":true,"continuous_usage_stats":true}})",
                     vllm());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->spec.max_tokens, 50);
  EXPECT_EQ(r->spec.min_tokens, 10);
  EXPECT_TRUE(r->spec.ignore_eos);
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
  EXPECT_TRUE(r->continuous_usage);

  // Explicit null: the rest of the context window (decided by the engine).
  r = decode_request(Api::kCompletions, R"({"prompt":"x","max_tokens":null})", vllm());
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->spec.max_tokens.has_value());
  // Token-id prompts count their ids.
  r = decode_request(Api::kCompletions, R"({"prompt":[1,2,3,4,5,6]})", vllm());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->spec.prompt_tokens, 6);
  r = decode_request(Api::kCompletions, R"({"prompt":["one two"]})", vllm());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->spec.prompt_tokens, 3);
}

TEST(DecodeTest, ChatCountsTheTemplate) {
  auto r = decode_request(
      Api::kChatCompletions,
      R"({"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"hi there"}]}],"max_completion_tokens":9})",
      vllm());
  ASSERT_TRUE(r.has_value());
  // BOS + 2 x (5 + content) + assistant header: 1 + (5+3) + (5+2) + 4.
  EXPECT_EQ(r->spec.prompt_tokens, 20);
  EXPECT_EQ(r->spec.max_tokens, 9);
  r = decode_request(Api::kChatCompletions, R"({"messages":[]})", vllm());
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->spec.max_tokens.has_value());
}

// Llama 3.1's template always writes a system block with its knowledge-date preamble (issue 15,
// seed 001's genai-perf chat requests): 20 preamble tokens, plus the block's header and
// <|eot_id|> when the request has no system message of its own.
TEST(DecodeTest, ChatCountsTheModelsSystemPreamble) {
  ApiContext llama31{Flavor::kNim, "meta/llama-3.1-8b-instruct", 131072, 20};
  const char* user_only = R"({"messages":[{"role":"user","content":"hi there"}]})";
  auto plain = decode_request(Api::kChatCompletions, user_only, vllm());
  auto with_preamble = decode_request(Api::kChatCompletions, user_only, llama31);
  ASSERT_TRUE(plain.has_value() && with_preamble.has_value());
  EXPECT_EQ(with_preamble->spec.prompt_tokens - plain->spec.prompt_tokens, 20 + 5);
  const char* with_system =
      R"({"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi there"}]})";
  auto own = decode_request(Api::kChatCompletions, with_system, llama31);
  auto own_plain = decode_request(Api::kChatCompletions, with_system, vllm());
  ASSERT_TRUE(own.has_value() && own_plain.has_value());
  EXPECT_EQ(own->spec.prompt_tokens - own_plain->spec.prompt_tokens, 20);
  // Completions are not templated.
  auto completion = decode_request(Api::kCompletions, R"({"prompt":"hi there"})", llama31);
  ASSERT_TRUE(completion.has_value());
  EXPECT_EQ(completion->spec.prompt_tokens, 3);
}

TEST(DecodeTest, ExtensionGivesCountsAndPrefix) {
  auto r = decode_request(
      Api::kCompletions,
      R"({"prompt":"short","max_tokens":100,"llmscale":{"prompt_tokens":1234,"output_tokens":42,"prefix_hash_ids":[7,8,9],"prefix_block_tokens":512}})",
      vllm());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->spec.prompt_tokens, 1234);
  EXPECT_EQ(r->spec.eos_after, 42);
  EXPECT_EQ(r->spec.prefix_hash_ids, (std::vector<std::uint64_t>{7, 8, 9}));
  EXPECT_EQ(r->spec.prefix_block_tokens, 512);
  // Also for TGI and JetStream bodies.
  r = decode_request(
      Api::kTgiGenerate,
      R"({"inputs":"a","parameters":{"max_new_tokens":5},"llmscale":{"prompt_tokens":300}})",
      tgi());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->spec.prompt_tokens, 300);
  auto bad =
      decode_request(Api::kCompletions, R"({"prompt":"a","llmscale":{"prompt_tokens":0}})", vllm());
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().kind, ErrorKind::kValidation);
  EXPECT_EQ(bad.error().param, "llmscale.prompt_tokens");
}

TEST(DecodeTest, TgiDefaultsAndValidation) {
  auto r = decode_request(Api::kTgiGenerate, R"({"inputs":"What is Deep Learning?"})", tgi());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->spec.prompt_tokens, 6);
  EXPECT_EQ(r->spec.max_tokens, 4096 - 6);  // max_total_tokens - input
  EXPECT_FALSE(r->stream);
  r = decode_request(
      Api::kTgiCompat,
      R"({"inputs":"x","stream":true,"parameters":{"max_new_tokens":20,"details":true}})", tgi());
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->details);
  EXPECT_EQ(r->spec.max_tokens, 20);

  auto zero = decode_request(Api::kTgiGenerate,
                             R"({"inputs":"x","parameters":{"max_new_tokens":0}})", tgi());
  ASSERT_FALSE(zero.has_value());
  EXPECT_EQ(zero.error().message,
            "Input validation error: `max_new_tokens` must be strictly positive");
  auto too_long = decode_request(Api::kTgiGenerate,
                                 R"({"inputs":"x","parameters":{"max_new_tokens":5000}})", tgi());
  ASSERT_FALSE(too_long.has_value());
  EXPECT_EQ(too_long.error().message,
            "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 2 "
            "`inputs` tokens and 5000 `max_new_tokens`");
  auto empty = decode_request(Api::kTgiGenerate, R"({"inputs":""})", tgi());
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().message, "Input validation error: `inputs` cannot be empty");
}

TEST(DecodeTest, JetStreamBodies) {
  ApiContext js{Flavor::kJetStream, "gemma", 8192};
  auto r =
      decode_request(Api::kJetStreamGenerate, R"({"prompt":"Hello there","max_tokens":200})", js);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->spec.prompt_tokens, 3);
  EXPECT_EQ(r->spec.max_tokens, 200);
  EXPECT_FALSE(r->stream);
  r = decode_request(Api::kJetStreamDecode, R"({"max_tokens":10,"text_content":{"text":"a b c"}})",
                     js);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->stream);
  EXPECT_EQ(r->spec.prompt_tokens, 4);
  auto missing = decode_request(Api::kJetStreamGenerate, R"({"prompt":"x"})", js);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().schema_type, "missing");
  EXPECT_EQ(missing.error().param, "max_tokens");
}

struct BadInput {
  const char* name;
  Api api;
  const char* body;
  ErrorKind kind;
  const char* param;
};

class BadInputTest : public ::testing::TestWithParam<BadInput> {};

TEST_P(BadInputTest, IsRefusedWithTheRightKind) {
  const BadInput& c = GetParam();
  ApiContext context = is_tgi(c.api) ? tgi() : vllm();
  auto r = decode_request(c.api, c.body, context);
  ASSERT_FALSE(r.has_value()) << c.name;
  EXPECT_EQ(r.error().kind, c.kind) << c.name << ": " << r.error().message;
  EXPECT_EQ(r.error().param, c.param) << c.name;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadInputTest,
    ::testing::Values(
        BadInput{"invalid_json", Api::kCompletions, R"({"prompt": "x",)", ErrorKind::kJsonSyntax,
                 "15"},
        BadInput{"not_json", Api::kCompletions, "prompt=x", ErrorKind::kJsonSyntax, "0"},
        BadInput{"empty_body", Api::kCompletions, "", ErrorKind::kSchema, ""},
        BadInput{"array_body", Api::kCompletions, "[1,2]", ErrorKind::kSchema, ""},
        BadInput{"missing_prompt", Api::kCompletions, R"({"max_tokens":3})", ErrorKind::kSchema,
                 "prompt"},
        BadInput{"null_prompt", Api::kCompletions, R"({"prompt":null})", ErrorKind::kSchema,
                 "prompt"},
        BadInput{"prompt_number", Api::kCompletions, R"({"prompt":42})", ErrorKind::kSchema,
                 "prompt"},
        BadInput{"two_prompts", Api::kCompletions, R"({"prompt":["a","b"]})",
                 ErrorKind::kValidation, "prompt"},
        BadInput{"max_tokens_string", Api::kCompletions, R"({"prompt":"x","max_tokens":"10"})",
                 ErrorKind::kSchema, "max_tokens"},
        BadInput{"max_tokens_fraction", Api::kCompletions, R"({"prompt":"x","max_tokens":1.5})",
                 ErrorKind::kSchema, "max_tokens"},
        BadInput{"max_tokens_zero", Api::kCompletions, R"({"prompt":"x","max_tokens":0})",
                 ErrorKind::kValidation, "max_tokens"},
        BadInput{"max_tokens_negative", Api::kCompletions, R"({"prompt":"x","max_tokens":-5})",
                 ErrorKind::kValidation, "max_tokens"},
        BadInput{"max_tokens_huge", Api::kCompletions,
                 R"({"prompt":"x","max_tokens":99999999999999999999})", ErrorKind::kSchema,
                 "max_tokens"},
        BadInput{"min_over_max", Api::kCompletions,
                 R"({"prompt":"x","max_tokens":5,"min_tokens":6})", ErrorKind::kValidation,
                 "min_tokens"},
        BadInput{"stream_not_bool", Api::kCompletions, R"({"prompt":"x","stream":"yes"})",
                 ErrorKind::kSchema, "stream"},
        BadInput{"stream_options_without_stream", Api::kCompletions,
                 R"({"prompt":"x","stream_options":{"include_usage":true}})",
                 ErrorKind::kValidation, "stream_options"},
        BadInput{"n_two", Api::kCompletions, R"({"prompt":"x","n":2})", ErrorKind::kValidation,
                 "n"},
        BadInput{"wrong_model", Api::kCompletions, R"({"prompt":"x","model":"gpt-4"})",
                 ErrorKind::kModelNotFound, "model"},
        BadInput{"missing_messages", Api::kChatCompletions, R"({"model":"llama"})",
                 ErrorKind::kSchema, "messages"},
        BadInput{"messages_object", Api::kChatCompletions, R"({"messages":{"role":"user"}})",
                 ErrorKind::kSchema, "messages"},
        BadInput{"message_without_role", Api::kChatCompletions,
                 R"({"messages":[{"content":"hi"}]})", ErrorKind::kSchema, "messages.0.role"},
        BadInput{"content_number", Api::kChatCompletions,
                 R"({"messages":[{"role":"user","content":5}]})", ErrorKind::kSchema,
                 "messages.0.content"},
        BadInput{"tgi_missing_inputs", Api::kTgiGenerate, R"({"parameters":{}})",
                 ErrorKind::kSchema, "inputs"},
        BadInput{"tgi_negative", Api::kTgiGenerate,
                 R"({"inputs":"x","parameters":{"max_new_tokens":-1}})", ErrorKind::kSchema,
                 "parameters.max_new_tokens"},
        BadInput{"tgi_parameters_list", Api::kTgiGenerate, R"({"inputs":"x","parameters":[1]})",
                 ErrorKind::kSchema, "parameters"}),
    [](const ::testing::TestParamInfo<BadInput>& info) { return std::string(info.param.name); });

TEST(DecodeTest, DeepNestingIsRefusedBeforeParsing) {
  std::string body =
      R"({"prompt":"x","extra":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto r = decode_request(Api::kCompletions, body, vllm());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::kJsonSyntax);
}

TEST(ErrorShapeTest, VllmV1NestsOpenAiStyle) {
  ApiError e{ErrorKind::kValidation, "max_tokens must be at least 1, got 0.", "max_tokens", ""};
  net::Response r = error_response(Flavor::kVllmV1, Api::kCompletions, e);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.headers.value("content-type"), "application/json");
  EXPECT_EQ(
      r.body,
      R"({"error":{"message":"max_tokens must be at least 1, got 0.","type":"BadRequestError","param":"max_tokens","code":400}})");
  ApiError schema{ErrorKind::kSchema, "Field required", "prompt", "missing"};
  r = error_response(Flavor::kVllmV1, Api::kCompletions, schema);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(
      r.body,
      R"({"error":{"message":"[{'type': 'missing', 'loc': ('body', 'prompt'), 'msg': 'Field required'}]","type":"Bad Request","param":null,"code":400}})");
  ApiError model{ErrorKind::kModelNotFound, "The model `gpt-4` does not exist.", "model", ""};
  r = error_response(Flavor::kVllmV1, Api::kCompletions, model);
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Json::parse(r.body)["error"]["type"], "NotFoundError");
}

TEST(ErrorShapeTest, OlderServersAnswerTheFlatObject) {
  ApiError e{ErrorKind::kValidation, "bad", "max_tokens", ""};
  for (Flavor f : {Flavor::kVllmV0, Flavor::kNim, Flavor::kSglang}) {
    net::Response r = error_response(f, Api::kCompletions, e);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(
        r.body,
        R"({"object":"error","message":"bad","type":"BadRequestError","param":"max_tokens","code":400})");
  }
}

TEST(ErrorShapeTest, TgiShapes) {
  ApiError validation{ErrorKind::kValidation, "Input validation error: `inputs` cannot be empty",
                      "inputs", ""};
  net::Response r = error_response(Flavor::kTgi, Api::kTgiGenerate, validation);
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(
      r.body,
      R"({"error":"Input validation error: `inputs` cannot be empty","error_type":"validation"})");
  // Bodies axum cannot decode: plain text, 400 for syntax, 422 for data.
  ApiError syntax{ErrorKind::kJsonSyntax, "expected value", "0", ""};
  r = error_response(Flavor::kTgi, Api::kTgiGenerate, syntax);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.headers.value("content-type"), "text/plain; charset=utf-8");
  ApiError missing{ErrorKind::kSchema, "Field required", "inputs", "missing"};
  r = error_response(Flavor::kTgi, Api::kTgiGenerate, missing);
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.body,
            "Failed to deserialize the JSON body into the target type: missing field `inputs`");
  r = error_response(Flavor::kTgi, Api::kTgiGenerate,
                     ApiError{ErrorKind::kOverloaded, "Model is overloaded", "", ""});
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body, R"({"error":"Model is overloaded","error_type":"overloaded"})");
  r = error_response(
      Flavor::kTgi, Api::kTgiGenerate,
      ApiError{ErrorKind::kGeneration, "Request failed during generation: x", "", ""});
  EXPECT_EQ(r.status, 424);
}

TEST(ErrorShapeTest, FastApiDefaultsAndRoutes) {
  ApiError missing{ErrorKind::kSchema, "Field required", "prompt", "missing"};
  net::Response r = error_response(Flavor::kJetStream, Api::kJetStreamGenerate, missing);
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.body,
            R"({"detail":[{"type":"missing","loc":["body","prompt"],"msg":"Field required"}]})");
  EXPECT_EQ(route_error_response(Flavor::kVllmV1, ErrorKind::kRouteNotFound).body,
            R"({"detail":"Not Found"})");
  EXPECT_EQ(route_error_response(Flavor::kVllmV1, ErrorKind::kMethodNotAllowed).status, 405);
  net::Response tgi404 = route_error_response(Flavor::kTgi, ErrorKind::kRouteNotFound);
  EXPECT_EQ(tgi404.status, 404);
  EXPECT_TRUE(tgi404.body.empty());
}

}  // namespace
}  // namespace llmscale::server
