// RFC 3339 parsing and Go-style formatting.
#include "core/time.h"

#include <gtest/gtest.h>

namespace llmscale::core {
namespace {

using namespace std::chrono_literals;

TEST(Rfc3339Test, ParsesUtcAndOffsetsAndFractions) {
  auto t = parse_rfc3339("2025-01-02T20:13:15Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_rfc3339(*t), "2025-01-02T20:13:15Z");
  EXPECT_EQ(*parse_rfc3339("2025-01-02T21:13:15+01:00"), *t);
  EXPECT_EQ(*parse_rfc3339("2025-01-02T20:13:15.5Z"), *t + 500ms);
  EXPECT_EQ(*parse_rfc3339("2025-01-02T20:13:15.000000001Z"), *t + 1ns);
  EXPECT_EQ(to_unix_seconds(*parse_rfc3339("1970-01-01T00:00:01Z")), 1.0);
}

TEST(Rfc3339Test, RejectsMalformedText) {
  for (const char* bad : {"", "2025-01-02", "2025-01-02 20:13:15Z", "2025-13-02T20:13:15Z",
                          "2025-02-30T20:13:15Z", "2025-01-02T20:13:15", "2025-01-02T20:13:15.Z",
                          "2025-01-02T25:13:15Z", "2025-01-02T20:13:15Zjunk"}) {
    EXPECT_FALSE(parse_rfc3339(bad).has_value()) << bad;
  }
}

TEST(Rfc3339Test, FormatsLikeGo) {
  Time t = *parse_rfc3339("2025-01-02T20:13:15.250Z");
  EXPECT_EQ(format_rfc3339(t), "2025-01-02T20:13:15Z");
  EXPECT_EQ(format_rfc3339_nano(t), "2025-01-02T20:13:15.25Z");
  EXPECT_EQ(format_rfc3339_micro(t), "2025-01-02T20:13:15.250000Z");
  EXPECT_EQ(format_rfc3339_nano(*parse_rfc3339("2025-01-02T20:13:15Z")), "2025-01-02T20:13:15Z");
}

TEST(Rfc3339Test, HandlesTimesBeforeTheEpoch) {
  Time t = *parse_rfc3339("1969-12-31T23:59:59.5Z");
  EXPECT_EQ(format_rfc3339_nano(t), "1969-12-31T23:59:59.5Z");
}

}  // namespace
}  // namespace llmscale::core
