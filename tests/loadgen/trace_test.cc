// Trace readers: Azure CSV (CRLF, header by name, 7-digit fractions, offsets), Mooncake JSON
// lines (gzip, hash ids), BurstGPT, and bad rows reported by line number (skip or fail).
#include "loadgen/trace.h"

#include <gtest/gtest.h>

#include "net/gzip.h"

namespace llmscale::loadgen {
namespace {

using namespace std::chrono_literals;

std::string testdata(const std::string& name) {
  return std::string(LLMSCALE_SOURCE_DIR) + "/tests/loadgen/testdata/" + name;
}

TEST(TraceTest, AzureExcerptFromTheRealFile) {
  auto trace =
      load_trace(testdata("azure2023_code_head30.csv"), TraceFormat::kAuto, BadRowPolicy::kFail);
  ASSERT_TRUE(trace.has_value()) << trace.error().to_string();
  EXPECT_EQ(trace->format, TraceFormat::kAzure);
  ASSERT_EQ(trace->rows.size(), 30u);
  EXPECT_EQ(trace->bad_row_count, 0u);
  // 2023-11-16 18:17:03.9799600,4808,10 then 18:17:04.0319600,3180,8.
  EXPECT_EQ(trace->rows[0].offset, 0ns);
  EXPECT_EQ(trace->rows[0].input_tokens, 4808);
  EXPECT_EQ(trace->rows[0].output_tokens, 10);
  EXPECT_EQ(trace->rows[0].line, 2u);
  EXPECT_EQ(trace->rows[1].offset, 52ms);
  // Last row 18:17:37.0599550: 33.079995 s after the first.
  EXPECT_EQ(trace->span(), 33'079'995'000ns);
}

TEST(TraceTest, AzureTimestampForms) {
  auto base = parse_azure_timestamp("2023-11-16 18:17:03.9799600");
  ASSERT_TRUE(base.has_value());
  auto with_zone = parse_azure_timestamp("2023-11-16 18:17:03.97996+00:00");
  ASSERT_TRUE(with_zone.has_value());
  EXPECT_EQ(*base, *with_zone);
  auto shifted = parse_azure_timestamp("2023-11-16T19:17:03.97996+01:00");
  ASSERT_TRUE(shifted.has_value());
  EXPECT_EQ(*base, *shifted);
  auto no_fraction = parse_azure_timestamp("2023-11-16 18:17:03");
  ASSERT_TRUE(no_fraction.has_value());
  EXPECT_EQ(*base - *no_fraction, 979'960'000ns);
  auto long_fraction = parse_azure_timestamp("2023-11-16 18:17:03.123456789123");
  ASSERT_TRUE(long_fraction.has_value());
  EXPECT_EQ(*long_fraction - *no_fraction, 123'456'789ns);
  EXPECT_FALSE(parse_azure_timestamp("yesterday").has_value());
  EXPECT_FALSE(parse_azure_timestamp("2023-13-16 18:17:03").has_value());
}

TEST(TraceTest, ColumnsByNameExtraColumnsAndLf) {
  std::string text =
      "NumImages,GeneratedTokens,TIMESTAMP,ContextTokens\n"
      "1,20,2024-10-15 12:00:01.5,300\n"
      "0,10,2024-10-15 12:00:00,100\n";
  auto trace = parse_trace(text, TraceFormat::kAuto, BadRowPolicy::kFail, "mm.csv");
  ASSERT_TRUE(trace.has_value()) << trace.error().to_string();
  ASSERT_EQ(trace->rows.size(), 2u);
  // Sorted by time: the second line comes first.
  EXPECT_EQ(trace->rows[0].input_tokens, 100);
  EXPECT_EQ(trace->rows[0].line, 3u);
  EXPECT_EQ(trace->rows[1].offset, 1500ms);
  EXPECT_EQ(trace->rows[1].output_tokens, 20);
}

TEST(TraceTest, BadRowsSkippedWithLineNumbers) {
  std::string text =
      "TIMESTAMP,ContextTokens,GeneratedTokens\r\n"
      "2023-11-16 18:17:03.0,100,10\r\n"
      "not a time,100,10\r\n"
      "2023-11-16 18:17:04.0,abc,10\r\n"
      "2023-11-16 18:17:05.0,100\r\n"
      "2023-11-16 18:17:06.0,100,0\r\n"
      "\r\n"
      "2023-11-16 18:17:07.0,100,-3\r\n"
      "2023-11-16 18:17:08.0,200,20";
  auto trace = parse_trace(text, TraceFormat::kAuto, BadRowPolicy::kSkip, "t.csv");
  ASSERT_TRUE(trace.has_value()) << trace.error().to_string();
  ASSERT_EQ(trace->rows.size(), 2u);
  EXPECT_EQ(trace->rows[1].offset, 5s);
  ASSERT_EQ(trace->bad_row_count, 5u);
  ASSERT_EQ(trace->bad_rows.size(), 5u);
  EXPECT_EQ(trace->bad_rows[0].line, 3u);
  EXPECT_EQ(trace->bad_rows[0].reason, "TIMESTAMP: invalid timestamp \"not a time\"");
  EXPECT_EQ(trace->bad_rows[1].line, 4u);
  EXPECT_EQ(trace->bad_rows[1].reason, "ContextTokens: invalid integer \"abc\"");
  EXPECT_EQ(trace->bad_rows[2].reason, "expected 3 columns, got 2");
  EXPECT_EQ(trace->bad_rows[3].reason, "GeneratedTokens: must be positive, got 0");
  EXPECT_EQ(trace->bad_rows[4].line, 8u);
}

TEST(TraceTest, BadRowFatalUnderFail) {
  std::string text =
      "TIMESTAMP,ContextTokens,GeneratedTokens\n"
      "2023-11-16 18:17:03.0,100,10\n"
      "2023-11-16 18:17:04.0,100,x\n";
  auto trace = parse_trace(text, TraceFormat::kAuto, BadRowPolicy::kFail, "t.csv");
  ASSERT_FALSE(trace.has_value());
  EXPECT_EQ(trace.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(trace.error().message, "t.csv:3: GeneratedTokens: invalid integer \"x\"");
}

TEST(TraceTest, ManyBadRowsKeepOnlySamples) {
  std::string text = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  for (int i = 0; i < 100; ++i) text += "bad,1,1\n";
  text += "2023-11-16 18:17:04.0,100,1\n";
  auto trace = parse_trace(text, TraceFormat::kAuto, BadRowPolicy::kSkip, "t.csv");
  ASSERT_TRUE(trace.has_value());
  EXPECT_EQ(trace->bad_row_count, 100u);
  EXPECT_EQ(trace->bad_rows.size(), Trace::kMaxBadRowSamples);
  EXPECT_EQ(trace->rows.size(), 1u);
}

TEST(TraceTest, UnknownHeaderIsAnError) {
  auto trace = parse_trace("a,b,c\n1,2,3\n", TraceFormat::kAuto, BadRowPolicy::kSkip, "x.csv");
  ASSERT_FALSE(trace.has_value());
  EXPECT_NE(trace.error().message.find("x.csv:1: unrecognized trace header"), std::string::npos);
  auto missing =
      parse_trace("TIMESTAMP,ContextTokens\n", TraceFormat::kAzure, BadRowPolicy::kSkip, "y.csv");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message, "y.csv:1: header lacks GeneratedTokens");
  EXPECT_FALSE(parse_trace("", TraceFormat::kAuto, BadRowPolicy::kSkip, "e.csv").has_value());
}

TEST(TraceTest, MooncakeGzipExcerpt) {
  auto trace = load_trace(testdata("mooncake_synthetic_head20.jsonl.gz"), TraceFormat::kAuto,
                          BadRowPolicy::kFail);
  ASSERT_TRUE(trace.has_value()) << trace.error().to_string();
  EXPECT_EQ(trace->format, TraceFormat::kMooncake);
  ASSERT_EQ(trace->rows.size(), 20u);
  EXPECT_EQ(trace->rows[0].input_tokens, 40160);
  EXPECT_EQ(trace->rows[0].output_tokens, 6);
  EXPECT_EQ(trace->rows[0].hash_ids.size(), 79u);
  EXPECT_EQ(trace->rows[2].offset, 40ms);
  EXPECT_EQ(trace->span(), 4840ms);
  // Every row's blocks cover its prompt (512 tokens per block).
  for (const auto& row : trace->rows) {
    EXPECT_EQ(static_cast<std::int64_t>(row.hash_ids.size()),
              (row.input_tokens + Trace::kMooncakeBlockTokens - 1) / Trace::kMooncakeBlockTokens);
  }
}

TEST(TraceTest, MooncakeBadLines) {
  std::string text =
      "{\"timestamp\": 0, \"input_length\": 10, \"output_length\": 5, \"hash_ids\": [1]}\n"
      "{\"timestamp\": 10, \"input_length\": 10}\n"
      "{not json\n"
      "[1,2]\n"
      "{\"timestamp\": -1, \"input_length\": 10, \"output_length\": 5}\n"
      "{\"timestamp\": 20, \"input_length\": 10, \"output_length\": 5, \"hash_ids\": [-1]}\n"
      "{\"timestamp\": 30.5, \"input_length\": 7, \"output_length\": 2}\n";
  auto trace = parse_trace(text, TraceFormat::kAuto, BadRowPolicy::kSkip, "m.jsonl");
  ASSERT_TRUE(trace.has_value()) << trace.error().to_string();
  ASSERT_EQ(trace->rows.size(), 2u);
  EXPECT_EQ(trace->rows[1].offset, 30500us);
  EXPECT_TRUE(trace->rows[1].hash_ids.empty());
  ASSERT_EQ(trace->bad_row_count, 5u);
  EXPECT_EQ(trace->bad_rows[0].line, 2u);
  EXPECT_EQ(trace->bad_rows[0].reason, "output_length: expected an integer");
  EXPECT_EQ(trace->bad_rows[1].reason, "invalid JSON");
  EXPECT_EQ(trace->bad_rows[2].reason, "expected a JSON object");
  EXPECT_EQ(trace->bad_rows[3].reason, "timestamp: expected milliseconds >= 0");
  EXPECT_EQ(trace->bad_rows[4].reason, "hash_ids: expected non-negative integers");
  auto fail = parse_trace(text, TraceFormat::kMooncake, BadRowPolicy::kFail, "m.jsonl");
  ASSERT_FALSE(fail.has_value());
  EXPECT_EQ(fail.error().message, "m.jsonl:2: output_length: expected an integer");
}

TEST(TraceTest, MooncakeDeeplyNestedLineIsABadRow) {
  std::string text = "{\"timestamp\": 0, \"input_length\": 10, \"output_length\": 5}\n" +
                     std::string(5000, '[') + std::string(5000, ']') + "\n";
  auto trace = parse_trace(text, TraceFormat::kMooncake, BadRowPolicy::kSkip, "m.jsonl");
  ASSERT_TRUE(trace.has_value()) << trace.error().to_string();
  EXPECT_EQ(trace->rows.size(), 1u);
  ASSERT_EQ(trace->bad_row_count, 1u);
  EXPECT_EQ(trace->bad_rows[0].reason.rfind("json: exceeded max depth of 1000", 0), 0u)
      << trace->bad_rows[0].reason;
}

TEST(TraceTest, BurstGpt) {
  std::string text =
      "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
      "5,ChatGPT,472,18,490,Conversation log\n"
      "45.5,GPT-4,1087,320,1407,API log\n";
  auto trace = parse_trace(text, TraceFormat::kAuto, BadRowPolicy::kFail, "b.csv");
  ASSERT_TRUE(trace.has_value()) << trace.error().to_string();
  EXPECT_EQ(trace->format, TraceFormat::kBurstGpt);
  ASSERT_EQ(trace->rows.size(), 2u);
  EXPECT_EQ(trace->rows[1].offset, 40500ms);
  EXPECT_EQ(trace->rows[1].input_tokens, 1087);
}

TEST(TraceTest, MissingFileAndCorruptGzip) {
  auto missing = load_trace("/nonexistent/trace.csv", TraceFormat::kAuto, BadRowPolicy::kSkip);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, core::ErrorCode::kNotFound);
  std::string path = ::testing::TempDir() + "/corrupt_trace.gz";
  std::string gz = net::gzip_compress("{\"timestamp\": 0}\n");
  gz.resize(gz.size() / 2);
  {
    FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(gz.data(), 1, gz.size(), f);
    std::fclose(f);
  }
  auto corrupt = load_trace(path, TraceFormat::kAuto, BadRowPolicy::kSkip);
  ASSERT_FALSE(corrupt.has_value());
  EXPECT_EQ(corrupt.error().code, core::ErrorCode::kInvalidArgument);
  std::remove(path.c_str());
}

TEST(TraceTest, FormatNames) {
  EXPECT_EQ(*parse_trace_format("mooncake"), TraceFormat::kMooncake);
  EXPECT_FALSE(parse_trace_format("csv").has_value());
  EXPECT_EQ(*parse_bad_row_policy("fail"), BadRowPolicy::kFail);
  EXPECT_FALSE(parse_bad_row_policy("ignore").has_value());
}

}  // namespace
}  // namespace llmscale::loadgen
