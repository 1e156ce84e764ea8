// myoexo::realtime — recording a live source: `myoexo record` (record_session: source -> Recorder, reconnecting
// after disconnects, losing no intact sample). The live chain (source -> pipeline -> control) is session::Session.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>

#include "core/error.hpp"
#include "io/recording.hpp"
#include "realtime/pipeline.hpp"
#include "realtime/recorder.hpp"
#include "realtime/replay_source.hpp"
#include "realtime/source.hpp"

namespace myoexo::realtime {

/// Reconnecting after a disconnect.
struct ReconnectPolicy {
  double interval_s = 0.5;            ///< wait between start() attempts
  std::size_t max_attempts = 20;      ///< consecutive failed attempts before giving up (0 = no reconnect)
};

struct SessionReport;

struct RecordSessionOptions {
  double duration_s = 0.0;            ///< stop once this much stream time is recorded (0 = until end/stop)
  std::size_t read_frames = 64;       ///< frames per source read (>= 1)
  ReconnectPolicy reconnect;
  RecorderOptions recorder;
  const std::atomic<bool>* stop = nullptr;  ///< set by another thread (e.g. SIGINT handler) to end the session
  /// Called after each recorded read with the stream time recorded so far (e.g. to prompt cues); same thread.
  std::function<void(double stream_s)> on_progress;
  /// Called once the stream ended, before the recording is closed: the labelled intervals to keep in the file
  /// (EDF+ annotations), onsets in seconds of recorded samples (SessionReport::file_seconds maps stream time).
  std::function<std::vector<io::Event>(const SessionReport&)> labels_at_end;
};

/// A stretch of stream the host never received: where it falls in the written file and how long it was.
struct StreamGap {
  double file_s = 0.0;    ///< seconds of recorded samples before the gap
  double stream_s = 0.0;  ///< stream time at which data resumed
  double lost_s = 0.0;    ///< stream time lost
};

struct SessionReport {
  std::uint64_t frames = 0;           ///< frames read from the source (and recorded)
  double stream_duration_s = 0.0;     ///< stream time of the last frame + 1/rate
  std::uint64_t runs_after_gap = 0;   ///< reads whose first frame jumped ahead in stream time (lost data)
  std::uint64_t disconnects = 0;
  std::uint64_t reconnects = 0;       ///< successful start() after a disconnect
  ReadStatus end_status = ReadStatus::ok;  ///< end_of_stream, disconnected (gave up), ok (duration/stop)
  std::vector<StreamGap> gaps;        ///< every jump ahead in stream time, in order (each an EDF+ annotation)
  double first_stream_s = 0.0;        ///< stream time of the first recorded frame
  /// Where stream time `t` falls in the written file (seconds of recorded samples): the time lost in the gaps
  /// before it is taken out; a time inside a gap maps to the gap's place.
  double file_seconds(double t) const noexcept;
};

/// Starts `source`, records every frame it delivers to `out` (.csv, or .edf/.bdf converted at the end; see
/// Recorder) until duration/stop/end of stream, reconnecting after disconnects, then stops the source. Each gap
/// in the stream is noted in an EDF+ output as an annotation "gap: N samples lost" at its place.
/// Errors: the first start() failing, recorder errors, a source error.
Result<SessionReport> record_session(EmgSource& source, const std::filesystem::path& out,
                                     const RecordSessionOptions& options = {});

}  // namespace myoexo::realtime
