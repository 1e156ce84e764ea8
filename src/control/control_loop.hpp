// myoexo::control — the fixed-rate read -> update -> write loop that drives an ExoHardware.
//
// One tick: hardware.read(state) -> [intent state machine decided between ticks] -> trajectory.evaluate ->
// [knee set-point from the knee-angle follower while proportional mode applies] -> supervisor.enforce_setpoint -> controller.update (PD + gravity) -> supervisor.enforce_command -> hardware.write.
// Everything is sized in create(); tick() allocates nothing, takes no lock and never throws. Intents, sensor-fault
// flags and emergency stops are delivered from the same thread between ticks (the realtime stage's SPSC ring
// buffer ends before this call).
#pragma once

#include <cstdint>
#include <functional>

#include "control/exo_hardware.hpp"
#include "control/intent_state_machine.hpp"
#include "control/joint_controller.hpp"
#include "control/proportional.hpp"
#include "control/safety_supervisor.hpp"
#include "control/trajectory.hpp"

namespace myoexo::control {

struct ControlLoopSpec {
  double rate_hz = 1000.0;  ///< control rate [Hz], in [100, 5000] (designed for 500 Hz - 1 kHz)
  IntentStateMachineSpec intents = default_intent_state_machine_spec();
  TrajectorySpec trajectory{};
  JointControllerSpec controller{};
  SafetySupervisorSpec supervisor{};
  /// Proportional knee (off by default): during the intents it names, the knee follows push_knee_estimate().
  ProportionalKneeSpec proportional{};
};

/// Counters of the loop (no timing inside tick(); run_realtime() adds measured periods).
struct LoopStats {
  std::uint64_t ticks = 0;
  std::uint64_t read_errors = 0;
  std::uint64_t write_errors = 0;
  std::uint64_t intents_offered = 0;
  std::uint64_t intents_fresh = 0;
  std::uint64_t intents_accepted = 0;  ///< changed the active intent
  std::uint64_t deadline_misses = 0;   ///< measured dt > 1.5 periods
  double max_dt_s = 0.0;               ///< largest measured dt
};

class ControlLoop {
 public:
  /// Validates every spec and builds the parts. `hardware` must outlive the loop.
  static Result<ControlLoop> create(const ControlLoopSpec& spec, ExoHardware& hardware);

  /// hardware.configure(); then the loop can read.
  Status configure();
  /// hardware.activate(); resets supervisor, state machine and trajectory at time t_s (holds until the first
  /// fresh intent; set-points start at the measured posture).
  Status activate(double t_s);
  /// hardware.deactivate().
  Status deactivate();

  /// Deliver one intent (between ticks). Fresh intents feed the watchdog and the state machine.
  void push_intent(const Intent& intent, double t_s) noexcept;
  /// Current sensor-fault bits (e.g. SensorFaultDetector::faults()).
  void set_sensor_faults(std::uint32_t bits, double t_s) noexcept { supervisor_.set_sensor_faults(bits, t_s); }
  void trigger_emergency_stop(double t_s) noexcept;
  /// Deliver one knee-angle estimate (degrees, flexion positive; between ticks). Used only in proportional mode.
  EstimateOutcome push_knee_estimate(double knee_deg, double t_s) noexcept { return follower_.push_estimate(knee_deg, t_s); }
  /// True when the last tick's knee set-point came from the follower.
  bool following() const noexcept { return following_; }
  const KneeAngleFollower& follower() const noexcept { return follower_; }
  /// Explicit resume after a supervisor hold: the intent that was being asked for when the hold began may
  /// restart motion without first changing (see IntentStateMachine::hold_until_change).
  void resume_after_hold() noexcept { intents_.resume(); }
  /// See SafetySupervisor::reset_emergency_stop (false: no stop was latched). Real-time safe.
  /// Estimates from before the reset are forgotten.
  [[nodiscard]] bool reset_emergency_stop(double t_s) noexcept {
    const bool was = supervisor_.reset_emergency_stop(t_s);
    if (was) follower_.reset();
    return was;
  }

  /// One read -> update -> write cycle at time t_s with the measured period dt_s. On a read error nothing is
  /// written except a passive command. A read or write error, or a device asking to stop, latches the supervisor
  /// (hardware_fault, like an emergency stop): the output stays passive until reset_emergency_stop(), even when
  /// the device works again. The status is returned for the caller to report.
  [[nodiscard]] HwStatus tick(double t_s, double dt_s) noexcept;

  /// Run tick() at rate_hz on this thread for duration_s of wall time (steady_clock, absolute schedule with
  /// sleep_until; dt is measured). `before_tick(loop, t_s)` runs before each tick (deliver intents there).
  /// Stops early on a hardware error and returns it.
  HwStatus run_realtime(double duration_s, const std::function<void(ControlLoop&, double)>& before_tick = {});

  const ExoState& state() const noexcept { return state_; }
  const Setpoints& desired() const noexcept { return desired_; }  ///< trajectory output before the supervisor
  const ExoCommand& command() const noexcept { return command_; }  ///< what was written
  const SafetySupervisor& supervisor() const noexcept { return supervisor_; }
  const IntentStateMachine& intents() const noexcept { return intents_; }
  const MinimumJerkTrajectory& trajectory() const noexcept { return trajectory_; }
  const LoopStats& stats() const noexcept { return stats_; }
  const ControlLoopSpec& spec() const noexcept { return spec_; }

 private:
  ControlLoop(const ControlLoopSpec& spec, ExoHardware& hw, IntentStateMachine sm, MinimumJerkTrajectory tr,
              JointController ctl, SafetySupervisor sup, KneeAngleFollower follower)
      : spec_(spec), hw_(&hw), intents_(std::move(sm)), trajectory_(std::move(tr)), controller_(std::move(ctl)),
        supervisor_(std::move(sup)), follower_(std::move(follower)) {}

  ControlLoopSpec spec_;
  ExoHardware* hw_;
  IntentStateMachine intents_;
  MinimumJerkTrajectory trajectory_;
  JointController controller_;
  SafetySupervisor supervisor_;
  KneeAngleFollower follower_;
  bool following_ = false;
  ExoState state_{};
  Setpoints desired_{};
  ExoCommand command_{};
  LoopStats stats_{};
  bool replan_ = false;
  SupervisorMode last_mode_ = SupervisorMode::hold;
  double last_setpoint_s_ = 0.0;   // time of the supervisor's last set-points (the previous tick)
  double last_setpoint_dt_s_ = 0.0;  // the period that tick used
};

}  // namespace myoexo::control
