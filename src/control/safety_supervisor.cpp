#include "control/safety_supervisor.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace myoexo::control {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::size_t ri(SafetyReason r) { return static_cast<std::size_t>(r); }
bool command_phase_reason(SafetyReason r) {
  return r == SafetyReason::torque_limit || r == SafetyReason::torque_rate_limit || r == SafetyReason::non_finite_torque;
}
// Largest velocity v for this step (period dt) from which a set-point `distance` away from a limit can still stop
// inside it when it then decelerates at `accel`: v dt + v^2 / (2 a) <= distance. If v meets this, braking by
// a dt' in the next step (any dt' > 0) meets it again at the new distance, so the bound never conflicts with the
// acceleration limit, whatever the jitter of the measured period (derivation in docs/control.md).
double braking_velocity(double distance, double accel, double dt) {
  if (!(distance > 0.0)) return 0.0;
  return accel * (-dt + std::sqrt(dt * dt + 2.0 * distance / accel));
}
}  // namespace

const char* safety_reason_name(SafetyReason reason) noexcept {
  switch (reason) {
    case SafetyReason::position_limit: return "position_limit";
    case SafetyReason::velocity_limit: return "velocity_limit";
    case SafetyReason::acceleration_limit: return "acceleration_limit";
    case SafetyReason::setpoint_rate_limit: return "setpoint_rate_limit";
    case SafetyReason::torque_limit: return "torque_limit";
    case SafetyReason::torque_rate_limit: return "torque_rate_limit";
    case SafetyReason::non_finite_setpoint: return "non_finite_setpoint";
    case SafetyReason::non_finite_torque: return "non_finite_torque";
    case SafetyReason::watchdog: return "watchdog";
    case SafetyReason::stale_intent: return "stale_intent";
    case SafetyReason::sensor_fault: return "sensor_fault";
    case SafetyReason::measured_out_of_range: return "measured_out_of_range";
    case SafetyReason::measured_overspeed: return "measured_overspeed";
    case SafetyReason::measured_non_finite: return "measured_non_finite";
    case SafetyReason::emergency_stop: return "emergency_stop";
    case SafetyReason::emergency_stop_reset: return "emergency_stop_reset";
    case SafetyReason::resync: return "resync";
    case SafetyReason::invalid_period: return "invalid_period";
    case SafetyReason::hardware_fault: return "hardware_fault";
    case SafetyReason::time_regression: return "time_regression";
  }
  return "unknown";
}

const char* supervisor_mode_name(SupervisorMode mode) noexcept {
  switch (mode) {
    case SupervisorMode::normal: return "normal";
    case SupervisorMode::hold: return "hold";
    case SupervisorMode::emergency_stop: return "emergency_stop";
  }
  return "unknown";
}

Result<SafetySupervisor> SafetySupervisor::create(const SafetySupervisorSpec& spec) {
  auto bad = [](const char* why) { return make_error(ErrorCode::invalid_argument, std::string("SafetySupervisor: ") + why); };
  for (const auto& L : spec.limits) {
    if (!std::isfinite(L.position_min_rad) || !std::isfinite(L.position_max_rad) || !(L.position_min_rad < L.position_max_rad))
      return bad("position limits must be finite with min < max");
    for (double v : {L.velocity_max_rad_s, L.acceleration_max_rad_s2, L.setpoint_rate_max_rad_s, L.torque_max_nm,
                     L.torque_rate_max_nm_s})
      if (!(v > 0.0) || !std::isfinite(v)) return bad("velocity, acceleration, rate and torque bounds must be finite and > 0");
  }
  if (!(spec.watchdog_s > 0.0) || !std::isfinite(spec.watchdog_s)) return bad("watchdog_s must be finite and > 0");
  if (!(spec.nominal_period_s > 0.0) || !std::isfinite(spec.nominal_period_s)) return bad("nominal_period_s must be > 0");
  if (!(spec.overspeed_factor >= 1.0)) return bad("overspeed_factor must be >= 1");
  if (!(spec.max_period_factor >= 1.0) || !std::isfinite(spec.max_period_factor))
    return bad("max_period_factor must be finite and >= 1");
  if (!(spec.out_of_range_margin_rad >= 0.0)) return bad("out_of_range_margin_rad must be >= 0");
  if (spec.log_capacity == 0) return bad("log_capacity must be >= 1");
  return SafetySupervisor(spec);
}

SafetySupervisor::SafetySupervisor(const SafetySupervisorSpec& spec) : spec_(spec), log_(spec.log_capacity) { reset(0.0); }

void SafetySupervisor::reset(double t_s) noexcept {
  log_size_ = 0;
  dropped_ = 0;
  counts_ = {};
  estop_ = false;
  hw_fault_latched_ = false;
  restart(t_s);
}

void SafetySupervisor::restart(double /*t_s*/) noexcept {
  for (auto& r : was_) r.fill(false);
  for (auto& r : now_) r.fill(false);
  // A latched stop (estop_, hw_fault_latched_) survives: it is cleared by reset_emergency_stop() only.
  mode_ = estop_ ? SupervisorMode::emergency_stop : SupervisorMode::hold;
  resync_ = true;
  last_intent_s_ = -kInf;
  estop_reset_s_ = -kInf;
  stale_episode_ = false;
  sensor_faults_ = 0;
  t_latest_ = -kInf;
  out_ = {};
  torque_prev_ = {};
}

void SafetySupervisor::log_event(SafetyReason reason, int joint, double t_s, double value, double limit) noexcept {
  if (log_size_ < log_.size()) {
    log_[log_size_++] = SafetyEvent{t_s, reason, joint, value, limit};
  } else {
    ++dropped_;
  }
}

void SafetySupervisor::flag(SafetyReason reason, int joint, double t_s, double value, double limit) noexcept {
  ++counts_[ri(reason)];
  const std::size_t k = static_cast<std::size_t>(joint + 1);
  if (!was_[ri(reason)][k] && !now_[ri(reason)][k]) log_event(reason, joint, t_s, value, limit);
  now_[ri(reason)][k] = true;
}

void SafetySupervisor::end_phase(bool command_phase) noexcept {
  for (std::size_t r = 0; r < kSafetyReasonCount; ++r) {
    if (command_phase_reason(static_cast<SafetyReason>(r)) != command_phase) continue;
    was_[r] = now_[r];
    now_[r].fill(false);
  }
}

bool SafetySupervisor::notify_intent(const Intent& intent, double t_s) noexcept {
  const double age = t_s - intent.emit_s;
  const bool label_ok = static_cast<int>(intent.label) >= 0 && static_cast<std::size_t>(intent.label) < kIntentLabelCount;
  const bool fresh = label_ok && std::isfinite(intent.emit_s) && std::isfinite(t_s) && std::isfinite(intent.confidence) &&
                     intent.confidence >= 0.0 && intent.confidence <= 1.0 && age >= -1e-9 && age <= spec_.watchdog_s &&
                     intent.emit_s >= estop_reset_s_;
  if (fresh) {
    last_intent_s_ = std::max(last_intent_s_, intent.emit_s);
    stale_episode_ = false;
    return true;
  }
  ++counts_[ri(SafetyReason::stale_intent)];
  if (!stale_episode_) log_event(SafetyReason::stale_intent, -1, t_s, age, spec_.watchdog_s);
  stale_episode_ = true;
  return false;
}

void SafetySupervisor::set_sensor_faults(std::uint32_t bits, double t_s) noexcept {
  const std::uint32_t rising = bits & ~sensor_faults_;
  if (rising != 0) log_event(SafetyReason::sensor_fault, -1, t_s, static_cast<double>(bits), 0.0);
  sensor_faults_ = bits;
}

void SafetySupervisor::trigger_emergency_stop(double t_s) noexcept {
  ++counts_[ri(SafetyReason::emergency_stop)];
  if (estop_) return;
  estop_ = true;
  mode_ = SupervisorMode::emergency_stop;
  log_event(SafetyReason::emergency_stop, -1, t_s, 1.0, 0.0);
}

void SafetySupervisor::latch_hardware_fault(double t_s, int what) noexcept {
  ++counts_[ri(SafetyReason::hardware_fault)];
  estop_ = true;
  mode_ = SupervisorMode::emergency_stop;
  torque_prev_.fill(0.0);
  if (!hw_fault_latched_) log_event(SafetyReason::hardware_fault, -1, t_s, what, 0.0);
  hw_fault_latched_ = true;
}

void SafetySupervisor::notify_output_cut(double t_s) noexcept {
  torque_prev_.fill(0.0);
  if (!resync_) log_event(SafetyReason::resync, -1, t_s, 0.0, 0.0);
  resync_ = true;
}

bool SafetySupervisor::reset_emergency_stop(double t_s) noexcept {
  if (!estop_) return false;
  hw_fault_latched_ = false;
  estop_ = false;
  resync_ = true;
  last_intent_s_ = -kInf;
  estop_reset_s_ = t_s;
  mode_ = SupervisorMode::hold;
  ++counts_[ri(SafetyReason::emergency_stop_reset)];
  log_event(SafetyReason::emergency_stop_reset, -1, t_s, 0.0, 0.0);
  return true;
}

double SafetySupervisor::limiting_period(double dt_s) const noexcept {
  // A stalled loop (a long dt) must not widen the bounds of one step: the leg moves at most one limiting period's
  // worth per tick, whatever the wait before it.
  if (!(dt_s > 0.0) || !std::isfinite(dt_s)) return spec_.nominal_period_s;
  return std::min(dt_s, spec_.max_period_factor * spec_.nominal_period_s);
}

SupervisorMode SafetySupervisor::enforce_setpoint(const ExoState& state, Setpoints& sp, double t_s, double dt_s) noexcept {
  const double dt = limiting_period(dt_s);
  if (dt != dt_s) flag(SafetyReason::invalid_period, -1, t_s, dt_s, dt);
  if (estop_) {
    // Passive: the set-point is frozen (it carries no torque); re-synchronised after the reset.
    mode_ = SupervisorMode::emergency_stop;
    for (auto& o : out_) o.velocity_rad_s = o.acceleration_rad_s2 = 0.0;
    resync_ = true;
    sp = out_;
    end_phase(false);
    return mode_;
  }

  bool hold = false;
  // Time that goes backwards (a clock step, a host feeding stale times) holds until it passes the latest time
  // seen: neither the watchdog nor the rate limits can be trusted meanwhile.
  if (!std::isfinite(t_s) || t_s < t_latest_ - 1e-9) {
    flag(SafetyReason::time_regression, -1, t_s, t_s, t_latest_);
    hold = true;
  } else {
    t_latest_ = std::max(t_latest_, t_s);
  }
  for (std::size_t j = 0; j < kJointCount; ++j) {
    const auto& L = spec_.limits[j];
    const double q = state.joints[j].position_rad, v = state.joints[j].velocity_rad_s;
    const int ji = static_cast<int>(j);
    if (!std::isfinite(q) || !std::isfinite(v)) {
      flag(SafetyReason::measured_non_finite, ji, t_s, std::isfinite(q) ? v : q, 0.0);
      hold = true;
    } else if (q < L.position_min_rad - spec_.out_of_range_margin_rad || q > L.position_max_rad + spec_.out_of_range_margin_rad) {
      flag(SafetyReason::measured_out_of_range, ji, t_s, q, q < L.position_min_rad ? L.position_min_rad : L.position_max_rad);
      hold = true;
    } else if (std::abs(v) > spec_.overspeed_factor * L.velocity_max_rad_s) {
      flag(SafetyReason::measured_overspeed, ji, t_s, v, spec_.overspeed_factor * L.velocity_max_rad_s);
      hold = true;
    }
  }
  if (sensor_faults_ != 0) {
    ++counts_[ri(SafetyReason::sensor_fault)];  // logged once per onset by set_sensor_faults()
    hold = true;
  }
  const double intent_age = t_s - last_intent_s_;
  // A negative age (the last intent is stamped after this tick) is no evidence of a live decoder: hold.
  if (!(intent_age <= spec_.watchdog_s && intent_age >= -1e-9)) {
    flag(SafetyReason::watchdog, -1, t_s, intent_age, spec_.watchdog_s);
    hold = true;
  }
  for (std::size_t j = 0; j < kJointCount; ++j) {
    if (!std::isfinite(sp[j].position_rad)) {
      flag(SafetyReason::non_finite_setpoint, static_cast<int>(j), t_s, sp[j].position_rad, 0.0);
      hold = true;
    }
  }

  if (resync_) {
    // A new active segment (first tick, after an e-stop reset): start from the measured posture at rest.
    for (std::size_t j = 0; j < kJointCount; ++j) {
      const auto& L = spec_.limits[j];
      const double q = state.joints[j].position_rad;
      out_[j] = JointSetpoint{std::clamp(std::isfinite(q) ? q : out_[j].position_rad, L.position_min_rad, L.position_max_rad), 0.0, 0.0};
    }
    ++counts_[ri(SafetyReason::resync)];
    log_event(SafetyReason::resync, -1, t_s, 0.0, 0.0);
    resync_ = false;
    mode_ = hold ? SupervisorMode::hold : SupervisorMode::normal;
    sp = out_;
    end_phase(false);
    return mode_;
  }

  for (std::size_t j = 0; j < kJointCount; ++j) {
    const auto& L = spec_.limits[j];
    const JointSetpoint prev = out_[j];
    const double a_max = L.acceleration_max_rad_s2;
    const double v_max = std::min(L.velocity_max_rad_s, L.setpoint_rate_max_rad_s);
    double q_des;
    if (hold) {
      // Controlled hold: decelerate at the acceleration limit and stay where that lands.
      const double v_stop = std::copysign(std::max(std::abs(prev.velocity_rad_s) - a_max * dt, 0.0), prev.velocity_rad_s);
      q_des = prev.position_rad + v_stop * dt;
    } else {
      q_des = sp[j].position_rad;
    }
    const double v_des = (q_des - prev.position_rad) / dt;
    const double brake_up = braking_velocity(L.position_max_rad - prev.position_rad, a_max, dt);
    const double brake_down = braking_velocity(prev.position_rad - L.position_min_rad, a_max, dt);
    double hi = std::min({v_max, prev.velocity_rad_s + a_max * dt, brake_up});
    double lo = std::max({-v_max, prev.velocity_rad_s - a_max * dt, -brake_down});
    const int ji = static_cast<int>(j);
    if (lo > hi) {
      // Only reachable through rounding: position and velocity win over acceleration.
      flag(SafetyReason::acceleration_limit, ji, t_s, (v_des - prev.velocity_rad_s) / dt, a_max);
      hi = std::min(v_max, brake_up);
      lo = std::max(-v_max, -brake_down);
      if (lo > hi) lo = hi = 0.0;
    }
    double v = std::clamp(v_des, lo, hi);
    if (!hold && v != v_des) {
      const bool up = v_des > hi;
      const double bound = up ? hi : -lo;
      const double brake = up ? brake_up : brake_down;
      SafetyReason why;
      if (bound == brake) why = SafetyReason::position_limit;
      else if (bound == v_max) why = L.setpoint_rate_max_rad_s < L.velocity_max_rad_s ? SafetyReason::setpoint_rate_limit
                                                                                       : SafetyReason::velocity_limit;
      else why = SafetyReason::acceleration_limit;
      const double value = why == SafetyReason::acceleration_limit ? (v_des - prev.velocity_rad_s) / dt
                           : why == SafetyReason::position_limit   ? q_des
                                                                   : v_des;
      const double limit = why == SafetyReason::acceleration_limit ? a_max
                           : why == SafetyReason::position_limit   ? (up ? L.position_max_rad : L.position_min_rad)
                                                                   : v_max;
      flag(why, ji, t_s, value, limit);
    }
    double q = prev.position_rad + v * dt;
    if (q > L.position_max_rad || q < L.position_min_rad) {
      flag(SafetyReason::position_limit, ji, t_s, q, q > L.position_max_rad ? L.position_max_rad : L.position_min_rad);
      q = std::clamp(q, L.position_min_rad, L.position_max_rad);
      v = (q - prev.position_rad) / dt;
    }
    out_[j] = JointSetpoint{q, v, (v - prev.velocity_rad_s) / dt};
  }
  mode_ = hold ? SupervisorMode::hold : SupervisorMode::normal;
  sp = out_;
  end_phase(false);
  return mode_;
}

void SafetySupervisor::enforce_command(ExoCommand& cmd, double t_s, double dt_s) noexcept {
  const double dt = limiting_period(dt_s);
  for (std::size_t j = 0; j < kJointCount; ++j) {
    cmd.position_rad[j] = out_[j].position_rad;
    cmd.velocity_rad_s[j] = out_[j].velocity_rad_s;
  }
  if (estop_ || cmd.mode == CommandMode::passive) {
    // The one exception to the torque-rate limit: an emergency stop (or a passive command) cuts torque at once;
    // zero torque is the safe state of a back-drivable joint.
    cmd.mode = CommandMode::passive;
    cmd.torque_nm.fill(0.0);
    torque_prev_.fill(0.0);
    end_phase(true);
    return;
  }
  for (std::size_t j = 0; j < kJointCount; ++j) {
    const auto& L = spec_.limits[j];
    const int ji = static_cast<int>(j);
    double tau = cmd.torque_nm[j];
    if (!std::isfinite(tau)) {
      flag(SafetyReason::non_finite_torque, ji, t_s, tau, 0.0);
      tau = 0.0;  // ramps towards zero at the rate limit below
    }
    const double step = L.torque_rate_max_nm_s * dt;
    const double hi = std::min(L.torque_max_nm, torque_prev_[j] + step);
    const double lo = std::max(-L.torque_max_nm, torque_prev_[j] - step);
    if (tau > hi || tau < lo) {
      const bool up = tau > hi;
      const bool magnitude = up ? hi == L.torque_max_nm : lo == -L.torque_max_nm;
      flag(magnitude ? SafetyReason::torque_limit : SafetyReason::torque_rate_limit, ji, t_s, tau,
           magnitude ? L.torque_max_nm : L.torque_rate_max_nm_s);
      tau = std::clamp(tau, lo, hi);
    }
    cmd.torque_nm[j] = tau;
    torque_prev_[j] = tau;
  }
  end_phase(true);
}

}  // namespace myoexo::control
