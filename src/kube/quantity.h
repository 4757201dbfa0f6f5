// resource.Quantity exactly as Kubernetes parses, compares and prints it.
//
// A Quantity is a decimal number with a suffix: "100m", "34972m", "1500m", "2Gi", "1e3", "0.5".
// Parsing follows apimachinery's ParseQuantity: values finer than a nano-unit round up (away
// from zero), magnitudes are capped at 2^63-1, and the text is kept verbatim when it is already
// canonical ("100m" stays "100m", "+1" stays "+1"). Printing otherwise follows
// CanonicalizeBytes: an integer mantissa and the largest suffix that keeps it whole
// ("1000m" -> "1", "0.9" -> "900m", "1536Mi" for 1.5Gi; BinarySI falls back to DecimalSI below
// 1024 or when not a whole number).
//
// Internally the value is mantissa * 10^scale with a 128-bit mantissa, which holds every value
// Kubernetes can represent (int64 amounts of any scale, and the capped nano-precision decimals).
// Value type; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace llmscale::kube {

class Quantity {
 public:
  enum class Format { kDecimalSI, kBinarySI, kDecimalExponent };

  Quantity() = default;  // zero, DecimalSI

  // Kubernetes' ParseQuantity, with its error texts.
  static core::Result<Quantity> parse(std::string_view text);

  // resource.NewMilliQuantity(value, format) / NewQuantity / NewScaledQuantity.
  static Quantity from_milli(std::int64_t milli, Format format = Format::kDecimalSI);
  static Quantity from_int(std::int64_t value, Format format = Format::kDecimalSI);
  static Quantity from_scaled(std::int64_t value, int scale, Format format = Format::kDecimalSI);

  // Canonical text (or the original text when it was canonical), as Quantity.String().
  std::string to_string() const;

  Format format() const { return format_; }

  // ceil(q * 1000) as MilliValue(); values beyond int64 are not meaningful (as upstream).
  std::int64_t milli_value() const { return scaled_value(-3); }
  // ceil(q) as Value().
  std::int64_t value() const { return scaled_value(0); }
  // ceil(q / 10^scale), rounding away from zero like int64Amount.AsScaledInt64.
  std::int64_t scaled_value(int scale) const;
  // Nearest double (AsApproximateFloat64).
  double as_double() const;

  int sign() const { return mantissa_ > 0 ? 1 : (mantissa_ < 0 ? -1 : 0); }
  bool is_zero() const { return mantissa_ == 0; }

  // Numeric comparison (Cmp); formats and original text do not matter.
  int compare(const Quantity& other) const;
  bool operator==(const Quantity& other) const { return compare(other) == 0; }
  bool operator<(const Quantity& other) const { return compare(other) < 0; }

 private:
  Quantity(__int128 mantissa, int scale, Format format, bool from_decimal_amount = false)
      : mantissa_(mantissa), scale_(scale), format_(format), inf_dec_(from_decimal_amount) {}

  __int128 mantissa_ = 0;
  int scale_ = 0;  // value = mantissa_ * 10^scale_
  Format format_ = Format::kDecimalSI;
  bool inf_dec_ = false;  // parsed through upstream's arbitrary-precision path
  std::string text_;      // original text when it was canonical
};

// The regular expression named in upstream's format error.
inline constexpr std::string_view kQuantityFormatError =
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

}  // namespace llmscale::kube
