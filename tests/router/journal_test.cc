// RequestJournal: the bounded ring of served requests and its trace lines; the output-token
// estimate of answers read whole.
#include "router/journal.h"

#include <gtest/gtest.h>

#include "loadgen/trace.h"
#include "router/api.h"

namespace llmscale::router {
namespace {

using namespace std::chrono_literals;

JournalEntry entry(core::Time at, std::uint32_t in, std::uint32_t out) {
  JournalEntry e;
  e.arrived = at;
  e.input_tokens = in;
  e.output_tokens = out;
  e.status = 200;
  return e;
}

TEST(RequestJournal, KeepsTheNewestWithinCapacityInArrivalOrder) {
  RequestJournal journal(3);
  core::Time t0{};
  journal.record(entry(t0 + 2s, 1, 1));
  journal.record(entry(t0 + 1s, 2, 2));  // finished later, arrived earlier
  journal.record(entry(t0 + 3s, 3, 3));
  journal.record(entry(t0 + 4s, 4, 4));  // drops the oldest recorded
  EXPECT_EQ(journal.dropped(), 1u);
  auto all = journal.since(t0);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].input_tokens, 2u);
  EXPECT_EQ(all[1].input_tokens, 3u);
  EXPECT_EQ(all[2].input_tokens, 4u);
  auto recent = journal.since(t0 + 3s);
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0].arrived, t0 + 3s);
}

TEST(RequestJournal, CapacityZeroKeepsOne) {
  RequestJournal journal(0);
  journal.record(entry(core::Time{} + 1s, 1, 1));
  journal.record(entry(core::Time{} + 2s, 2, 2));
  EXPECT_EQ(journal.capacity(), 1u);
  ASSERT_EQ(journal.since(core::Time{}).size(), 1u);
  EXPECT_EQ(journal.since(core::Time{})[0].input_tokens, 2u);
}

TEST(RequestJournal, TraceLinesReadBackAsAMooncakeTrace) {
  core::Time t0 = core::Time{} + 100s;
  std::vector<JournalEntry> entries = {entry(t0, 12, 8), entry(t0 + 1500ms, 3, 0)};
  std::string text = to_trace_lines(entries, t0);
  EXPECT_EQ(text,
            "{\"timestamp\": 0, \"input_length\": 12, \"output_length\": 8}\n"
            "{\"timestamp\": 1500, \"input_length\": 3, \"output_length\": 1}\n");
  auto trace = loadgen::parse_trace(text, loadgen::TraceFormat::kAuto, loadgen::BadRowPolicy::kFail,
                                    "journal");
  ASSERT_TRUE(trace) << trace.error().message;
  ASSERT_EQ(trace->rows.size(), 2u);
  EXPECT_EQ(trace->rows[1].offset, 1500ms);
  EXPECT_EQ(trace->rows[1].output_tokens, 1);
}

TEST(AnswerOutputTokens, UsageFirstThenTheRequestedLimit) {
  EXPECT_EQ(answer_output_tokens(R"({"max_tokens": 9})",
                                 R"({"usage":{"prompt_tokens":4,"completion_tokens": 7}})"),
            7u);
  EXPECT_EQ(answer_output_tokens(R"({"parameters":{"max_new_tokens":20}})",
                                 R"({"generated_text":"x","details":{"generated_tokens":12}})"),
            12u);
  EXPECT_EQ(answer_output_tokens(R"({"max_tokens" : 9})", R"({"text":"no usage"})"), 9u);
  EXPECT_EQ(answer_output_tokens(R"({"parameters":{"max_new_tokens":20}})", "{}"), 20u);
  // A key inside a string value, or without a number, is not a count.
  EXPECT_EQ(
      answer_output_tokens(R"({"prompt":"\"max_tokens\" is"})", R"({"completion_tokens":null})"),
      0u);
  EXPECT_EQ(answer_output_tokens("", ""), 0u);
}

}  // namespace
}  // namespace llmscale::router
