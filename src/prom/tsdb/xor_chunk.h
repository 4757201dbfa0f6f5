// Gorilla-compressed sample chunks (Facebook's "Gorilla" paper, as Prometheus' XORChunk does it):
// timestamps as delta-of-delta with 1/14/17/20/64-bit buckets, values as XOR against the previous
// value with a reused leading/trailing-zero window. Regular scrapes cost about 1-2 bytes per
// sample instead of 16.
//
// Layout: sample 0 is a zigzag varint timestamp and 64 raw value bits; sample 1 a uvarint
// timestamp delta and an XOR value; then dod + XOR. Values keep their exact bits, so Prometheus'
// stale marker (a NaN with payload 2) survives.
//
// XorEncoder is the mutable head of a series (one writer, guarded by the series lock);
// XorChunk is an immutable closed chunk, shared read-only between queries (thread-safe);
// XorIterator decodes either.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace llmscale::prom {

// Prometheus: value.StaleNaN, 0x7ff0000000000002; other NaNs are ordinary values.
inline constexpr std::uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;
inline double stale_nan() {
  double v;
  std::uint64_t bits = kStaleNaNBits;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}
inline bool is_stale_nan(double v) {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits == kStaleNaNBits;
}

struct SamplePoint {
  std::int64_t t = 0;  // milliseconds since the epoch
  double v = 0;
  friend bool operator==(const SamplePoint& a, const SamplePoint& b) {
    std::uint64_t x, y;
    std::memcpy(&x, &a.v, sizeof x);
    std::memcpy(&y, &b.v, sizeof y);
    return a.t == b.t && x == y;
  }
};

class XorChunk {
 public:
  XorChunk(std::vector<std::uint8_t> data, std::uint32_t samples, std::int64_t min_time,
           std::int64_t max_time)
      : data_(std::move(data)), samples_(samples), min_time_(min_time), max_time_(max_time) {}

  const std::vector<std::uint8_t>& data() const { return data_; }
  std::uint32_t samples() const { return samples_; }
  std::int64_t min_time() const { return min_time_; }
  std::int64_t max_time() const { return max_time_; }
  std::size_t bytes() const { return data_.capacity() + sizeof(*this); }

 private:
  std::vector<std::uint8_t> data_;
  std::uint32_t samples_;
  std::int64_t min_time_;
  std::int64_t max_time_;
};

class XorEncoder {
 public:
  // REQUIRES: t greater than the previous sample's t.
  void append(std::int64_t t, double v);

  std::uint32_t samples() const { return samples_; }
  bool empty() const { return samples_ == 0; }
  std::int64_t min_time() const { return min_time_; }
  std::int64_t max_time() const { return t_; }
  double last_value() const { return v_; }
  const std::vector<std::uint8_t>& data() const { return data_; }
  std::size_t bytes() const { return data_.capacity(); }

  // Moves the encoded samples into an immutable chunk and resets the encoder.
  std::shared_ptr<const XorChunk> cut();
  // An immutable copy of the current contents (for readers).
  std::shared_ptr<const XorChunk> snapshot() const;

 private:
  void write_bits(std::uint64_t value, int nbits);
  void write_bit(bool bit) { write_bits(bit ? 1 : 0, 1); }
  void write_varint(std::uint64_t v);
  void write_xor(double v);

  std::vector<std::uint8_t> data_;
  std::uint64_t bit_count_ = 0;
  std::uint32_t samples_ = 0;
  std::int64_t min_time_ = 0;
  std::int64_t t_ = 0;
  std::int64_t t_delta_ = 0;
  double v_ = 0;
  std::uint8_t leading_ = 0xff;
  std::uint8_t trailing_ = 0;
};

// Decodes a chunk's samples in order.
class XorIterator {
 public:
  XorIterator(const std::uint8_t* data, std::size_t size, std::uint32_t samples)
      : data_(data), size_(size), samples_(samples) {}
  explicit XorIterator(const XorChunk& chunk)
      : XorIterator(chunk.data().data(), chunk.data().size(), chunk.samples()) {}

  // Advances; false at the end (or on corrupt data).
  bool next();
  std::int64_t t() const { return t_; }
  double v() const { return v_; }
  SamplePoint at() const { return {t_, v_}; }

 private:
  bool read_bits(int nbits, std::uint64_t& out);
  bool read_bit(bool& bit);
  bool read_varint(std::uint64_t& out);
  bool read_xor();

  void refill();

  const std::uint8_t* data_;
  std::size_t size_;
  std::uint32_t samples_;
  std::uint32_t read_ = 0;
  std::size_t byte_pos_ = 0;
  std::uint64_t buffer_ = 0;  // unread bits, most significant first
  int buffered_ = 0;          // number of valid bits in buffer_
  std::int64_t t_ = 0;
  std::int64_t t_delta_ = 0;
  double v_ = 0;
  std::uint8_t leading_ = 0;
  std::uint8_t trailing_ = 0;
};

}  // namespace llmscale::prom
