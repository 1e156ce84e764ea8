// myoexo::realtime — the one interface every live or replayed EMG source offers.
//
// A source delivers interleaved frames ([frames x channels], sample i of channel c at i*channels + c) into
// a caller-owned buffer, with the stream time of the first frame and the arrival time. One read returns one
// contiguous run: a gap in the stream (dropped chunk, lost serial frames) ends a run, and the next run's
// first_sample_s jumps. read() never throws and, after start(), never allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace myoexo::realtime {

enum class ReadStatus {
  ok,             ///< `frames` frames were written (>= 1)
  no_data,        ///< nothing arrived within the source's poll timeout (or an injected stall): try again
  end_of_stream,  ///< a replay reached its end; nothing written
  disconnected,   ///< the device went away; the caller may call start() again to reconnect
  error,          ///< a non-recoverable error (see the source's last_error())
};

const char* read_status_name(ReadStatus s) noexcept;

struct ReadResult {
  ReadStatus status = ReadStatus::no_data;
  std::size_t frames = 0;         ///< frames written to the caller's buffer
  double first_sample_s = 0.0;    ///< stream time of the first frame [s]; frame j is at + j / rate
  std::int64_t arrival_ns = 0;    ///< steady-clock time the run became available [ns]
};

class EmgSource {
 public:
  virtual ~EmgSource() = default;

  virtual std::size_t n_channels() const noexcept = 0;
  virtual double sample_rate_hz() const noexcept = 0;
  virtual const std::vector<std::string>& channel_names() const noexcept = 0;
  virtual const std::vector<std::string>& channel_units() const noexcept = 0;

  /// Opens / (re)connects and starts streaming. Errors: io (device cannot be opened), invalid_argument.
  virtual Status start() = 0;
  /// Stops streaming (sends the stop byte to a board); safe to call twice.
  virtual void stop() noexcept = 0;

  /// Reads up to out.size() / n_channels() frames. Blocks at most the source's poll timeout (serial) or
  /// until the next chunk is due (real-time replay).
  virtual ReadResult read(std::span<double> out) noexcept = 0;

  /// Why the last read returned ReadStatus::error ("" when it did not or the source cannot say).
  virtual std::string last_error() const { return {}; }

  /// The device's own emergency-stop input was active in any frame of the newest read (a board's e-stop switch:
  /// a press inside one read is not lost); false for sources without one.
  virtual bool device_estop() const noexcept { return false; }
};

}  // namespace myoexo::realtime
