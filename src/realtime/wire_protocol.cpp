#include "realtime/wire_protocol.hpp"

#include <algorithm>
#include <cmath>

namespace myoexo::realtime {

std::uint8_t crc8_update(std::uint8_t crc, std::uint8_t byte) noexcept {
  std::uint8_t data = static_cast<std::uint8_t>(crc ^ byte);
  for (int i = 0; i < 8; ++i) {
    data = (data & 0x80u) ? static_cast<std::uint8_t>((data << 1) ^ 0x07u) : static_cast<std::uint8_t>(data << 1);
  }
  return data;
}

std::uint8_t crc8(std::span<const std::uint8_t> bytes, std::uint8_t init) noexcept {
  std::uint8_t crc = init;
  for (std::uint8_t b : bytes) crc = crc8_update(crc, b);
  return crc;
}

std::size_t encode_wire_frame(std::uint8_t seq, std::span<const std::uint16_t> codes,
                              std::span<std::uint8_t> out) noexcept {
  const std::size_t n = codes.size();
  if (n == 0 || n > kMaxWireChannels) return 0;
  const std::size_t total = wire_frame_bytes(n);
  if (out.size() < total) return 0;
  const std::size_t payload = wire_payload_bytes(n);
  out[0] = kWireSync1;
  out[1] = kWireSync2;
  out[2] = seq;
  std::fill(out.begin() + 3, out.begin() + 3 + static_cast<std::ptrdiff_t>(payload), std::uint8_t{0});
  for (std::size_t k = 0; k < n; ++k) {
    const std::uint32_t code = codes[k] & 0x3FFu;
    const std::size_t bit = 10 * k;
    const std::size_t byte = bit / 8;
    const std::uint32_t shifted = code << (bit % 8);  // spans at most 3 bytes (shift <= 7, 10 bits)
    out[3 + byte] = static_cast<std::uint8_t>(out[3 + byte] | (shifted & 0xFFu));
    if (byte + 1 < payload) out[3 + byte + 1] = static_cast<std::uint8_t>(out[3 + byte + 1] | ((shifted >> 8) & 0xFFu));
    if (byte + 2 < payload) out[3 + byte + 2] = static_cast<std::uint8_t>(out[3 + byte + 2] | ((shifted >> 16) & 0xFFu));
  }
  out[3 + payload] = crc8(out.subspan(2, 1 + payload));
  return total;
}

WireFrameParser::WireFrameParser(std::size_t n_channels, double frame_rate_hz) noexcept
    : n_channels_(std::clamp<std::size_t>(n_channels, 1, kMaxWireChannels)),
      frame_bytes_(wire_frame_bytes(n_channels_)) {
  frame_.n_channels = n_channels_;
  // Rates below 1 mHz or above 1 GHz are not a board's: no estimate rather than a nonsense period.
  if (std::isfinite(frame_rate_hz) && frame_rate_hz >= 1e-3 && frame_rate_hz <= 1e9)
    period_ns_ = static_cast<std::int64_t>(std::llround(1e9 / frame_rate_hz));
}

void WireFrameParser::restart_sequence() noexcept {
  stats_.bytes_discarded += len_;
  len_ = 0;
  have_seq_ = false;
  have_time_ = false;
}

void WireFrameParser::reset() noexcept {
  len_ = 0;
  have_seq_ = false;
  have_time_ = false;
  stats_ = {};
}

void WireFrameParser::apply_time(std::int64_t t_ns, bool timed) noexcept {
  frame_.missing_estimated = false;
  if (period_ns_ <= 0) return;
  if (!have_time_) {
    // First frame of a sequence (missing_before is 0): only a timed frame starts the clock.
    if (timed) {
      have_time_ = true;
      last_time_ns_ = t_ns;
    }
    return;
  }
  const std::int64_t seen_periods = static_cast<std::int64_t>(frame_.missing_before) + 1;
  if (!timed) {
    last_time_ns_ += seen_periods * period_ns_;  // the board's clock carries the estimate forward
    return;
  }
  // Periods elapsed since the previous intact frame, as the host saw them.
  const double periods = static_cast<double>(t_ns - last_time_ns_) / static_cast<double>(period_ns_);
  if (periods > 256.0) {
    // Whole wraps of the 8-bit counter nearest to what the clock says; bounded so missing_before fits.
    const double k = std::floor((periods - static_cast<double>(seen_periods)) / 256.0 + 0.5);
    const double k_max = static_cast<double>((std::uint32_t{0xFFFFFFFFu} - frame_.missing_before) / 256u);
    if (k >= 1.0) {
      const auto extra = static_cast<std::uint32_t>(std::min(k, k_max)) * 256u;
      frame_.missing_before += extra;
      frame_.missing_estimated = true;
      stats_.frames_missing += extra;
      stats_.frames_missing_estimated += extra;
      ++stats_.gaps_estimated;
    }
  }
  last_time_ns_ = t_ns;
}

bool WireFrameParser::push_byte(std::uint8_t b) noexcept {
  if (len_ == 0) {
    if (b == kWireSync1) {
      buf_[len_++] = b;
    } else {
      ++stats_.bytes_discarded;
    }
    return false;
  }
  if (len_ == 1) {
    if (b == kWireSync2) {
      buf_[len_++] = b;
    } else if (b == kWireSync1) {
      ++stats_.bytes_discarded;  // the earlier 0xA5 was garbage; this one may start a frame
    } else {
      stats_.bytes_discarded += 2;
      len_ = 0;
    }
    return false;
  }
  buf_[len_++] = b;
  if (len_ < frame_bytes_) return false;
  return try_decode();
}

bool WireFrameParser::try_decode() noexcept {
  const std::size_t payload = wire_payload_bytes(n_channels_);
  const std::uint8_t crc = crc8(std::span<const std::uint8_t>(buf_.data() + 2, 1 + payload));
  // Padding bits above the last code must be zero: a cheap extra check against a corrupt frame whose CRC
  // happens to match (1 in 256).
  const std::size_t used_bits = 10 * n_channels_;
  const std::size_t pad_bits = payload * 8 - used_bits;
  const std::uint8_t pad_mask = pad_bits == 0 ? 0 : static_cast<std::uint8_t>(0xFFu << (8 - pad_bits));
  const bool padding_ok = (buf_[3 + payload - 1] & pad_mask) == 0;
  if (crc != buf_[3 + payload] || !padding_ok) {
    ++stats_.crc_failures;
    rescan_after_failure();
    return false;
  }
  const std::uint8_t* p = buf_.data() + 3;
  for (std::size_t k = 0; k < n_channels_; ++k) {
    const std::size_t bit = 10 * k;
    const std::size_t byte = bit / 8;
    std::uint32_t word = p[byte];
    if (byte + 1 < payload) word |= std::uint32_t(p[byte + 1]) << 8;
    if (byte + 2 < payload) word |= std::uint32_t(p[byte + 2]) << 16;
    frame_.codes[k] = static_cast<std::uint16_t>((word >> (bit % 8)) & 0x3FFu);
  }
  const std::uint8_t seq = buf_[2];
  frame_.seq = seq;
  frame_.missing_before = have_seq_ ? static_cast<std::uint8_t>(seq - static_cast<std::uint8_t>(last_seq_ + 1)) : 0;
  stats_.frames_missing += frame_.missing_before;
  have_seq_ = true;
  last_seq_ = seq;
  ++stats_.frames_ok;
  len_ = 0;
  return true;
}

void WireFrameParser::rescan_after_failure() noexcept {
  // Next position that could start a frame: 0xA5 followed by 0x5A, or a 0xA5 in the last byte.
  std::size_t i = 1;
  for (; i < len_; ++i) {
    if (buf_[i] == kWireSync1 && (i + 1 == len_ || buf_[i + 1] == kWireSync2)) break;
  }
  stats_.bytes_discarded += i;
  std::copy(buf_.begin() + static_cast<std::ptrdiff_t>(i), buf_.begin() + static_cast<std::ptrdiff_t>(len_),
            buf_.begin());
  len_ -= i;
}

}  // namespace myoexo::realtime
