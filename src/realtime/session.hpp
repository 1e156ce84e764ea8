// myoexo::realtime — the entry points the CLI calls: `myoexo record` (record_session) and `myoexo run`
// (run_stream / run_replay: source -> SPSC ring -> StreamingPipeline -> the caller's decision callback,
// where the controller/supervisor sits).
//
// Threads in run_stream (threaded = true): the acquisition thread reads the source, optionally records raw
// frames (so a slow consumer can never cost the recording a sample), and pushes into a FrameRing; the
// calling thread pops, runs the pipeline and calls on_decision. No lock between them. threaded = false
// runs both in the calling thread (deterministic: tests, offline replays into a simulation).
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

struct RecordSessionOptions {
  double duration_s = 0.0;            ///< stop once this much stream time is recorded (0 = until end/stop)
  std::size_t read_frames = 64;       ///< frames per source read (>= 1)
  ReconnectPolicy reconnect;
  RecorderOptions recorder;
  const std::atomic<bool>* stop = nullptr;  ///< set by another thread (e.g. SIGINT handler) to end the session
};

struct SessionReport {
  std::uint64_t frames = 0;           ///< frames read from the source (and recorded)
  double stream_duration_s = 0.0;     ///< stream time of the last frame + 1/rate
  std::uint64_t runs_after_gap = 0;   ///< reads whose first frame jumped ahead in stream time (lost data)
  std::uint64_t disconnects = 0;
  std::uint64_t reconnects = 0;       ///< successful start() after a disconnect
  ReadStatus end_status = ReadStatus::ok;  ///< end_of_stream, disconnected (gave up), ok (duration/stop)
};

/// Starts `source`, records every frame it delivers to `out` (.csv, or .edf/.bdf converted at the end; see
/// Recorder) until duration/stop/end of stream, reconnecting after disconnects, then stops the source.
/// Errors: the first start() failing, recorder errors, a source error.
Result<SessionReport> record_session(EmgSource& source, const std::filesystem::path& out,
                                     const RecordSessionOptions& options = {});

/// Called on the processing thread for every decision (this is where the supervisor runs). To measure the
/// end-to-end latency call pipeline.record_command_sent(d, steady_now_ns()) when the command leaves.
using DecisionCallback = std::function<void(const Decision&)>;

struct RunOptions {
  std::size_t read_frames = 64;       ///< frames per source read (>= 1)
  std::size_t ring_frames = 0;        ///< ring capacity; 0 = 4 s of samples
  bool threaded = true;               ///< acquisition thread + lock-free ring; false = one thread
  ReconnectPolicy reconnect;
  double duration_s = 0.0;            ///< stop after this much stream time (0 = until end/stop)
  Recorder* recorder = nullptr;       ///< optional raw recording, written on the acquisition side
  const std::atomic<bool>* stop = nullptr;
};

struct RunReport {
  SessionReport source;               ///< frames, gaps, disconnects as seen by the acquisition side
  std::uint64_t overrun_frames = 0;   ///< frames the ring dropped (consumer too slow)
  PipelineStats pipeline;
  DurationSummary compute;            ///< per-decision compute time
  DurationSummary latency;            ///< last-sample arrival -> intent emitted
  DurationSummary end_to_end;         ///< last-sample arrival -> command sent (record_command_sent)
};

/// Streams `source` through `pipeline` (see the file comment). The source is started and stopped here.
Result<RunReport> run_stream(EmgSource& source, StreamingPipeline& pipeline, const DecisionCallback& on_decision,
                             const RunOptions& options = {});

/// run_stream over a ReplaySource made from `recording` and `replay` (pace, chunking, channels, faults).
Result<RunReport> run_replay(io::Recording recording, const ReplayOptions& replay, StreamingPipeline& pipeline,
                             const DecisionCallback& on_decision, const RunOptions& options = {});

}  // namespace myoexo::realtime
