// myoexo::control — the safety supervisor between controller and actuators.
//
// Two calls per tick bracket the controller (as ros2_control's joint limiters bracket position and effort):
//   enforce_setpoint(): decides the mode (normal / hold / emergency stop) and limits the set-points: position
//     range, velocity, acceleration, set-point rate, with a braking-distance bound so that a set-point moving
//     towards a limit always stops inside it without exceeding the acceleration bound;
//   enforce_command(): limits the controller's torque (magnitude and rate), cuts it on emergency stop.
// Hold causes: watchdog (no fresh intent within watchdog_s), sensor faults (from SensorFaultDetector), measured
// state out of range / overspeed / non-finite, non-finite set-points. A hold is "controlled": the set-point
// decelerates to rest at the acceleration limit and stays there. The emergency stop latches (passive, zero torque)
// until reset_emergency_stop(); afterwards the supervisor holds until a fresh intent arrives. A fault or stop reported
// by the hardware (latch_hardware_fault) latches the same way: motion never resumes by itself after a device
// failure. Time that goes backwards (a tick or the last fresh intent later than the tick's time) holds.
// Every intervention is counted per reason and logged (rising edge per reason and joint) into a log preallocated
// by create(): enforce_*() never allocate, throw, print or lock.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "control/exo_types.hpp"
#include "control/intent.hpp"
#include "core/error.hpp"

namespace myoexo::control {

/// Why the supervisor intervened.
enum class SafetyReason : int {
  position_limit = 0,       ///< set-point clamped/braked at the position range
  velocity_limit,           ///< set-point velocity clamped
  acceleration_limit,       ///< set-point acceleration clamped
  setpoint_rate_limit,      ///< set-point step clamped by the rate limit
  torque_limit,             ///< torque magnitude clamped
  torque_rate_limit,        ///< torque change clamped
  non_finite_setpoint,      ///< NaN/Inf set-point replaced by a hold
  non_finite_torque,        ///< NaN/Inf torque replaced (ramped to zero)
  watchdog,                 ///< no fresh intent within watchdog_s: hold
  stale_intent,             ///< an intent arrived too old (or with bad time/confidence) and was not counted as fresh
  sensor_fault,             ///< EMG sensor fault flagged: hold (value = fault bits)
  measured_out_of_range,    ///< measured joint position beyond limits + margin: hold
  measured_overspeed,       ///< measured joint velocity beyond overspeed factor x limit: hold
  measured_non_finite,      ///< measured state NaN/Inf: hold
  emergency_stop,           ///< latched emergency stop: passive, zero torque
  emergency_stop_reset,     ///< explicit reset of the latch
  resync,                   ///< set-point re-synchronised to the measured posture (activation, after e-stop)
  invalid_period,           ///< dt non-finite or <= 0 (the nominal period was used), or longer than
                            ///< max_period_factor x nominal (a stalled loop: limited as one that long)
  hardware_fault,           ///< the hardware reported an error or asked to stop (value = 1 read, 2 write,
                            ///< 3 device stop): latched like an emergency stop
  time_regression,          ///< the tick time went backwards (value = t, limit = the latest time seen): hold
};
inline constexpr std::size_t kSafetyReasonCount = 20;
const char* safety_reason_name(SafetyReason reason) noexcept;

/// One logged intervention.
struct SafetyEvent {
  double t_s = 0.0;
  SafetyReason reason = SafetyReason::position_limit;
  int joint = -1;        ///< Joint index, or -1 when not about one joint
  double value = 0.0;    ///< the offending value (rad, rad/s, N m, fault bits, intent age [s] ...)
  double limit = 0.0;    ///< the bound it was held to (same unit), 0 when none
};

enum class SupervisorMode : int { normal = 0, hold = 1, emergency_stop = 2 };
const char* supervisor_mode_name(SupervisorMode mode) noexcept;

struct SafetySupervisorSpec {
  ExoLimits limits = default_joint_limits();
  double watchdog_s = 0.3;               ///< max age of the last fresh intent before a hold [s], > 0
  double nominal_period_s = 0.001;       ///< used when the measured dt is invalid [s], > 0
  /// A measured dt longer than this many nominal periods (the loop stalled) is limited as a period of that length:
  /// the step, acceleration and torque-rate bounds never grow with a stall. >= 1.
  double max_period_factor = 4.0;
  double overspeed_factor = 1.5;         ///< measured |v| > factor * velocity_max -> hold, >= 1
  double out_of_range_margin_rad = 0.05; ///< measured q beyond the range by more than this -> hold, >= 0
  std::size_t log_capacity = 4096;       ///< events kept; further ones are counted as dropped, >= 1
};

class SafetySupervisor {
 public:
  /// Validates limits (min < max, all bounds > 0 and finite) and allocates the log.
  static Result<SafetySupervisor> create(const SafetySupervisorSpec& spec);

  /// Start over at time t_s: log and counters cleared, latch cleared, no fresh intent yet (holds until one arrives),
  /// set-points re-synchronised to the measured posture on the next enforce_setpoint().
  void reset(double t_s = 0.0) noexcept;
  /// A re-activation of the same exoskeleton: no fresh intent yet, set-points re-synchronised, time restarts; the
  /// safety log, its drop count and the intervention counts are kept, and so is a latched emergency stop or
  /// hardware fault: only reset_emergency_stop() clears it, never a deactivate / activate cycle.
  void restart(double t_s) noexcept;

  /// Offer an intent at time t_s. Fresh = finite times and confidence, emitted no later than t_s and not older
  /// than watchdog_s; only fresh intents feed the watchdog. Returns whether it was fresh.
  bool notify_intent(const Intent& intent, double t_s) noexcept;
  /// Current sensor-fault bits (SensorFaultBits), e.g. SensorFaultDetector::faults(); non-zero -> hold.
  void set_sensor_faults(std::uint32_t bits, double t_s) noexcept;
  /// Latch the emergency stop (idempotent).
  void trigger_emergency_stop(double t_s) noexcept;
  /// The hardware failed or stopped itself (`what`: 1 read error, 2 write error, 3 the device asked to stop):
  /// latched like an emergency stop (passive, zero torque) until reset_emergency_stop(); logged once per latch.
  void latch_hardware_fault(double t_s, int what) noexcept;
  /// Whether a stop (emergency or hardware fault) is latched.
  bool stop_latched() const noexcept { return estop_; }
  /// The loop cut the actuators outside this supervisor (a failed hardware read wrote passive zero torque):
  /// the next command's torque-rate limit starts from zero and the set-point re-synchronises to the measured
  /// posture, so recovering from the outage cannot jump the torque.
  void notify_output_cut(double t_s) noexcept;
  /// Explicitly clear the latch. The supervisor then re-synchronises to the measured posture and holds until a
  /// fresh intent emitted after t_s arrives. Returns false (and changes nothing) when no stop is latched.
  /// A bool, not a Status: a UI may call it every tick while a button is held, and an Error would allocate its
  /// reason string on every refused call.
  [[nodiscard]] bool reset_emergency_stop(double t_s) noexcept;

  /// Phase 1 (before the controller): limit `setpoints` in place for time t_s with measured period dt_s.
  /// Output: positions in range, |velocity| <= min(velocity_max, setpoint_rate_max), |acceleration| <=
  /// acceleration_max, and (q_k - q_{k-1}) / dt = velocity_k. Returns the mode for this tick.
  SupervisorMode enforce_setpoint(const ExoState& state, Setpoints& setpoints, double t_s, double dt_s) noexcept;
  /// Phase 2 (after the controller): overwrite the command's set-points with phase 1's output and limit its
  /// torques (|tau| <= torque_max, |tau_k - tau_{k-1}| <= torque_rate_max dt); on emergency stop: passive, zero.
  void enforce_command(ExoCommand& command, double t_s, double dt_s) noexcept;

  SupervisorMode mode() const noexcept { return mode_; }
  /// Set-points produced by the last enforce_setpoint().
  const Setpoints& last_setpoints() const noexcept { return out_; }
  /// Time of the last fresh intent's emission [s] (-inf when none).
  double last_fresh_intent_s() const noexcept { return last_intent_s_; }
  /// Logged events, oldest first (at most log_capacity).
  std::span<const SafetyEvent> events() const noexcept { return {log_.data(), log_size_}; }
  std::uint64_t dropped_events() const noexcept { return dropped_; }
  /// Per-reason tick counts (index = SafetyReason value): how many times each intervention happened.
  const std::array<std::uint64_t, kSafetyReasonCount>& intervention_counts() const noexcept { return counts_; }
  std::uint64_t intervention_count(SafetyReason r) const noexcept { return counts_[static_cast<std::size_t>(r)]; }
  const SafetySupervisorSpec& spec() const noexcept { return spec_; }

 private:
  explicit SafetySupervisor(const SafetySupervisorSpec& spec);
  double limiting_period(double dt_s) const noexcept;  ///< the dt the bounds of one step are computed with
  void flag(SafetyReason reason, int joint, double t_s, double value, double limit) noexcept;
  void log_event(SafetyReason reason, int joint, double t_s, double value, double limit) noexcept;
  void end_phase(bool command_phase) noexcept;

  SafetySupervisorSpec spec_;
  std::vector<SafetyEvent> log_;  // sized once in create()
  std::size_t log_size_ = 0;
  std::uint64_t dropped_ = 0;
  std::array<std::uint64_t, kSafetyReasonCount> counts_{};
  // Episode tracking for the log: [reason][joint + 1], was active last tick / is active this tick.
  std::array<std::array<bool, kJointCount + 1>, kSafetyReasonCount> was_{}, now_{};

  SupervisorMode mode_ = SupervisorMode::hold;
  bool estop_ = false;
  bool resync_ = true;
  double last_intent_s_ = 0.0;
  double estop_reset_s_ = 0.0;
  bool stale_episode_ = false;
  bool hw_fault_latched_ = false;
  double t_latest_ = -std::numeric_limits<double>::infinity();  // latest tick time seen (time regression check)
  std::uint32_t sensor_faults_ = 0;
  Setpoints out_{};
  std::array<double, kJointCount> torque_prev_{};
};

}  // namespace myoexo::control
