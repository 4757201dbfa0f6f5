// Gorilla chunk encoding and decoding (bit layout after Prometheus' tsdb/chunkenc/xor.go).
#include "prom/tsdb/xor_chunk.h"

#include <bit>

namespace llmscale::prom {
namespace {

inline std::uint64_t bits_of(double v) {
  std::uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
inline double double_of(std::uint64_t b) {
  double v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}
// Prometheus bitRange: -(2^(n-1)-1) <= x <= 2^(n-1).
inline bool fits(std::int64_t x, int nbits) {
  return -((std::int64_t{1} << (nbits - 1)) - 1) <= x && x <= (std::int64_t{1} << (nbits - 1));
}

}  // namespace

void XorEncoder::write_bits(std::uint64_t value, int nbits) {
  while (nbits > 0) {
    std::size_t byte = bit_count_ >> 3;
    int used = static_cast<int>(bit_count_ & 7);
    if (used == 0) {
      // Grow in small steps: a head chunk is mostly full, not twice the size it needs.
      if (data_.size() == data_.capacity())
        data_.reserve(data_.capacity() + 16 + data_.capacity() / 4);
      data_.push_back(0);
    }
    int free = 8 - used;
    int take = nbits < free ? nbits : free;
    auto part = static_cast<std::uint8_t>((value >> (nbits - take)) & ((1u << take) - 1));
    data_[byte] = static_cast<std::uint8_t>(data_[byte] | (part << (free - take)));
    nbits -= take;
    bit_count_ += static_cast<std::uint64_t>(take);
  }
}

void XorEncoder::write_varint(std::uint64_t v) {
  while (v >= 0x80) {
    write_bits((v & 0x7f) | 0x80, 8);
    v >>= 7;
  }
  write_bits(v, 8);
}

void XorEncoder::write_xor(double v) {
  std::uint64_t delta = bits_of(v) ^ bits_of(v_);
  if (delta == 0) {
    write_bit(false);
    return;
  }
  write_bit(true);
  auto leading = static_cast<std::uint8_t>(std::countl_zero(delta));
  auto trailing = static_cast<std::uint8_t>(std::countr_zero(delta));
  if (leading >= 32) leading = 31;  // fits in 5 bits
  if (leading_ != 0xff && leading >= leading_ && trailing >= trailing_) {
    write_bit(false);
    write_bits(delta >> trailing_, 64 - leading_ - trailing_);
    return;
  }
  leading_ = leading;
  trailing_ = trailing;
  write_bit(true);
  write_bits(leading, 5);
  int sigbits = 64 - leading - trailing;
  write_bits(static_cast<std::uint64_t>(sigbits & 63), 6);  // 64 is written as 0
  write_bits(delta >> trailing, sigbits);
}

void XorEncoder::append(std::int64_t t, double v) {
  if (samples_ == 0) {
    auto zigzag = (static_cast<std::uint64_t>(t) << 1) ^ static_cast<std::uint64_t>(t >> 63);
    write_varint(zigzag);
    write_bits(bits_of(v), 64);
    min_time_ = t;
  } else if (samples_ == 1) {
    t_delta_ = t - t_;
    write_varint(static_cast<std::uint64_t>(t_delta_));
    write_xor(v);
  } else {
    std::int64_t delta = t - t_;
    std::int64_t dod = delta - t_delta_;
    if (dod == 0) {
      write_bit(false);
    } else if (fits(dod, 14)) {
      write_bits(0b10, 2);
      write_bits(static_cast<std::uint64_t>(dod), 14);
    } else if (fits(dod, 17)) {
      write_bits(0b110, 3);
      write_bits(static_cast<std::uint64_t>(dod), 17);
    } else if (fits(dod, 20)) {
      write_bits(0b1110, 4);
      write_bits(static_cast<std::uint64_t>(dod), 20);
    } else {
      write_bits(0b1111, 4);
      write_bits(static_cast<std::uint64_t>(dod), 64);
    }
    t_delta_ = delta;
    write_xor(v);
  }
  t_ = t;
  v_ = v;
  ++samples_;
}

std::shared_ptr<const XorChunk> XorEncoder::cut() {
  data_.shrink_to_fit();
  auto chunk = std::make_shared<const XorChunk>(std::move(data_), samples_, min_time_, t_);
  data_ = {};
  bit_count_ = 0;
  samples_ = 0;
  t_delta_ = 0;
  leading_ = 0xff;
  trailing_ = 0;
  return chunk;
}

std::shared_ptr<const XorChunk> XorEncoder::snapshot() const {
  return std::make_shared<const XorChunk>(std::vector<std::uint8_t>(data_.begin(), data_.end()),
                                          samples_, min_time_, t_);
}

void XorIterator::refill() {
  while (buffered_ <= 56 && byte_pos_ < size_) {
    buffer_ |= static_cast<std::uint64_t>(data_[byte_pos_++]) << (56 - buffered_);
    buffered_ += 8;
  }
}

bool XorIterator::read_bits(int nbits, std::uint64_t& out) {
  if (nbits > 56) {
    std::uint64_t hi, lo;
    if (!read_bits(nbits - 32, hi) || !read_bits(32, lo)) return false;
    out = (hi << 32) | lo;
    return true;
  }
  if (buffered_ < nbits) {
    refill();
    if (buffered_ < nbits) return false;
  }
  out = buffer_ >> (64 - nbits);
  buffer_ <<= nbits;
  buffered_ -= nbits;
  return true;
}

bool XorIterator::read_bit(bool& bit) {
  std::uint64_t b;
  if (!read_bits(1, b)) return false;
  bit = b != 0;
  return true;
}

bool XorIterator::read_varint(std::uint64_t& out) {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    std::uint64_t byte;
    if (!read_bits(8, byte)) return false;
    v |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      out = v;
      return true;
    }
  }
  return false;
}

bool XorIterator::read_xor() {
  bool changed;
  if (!read_bit(changed)) return false;
  if (!changed) return true;
  bool new_window;
  if (!read_bit(new_window)) return false;
  if (new_window) {
    std::uint64_t leading, sigbits;
    if (!read_bits(5, leading) || !read_bits(6, sigbits)) return false;
    if (sigbits == 0) sigbits = 64;
    if (leading + sigbits > 64) return false;
    leading_ = static_cast<std::uint8_t>(leading);
    trailing_ = static_cast<std::uint8_t>(64 - leading - sigbits);
  }
  int sigbits = 64 - leading_ - trailing_;
  std::uint64_t delta;
  if (!read_bits(sigbits, delta)) return false;
  v_ = double_of(bits_of(v_) ^ (delta << trailing_));
  return true;
}

bool XorIterator::next() {
  if (read_ >= samples_) return false;
  if (read_ == 0) {
    std::uint64_t zigzag, bits;
    if (!read_varint(zigzag) || !read_bits(64, bits)) return false;
    t_ = static_cast<std::int64_t>(zigzag >> 1) ^ -static_cast<std::int64_t>(zigzag & 1);
    v_ = double_of(bits);
  } else if (read_ == 1) {
    std::uint64_t delta;
    if (!read_varint(delta)) return false;
    t_delta_ = static_cast<std::int64_t>(delta);
    t_ += t_delta_;
    if (!read_xor()) return false;
  } else {
    int prefix = 0;
    while (prefix < 4) {
      bool bit;
      if (!read_bit(bit)) return false;
      if (!bit) break;
      ++prefix;
    }
    static constexpr int kWidth[] = {0, 14, 17, 20, 64};
    int nbits = kWidth[prefix];
    std::int64_t dod = 0;
    if (nbits > 0) {
      std::uint64_t raw;
      if (!read_bits(nbits, raw)) return false;
      if (nbits < 64 && raw > (std::uint64_t{1} << (nbits - 1))) {
        raw -= std::uint64_t{1} << nbits;
      }
      dod = static_cast<std::int64_t>(raw);
    }
    t_delta_ += dod;
    t_ += t_delta_;
    if (!read_xor()) return false;
  }
  ++read_;
  return true;
}

}  // namespace llmscale::prom
