// Go and Prometheus duration text forms.
#include "core/duration.h"

#include <gtest/gtest.h>

namespace llmscale::core {
namespace {

using namespace std::chrono_literals;

TEST(GoDurationTest, ParsesWhatGoParses) {
  EXPECT_EQ(*parse_go_duration("15s"), 15s);
  EXPECT_EQ(*parse_go_duration("1m30s"), 90s);
  EXPECT_EQ(*parse_go_duration("1.5h"), 90min);
  EXPECT_EQ(*parse_go_duration("300ms"), 300ms);
  EXPECT_EQ(*parse_go_duration("2h45m"), 165min);
  EXPECT_EQ(*parse_go_duration("-1.5s"), -1500ms);
  EXPECT_EQ(*parse_go_duration("0"), 0s);
  EXPECT_EQ(*parse_go_duration("1us"), 1us);
  EXPECT_EQ(*parse_go_duration("1\xC2\xB5s"), 1us);
  EXPECT_EQ(*parse_go_duration(".5s"), 500ms);
  EXPECT_EQ(*parse_go_duration("1.s"), 1s);
}

TEST(GoDurationTest, RejectsWithGosMessages) {
  EXPECT_EQ(parse_go_duration("").error().message, "time: invalid duration \"\"");
  EXPECT_EQ(parse_go_duration("15").error().message, "time: missing unit in duration \"15\"");
  EXPECT_EQ(parse_go_duration("3d").error().message, "time: unknown unit \"d\" in duration \"3d\"");
  EXPECT_EQ(parse_go_duration(".s").error().message, "time: invalid duration \".s\"");
  EXPECT_EQ(parse_go_duration("-").error().message, "time: invalid duration \"-\"");
  EXPECT_FALSE(parse_go_duration("9999999999999h").has_value());
}

TEST(GoDurationTest, FormatsLikeDurationString) {
  EXPECT_EQ(format_go_duration(0s), "0s");
  EXPECT_EQ(format_go_duration(90s), "1m30s");
  EXPECT_EQ(format_go_duration(1h), "1h0m0s");
  EXPECT_EQ(format_go_duration(1500ms), "1.5s");
  EXPECT_EQ(format_go_duration(100ms), "100ms");
  EXPECT_EQ(format_go_duration(1500us), "1.5ms");
  EXPECT_EQ(format_go_duration(2us), "2\xC2\xB5s");
  EXPECT_EQ(format_go_duration(42ns), "42ns");
  EXPECT_EQ(format_go_duration(-90s), "-1m30s");
  EXPECT_EQ(format_go_duration(300s), "5m0s");
}

TEST(GoDurationTest, RoundTripsThroughText) {
  for (auto d : {Duration(1), Duration(999), Duration(1234567), Duration(90s), Duration(26h)}) {
    EXPECT_EQ(*parse_go_duration(format_go_duration(d)), d) << format_go_duration(d);
  }
}

TEST(PrometheusDurationTest, ParsesUnitsInOrderOnly) {
  EXPECT_EQ(*parse_prometheus_duration("15s"), 15s);
  EXPECT_EQ(*parse_prometheus_duration("1m30s"), 90s);
  EXPECT_EQ(*parse_prometheus_duration("1d"), 24h);
  EXPECT_EQ(*parse_prometheus_duration("1w"), 168h);
  EXPECT_EQ(*parse_prometheus_duration("100ms"), 100ms);
  EXPECT_EQ(*parse_prometheus_duration("1s500ms"), 1500ms);
  EXPECT_EQ(*parse_prometheus_duration("0"), 0s);
  EXPECT_FALSE(parse_prometheus_duration("30s1m").has_value());
  EXPECT_FALSE(parse_prometheus_duration("1.5s").has_value());
  EXPECT_FALSE(parse_prometheus_duration("").has_value());
  EXPECT_FALSE(parse_prometheus_duration("5").has_value());
  EXPECT_EQ(parse_prometheus_duration("5x").error().message, "not a valid duration string: \"5x\"");
}

TEST(PrometheusDurationTest, Formats) {
  EXPECT_EQ(format_prometheus_duration(0s), "0s");
  EXPECT_EQ(format_prometheus_duration(90s), "1m30s");
  EXPECT_EQ(format_prometheus_duration(300s), "5m");
  EXPECT_EQ(format_prometheus_duration(24h), "1d");
  EXPECT_EQ(format_prometheus_duration(1500ms), "1s500ms");
}

}  // namespace
}  // namespace llmscale::core
