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
//
// Version 2 (a board that knows it answers '2' (0x32) with these frames; a version-1 board ignores '2'):
//   offset 0        0xA5                sync byte 1
//   offset 1        0x5B                sync byte 2 (tells a version-2 frame from a version-1 one)
//   offset 2..3     seq | status << 12  uint16 LE: a 12-bit frame counter (wraps 4095 -> 0, 4.096 s at 1 kHz) and
//                                       4 status bits: bit 12 the board's e-stop input is active (debounced),
//                                       bit 13 the board dropped frames just before this one (its queue was
//                                       full), bit 14 the board restarted (power-on or watchdog) since the start
//                                       byte, bit 15 reserved (0)
//   offset 4..4+P-1 payload             as version 1
//   offset 4+P..5+P crc                 CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection), LE, over
//                                       bytes 2..4+P-1
// The host sends "12": a version-1 board starts on '1' and ignores '2'; a version-2 board starts on '1' and
// switches to version 2 on '2' (its sequence restarts).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace myoexo::realtime {

inline constexpr std::uint8_t kWireSync1 = 0xA5;
inline constexpr std::uint8_t kWireSync2 = 0x5A;
inline constexpr std::uint8_t kWireSync2V2 = 0x5B;
inline constexpr std::uint8_t kWireStartByteV2 = '2';
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
/// Version-2 frame bytes for n channels: 2 sync + 2 seq/status + payload + 2 crc.
constexpr std::size_t wire_frame_bytes_v2(std::size_t n_channels) noexcept {
  return 6 + wire_payload_bytes(n_channels);
}
inline constexpr std::size_t kMaxWireFrameBytes = wire_frame_bytes_v2(kMaxWireChannels);

/// Version-2 status bits (WireFrame::status).
inline constexpr std::uint8_t kWireStatusEstop = 0x1;     ///< the board's e-stop input is active
inline constexpr std::uint8_t kWireStatusOverflow = 0x2;  ///< the board dropped frames just before this one
inline constexpr std::uint8_t kWireStatusRestarted = 0x4; ///< the board restarted since the start byte
/// The first frame after the board (re)started its stream on a start byte: its sequence began again at 0. A board
/// already streaming the requested version goes on instead (its sequence continues, so a host that reconnects
/// after a link drop counts exactly what it lost).
inline constexpr std::uint8_t kWireStatusStreamStart = 0x8;

/// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, MSB first): crc16("123456789") == 0x29B1. avr-libc's
/// _crc_xmodem_update computes it byte by byte from the 0xFFFF init.
std::uint16_t crc16_update(std::uint16_t crc, std::uint8_t byte) noexcept;
std::uint16_t crc16(std::span<const std::uint8_t> bytes, std::uint16_t init = 0xFFFF) noexcept;

/// CRC-8/SMBUS (poly 0x07, init `crc`, MSB first): crc8("123456789") == 0xF4. Same as avr-libc's
/// _crc8_ccitt_update applied byte by byte.
std::uint8_t crc8_update(std::uint8_t crc, std::uint8_t byte) noexcept;
std::uint8_t crc8(std::span<const std::uint8_t> bytes, std::uint8_t init = 0) noexcept;

/// Writes one frame for `codes` (1..kMaxWireChannels values, each masked to 10 bits) into `out`
/// (at least wire_frame_bytes(codes.size()) bytes). Returns the bytes written, 0 if a size is wrong.
std::size_t encode_wire_frame(std::uint8_t seq, std::span<const std::uint16_t> codes,
                              std::span<std::uint8_t> out) noexcept;

/// Writes one version-2 frame (seq masked to 12 bits, status to 4 bits). Returns the bytes written, 0 if a size is
/// wrong.
std::size_t encode_wire_frame_v2(std::uint16_t seq, std::uint8_t status, std::span<const std::uint16_t> codes,
                                 std::span<std::uint8_t> out) noexcept;

/// One intact frame as the parser delivers it.
struct WireFrame {
  std::uint16_t seq = 0;             ///< 8 bits (version 1) or 12 bits (version 2)
  std::uint8_t version = 1;
  std::uint8_t status = 0;           ///< version 2: kWireStatus* bits; 0 for version 1
  std::uint32_t missing_before = 0;  ///< frames missing between the previous intact frame and this one: the
                                     ///< sequence gap (mod 256, or 4096 in version 2), plus whole counter wraps
                                     ///< when arrival times show the gap wrapped the counter (missing_estimated);
                                     ///< 0 for the first frame after reset()/restart_sequence() or after the
                                     ///< board switched protocol version
  bool missing_estimated = false;    ///< missing_before includes frames inferred from arrival times
  bool sequence_restarted = false;   ///< version 2: the board restarted its sequence here (kWireStatusStreamStart);
                                     ///< missing_before is then sized from arrival times alone (0 untimed)
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
  std::uint64_t frames_v2 = 0;        ///< of frames_ok, version-2 frames
  std::uint64_t estop_frames = 0;     ///< version-2 frames with the board's e-stop input active
  std::uint64_t overflow_flags = 0;   ///< version-2 frames saying the board dropped frames before them
  std::uint64_t restart_flags = 0;    ///< version-2 frames saying the board restarted (power-on or watchdog)
  std::uint64_t stream_starts = 0;    ///< version-2 frames that began a new sequence (kWireStatusStreamStart)
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
  /// Bytes of the last version seen (version 1 until a version-2 frame arrives).
  std::size_t frame_bytes() const noexcept { return frame_bytes_; }
  /// The larger of the two versions' frames (for sizing read buffers).
  std::size_t max_frame_bytes() const noexcept { return wire_frame_bytes_v2(n_channels_); }
  const WireStats& stats() const noexcept { return stats_; }

  /// Parses `bytes` (no arrival time: gaps modulo 256, see above); returns the number of intact frames
  /// delivered to `sink` during this call.
  template <typename Sink>
  std::size_t feed(std::span<const std::uint8_t> bytes, Sink&& sink) {
    std::size_t delivered = 0;
    for (std::uint8_t b : bytes) {
      append(b);
      while (next_frame()) {
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
      append(bytes[i]);
      while (next_frame()) {
        const auto after = static_cast<std::int64_t>((bytes.size() - 1 - i + len_) / frame_bytes_);
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
  /// counters are kept. Call after (re)connecting to a version-1 board: it restarts its sequence on the start byte.
  void restart_sequence() noexcept;
  /// Forgets a partial frame only (counted in bytes_discarded): after reconnecting to a version-2 board, whose
  /// sequence either continues (the gap is counted from it) or says it restarted (kWireStatusStreamStart).
  void drop_partial() noexcept;
  /// The version of the last intact frame (1 before any).
  std::uint8_t last_version() const noexcept { return last_version_; }
  /// Whether an intact frame has been seen since construction / reset() / restart_sequence().
  bool has_sequence() const noexcept { return have_seq_; }
  /// restart_sequence() and zeroes the counters.
  void reset() noexcept;

 private:
  /// Buffers one byte (fewer than the longest frame's bytes are ever kept).
  void append(std::uint8_t b) noexcept;
  /// Takes the next intact frame out of the buffer into frame_ (true), counting and dropping garbage and corrupt
  /// candidates on the way; false when more bytes are needed.
  bool next_frame() noexcept;
  void discard_front(std::size_t n) noexcept;
  /// Checks and decodes the candidate at the buffer's start (its sync and length known); false = corrupt.
  bool try_decode() noexcept;
  /// Time bookkeeping of the frame just decoded (frame_): `t_ns` its estimated sampling time when `timed`.
  void apply_time(std::int64_t t_ns, bool timed) noexcept;

  std::size_t n_channels_ = 1;
  std::size_t frame_bytes_ = wire_frame_bytes(1);  // of the last version seen (timing of the fed bytes)
  std::array<std::uint8_t, kMaxWireFrameBytes> buf_{};
  std::size_t len_ = 0;
  bool have_seq_ = false;
  std::uint16_t last_seq_ = 0;
  std::uint8_t last_version_ = 1;
  std::int64_t period_ns_ = 0;     // 0 = no estimate
  bool have_time_ = false;         // last_time_ns_ is valid (reset with the sequence)
  std::int64_t last_time_ns_ = 0;  // estimated sampling time of the last intact frame
  WireFrame frame_;
  WireStats stats_;
};

}  // namespace myoexo::realtime
