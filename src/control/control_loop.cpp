#include "control/control_loop.hpp"

#include <chrono>
#include <cmath>
#include <thread>

namespace myoexo::control {

Result<ControlLoop> ControlLoop::create(const ControlLoopSpec& spec, ExoHardware& hardware) {
  if (!(spec.rate_hz >= 100.0 && spec.rate_hz <= 5000.0))
    return make_error(ErrorCode::invalid_argument, "ControlLoop: rate_hz must be in [100, 5000]");
  auto sm = IntentStateMachine::create(spec.intents);
  if (!sm) return sm.error();
  auto tr = MinimumJerkTrajectory::create(spec.trajectory);
  if (!tr) return tr.error();
  auto ctl = JointController::create(spec.controller);
  if (!ctl) return ctl.error();
  SafetySupervisorSpec sup_spec = spec.supervisor;
  sup_spec.nominal_period_s = 1.0 / spec.rate_hz;
  auto sup = SafetySupervisor::create(sup_spec);
  if (!sup) return sup.error();
  auto follower = KneeAngleFollower::create(spec.proportional);
  if (!follower) return follower.error();
  return ControlLoop(spec, hardware, std::move(sm).value(), std::move(tr).value(), std::move(ctl).value(),
                     std::move(sup).value(), std::move(follower).value());
}

Status ControlLoop::configure() { return hw_->configure(); }

Status ControlLoop::activate(double t_s) {
  Status st = hw_->activate();
  if (!st) return st;
  supervisor_.restart(t_s);  // the safety log and a latched stop survive re-activation
  intents_.reset(t_s);
  // Still stopped: after the explicit reset, the intent being asked for must change before the leg moves again.
  if (supervisor_.stop_latched()) intents_.hold_until_change(t_s);
  follower_.reset();
  following_ = false;
  stats_ = {};
  replan_ = false;
  last_mode_ = SupervisorMode::hold;
  last_setpoint_s_ = t_s;
  last_setpoint_dt_s_ = 1.0 / spec_.rate_hz;
  return {};
}

Status ControlLoop::deactivate() { return hw_->deactivate(); }

void ControlLoop::push_intent(const Intent& intent, double t_s) noexcept {
  ++stats_.intents_offered;
  if (!supervisor_.notify_intent(intent, t_s)) return;  // stale intents neither feed the watchdog nor move the leg
  ++stats_.intents_fresh;
  if (intents_.update(intent, t_s) == TransitionOutcome::accepted) {
    ++stats_.intents_accepted;
    replan_ = true;
  }
}

void ControlLoop::trigger_emergency_stop(double t_s) noexcept {
  supervisor_.trigger_emergency_stop(t_s);
  intents_.hold_until_change(t_s);
}

HwStatus ControlLoop::tick(double t_s, double dt_s) noexcept {
  ++stats_.ticks;
  const double period = 1.0 / spec_.rate_hz;
  if (dt_s > 1.5 * period) ++stats_.deadline_misses;
  if (dt_s > stats_.max_dt_s) stats_.max_dt_s = dt_s;

  const HwStatus rs = hw_->read(t_s, dt_s, state_);
  if (rs != HwStatus::ok) {
    // A device that failed (or stopped itself) is not trusted again until someone resets the latch.
    ++stats_.read_errors;
    supervisor_.latch_hardware_fault(t_s, rs == HwStatus::deactivate ? 3 : 1);
    intents_.hold_until_change(t_s);
    command_.mode = CommandMode::passive;
    command_.torque_nm.fill(0.0);
    supervisor_.notify_output_cut(t_s);
    (void)hw_->write(t_s, dt_s, command_);
    last_mode_ = SupervisorMode::emergency_stop;
    return rs;
  }

  // While the supervisor holds, the trajectory follows its held set-point, so that leaving the hold continues
  // from there; an accepted intent (or the end of a hold) starts a new segment from the last safe set-point.
  bool replanned = false;  // a segment started this tick from the last safe set-points
  if (last_mode_ != SupervisorMode::normal) {
    trajectory_.rebase(t_s, supervisor_.last_setpoints());
  } else if (replan_) {
    // The last safe set-point belongs to the previous tick: the segment starts THERE (time and state), so this
    // tick continues it by one period instead of repeating the old position (a step the supervisor would brake
    // at a_max). The supervisor's velocity is a backward difference, half a period behind the derivative:
    // v(t) = v_k + a_k dt / 2 makes the next backward difference continue the acceleration exactly.
    Setpoints from = supervisor_.last_setpoints();
    for (auto& s : from) s.velocity_rad_s += 0.5 * s.acceleration_rad_s2 * last_setpoint_dt_s_;
    trajectory_.start(intents_.active(), last_setpoint_s_, from);
    replan_ = false;
    replanned = true;
  }
  desired_ = trajectory_.evaluate(t_s);
  // Proportional knee: while the active intent allows it and estimates are fresh, the knee follows them from the
  // last safe set-point; when following ends, the intent's trajectory restarts from where the knee is.
  const std::size_t knee = static_cast<std::size_t>(Joint::knee);
  if (last_mode_ == SupervisorMode::normal && follower_.active(intents_.active(), t_s)) {
    // Every tick from what the supervisor let through: a clamp (a limit the estimate asked to pass) is where the
    // next step starts, never a set-point only the follower believes in.
    follower_.start(supervisor_.last_setpoints()[knee]);
    following_ = true;
    desired_[knee] = follower_.step((dt_s > 0.0 && std::isfinite(dt_s)) ? dt_s : 1.0 / spec_.rate_hz);
  } else if (following_) {
    following_ = false;
    if (last_mode_ == SupervisorMode::normal && !replanned) {
      // Continue the intent's motion from the follower's set-point (this tick) instead of jumping back to the
      // trajectory's knee, and let the next tick start a fresh segment from the supervisor's set-point.
      desired_[knee] = follower_.step((dt_s > 0.0 && std::isfinite(dt_s)) ? dt_s : 1.0 / spec_.rate_hz);
      replan_ = true;
    }
  }
  Setpoints safe = desired_;
  const std::uint64_t resyncs = supervisor_.intervention_count(SafetyReason::resync);
  const SupervisorMode mode = supervisor_.enforce_setpoint(state_, safe, t_s, dt_s);
  last_setpoint_s_ = t_s;
  last_setpoint_dt_s_ = (dt_s > 0.0 && std::isfinite(dt_s)) ? dt_s : 1.0 / spec_.rate_hz;
  if (mode != SupervisorMode::normal) {
    // Documented contract (docs/control.md): after a hold the user must ask again; the label being asked for
    // when the hold began stays blocked until the intent changes (or resume_after_hold()).
    intents_.hold_until_change(t_s);
  } else if (last_mode_ != SupervisorMode::normal ||
             supervisor_.intervention_count(SafetyReason::resync) != resyncs) {
    replan_ = true;  // re-synchronised set-points: the segment restarts from them
  }
  last_mode_ = mode;
  controller_.update(state_, safe, command_);
  supervisor_.enforce_command(command_, t_s, dt_s);
  const HwStatus ws = hw_->write(t_s, dt_s, command_);
  if (ws != HwStatus::ok) {
    ++stats_.write_errors;
    supervisor_.latch_hardware_fault(t_s, ws == HwStatus::deactivate ? 3 : 2);
    intents_.hold_until_change(t_s);
  }
  return ws;
}

HwStatus ControlLoop::run_realtime(double duration_s, const std::function<void(ControlLoop&, double)>& before_tick) {
  using clock = std::chrono::steady_clock;
  const auto period = std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(1.0 / spec_.rate_hz));
  const auto start = clock::now();
  auto next = start;
  auto last = start;
  const auto end = start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(duration_s));
  while (true) {
    const auto now = clock::now();
    if (now >= end) break;
    const double t_s = std::chrono::duration<double>(now - start).count();
    const double dt_s = now == start ? 1.0 / spec_.rate_hz : std::chrono::duration<double>(now - last).count();
    last = now;
    if (before_tick) before_tick(*this, t_s);
    const HwStatus st = tick(t_s, dt_s);
    if (st != HwStatus::ok) return st;
    next += period;
    if (next < clock::now()) next = clock::now();  // missed: skip ahead instead of bursting to catch up
    std::this_thread::sleep_until(next);
  }
  return HwStatus::ok;
}

}  // namespace myoexo::control
