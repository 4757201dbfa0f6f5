// gzip encode/decode on zlib.
#include "net/gzip.h"

#include <zlib.h>

#include <cstring>

namespace llmscale::net {

std::string gzip_compress(std::string_view data, int level) {
  z_stream zs;
  std::memset(&zs, 0, sizeof zs);
  // 15 window bits + 16 selects the gzip wrapper.
  deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

struct GzipDecoder::State {
  z_stream zs;
  std::size_t max_output;
  std::size_t produced = 0;
  bool ended = false;
  bool failed = false;
};

GzipDecoder::GzipDecoder(std::size_t max_output) : state_(std::make_unique<State>()) {
  std::memset(&state_->zs, 0, sizeof state_->zs);
  state_->max_output = max_output;
  // 32 + 15: detect gzip or zlib headers automatically.
  inflateInit2(&state_->zs, 15 + 32);
}

GzipDecoder::~GzipDecoder() {
  if (state_) inflateEnd(&state_->zs);
}

GzipDecoder::GzipDecoder(GzipDecoder&&) noexcept = default;
GzipDecoder& GzipDecoder::operator=(GzipDecoder&&) noexcept = default;

core::Status GzipDecoder::feed(std::string_view input, std::string& out) {
  State& s = *state_;
  if (s.failed) return core::invalid_argument("gzip: decoder already failed");
  s.zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  s.zs.avail_in = static_cast<uInt>(input.size());
  char buffer[16384];
  while (!s.ended) {
    s.zs.next_out = reinterpret_cast<Bytef*>(buffer);
    s.zs.avail_out = sizeof buffer;
    int rc = inflate(&s.zs, Z_NO_FLUSH);
    std::size_t n = sizeof buffer - s.zs.avail_out;
    if (rc == Z_BUF_ERROR && n == 0) break;  // needs more input
    if (rc != Z_OK && rc != Z_STREAM_END) {
      s.failed = true;
      return core::invalid_argument(std::string("gzip: corrupt data: ") +
                                    (s.zs.msg ? s.zs.msg : "inflate failed"));
    }
    s.produced += n;
    if (s.produced > s.max_output) {
      s.failed = true;
      return core::make_error(
          core::ErrorCode::kResourceExhausted,
          "gzip: decoded body exceeds " + std::to_string(s.max_output) + " bytes");
    }
    out.append(buffer, n);
    if (rc == Z_STREAM_END) s.ended = true;
    if (s.zs.avail_in == 0 && s.zs.avail_out != 0) break;
  }
  // Trailing bytes after the end of the gzip member are ignored (Go does the same for a
  // single-member reader with multistream off; concatenated members are rare on the wire).
  return {};
}

core::Status GzipDecoder::finish() const {
  if (state_->failed) return core::invalid_argument("gzip: decoder failed");
  if (!state_->ended) return core::invalid_argument("gzip: truncated data (unexpected EOF)");
  return {};
}

core::Result<std::string> gzip_decompress(std::string_view data, std::size_t max_output) {
  GzipDecoder decoder(max_output);
  std::string out;
  if (auto s = decoder.feed(data, out); !s) return tl::unexpected(s.error());
  if (auto s = decoder.finish(); !s) return tl::unexpected(s.error());
  return out;
}

}  // namespace llmscale::net
