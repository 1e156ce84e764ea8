// myoexo::realtime — the serial wire protocol between the MyoWare board (firmware/myoware_stream) and the
// host: frame layout, CRC-8, an encoder (the board's side, used by tests and the pseudo-terminal peer) and
// the host's resynchronising frame parser. firmware/PROTOCOL.md is the normative description.
//
// This file depends on the C++ standard library only, so the libFuzzer target (fuzz/fuzz_serial_frame.cpp)
// compiles wire_protocol.cpp directly in builds where the realtime stage is not built.
//
// Frame (all multi-byte fields little-endian), for N channels (1..kMaxWireChannels):
//   offset 0        0xA5                sync byte 1
//   offset 1        0x5A                sync byte 2
//   offset 2        seq                 frame counter, uint8, +1 per sampling tick, wraps 255 -> 0,
//                                       restarts at 0 on every start byte
//   offset 3..3+P-1 payload             N 10-bit ADC codes packed LSB-first: code k occupies bits
//                                       [10k, 10k+10) of the payload bit stream; P = ceil(10 N / 8) bytes,
//                                       unused high bits of the last byte are 0
//   offset 3+P      crc                 CRC-8/SMBUS (poly 0x07, init 0x00, no reflection, xorout 0x00)
//                                       over seq and payload (not the sync bytes)
// Host -> board: the single byte '1' (0x31) starts streaming, '0' (0x30) stops (the HC-05/XM-15B seed
// protocol); any other byte is ignored by the board.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace myoexo::realtime {

inline constexpr std::uint8_t kWireSync1 = 0xA5;
inline constexpr std::uint8_t kWireSync2 = 0x5A;
inline constexpr std::uint8_t kWireStartByte = '1';
inline constexpr std::uint8_t kWireStopByte = '0';
inline constexpr std::size_t kMaxWireChannels = 16;
inline constexpr std::uint16_t kMaxAdcCode = 1023;  ///< 10-bit ADC

/// Payload bytes for n channels: ceil(10 n / 8).
constexpr std::size_t wire_payload_bytes(std::size_t n_channels) noexcept { return (10 * n_channels + 7) / 8; }
/// Whole frame bytes for n channels: 2 sync + 1 seq + payload + 1 crc.
constexpr std::size_t wire_frame_bytes(std::size_t n_channels) noexcept {
  return 4 + wire_payload_bytes(n_channels);
}
inline constexpr std::size_t kMaxWireFrameBytes = wire_frame_bytes(kMaxWireChannels);

/// CRC-8/SMBUS (poly 0x07, init `crc`, MSB first): crc8("123456789") == 0xF4. Same as avr-libc's
/// _crc8_ccitt_update applied byte by byte.
std::uint8_t crc8_update(std::uint8_t crc, std::uint8_t byte) noexcept;
std::uint8_t crc8(std::span<const std::uint8_t> bytes, std::uint8_t init = 0) noexcept;

/// Writes one frame for `codes` (1..kMaxWireChannels values, each masked to 10 bits) into `out`
/// (at least wire_frame_bytes(codes.size()) bytes). Returns the bytes written, 0 if a size is wrong.
std::size_t encode_wire_frame(std::uint8_t seq, std::span<const std::uint16_t> codes,
                              std::span<std::uint8_t> out) noexcept;

/// One intact frame as the parser delivers it.
struct WireFrame {
  std::uint8_t seq = 0;
  std::uint32_t missing_before = 0;  ///< frames missing between the previous intact frame and this one: the
                                     ///< sequence gap (mod 256), plus 256 k frames when arrival times show the
                                     ///< gap wrapped the 8-bit counter k times (missing_estimated); 0 for the
                                     ///< first frame after reset()/restart_sequence()
  bool missing_estimated = false;    ///< missing_before includes frames inferred from arrival times
  std::size_t n_channels = 0;
  std::array<std::uint16_t, kMaxWireChannels> codes{};  ///< first n_channels valid, each 0..1023
};

/// What the parser has seen since construction / reset(). Counters only grow.
struct WireStats {
  std::uint64_t frames_ok = 0;        ///< intact frames delivered
  std::uint64_t frames_missing = 0;   ///< sum of missing_before: frames never received intact (dropped on the
                                      ///< link or corrupt). Untimed parsing sees gaps mod 256 only (a gap of
                                      ///< 256 k frames aliases to 0); timed parsing adds the wraps it infers
  std::uint64_t gaps_estimated = 0;   ///< gaps whose size was raised by whole counter wraps from arrival times
  std::uint64_t frames_missing_estimated = 0;  ///< the frames those raises added (included in frames_missing)
  std::uint64_t crc_failures = 0;     ///< candidate frames (sync found, full length) whose CRC failed
  std::uint64_t bytes_discarded = 0;  ///< bytes not part of an intact frame (garbage, corrupt frames)
};

/// Host-side frame parser for a fixed channel count. Feed it bytes in any chunking (the result does not
/// depend on it); it calls `sink(const WireFrame&)` for every intact frame. Never allocates, never throws,
/// accepts any byte sequence (it is the fuzz target). Resynchronisation: it hunts for 0xA5 0x5A, collects
/// a frame, and if the CRC fails it rescans from the byte after the failed sync, so garbage before a frame
/// or a corrupt frame costs no intact frame that follows.
///
/// Gaps of 256 frames or more. The 8-bit sequence number sees a gap modulo 256. Given the board's frame
/// rate, the timed feed() also estimates each intact frame's sampling time from the host arrival time:
/// t = arrival of the fed bytes - (whole frames' worth of bytes that follow it in the same feed) x period
/// (later frames in the same read were sampled after it, so a burst delivered late after a host stall or a
/// buffering link is not mistaken for lost data). When more than 256 frame periods separate a frame from
/// the previous intact one, the counter must have wrapped: missing_before becomes the sequence gap g plus
/// 256 k, k the whole number of wraps nearest to (periods - g - 1) / 256, flagged missing_estimated and
/// counted in gaps_estimated / frames_missing_estimated. Untimed feed() calls carry the last frame's time
/// forward by the sequence (so reads whose arrival time is unreliable need not break the chain). Without a
/// frame rate (0, the default) or with untimed feeds only, gaps are counted modulo 256 as before.
class WireFrameParser {
 public:
  /// n_channels is clamped to [1, kMaxWireChannels]; frame_rate_hz > 0 enables the arrival-time gap
  /// estimate (the board's sampling rate), anything else disables it.
  explicit WireFrameParser(std::size_t n_channels = 1, double frame_rate_hz = 0.0) noexcept;

  std::size_t n_channels() const noexcept { return n_channels_; }
  std::size_t frame_bytes() const noexcept { return frame_bytes_; }
  const WireStats& stats() const noexcept { return stats_; }

  /// Parses `bytes` (no arrival time: gaps modulo 256, see above); returns the number of intact frames
  /// delivered to `sink` during this call.
  template <typename Sink>
  std::size_t feed(std::span<const std::uint8_t> bytes, Sink&& sink) {
    std::size_t delivered = 0;
    for (std::uint8_t b : bytes) {
      if (push_byte(b)) {
        apply_time(0, false);
        sink(static_cast<const WireFrame&>(frame_));
        ++delivered;
      }
    }
    return delivered;
  }

  /// Same, for bytes whose last one arrived at host time `arrival_ns` (steady clock) and that drained the
  /// link (nothing newer was waiting): enables the estimate of gaps >= 256 frames described above.
  template <typename Sink>
  std::size_t feed(std::span<const std::uint8_t> bytes, std::int64_t arrival_ns, Sink&& sink) {
    std::size_t delivered = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      if (push_byte(bytes[i])) {
        const auto after = static_cast<std::int64_t>((bytes.size() - 1 - i) / frame_bytes_);
        apply_time(arrival_ns - after * period_ns_, true);
        sink(static_cast<const WireFrame&>(frame_));
        ++delivered;
      }
    }
    return delivered;
  }

  /// The frame period in ns (0 = no arrival-time estimate).
  std::int64_t frame_period_ns() const noexcept { return period_ns_; }

  /// Forgets a partial frame and the sequence history (the next frame starts a new sequence); the
  /// counters are kept. Call after (re)connecting: the board restarts its sequence on the start byte.
  void restart_sequence() noexcept;
  /// restart_sequence() and zeroes the counters.
  void reset() noexcept;

 private:
  /// Consumes one byte; true when it completed an intact frame (now in frame_).
  bool push_byte(std::uint8_t b) noexcept;
  /// After a CRC failure: drops the failed sync and keeps the buffer from the next plausible sync.
  void rescan_after_failure() noexcept;
  bool try_decode() noexcept;
  /// Time bookkeeping of the frame just decoded (frame_): `t_ns` its estimated sampling time when `timed`.
  void apply_time(std::int64_t t_ns, bool timed) noexcept;

  std::size_t n_channels_ = 1;
  std::size_t frame_bytes_ = wire_frame_bytes(1);
  std::array<std::uint8_t, kMaxWireFrameBytes> buf_{};
  std::size_t len_ = 0;
  bool have_seq_ = false;
  std::uint8_t last_seq_ = 0;
  std::int64_t period_ns_ = 0;     // 0 = no estimate
  bool have_time_ = false;         // last_time_ns_ is valid (reset with the sequence)
  std::int64_t last_time_ns_ = 0;  // estimated sampling time of the last intact frame
  WireFrame frame_;
  WireStats stats_;
};

}  // namespace myoexo::realtime
