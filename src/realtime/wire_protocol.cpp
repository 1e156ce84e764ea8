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

std::uint16_t crc16_update(std::uint16_t crc, std::uint8_t byte) noexcept {
  crc = static_cast<std::uint16_t>(crc ^ (std::uint16_t(byte) << 8));
  for (int i = 0; i < 8; ++i)
    crc = (crc & 0x8000u) ? static_cast<std::uint16_t>((crc << 1) ^ 0x1021u) : static_cast<std::uint16_t>(crc << 1);
  return crc;
}

std::uint16_t crc16(std::span<const std::uint8_t> bytes, std::uint16_t init) noexcept {
  std::uint16_t crc = init;
  for (std::uint8_t b : bytes) crc = crc16_update(crc, b);
  return crc;
}

std::size_t encode_wire_frame_v2(std::uint16_t seq, std::uint8_t status, std::span<const std::uint16_t> codes,
                                 std::span<std::uint8_t> out) noexcept {
  const std::size_t n = codes.size();
  if (n == 0 || n > kMaxWireChannels) return 0;
  const std::size_t total = wire_frame_bytes_v2(n);
  if (out.size() < total) return 0;
  // The payload as version 1 lays it out, then the version-2 header and CRC around it.
  std::array<std::uint8_t, kMaxWireFrameBytes> v1{};
  if (encode_wire_frame(0, codes, v1) == 0) return 0;
  const std::size_t payload = wire_payload_bytes(n);
  const std::uint16_t word = static_cast<std::uint16_t>((seq & 0x0FFFu) | (std::uint16_t(status & 0xFu) << 12));
  out[0] = kWireSync1;
  out[1] = kWireSync2V2;
  out[2] = static_cast<std::uint8_t>(word & 0xFFu);
  out[3] = static_cast<std::uint8_t>(word >> 8);
  std::copy_n(v1.begin() + 3, payload, out.begin() + 4);
  const std::uint16_t crc = crc16(out.subspan(2, 2 + payload));
  out[4 + payload] = static_cast<std::uint8_t>(crc & 0xFFu);
  out[5 + payload] = static_cast<std::uint8_t>(crc >> 8);
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

void WireFrameParser::drop_partial() noexcept {
  stats_.bytes_discarded += len_;
  len_ = 0;
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
  if (frame_.sequence_restarted) {
    // A new sequence says nothing about the frames before it: only the clock can size the gap.
    if (timed) {
      const double periods = static_cast<double>(t_ns - last_time_ns_) / static_cast<double>(period_ns_);
      const double gap = std::clamp(std::floor(periods + 0.5) - 1.0, 0.0, double(std::uint32_t{0xFFFFFFFFu}));
      frame_.missing_before = static_cast<std::uint32_t>(gap);
      if (frame_.missing_before > 0) {
        frame_.missing_estimated = true;
        stats_.frames_missing += frame_.missing_before;
        stats_.frames_missing_estimated += frame_.missing_before;
        ++stats_.gaps_estimated;
      }
      last_time_ns_ = t_ns;
    } else {
      last_time_ns_ += period_ns_;
    }
    return;
  }
  if (!timed) {
    last_time_ns_ += seen_periods * period_ns_;  // the board's clock carries the estimate forward
    return;
  }
  // Periods elapsed since the previous intact frame, as the host saw them.
  const double periods = static_cast<double>(t_ns - last_time_ns_) / static_cast<double>(period_ns_);
  const std::uint32_t modulus = frame_.version == 2 ? 4096u : 256u;
  if (periods > double(modulus)) {
    // Whole wraps of the counter nearest to what the clock says; bounded so missing_before fits.
    const double k = std::floor((periods - static_cast<double>(seen_periods)) / double(modulus) + 0.5);
    const double k_max = static_cast<double>((std::uint32_t{0xFFFFFFFFu} - frame_.missing_before) / modulus);
    if (k >= 1.0) {
      const auto extra = static_cast<std::uint32_t>(std::min(k, k_max)) * modulus;
      frame_.missing_before += extra;
      frame_.missing_estimated = true;
      stats_.frames_missing += extra;
      stats_.frames_missing_estimated += extra;
      ++stats_.gaps_estimated;
    }
  }
  last_time_ns_ = t_ns;
}

void WireFrameParser::append(std::uint8_t b) noexcept {
  // After next_frame() has taken what it can, fewer bytes than the longest frame are buffered.
  if (len_ == buf_.size()) discard_front(1);
  buf_[len_++] = b;
}

void WireFrameParser::discard_front(std::size_t n) noexcept {
  n = std::min(n, len_);
  stats_.bytes_discarded += n;
  std::copy(buf_.begin() + static_cast<std::ptrdiff_t>(n), buf_.begin() + static_cast<std::ptrdiff_t>(len_),
            buf_.begin());
  len_ -= n;
}

bool WireFrameParser::next_frame() noexcept {
  for (;;) {
    if (len_ == 0) return false;
    if (buf_[0] != kWireSync1) {
      discard_front(1);
      continue;
    }
    if (len_ < 2) return false;
    if (buf_[1] != kWireSync2 && buf_[1] != kWireSync2V2) {
      discard_front(1);  // the 0xA5 was garbage; what follows may still start a frame
      continue;
    }
    const std::size_t want = buf_[1] == kWireSync2 ? wire_frame_bytes(n_channels_) : wire_frame_bytes_v2(n_channels_);
    if (len_ < want) return false;
    if (try_decode()) {
      // The frame's bytes leave the buffer; what follows them stays.
      std::copy(buf_.begin() + static_cast<std::ptrdiff_t>(want), buf_.begin() + static_cast<std::ptrdiff_t>(len_),
                buf_.begin());
      len_ -= want;
      return true;
    }
    ++stats_.crc_failures;
    // Rescan from the byte after the failed sync: a corrupt candidate costs no intact frame behind it.
    std::size_t i = 1;
    while (i < len_ && buf_[i] != kWireSync1) ++i;
    discard_front(i);
  }
}

bool WireFrameParser::try_decode() noexcept {
  const bool v2 = buf_[1] == kWireSync2V2;
  const std::size_t payload = wire_payload_bytes(n_channels_);
  const std::size_t head = v2 ? 4 : 3;  // bytes before the payload
  bool crc_ok;
  if (v2) {
    const std::uint16_t crc = crc16(std::span<const std::uint8_t>(buf_.data() + 2, 2 + payload));
    crc_ok = crc == std::uint16_t(buf_[4 + payload] | (std::uint16_t(buf_[5 + payload]) << 8));
  } else {
    crc_ok = crc8(std::span<const std::uint8_t>(buf_.data() + 2, 1 + payload)) == buf_[3 + payload];
  }
  // Padding bits above the last code must be zero: a cheap extra check
  // against a corrupt frame whose CRC happens to match.
  const std::size_t used_bits = 10 * n_channels_;
  const std::size_t pad_bits = payload * 8 - used_bits;
  const std::uint8_t pad_mask = pad_bits == 0 ? 0 : static_cast<std::uint8_t>(0xFFu << (8 - pad_bits));
  const bool padding_ok = (buf_[head + payload - 1] & pad_mask) == 0;
  if (!crc_ok || !padding_ok) return false;
  const std::uint8_t* p = buf_.data() + head;
  for (std::size_t k = 0; k < n_channels_; ++k) {
    const std::size_t bit = 10 * k;
    const std::size_t byte = bit / 8;
    std::uint32_t word = p[byte];
    if (byte + 1 < payload) word |= std::uint32_t(p[byte + 1]) << 8;
    if (byte + 2 < payload) word |= std::uint32_t(p[byte + 2]) << 16;
    frame_.codes[k] = static_cast<std::uint16_t>((word >> (bit % 8)) & 0x3FFu);
  }
  const std::uint8_t version = v2 ? 2 : 1;
  std::uint16_t seq;
  std::uint16_t modulus;
  if (v2) {
    const std::uint16_t w = std::uint16_t(buf_[2] | (std::uint16_t(buf_[3]) << 8));
    seq = w & 0x0FFFu;
    frame_.status = static_cast<std::uint8_t>((w >> 12) & 0xFu);
    modulus = 4096;
    ++stats_.frames_v2;
    if (frame_.status & kWireStatusEstop) ++stats_.estop_frames;
    if (frame_.status & kWireStatusOverflow) ++stats_.overflow_flags;
    if (frame_.status & kWireStatusRestarted) ++stats_.restart_flags;
    if (frame_.status & kWireStatusStreamStart) ++stats_.stream_starts;
  } else {
    seq = buf_[2];
    frame_.status = 0;
    modulus = 256;
  }
  // A switch of protocol version (the board answered '2' after '1') starts a new sequence.
  if (have_seq_ && version != last_version_) {
    have_seq_ = false;
    have_time_ = false;
  }
  frame_.version = version;
  frame_.seq = seq;
  // A board that restarted its stream (a start byte after a reconnect, a reset on open) began a new sequence:
  // the gap before it is not a sequence difference (apply_time sizes it from the clock).
  frame_.sequence_restarted = have_seq_ && v2 && (frame_.status & kWireStatusStreamStart) != 0;
  frame_.missing_before = have_seq_ && !frame_.sequence_restarted
                              ? std::uint32_t((seq + modulus - ((last_seq_ + 1u) % modulus)) % modulus)
                              : 0;
  stats_.frames_missing += frame_.missing_before;
  have_seq_ = true;
  last_seq_ = seq;
  last_version_ = version;
  frame_bytes_ = v2 ? wire_frame_bytes_v2(n_channels_) : wire_frame_bytes(n_channels_);
  ++stats_.frames_ok;
  return true;
}

}  // namespace myoexo::realtime
