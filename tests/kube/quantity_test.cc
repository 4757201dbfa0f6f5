// resource.Quantity: parse, canonical form, milli values, ordering; cases from upstream rules.
#include "kube/quantity.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace llmscale::kube {
namespace {

std::string canonical(const std::string& text) {
  auto q = Quantity::parse(text);
  if (!q) return "error: " + q.error().message;
  return q->to_string();
}

TEST(QuantityTest, KeepsCanonicalTextVerbatim) {
  for (const char* text : {"100m", "34972m", "1500m", "9m", "6666m", "2Gi", "100Mi", "1e3", "1E",
                           "0", "5", "+1", "1025", "-100m", "1Ki"}) {
    EXPECT_EQ(canonical(text), text);
  }
}

TEST(QuantityTest, CanonicalizesLikeKubernetes) {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"1000m", "1"},       {"0.5", "500m"},   {"0.9", "900m"},
      {"15.0", "15"},       {"1.5", "1500m"},  {"1000", "1k"},
      {"1000000", "1M"},    {"1024Mi", "1Gi"}, {"1.5Gi", "1536Mi"},
      {"0.0001", "100u"},   {".5", "500m"},    {"1.G", "1.G"},
      {"-0.1", "-100m"},    {"0m", "0"},       {"0Ki", "0"},
      {"00100m", "00100m"}, {"1.5e3", "1500"}, {"0.0000000001", "1n"},
      {"0.5Ki", "512"},     {"1000E", "1"},    {"128Mi", "128Mi"},
      {"1000Mi", "1000Mi"}, {"20000m", "20"},  {"1500000m", "1500"},
      {"12e6", "12e6"},     {"12E6", "12E6"},  {"100e-3", "100e-3"},
      {"1.5m", "1500u"},    {".", "0"},        {"-0", "0"},
      {"1.000", "1"},
  };
  for (const auto& c : cases) EXPECT_EQ(canonical(c.in), c.out) << c.in;
}

TEST(QuantityTest, CapsHugeValuesAndRoundsTinyOnesUp) {
  EXPECT_EQ(canonical("99999999999999999999"), "9223372036854775807");
  EXPECT_EQ(canonical("-99999999999999999999"), "-9223372036854775807");
  EXPECT_EQ(canonical("1.00000000001"), "1000000001n");
  EXPECT_EQ(canonical("100000000000000000000Ki"), "9223372036854775807");
}

TEST(QuantityTest, RejectsWithUpstreamMessages) {
  for (const char* bad : {"", "abc", "1Zi", "1KiB", "1.5.5", "1e3.5", "1 ", " 1"}) {
    EXPECT_EQ(canonical(bad), "error: " + std::string(kQuantityFormatError)) << bad;
  }
  for (const char* bad : {"1kk", "1e", "--1", "1i", "1KM"}) {
    EXPECT_EQ(canonical(bad), "error: unable to parse quantity's suffix") << bad;
  }
}

TEST(QuantityTest, MilliValueRoundsUpLikeUpstream) {
  EXPECT_EQ(Quantity::parse("100m")->milli_value(), 100);
  EXPECT_EQ(Quantity::parse("1.5")->milli_value(), 1500);
  EXPECT_EQ(Quantity::parse("0.1234")->milli_value(), 124);
  EXPECT_EQ(Quantity::parse("5")->milli_value(), 5000);
  EXPECT_EQ(Quantity::parse("1Ki")->milli_value(), 1024000);
  EXPECT_EQ(Quantity::parse("1n")->milli_value(), 1);
  EXPECT_EQ(Quantity::parse("-1n")->milli_value(), -1);  // away from zero (int64Amount)
  EXPECT_EQ(Quantity::parse("1500m")->value(), 2);
  EXPECT_EQ(Quantity::parse("1E")->milli_value(), 0);  // overflow gives 0, as upstream
}

TEST(QuantityTest, BuildsStatusQuantitiesFromMilliValues) {
  using F = Quantity::Format;
  EXPECT_EQ(Quantity::from_milli(100).to_string(), "100m");
  EXPECT_EQ(Quantity::from_milli(34972).to_string(), "34972m");
  EXPECT_EQ(Quantity::from_milli(1000).to_string(), "1");
  EXPECT_EQ(Quantity::from_milli(20000).to_string(), "20");
  EXPECT_EQ(Quantity::from_milli(1500000).to_string(), "1500");
  EXPECT_EQ(Quantity::from_milli(1000000).to_string(), "1k");
  EXPECT_EQ(Quantity::from_milli(0).to_string(), "0");
  EXPECT_EQ(Quantity::from_milli(1048576000, F::kBinarySI).to_string(), "1Mi");
  EXPECT_EQ(Quantity::from_milli(524288000, F::kBinarySI).to_string(), "512Ki");
  EXPECT_EQ(Quantity::from_milli(1536000, F::kBinarySI).to_string(), "1536");
  EXPECT_EQ(Quantity::from_milli(1000000, F::kBinarySI).to_string(), "1k");
  EXPECT_EQ(Quantity::from_milli(1500, F::kBinarySI).to_string(), "1500m");
  EXPECT_EQ(Quantity::from_milli(1048576500, F::kBinarySI).to_string(), "1048576500m");
  EXPECT_EQ(Quantity::from_int(1536, F::kBinarySI).to_string(), "1536");
}

TEST(QuantityTest, ComparesNumerically) {
  EXPECT_EQ(*Quantity::parse("1"), *Quantity::parse("1000m"));
  EXPECT_EQ(*Quantity::parse("1Ki"), *Quantity::parse("1024"));
  EXPECT_LT(*Quantity::parse("999m"), *Quantity::parse("1"));
  EXPECT_LT(*Quantity::parse("-1"), *Quantity::parse("1n"));
  EXPECT_LT(*Quantity::parse("1e3"), *Quantity::parse("1Ki"));
  EXPECT_LT(*Quantity::parse("12e100"), *Quantity::parse("13e100"));
  EXPECT_LT(*Quantity::parse("-2"), *Quantity::parse("-1"));
}

RC_GTEST_PROP(QuantityProperties, CanonicalTextRoundTrips, (std::int64_t milli)) {
  Quantity q = Quantity::from_milli(milli);
  auto parsed = Quantity::parse(q.to_string());
  RC_ASSERT(parsed.has_value());
  RC_ASSERT(parsed->compare(q) == 0);
  RC_ASSERT(parsed->to_string() == q.to_string());
}

RC_GTEST_PROP(QuantityProperties, BinaryCanonicalTextRoundTrips, (std::int64_t milli)) {
  Quantity q = Quantity::from_milli(milli, Quantity::Format::kBinarySI);
  auto parsed = Quantity::parse(q.to_string());
  RC_ASSERT(parsed.has_value());
  RC_ASSERT(parsed->compare(q) == 0);
}

RC_GTEST_PROP(QuantityProperties, OrderingMatchesIntegers, (std::int64_t a, std::int64_t b)) {
  int expected = a < b ? -1 : (a > b ? 1 : 0);
  RC_ASSERT(Quantity::from_milli(a).compare(Quantity::from_milli(b)) == expected);
  RC_ASSERT(Quantity::from_milli(a).compare(Quantity::from_int(b)) ==
            (__int128(a) < __int128(b) * 1000 ? -1 : (__int128(a) > __int128(b) * 1000 ? 1 : 0)));
}

RC_GTEST_PROP(QuantityProperties, MilliValueIsExactForMilliQuantities, (std::int64_t milli)) {
  RC_ASSERT(Quantity::from_milli(milli).milli_value() == milli);
}

RC_GTEST_PROP(QuantityProperties, ParsingDecimalTextKeepsItsValue,
              (std::uint32_t whole, std::uint16_t thousandths)) {
  std::string text =
      std::to_string(whole) + "." + std::to_string(1000 + thousandths % 1000).substr(1);
  auto q = Quantity::parse(text);
  RC_ASSERT(q.has_value());
  RC_ASSERT(q->milli_value() == std::int64_t(whole) * 1000 + thousandths % 1000);
}

}  // namespace
}  // namespace llmscale::kube
