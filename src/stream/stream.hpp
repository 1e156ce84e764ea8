// myoexo::stream — the live session's results on ZeroMQ while it runs, and EMG from another program's ZeroMQ
// stream as a source. The message schema (version 1) is documented in docs/streams.md; in short, every message is
// a ZeroMQ multipart message whose first frame is its topic:
//
//   "myoexo.session"  [topic, JSON]          once at start and then every second: schema, rate, channels, unit,
//                                             classes (what a subscriber that joins late needs to read the rest)
//   "myoexo.decision" [topic, JSON]          every decision: window end, class, probabilities, rejected, intent
//   "myoexo.tick"     [topic, JSON]          control ticks, decimated to PublisherOptions::tick_rate_hz
//   "myoexo.event"    [topic, JSON]          every safety event of the supervisor
//   "myoexo.emg"      [topic, header, data]  EMG chunks as the session converted them: a 28-byte little-endian
//                                             header ("MXEM", schema u16, channels u16, frames u32, index of the
//                                             first sample u64, rate f64: Python struct '<4sHHIQd'), then float64
//                                             little-endian samples, interleaved [frames x channels]; names and
//                                             unit are in "myoexo.session"
//
// The publisher runs on the host thread that drains the session (never on the control thread) and never blocks:
// a subscriber that does not keep up loses messages beyond ZeroMQ's high-water mark, and the publisher counts
// them. ZmqEmgSource subscribes to "myoexo.session" and "myoexo.emg" from any publisher (this program's or
// another's) and is an EmgSource: gaps in the sample index end a run and the stream time jumps; a stream that
// disagrees with what the source was created for (channels, names, rate, unit) is an error, never guessed around.
// EMG is read only after a session message has said what it is. The binary header keeps the source's read path
// free of parsing and allocation (ZeroMQ's own message buffers aside).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "control/safety_supervisor.hpp"
#include "core/error.hpp"
#include "realtime/pipeline.hpp"
#include "realtime/source.hpp"
#include "session/session.hpp"

namespace myoexo::stream {

inline constexpr int kSchemaVersion = 1;
inline constexpr const char* kTopicSession = "myoexo.session";
inline constexpr const char* kTopicDecision = "myoexo.decision";
inline constexpr const char* kTopicTick = "myoexo.tick";
inline constexpr const char* kTopicEvent = "myoexo.event";
inline constexpr const char* kTopicEmg = "myoexo.emg";
inline constexpr std::size_t kEmgHeaderBytes = 28;

/// What the session streams (for the "myoexo.session" message and the EMG headers).
struct SessionDescription {
  double sample_rate_hz = 1000.0;
  std::vector<std::string> channels;  ///< in frame order
  std::string unit = "mV";            ///< of the EMG the session publishes (the model's unit)
  std::vector<std::string> classes;   ///< the decoder's classes, in probability order
  std::string source;                 ///< "replay:FILE", "serial:PORT", "zmq:ENDPOINT"
};

struct PublisherOptions {
  std::string endpoint = "tcp://127.0.0.1:5556";  ///< bound (PUB); "tcp://*:PORT" listens on every interface
  double tick_rate_hz = 100.0;                    ///< control ticks published at most this often (0 = none)
  bool emg = true;                                ///< publish "myoexo.emg"
  int send_high_water_mark = 10000;               ///< messages queued per subscriber before they are dropped
};

struct PublisherStats {
  std::uint64_t sent = 0;     ///< messages handed to ZeroMQ
  std::uint64_t dropped = 0;  ///< messages ZeroMQ refused (no room: a subscriber is not keeping up)
  std::uint64_t decisions = 0, ticks = 0, events = 0, emg_chunks = 0;
};

class Publisher {
 public:
  /// Binds `options.endpoint`. Errors: io (the endpoint cannot be bound, with ZeroMQ's reason), invalid_argument.
  static Result<std::unique_ptr<Publisher>> create(const PublisherOptions& options, SessionDescription session);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  const std::string& endpoint() const noexcept;  ///< the bound endpoint (a "tcp://...:0" request resolved)
  void decision(const realtime::Decision& d);
  void tick(const session::TickTelemetry& t);     ///< decimated to tick_rate_hz (by the tick's time)
  void event(const control::SafetyEvent& e);
  /// frames: [n x channels] interleaved; first_sample_s: stream time of its first frame.
  void emg(std::span<const double> frames, double first_sample_s);
  /// Sends the "myoexo.session" message when a second has passed since the last (call it from the host loop).
  void heartbeat(double t_s);
  const PublisherStats& stats() const noexcept;

 private:
  struct Impl;
  explicit Publisher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct ZmqSourceOptions {
  std::string endpoint = "tcp://127.0.0.1:5556";  ///< connected (SUB), topic "myoexo.emg"
  std::size_t n_channels = 4;
  double sample_rate_hz = 1000.0;
  std::vector<std::string> channel_names;  ///< empty = accept the publisher's names (still checked for count)
  std::string unit = "mV";                 ///< the unit the stream must declare
  int poll_timeout_ms = 50;                ///< longest a read() waits for a message
  double first_data_timeout_s = 10.0;      ///< no EMG this long after start(): read() fails with a reason
  std::size_t max_chunk_frames = 4096;     ///< larger chunks are refused (bounds the buffer)
};

struct ZmqSourceStats {
  std::uint64_t messages = 0, frames = 0;
  std::uint64_t gaps = 0, frames_missing = 0;  ///< jumps forward in the sample index, and the frames they skipped
  std::uint64_t rejected = 0;                  ///< malformed messages (counted; the first one's reason is kept)
};

class ZmqEmgSource final : public realtime::EmgSource {
 public:
  static Result<std::unique_ptr<ZmqEmgSource>> create(const ZmqSourceOptions& options);
  ~ZmqEmgSource() override;

  std::size_t n_channels() const noexcept override;
  double sample_rate_hz() const noexcept override;
  const std::vector<std::string>& channel_names() const noexcept override;
  const std::vector<std::string>& channel_units() const noexcept override;
  Status start() override;
  void stop() noexcept override;
  realtime::ReadResult read(std::span<double> out) noexcept override;
  std::string last_error() const override;
  const ZmqSourceStats& stats() const noexcept;

 private:
  struct Impl;
  explicit ZmqEmgSource(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace myoexo::stream
