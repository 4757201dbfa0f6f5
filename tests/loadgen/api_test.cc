// Request bodies per API (exact JSON) and the response decoders: tokens and their arrival
// times, server token counts, end markers, and every malformed or cut-short response.
#include "loadgen/api.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace llmscale::loadgen {
namespace {

using namespace std::chrono_literals;
using TimePoint = ResponseDecoder::TimePoint;

TimePoint at(int ms) {
  return TimePoint(std::chrono::milliseconds(ms));
}

TEST(ApiTest, Names) {
  EXPECT_EQ(*parse_api("openai-chat"), Api::kOpenAiChat);
  EXPECT_EQ(*parse_api("tgi"), Api::kTgi);
  EXPECT_FALSE(parse_api("grpc").has_value());
  EXPECT_EQ(default_endpoint(Api::kTgi, true), "/generate_stream");
  EXPECT_EQ(default_endpoint(Api::kTgi, false), "/generate");
  EXPECT_EQ(default_endpoint(Api::kOpenAiCompletions, true), "/v1/completions");
  EXPECT_EQ(default_endpoint(Api::kJetStream, true), "/generate");
}

TEST(ApiTest, ChatBodyLikeGenaiPerfWithExtraInputs) {
  RequestOptions options;
  options.api = Api::kOpenAiChat;
  options.streaming = true;
  options.model = "meta/llama-3.1-8b-instruct";
  options.ignore_eos = true;
  options.extra_inputs.push_back(*parse_extra_input("temperature:0"));
  EXPECT_EQ(
      build_request_body(options, "a b c", 3, 200),
      R"({"model":"meta/llama-3.1-8b-instruct","messages":[{"role":"user","content":"a b c"}],)"
      R"("max_tokens":200,"ignore_eos":true,"min_tokens":200,"stream":true,)"
      R"("stream_options":{"include_usage":true},"temperature":0})");
}

TEST(ApiTest, CompletionsBodyLikeSeed003) {
  RequestOptions options;
  options.api = Api::kOpenAiCompletions;
  options.model = "meta-llama/Meta-Llama-3.1-70B";
  options.prompt_tokens_field = "x_prompt_tokens";
  EXPECT_EQ(build_request_body(options, "write a story", 3, 100),
            R"({"model":"meta-llama/Meta-Llama-3.1-70B","prompt":"write a story",)"
            R"("max_tokens":100,"stream":false,"x_prompt_tokens":3})");
  // No model, no max_tokens: both left to the server.
  options.model.clear();
  options.prompt_tokens_field.clear();
  EXPECT_EQ(build_request_body(options, "x", 1, 0), R"({"prompt":"x","stream":false})");
}

TEST(ApiTest, BodyTemplateWritesTheSameBytes) {
  const std::vector<std::string> prompts = {"a b c", "", "say \"hi\"\\ \n\t\r\b\f\x01\x1f\x7f end",
                                            "caf\xc3\xa9"};
  for (Api api : {Api::kOpenAiChat, Api::kOpenAiCompletions, Api::kTgi, Api::kJetStream}) {
    for (int variant = 0; variant < 4; ++variant) {
      RequestOptions options;
      options.api = api;
      options.streaming = variant % 2 == 1;
      options.model = variant < 2 ? "m" : "";
      options.ignore_eos = variant >= 2;
      if (variant == 3) {
        options.extra_inputs.push_back(*parse_extra_input("temperature:0.5"));
        options.extra_inputs.push_back(*parse_extra_input("max_tokens:7"));  // overrides ours
        options.prompt_tokens_field = "x_prompt_tokens";
      }
      RequestBodyTemplate body(options);
      for (const std::string& prompt : prompts) {
        for (std::int64_t max_tokens : {0, 1, 200}) {
          EXPECT_EQ(body.render(prompt, 12, max_tokens),
                    build_request_body(options, prompt, 12, max_tokens))
              << api_name(api) << " variant " << variant << " prompt " << prompt;
        }
      }
    }
  }
}

TEST(ApiTest, TgiAndJetStreamBodies) {
  RequestOptions tgi;
  tgi.api = Api::kTgi;
  tgi.extra_inputs.push_back(*parse_extra_input("do_sample:false"));
  EXPECT_EQ(build_request_body(tgi, "hi there", 2, 64),
            R"({"inputs":"hi there","parameters":{"max_new_tokens":64,"details":true,)"
            R"("do_sample":false}})");
  RequestOptions jetstream;
  jetstream.api = Api::kJetStream;
  EXPECT_EQ(build_request_body(jetstream, "Can you provide", 3, 200),
            R"({"prompt":"Can you provide","max_tokens":200})");
  jetstream.streaming = true;
  EXPECT_EQ(build_request_body(jetstream, "p", 1, 5),
            R"({"prompt":"p","max_tokens":5,"stream":true})");
}

TEST(ApiTest, ExtraInputValues) {
  EXPECT_EQ(parse_extra_input("ignore_eos:true")->second, "true");
  EXPECT_EQ(parse_extra_input("min_tokens:200")->second, "200");
  EXPECT_EQ(parse_extra_input("stop:END")->second, "\"END\"");
  EXPECT_EQ(parse_extra_input("url:http://x:1")->second, "\"http://x:1\"");
  EXPECT_EQ(parse_extra_input(R"(obj:{"a":1})")->second, R"({"a":1})");
  EXPECT_FALSE(parse_extra_input("novalue").has_value());
  EXPECT_FALSE(parse_extra_input(":x").has_value());
}

std::string chat_chunk(std::string_view content) {
  return std::string(R"(data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,)"
                     R"("delta":{"content":")") +
         std::string(content) + R"("},"finish_reason":null}]})" + "\n\n";
}

TEST(ApiTest, OpenAiChatStreamTokensAndUsage) {
  ResponseDecoder d(Api::kOpenAiChat, true);
  // vLLM's first chunk carries the role and an empty content: not a token.
  EXPECT_TRUE(d.feed(R"(data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})"
                     "\n\n",
                     at(5)));
  EXPECT_TRUE(d.feed(chat_chunk("Hello"), at(10)));
  // Two events in one read share its arrival time; an event split across reads counts when
  // complete.
  std::string two = chat_chunk(" wor") + chat_chunk("ld");
  EXPECT_TRUE(d.feed(two.substr(0, two.size() - 7), at(20)));
  EXPECT_TRUE(d.feed(two.substr(two.size() - 7), at(25)));
  EXPECT_TRUE(d.feed(
      R"(data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}})"
      "\n\ndata: [DONE]\n\n",
      at(30)));
  EXPECT_TRUE(d.finish());
  EXPECT_EQ(d.token_times(), (std::vector<TimePoint>{at(10), at(20), at(25)}));
  EXPECT_EQ(d.output_tokens(), 4);  // the server's count wins
  EXPECT_TRUE(d.server_counted());
}

TEST(ApiTest, OpenAiCompletionsStreamWithoutUsageCountsEvents) {
  ResponseDecoder d(Api::kOpenAiCompletions, true);
  EXPECT_TRUE(d.feed("data: {\"choices\":[{\"text\":\" a\"}]}\n\n", at(1)));
  EXPECT_TRUE(d.feed("data: {\"choices\":[{\"text\":\" b\"}]}\r\n\r\n", at(2)));
  EXPECT_TRUE(
      d.feed(": keep-alive\n\ndata: {\"choices\":[{\"text\":\"\",\"finish_reason\":"
             "\"length\"}]}\n\ndata: [DONE]\n\n",
             at(3)));
  EXPECT_TRUE(d.finish());
  EXPECT_EQ(d.output_tokens(), 2);
  EXPECT_FALSE(d.server_counted());
}

TEST(ApiTest, StreamWithoutDoneIsIncomplete) {
  ResponseDecoder d(Api::kOpenAiChat, true);
  EXPECT_TRUE(d.feed(chat_chunk("x"), at(1)));
  EXPECT_FALSE(d.finish());
  ASSERT_TRUE(d.error().has_value());
  EXPECT_EQ(d.error()->kind, "incomplete stream");
}

TEST(ApiTest, MalformedEventJson) {
  ResponseDecoder d(Api::kOpenAiChat, true);
  EXPECT_TRUE(d.feed(chat_chunk("x"), at(1)));
  EXPECT_FALSE(d.feed("data: {\"choices\": [\n\n", at(2)));
  EXPECT_EQ(d.error()->kind, "malformed json");
  EXPECT_EQ(d.error()->detail, "{\"choices\": [");
  EXPECT_FALSE(d.feed(chat_chunk("y"), at(3)));  // ignored after the error
  EXPECT_EQ(d.token_times().size(), 1u);
}

TEST(ApiTest, ErrorObjectInsideTheStream) {
  ResponseDecoder d(Api::kOpenAiChat, true);
  EXPECT_FALSE(
      d.feed("data: {\"error\":{\"message\":\"KV cache exhausted\",\"code\":500}}\n\n", at(1)));
  EXPECT_EQ(d.error()->kind, "response error");
  EXPECT_EQ(d.error()->detail, "KV cache exhausted");
  ResponseDecoder old(Api::kOpenAiCompletions, true);
  EXPECT_FALSE(old.feed("data: {\"object\":\"error\",\"message\":\"bad\"}\n\n", at(1)));
  EXPECT_EQ(old.error()->detail, "bad");
}

TEST(ApiTest, OversizedEventIsMalformedSse) {
  ResponseDecoder d(Api::kOpenAiChat, true);
  std::string huge = "data: " + std::string(5 * 1024 * 1024, 'x');
  EXPECT_FALSE(d.feed(huge, at(1)));
  EXPECT_EQ(d.error()->kind, "malformed sse");
}

TEST(ApiTest, OpenAiNonStreaming) {
  ResponseDecoder d(Api::kOpenAiChat, false);
  EXPECT_TRUE(
      d.feed(R"({"choices":[{"message":{"role":"assistant","content":"one two three"},)", at(1)));
  EXPECT_TRUE(d.feed(R"("finish_reason":"length"}]})", at(2)));
  EXPECT_TRUE(d.finish());
  EXPECT_TRUE(d.token_times().empty());
  EXPECT_EQ(d.output_tokens(), 3);  // words: no usage reported
  ResponseDecoder usage(Api::kOpenAiCompletions, false);
  usage.feed(R"({"choices":[{"text":" top holiday destination featuring scenic beauty and"}],)"
             R"("usage":{"prompt_tokens":5,"total_tokens":12,"completion_tokens":7}})",
             at(1));
  EXPECT_TRUE(usage.finish());
  EXPECT_EQ(usage.output_tokens(), 7);
  ResponseDecoder bad(Api::kOpenAiChat, false);
  bad.feed(R"({"id":"x"})", at(1));
  EXPECT_FALSE(bad.finish());
  EXPECT_EQ(bad.error()->kind, "malformed json");
  ResponseDecoder truncated(Api::kOpenAiCompletions, false);
  truncated.feed(R"({"choices":[{"text":"ab)", at(1));
  EXPECT_FALSE(truncated.finish());
  EXPECT_EQ(truncated.error()->kind, "malformed json");
}

TEST(ApiTest, TgiStream) {
  ResponseDecoder d(Api::kTgi, true);
  // TGI (axum) writes "data:" without a space.
  EXPECT_TRUE(d.feed(
      R"(data:{"index":1,"token":{"id":1,"text":"Hi","logprob":-0.1,"special":false},"generated_text":null,"details":null})"
      "\n\n",
      at(7)));
  EXPECT_TRUE(d.feed(
      R"(data:{"index":2,"token":{"id":2,"text":"!","logprob":-0.1,"special":false},"generated_text":"Hi!","details":{"finish_reason":"length","generated_tokens":2,"seed":null}})"
      "\n\n",
      at(9)));
  EXPECT_TRUE(d.finish());
  EXPECT_EQ(d.token_times(), (std::vector<TimePoint>{at(7), at(9)}));
  EXPECT_EQ(d.output_tokens(), 2);
  ResponseDecoder cut(Api::kTgi, true);
  cut.feed(R"(data:{"token":{"text":"a"},"generated_text":null})"
           "\n\n",
           at(1));
  EXPECT_FALSE(cut.finish());
  EXPECT_EQ(cut.error()->kind, "incomplete stream");
  ResponseDecoder error(Api::kTgi, true);
  EXPECT_FALSE(
      error.feed(R"(data:{"error":"Request failed during generation","error_type":"generation"})"
                 "\n\n",
                 at(1)));
  EXPECT_EQ(error.error()->kind, "response error");
}

TEST(ApiTest, TgiNonStreaming) {
  ResponseDecoder d(Api::kTgi, false);
  d.feed(
      R"({"generated_text":"a b c d","details":{"finish_reason":"length","generated_tokens":5}})",
      at(1));
  EXPECT_TRUE(d.finish());
  EXPECT_EQ(d.output_tokens(), 5);
  ResponseDecoder list(Api::kTgi, false);
  list.feed(R"([{"generated_text":"a b c"}])", at(1));
  EXPECT_TRUE(list.finish());
  EXPECT_EQ(list.output_tokens(), 3);
}

// The decoders read answers without building a document: what counts is exactly what a
// document lookup would find (paths, nulls, first elements only, nesting at the bound).
TEST(ApiTest, AnswersAreReadByPathNotByName) {
  struct Case {
    Api api;
    bool streaming;
    std::string body;
    bool ok;
    std::int64_t tokens;  // output_tokens() when ok
  };
  const std::string nested_ok = std::string(999, '[') + std::string(999, ']');
  const std::vector<Case> cases = {
      // "text" outside choices[0], or in a later choice, is not the answer's text.
      {Api::kOpenAiCompletions, false, R"({"text":"a b","choices":[{"x":{"text":"c"}}]})", false,
       0},
      {Api::kOpenAiCompletions, false, R"({"choices":[{"text":"a b"},{"text":"c d e"}]})", true, 2},
      {Api::kOpenAiCompletions, false, R"({"choices":[{"text":null}]})", false, 0},
      {Api::kOpenAiCompletions, false, R"({"choices":{"0":{"text":"a"}}})", false, 0},
      {Api::kOpenAiCompletions, false, R"({"choices":[]})", false, 0},
      {Api::kOpenAiCompletions, false, R"({"choices":[{"text":7}]})", true, 0},
      {Api::kOpenAiCompletions, false,
       R"({"choices":[{"text":"a"}],"usage":{"completion_tokens":null},"x":{"usage":)"
       R"({"completion_tokens":9}}})",
       true, 1},
      {Api::kOpenAiChat, false, R"({"choices":[{"message":{"content":null}}]})", true, 0},
      {Api::kOpenAiChat, false, R"({"choices":[{"message":null,"text":"a b"}]})", false, 0},
      {Api::kOpenAiChat, false, R"([{"choices":[{"message":{"content":"a"}}]}])", false, 0},
      {Api::kTgi, false, R"([{"generated_text":"a b"},{"generated_text":"c"}])", true, 2},
      {Api::kTgi, false, R"([])", false, 0},
      {Api::kTgi, false, R"([[{"generated_text":"a"}]])", false, 0},
      {Api::kTgi, false, R"([{"error":"overloaded"}])", false, 0},
      {Api::kJetStream, false, R"({"response":"a b c","error":null})", true, 3},
      {Api::kJetStream, false, R"({"object":"error","message":"no"})", false, 0},
      {Api::kJetStream, false, R"({"response":"a"} {})", false, 0},
      {Api::kJetStream, false, "[" + nested_ok + "]", false, 0},
      {Api::kJetStream, false, "[[" + nested_ok + "]]", false, 0},
      // Streams: a chat chunk's "text" is not a token; a completions chunk's delta is not either.
      {Api::kOpenAiChat, true,
       "data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: {\"choices\":[{\"delta\":"
       "{\"reasoning_content\":\"r\"}}]}\n\ndata: [DONE]\n\n",
       true, 1},
      {Api::kOpenAiCompletions, true,
       "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choices\":"
       "[{\"text\":\"b\"}]}\n\ndata: [DONE]\n\n",
       true, 1},
  };
  for (const Case& c : cases) {
    ResponseDecoder d(c.api, c.streaming);
    d.feed(c.body, at(1));
    bool ok = d.finish();
    EXPECT_EQ(ok, c.ok) << c.body;
    if (ok && c.ok) EXPECT_EQ(d.output_tokens(), c.tokens) << c.body;
  }
  // The two error forms keep the server's message.
  ResponseDecoder error(Api::kTgi, false);
  error.feed(R"([{"error":{"message":"queue full"}}])", at(1));
  EXPECT_FALSE(error.finish());
  EXPECT_EQ(error.error()->kind, "response error");
  EXPECT_EQ(error.error()->detail, "queue full");
}

// issue 11 item 4: a server's answer nested 100,000 deep is a malformed answer, not a crash
// (TGI's list form copies its first element, which recursed once per level).
TEST(ApiTest, DeeplyNestedAnswersAreMalformedNotACrash) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  ResponseDecoder list(Api::kTgi, false);
  list.feed(deep, at(1));
  EXPECT_FALSE(list.finish());
  ResponseDecoder chat(Api::kOpenAiChat, true);
  chat.feed("data: " + deep + "\n\n", at(1));
  EXPECT_FALSE(chat.finish());
}

TEST(ApiTest, JetStreamNonStreamingLikeSeed000) {
  ResponseDecoder d(Api::kJetStream, false);
  d.feed("{\n    \"response\": \" Artificial intelligence began in the 1950s\"\n}", at(1));
  EXPECT_TRUE(d.finish());
  EXPECT_EQ(d.output_tokens(), 6);
}

TEST(ApiTest, JetStreamStreamOfConcatenatedObjects) {
  // json.dumps(chunk, indent=4) per decode step, back to back, split anywhere by the network.
  std::string stream;
  for (const char* text : {"Hello", " {braces} \\\"quoted\\\"", " end"}) {
    stream += std::string(
                  "{\n    \"id\": \"generate-1\",\n    \"time_created\": 1.5,\n    "
                  "\"text\": \"") +
              text + "\"\n}";
  }
  for (std::size_t split = 1; split < stream.size(); split += 7) {
    ResponseDecoder d(Api::kJetStream, true);
    EXPECT_TRUE(d.feed(stream.substr(0, split), at(1)));
    EXPECT_TRUE(d.feed(stream.substr(split), at(2)));
    EXPECT_TRUE(d.finish()) << split;
    EXPECT_EQ(d.output_tokens(), 3) << split;
  }
  ResponseDecoder cut(Api::kJetStream, true);
  cut.feed(stream.substr(0, stream.size() - 3), at(1));
  EXPECT_FALSE(cut.finish());
  EXPECT_EQ(cut.error()->kind, "incomplete stream");
  ResponseDecoder garbage(Api::kJetStream, true);
  EXPECT_FALSE(garbage.feed("<html>", at(1)));
  EXPECT_EQ(garbage.error()->kind, "malformed json");
}

}  // namespace
}  // namespace llmscale::loadgen
