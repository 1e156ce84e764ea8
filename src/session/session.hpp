// myoexo::session — the live chain as one embeddable object: EMG source -> units -> sensor-fault checks ->
// StreamingPipeline -> intents -> control loop (state machine, trajectories, safety supervisor) -> ExoHardware.
// Every host (the CLI, the browser console, a Python binding) drives this same object and only picks the source,
// the hardware back-end and the clock.
//
// Lifecycle (as ros2_control's): create() (validates, sizes every buffer) -> configure() (hardware configure, the
// safety event log opened) -> activate(t) (stream started, loop active) -> pump()/step() -> deactivate().
//
// Two sides, two threads at most, no lock between them:
//   stream side: pump() reads the source once, converts codes to the model's unit, runs the sensor-fault checks
//     and the pipeline, and queues each decision (lock-free SPSC queue). It may block for the source's poll time.
//   control side: step(t, dt) applies the requests, hands queued decisions to the control loop, ticks it once and
//     queues a telemetry row. It never blocks and allocates nothing after configure().
// Requests (emergency stop, reset, resume, stream on/off) may come from any thread: they are atomic flags that
// the next step() (or pump() for the stream) applies.
//
// Clocks (SessionClock): `stream` = the control time is the stream's own time (deterministic replay: a decision
// reaches the loop at the first tick at or after its window end); `wall` = the control time is steady-clock time
// since activate(), the control thread ticks at a fixed rate whatever the stream does, and a decision reaches the
// loop as soon as it is queued. drivers.hpp runs either.
#pragma once

#include <array>
#include <atomic>
#include <limits>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "control/control_loop.hpp"
#include "control/sensor_fault.hpp"
#include "core/error.hpp"
#include "realtime/board_profile.hpp"
#include "realtime/frame_ring.hpp"
#include "realtime/pipeline.hpp"
#include "realtime/source.hpp"
#include "realtime/spsc_queue.hpp"
#include "realtime/timing.hpp"
#include "session/model.hpp"

namespace myoexo::session {

enum class SessionClock { stream, wall };

struct SessionSpec {
  double control_hz = 1000.0;                 ///< control rate [Hz], in [100, 5000]
  control::ControlLoopSpec loop;              ///< state machine, trajectories, controller, supervisor (rate from control_hz)
  realtime::PostProcessOptions post;          ///< rejection, vote, dwell
  /// What an ADC code means, for sources that stream codes (unit "adc"). Required for them; unused otherwise.
  std::optional<realtime::BoardProfile> board;
  /// The unit of the source's samples when the source does not say (a recording without units); empty = refuse.
  std::string input_unit;
  /// Full scale of the signal in the model's unit for the saturation and electrode-off checks when the source is
  /// not a board (a replayed recording: its largest |value|); 0 = those two checks off. Boards: from the profile.
  double full_scale = 0.0;
  SessionClock clock = SessionClock::stream;
  std::size_t read_frames = 64;               ///< frames per source read, >= 1
  std::size_t decision_capacity = 4096;       ///< decisions queued between the stream and the control side
  std::size_t telemetry_capacity = 1u << 15;  ///< ticks a host may lag behind (then rows are dropped and counted)
  double emg_tap_seconds = 10.0;              ///< converted EMG kept for a host to draw (0 = none)
  /// Safety events are appended here (CSV, one line each) and flushed as they happen, by flush_events(); the file
  /// is created by configure() and never truncated by activate(). Empty = no file.
  std::filesystem::path event_log;
  double reconnect_interval_s = 0.5;          ///< wait between attempts to restart a disconnected source
  std::size_t reconnect_attempts = 20;        ///< consecutive failures before the stream gives up
};

/// One control tick, as a host shows it.
struct TickTelemetry {
  double t_s = 0.0;
  std::uint64_t tick = 0;
  control::IntentLabel decision = control::IntentLabel::rest;  ///< newest decision delivered (post-processed)
  double confidence = 0.0;
  std::array<float, realtime::kMaxDecisionClasses> probabilities{};  ///< of that decision
  std::uint8_t n_classes = 0;
  std::uint32_t decisions_delivered = 0;      ///< at this tick
  double decision_delay_s = 0.0;              ///< window end -> this tick, of the newest delivered (NaN when none)
  control::IntentLabel active = control::IntentLabel::rest;
  control::SupervisorMode mode = control::SupervisorMode::hold;
  std::array<double, control::kJointCount> desired{}, setpoint{}, q{}, tau{};
  std::uint32_t sensor_faults = 0;            ///< OR over channels (control::SensorFaultBits)
  std::uint64_t channel_faults = 0;           ///< 4 bits per channel, channel c at bits 4c..4c+3
  std::uint32_t new_events = 0;               ///< safety events logged at this tick
  bool hardware_ok = true;                    ///< this tick's read and write succeeded
  /// Proportional mode: the newest knee-angle estimate delivered (deg, flexion positive; NaN without a regressor)
  /// and whether the knee set-point followed it at this tick.
  double knee_estimate_deg = std::numeric_limits<double>::quiet_NaN();
  bool following = false;
};

/// Counters and timing; consistent once the drivers have returned (while running, read telemetry instead).
struct SessionStats {
  std::uint64_t ticks = 0;
  std::uint64_t decisions_made = 0;           ///< by the pipeline
  std::uint64_t decisions_delivered = 0;      ///< handed to the control loop
  std::uint64_t decisions_dropped = 0;        ///< the queue was full (control side not ticking)
  std::uint64_t telemetry_dropped = 0;        ///< host too slow
  std::uint64_t events_dropped = 0;           ///< safety events not written (queue or supervisor log full)
  std::uint64_t frames = 0;                   ///< frames read from the source
  std::uint64_t stream_gaps = 0;              ///< reads that jumped forward in stream time
  std::uint64_t disconnects = 0, reconnects = 0;
  std::uint64_t hardware_errors = 0;          ///< ticks whose read or write failed
  std::uint64_t estop_requests = 0, reset_requests = 0, resets_refused = 0, resume_requests = 0;
  std::uint64_t device_estops = 0;  ///< presses of the board's own e-stop switch (each latched the stop)
  /// The last press: from the host reading the first frame that carried it to the supervisor latching the stop
  /// [ms] (steady clock; NaN before any press).
  double device_estop_latency_ms = std::numeric_limits<double>::quiet_NaN();
  std::uint64_t sensor_fault_onsets = 0;
  realtime::DurationSummary step_compute;        ///< CPU of one step() (wall time inside it)
  realtime::DurationSummary arrival_to_command;  ///< last sample of a window arrives -> its command is written
  control::LoopStats loop;
  realtime::PipelineStats pipeline;
};

class Session {
 public:
  /// Checks the model against the source (channels by name, rate, unit -> conversion), builds the pipeline,
  /// the sensor-fault checks and the control loop, and sizes every queue. `hardware` must outlive the session.
  /// Errors: invalid_argument, mismatch (naming what differs).
  static Result<std::unique_ptr<Session>> create(const SessionSpec& spec, std::shared_ptr<const PipelineModel> model,
                                                 std::unique_ptr<realtime::EmgSource> source,
                                                 control::ExoHardware& hardware);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Hardware configure(); opens the safety event log. Non-real-time.
  Status configure();
  /// Starts the source and activates the loop at control time t_s (wall clock: the session's time origin is now).
  Status activate(double t_s = 0.0);
  /// Deactivates the hardware (zero torque), stops the source, writes the queued safety events.
  Status deactivate();

  // ---- stream side (one thread) ----
  struct PumpResult {
    realtime::ReadStatus status = realtime::ReadStatus::no_data;
    std::size_t frames = 0;
    double stream_end_s = 0.0;  ///< stream time just after the last frame processed so far
  };
  /// One read of the source, converted, checked and classified. Reconnects a disconnected source at the
  /// reconnect interval (no_data meanwhile; `disconnected` once the attempts are used up). Never throws.
  PumpResult pump() noexcept;

  // ---- control side (one thread) ----
  /// Applies pending requests, delivers queued decisions, ticks the loop at time t_s with measured period dt_s,
  /// queues a telemetry row. No allocation, no lock, no blocking.
  void step(double t_s, double dt_s) noexcept;

  // ---- any thread ----
  void request_emergency_stop() noexcept;
  /// Clears a latched stop at the next step, unless the hardware is still failing (then counted as refused).
  void request_reset() noexcept;
  /// Lets the intent that was being asked for when a hold began restart motion without first changing.
  void request_resume() noexcept;
  /// Starts ('1') or stops ('0') the board's stream at the next pump().
  void request_stream(bool on) noexcept;
  /// Whether a stop (emergency or hardware) is latched, as of the last step.
  bool stop_latched() const noexcept { return latched_.load(std::memory_order_relaxed); }

  // ---- host (one thread, any pace) ----
  bool pop_telemetry(TickTelemetry& out) noexcept { return telemetry_.pop(out); }
  /// Decisions as they were delivered to the loop (window, classes, timing), for logs and plots.
  bool pop_decision(realtime::Decision& out) noexcept { return delivered_.pop(out); }
  /// Converted EMG frames (interleaved, model channel order) for drawing; returns frames written to `out`.
  std::size_t pop_emg(std::span<double> out, realtime::ChunkTiming& timing) noexcept;
  /// Writes queued safety events to the event log and flushes it (a killed process loses at most what was not
  /// yet handed to this call); `also` sees each event too (a console). Errors: io.
  Status flush_events(const std::function<void(const control::SafetyEvent&)>& also = {});

  SessionStats stats() const;
  const SessionSpec& spec() const noexcept { return spec_; }
  const PipelineModel& model() const noexcept { return *model_; }
  const realtime::InputConversion& conversion() const noexcept { return conversion_; }
  const realtime::EmgSource& source() const noexcept { return *source_; }
  realtime::EmgSource& source() noexcept { return *source_; }
  const control::ControlLoop& loop() const noexcept { return *loop_; }
  const realtime::StreamingPipeline& pipeline() const noexcept { return *pipeline_; }
  const control::SensorFaultDetector& sensor_faults() const noexcept { return *detector_; }
  /// The class -> intent map in use, in class order.
  const std::vector<control::IntentLabel>& class_intents() const noexcept { return class_intents_; }
  double control_period_s() const noexcept { return 1.0 / spec_.control_hz; }
  /// Steady-clock time of activate() [ns] (the wall clock's origin).
  std::int64_t origin_ns() const noexcept { return t0_ns_; }

 private:
  Session() = default;

  SessionSpec spec_;
  std::shared_ptr<const PipelineModel> model_;
  std::unique_ptr<realtime::EmgSource> source_;
  control::ExoHardware* hw_ = nullptr;
  realtime::InputConversion conversion_;
  std::vector<control::IntentLabel> class_intents_;
  std::optional<realtime::StreamingPipeline> pipeline_;
  std::optional<control::SensorFaultDetector> detector_;
  std::optional<control::ControlLoop> loop_;
  std::size_t nch_ = 0;

  // stream side
  std::vector<double> buf_;
  double stream_end_s_ = 0.0;
  bool have_stream_ = false;
  bool stream_on_ = true;
  std::int64_t reconnect_due_ns_ = 0;
  std::size_t reconnect_failures_ = 0;
  bool reconnecting_ = false;
  std::uint64_t frames_ = 0, gaps_ = 0, disconnects_ = 0, reconnects_ = 0, decisions_made_ = 0;

  // between the sides
  realtime::SpscQueue<realtime::Decision> decisions_;
  std::atomic<std::uint32_t> faults_{0};
  std::atomic<std::uint64_t> channel_faults_{0};
  std::atomic<bool> estop_req_{false}, reset_req_{false}, resume_req_{false};
  std::atomic<bool> device_estop_{false};  // the source's e-stop input (stream thread -> control thread)
  bool device_estop_latched_ = false;      // control thread: the press already latched the stop
  bool device_estop_seen_ = false;         // stream thread: the source reported the press already
  std::atomic<std::int64_t> device_estop_arrival_ns_{0};  // stream thread: when the press's frame was read
  std::atomic<std::int64_t> device_estop_latency_ns_{-1};  // control thread: arrival -> latch of the last press
  std::atomic<int> stream_req_{-1};  // -1 none, 0 stop, 1 start
  std::atomic<bool> latched_{false};

  // control side
  std::int64_t t0_ns_ = 0;
  std::uint64_t tick_ = 0;
  std::size_t events_seen_ = 0;
  bool hw_ok_ = true;
  realtime::Decision last_delivered_{};
  double knee_estimate_deg_ = std::numeric_limits<double>::quiet_NaN();
  bool any_delivered_ = false;
  std::uint64_t delivered_count_ = 0, hw_errors_ = 0;
  std::uint64_t estop_requests_ = 0, reset_requests_ = 0, resets_refused_ = 0, resume_requests_ = 0;
  std::uint64_t device_estops_ = 0;
  std::uint64_t events_unqueued_ = 0;
  realtime::DurationHistogram step_compute_, arrival_to_command_;
  std::array<realtime::Decision, 32> tick_decisions_{};  // delivered this tick (latency stamps after the write)

  // to the host
  realtime::SpscQueue<TickTelemetry> telemetry_;
  realtime::SpscQueue<realtime::Decision> delivered_;
  realtime::SpscQueue<control::SafetyEvent> events_;
  std::optional<realtime::FrameRing> emg_tap_;
  std::FILE* event_file_ = nullptr;
};

/// The safety event log's CSV header and one line (shared by the session's file and hosts' copies).
inline constexpr const char* kEventLogHeader = "time_s,reason,joint,value,limit";
std::string format_safety_event(const control::SafetyEvent& e);

}  // namespace myoexo::session
