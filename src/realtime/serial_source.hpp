// myoexo::realtime — the serial acquisition path: a byte link (libserialport, or POSIX termios for devices
// libserialport does not list) and SerialSource, which speaks the wire protocol (wire_protocol.hpp,
// firmware/PROTOCOL.md) to a MyoWare board and delivers intact frames as an EmgSource.
//
// Why two links: libserialport (0.1.x) opens only ports it can find under /sys/class/tty (real UARTs,
// USB CDC/FTDI adapters, Bluetooth rfcomm); it refuses pseudo-terminals, socat links and symlinks outside
// /dev. The POSIX link opens any tty. Everything above the link (protocol, counting, recording) is shared,
// so the pseudo-terminal tests exercise the same code a board uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "realtime/source.hpp"
#include "realtime/wire_protocol.hpp"

namespace myoexo::realtime {

/// A bidirectional byte stream to the board.
class SerialLink {
 public:
  virtual ~SerialLink() = default;
  /// Opens the port (8N1, no flow control, raw). Errors: io (naming the port and the OS reason).
  virtual Status open() = 0;
  virtual void close() noexcept = 0;
  virtual bool is_open() const noexcept = 0;
  /// Reads up to buf.size() bytes, waiting at most timeout_ms (>= 0) for the first one. Returns the byte
  /// count (0 = nothing arrived in time) or -1 when the device went away or failed (the link is then closed).
  virtual long read(std::span<std::uint8_t> buf, int timeout_ms) noexcept = 0;
  /// Writes all bytes (blocking up to ~100 ms); false on failure.
  virtual bool write(std::span<const std::uint8_t> bytes) noexcept = 0;
  /// The port name, for messages.
  virtual const std::string& name() const noexcept = 0;
};

enum class SerialBackend {
  automatic,      ///< libserialport when it recognises the port, else POSIX termios
  libserialport,  ///< libserialport only
  posix,          ///< POSIX termios only (pseudo-terminals, socat)
};

/// A link to `port` at `baud` (any rate the OS accepts; pseudo-terminals ignore it).
std::unique_ptr<SerialLink> make_serial_link(const std::string& port, int baud,
                                             SerialBackend backend = SerialBackend::automatic);

/// Names of the serial ports libserialport finds (for `myoexo record --list-ports`); empty on failure.
std::vector<std::string> list_serial_ports();

struct SerialOptions {
  std::string port;                      ///< e.g. /dev/ttyACM0, /dev/rfcomm0, /dev/pts/3
  int baud = 115200;                     ///< the firmware's rate (PROTOCOL.md: 115200 carries 4 channels at 1 kHz)
  std::size_t n_channels = 4;            ///< channels per frame, 1..16 (must match the firmware)
  double sample_rate_hz = 1000.0;        ///< the firmware's sampling rate
  std::vector<std::string> channel_names;  ///< empty = "A0".."A<n-1>" (the analog pins)
  double volts_per_code = 1.0;           ///< scale applied to the 10-bit codes (1.0 keeps raw codes, unit "adc";
                                         ///< 5.0 / 1023 gives volts at a 5 V reference)
  double code_offset = 0.0;              ///< samples are (code - code_offset) x volts_per_code
  std::string unit;                      ///< the samples' unit; empty: "adc" for raw codes, else "V"
  int poll_timeout_ms = 50;              ///< longest a read() waits for bytes
  std::size_t max_read_frames = 256;     ///< frames decoded per read at most (sizes the internal buffers)
  SerialBackend backend = SerialBackend::automatic;
  /// Size gaps of >= 256 frames from arrival times (WireFrameParser's timed feed). Turn off only for a peer
  /// that does not send at sample_rate_hz (e.g. a test peer sending faster than real time and then pausing).
  bool estimate_long_gaps = true;
  /// Until the first frame arrives the start byte is sent again this often: an Arduino Uno resets when its port
  /// is opened (DTR) and its boot loader swallows what arrives in the first half second. <= 0: sent once.
  double start_retry_s = 0.25;
  /// No frame this long after start(): read() fails (ReadStatus::error, last_error() says why). <= 0: wait forever.
  double first_frame_timeout_s = 5.0;
  /// Start bytes: 0 = "12" (a version-1 board starts on '1' and ignores '2'; a version-2 board switches to
  /// version 2 on '2'), 1 = '1' only, 2 = '2' only. The parser reads either version whatever is asked.
  int protocol = 0;
};

struct SerialStats {
  WireStats wire;                   ///< parser counters (intact, missing, CRC failures, garbage bytes)
  std::uint64_t frames_delivered = 0;
  std::uint64_t starts = 0;         ///< successful start() calls (1 + reconnects)
  std::uint64_t disconnects = 0;    ///< times the link went away mid-stream
  std::uint64_t start_bytes_sent = 0;  ///< start requests sent (1 per start, more while a board did not answer)
};

class SerialSource final : public EmgSource {
 public:
  /// Validates options and allocates every buffer; does not open the port (start() does).
  static Result<SerialSource> create(const SerialOptions& options);
  /// Same, over a caller-provided link (tests, other transports).
  static Result<SerialSource> create(const SerialOptions& options, std::unique_ptr<SerialLink> link);

  SerialSource(SerialSource&&) noexcept = default;
  SerialSource& operator=(SerialSource&&) noexcept = default;
  ~SerialSource() override;

  std::size_t n_channels() const noexcept override { return options_.n_channels; }
  double sample_rate_hz() const noexcept override { return options_.sample_rate_hz; }
  const std::vector<std::string>& channel_names() const noexcept override { return names_; }
  const std::vector<std::string>& channel_units() const noexcept override { return units_; }

  /// Opens the link if needed, forgets any partial frame and sends the start byte(s). After a disconnect this is the
  /// reconnect, and stream time continues: to a version-2 board it sends '2' only and keeps the sequence, so the
  /// gap is counted from it (or, when the board flags a new sequence, sized from arrival times); a version-1
  /// board's sequence restarts and its first frame is stamped with the wall time elapsed since the first start
  /// (so timestamps never go backwards).
  Status start() override;
  /// Sends '0' and closes the link.
  void stop() noexcept override;
  /// Delivers a contiguous run of intact frames (a sequence gap ends a run). Codes are scaled by
  /// volts_per_code. Gaps of >= 256 frames are sized from arrival times (WireFrameParser, timed feed; the
  /// estimated part is in wire_stats().frames_missing_estimated), so stream time stays right across them.
  /// Status disconnected when the link went away (call start() to reconnect).
  ReadResult read(std::span<double> out) noexcept override;

  std::string last_error() const override { return last_error_; }
  /// The board's e-stop input as its newest version-2 frame said (version 1 carries none: false).
  bool device_estop() const noexcept override { return board_estop_; }

  const SerialStats& stats() const noexcept { return stats_; }
  const WireStats& wire_stats() const noexcept { return parser_.stats(); }

 private:
  SerialSource() = default;
  bool send_start_bytes() noexcept;

  SerialOptions options_;
  std::vector<std::string> names_, units_;
  std::unique_ptr<SerialLink> link_;
  WireFrameParser parser_;
  std::vector<std::uint8_t> bytes_;       // one read's bytes
  std::vector<double> pending_;           // decoded frames not yet delivered [max_read_frames x channels]
  std::vector<std::uint32_t> pending_missing_;  // missing_before per pending frame
  std::size_t pending_begin_ = 0, pending_end_ = 0;
  std::uint64_t next_index_ = 0;          // stream index of the next frame (counts missing frames too)
  std::int64_t first_start_ns_ = 0;
  std::int64_t pending_arrival_ns_ = 0;
  bool started_once_ = false;
  bool resume_v2_ = false;                // this (re)start keeps a version-2 sequence (sends '2' only)
  bool awaiting_first_frame_ = false;     // since start(): no frame yet (the start byte is repeated)
  std::int64_t start_ns_ = 0, last_start_byte_ns_ = 0;
  std::string last_error_;
  bool board_estop_ = false;
  SerialStats stats_;
};

}  // namespace myoexo::realtime
