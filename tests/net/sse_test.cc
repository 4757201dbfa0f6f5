// SSE framing (golden) and the WHATWG parsing rules, including input split at every byte.
#include "net/sse.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace llmscale::net {
namespace {

std::string read_golden(const std::string& name) {
  std::ifstream in(std::string(LLMSCALE_SOURCE_DIR) + "/tests/net/golden/" + name,
                   std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The stream an OpenAI-compatible server sends for a two-token completion, plus the framing
// edge cases a writer must get right: a named event with an id and retry, multi-line data
// (every line gets its own "data:"), an empty line inside data, CR/LF in the event name
// (dropped so it cannot inject fields), and a comment used as keep-alive.
std::string golden_stream() {
  std::string out;
  append_sse_data(out, R"({"id":"cmpl-1","choices":[{"index":0,"text":"Hello"}]})");
  append_sse_data(out, R"({"id":"cmpl-1","choices":[{"index":0,"text":" world"}]})");
  append_sse_event(out, SseEvent{"token", "line one\nline two\r\n\rline four", "42", 3000});
  append_sse_event(out, SseEvent{"bad\r\nname", "", "", std::nullopt});
  out += format_sse_comment("keep-alive");
  append_sse_data(out, "[DONE]");
  return out;
}

TEST(SseWriterTest, GoldenFraming) {
  EXPECT_EQ(golden_stream(), read_golden("sse_stream.txt"));
}

TEST(SseWriterTest, TrailingNewlineInDataIsKept) {
  SseParser parser;
  auto events = parser.feed(format_sse_event({"", "a\n", "", std::nullopt}));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "a\n");
}

TEST(SseParserTest, ParsesTheGoldenStreamBack) {
  SseParser parser;
  auto events = parser.feed(read_golden("sse_stream.txt"));
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].event, "message");
  EXPECT_EQ(events[0].data, R"({"id":"cmpl-1","choices":[{"index":0,"text":"Hello"}]})");
  EXPECT_EQ(events[2].event, "token");
  EXPECT_EQ(events[2].data, "line one\nline two\n\nline four");
  EXPECT_EQ(events[2].id, "42");
  EXPECT_EQ(events[2].retry_ms, 3000);
  EXPECT_EQ(events[3].event, "badname");
  EXPECT_EQ(events[3].data, "");
  EXPECT_EQ(events[3].id, "42");  // the last event id persists
  EXPECT_EQ(events[4].data, "[DONE]");
  EXPECT_EQ(parser.retry_ms(), 3000);
}

TEST(SseParserTest, LineEndingsCrLfCrAndLf) {
  SseParser parser;
  auto events = parser.feed("data: a\r\n\r\ndata: b\r\rdata: c\n\ndata: d\r\ndata: e\n\r");
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].data, "a");
  EXPECT_EQ(events[1].data, "b");
  EXPECT_EQ(events[2].data, "c");
  EXPECT_EQ(events[3].data, "d\ne");
}

TEST(SseParserTest, FieldRules) {
  SseParser parser;
  // No space after the colon; only one leading space is removed; a field without a colon has
  // an empty value; unknown fields and comments are ignored.
  auto events = parser.feed(
      ": comment\n"
      "data:no-space\n"
      "data:  two-spaces\n"
      "data\n"
      "unknown: x\n"
      "event:custom\n"
      "\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "no-space\n two-spaces\n");
  EXPECT_EQ(events[0].event, "custom");
}

TEST(SseParserTest, EventsWithoutDataAreNotDispatchedAndResetTheType) {
  SseParser parser;
  auto events = parser.feed("event: ping\n\ndata: x\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "message");
  EXPECT_EQ(events[0].data, "x");
}

TEST(SseParserTest, IdAndRetryRules) {
  SseParser parser;
  std::string input = "id: 1\ndata: a\n\n";
  input += std::string("id: 2\0x\n", 8) + "data: b\n\n";  // an id holding NUL is ignored
  input += "id\ndata: c\n\n";                             // an empty id resets it
  input += "retry: 12a\nretry: 1500\nretry: -1\ndata: d\n\n";
  auto events = parser.feed(input);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].id, "1");
  EXPECT_EQ(events[1].id, "1");
  EXPECT_EQ(events[2].id, "");
  EXPECT_EQ(events[3].retry_ms, 1500);
  EXPECT_EQ(parser.retry_ms(), 1500);
}

TEST(SseParserTest, ByteOrderMarkIsSkippedOnlyAtTheStart) {
  SseParser parser;
  auto first = parser.feed("\xEF\xBB");
  EXPECT_TRUE(first.empty());
  auto events = parser.feed(
      "\xBF"
      "data: a\n\n\xEF\xBB\xBF"
      "data: b\n\n");
  ASSERT_EQ(events.size(), 1u);  // the second BOM makes the field name "\uFEFFdata"
  EXPECT_EQ(events[0].data, "a");
}

TEST(SseParserTest, IncompleteEventAtEndIsNotDispatched) {
  SseParser parser;
  EXPECT_TRUE(parser.feed("data: partial\n").empty());
  EXPECT_TRUE(parser.feed("data: more").empty());
}

TEST(SseParserTest, SplitAtEveryByteGivesTheSameEvents) {
  std::string input =
      read_golden("sse_stream.txt") + "data: x\r\n\r\ndata: y\r\rid: 7\ndata: z\n\n";
  SseParser whole_parser;
  auto whole = whole_parser.feed(input);
  ASSERT_EQ(whole.size(), 8u);
  for (std::size_t split = 0; split <= input.size(); ++split) {
    SseParser parser;
    auto events = parser.feed(input.substr(0, split));
    auto rest = parser.feed(input.substr(split));
    events.insert(events.end(), rest.begin(), rest.end());
    EXPECT_EQ(events, whole) << "split at " << split;
  }
  SseParser byte_parser;
  std::vector<SseEvent> bytewise;
  for (char c : input) {
    auto events = byte_parser.feed(std::string_view(&c, 1));
    bytewise.insert(bytewise.end(), events.begin(), events.end());
  }
  EXPECT_EQ(bytewise, whole);
}

TEST(SseParserTest, OversizedEventFailsInsteadOfBuffering) {
  SseParser parser(1024);
  std::string big(2000, 'x');
  EXPECT_FALSE(parser.feed("data: " + big, [](const SseEvent&) {}));
  EXPECT_TRUE(parser.failed());
  SseParser lines(1024);
  std::string many;
  for (int i = 0; i < 100; ++i) many += "data: 0123456789abcdef\n";
  EXPECT_FALSE(lines.feed(many, [](const SseEvent&) {}));
}

TEST(SseWriterTest, CommentsSplitLines) {
  EXPECT_EQ(format_sse_comment("a\nb"), ": a\n: b\n\n");
  EXPECT_EQ(format_sse_comment(""), ":\n\n");
}

}  // namespace
}  // namespace llmscale::net
