#include "control/control_loop.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <new>

#include "hw/mock_exo.hpp"

// Allocation counter for the real-time claim: every operator new in this test binary is counted.
namespace {
std::atomic<std::uint64_t> g_allocations{0};
}
void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// Our operator new is malloc, so free is the matching release; GCC cannot see that through inlining.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace myoexo::control {
namespace {

constexpr double kDt = 0.001;

struct Rig {
  hw::MockExo mock;
  ControlLoop loop;
  explicit Rig(ControlLoopSpec spec = {}) : mock(), loop(ControlLoop::create(spec, mock).value()) {
    EXPECT_TRUE(loop.configure().ok());
    EXPECT_TRUE(loop.activate(0.0).ok());
  }
  // Run from t0 to t1, offering `label` every 50 ms (like the intent pipeline's hop) while `intents` is true.
  void run(double t0, double t1, IntentLabel label, bool intents = true) {
    for (long k = std::lround(t0 / kDt); k < std::lround(t1 / kDt); ++k) {
      const double t = k * kDt;
      if (intents && k % 50 == 0) loop.push_intent(Intent{label, 0.95, t - 0.002, t}, t);
      ASSERT_EQ(loop.tick(t, kDt), HwStatus::ok);
    }
  }
};

TEST(ControlLoop, LiftIntentMovesLegToLiftTarget) {
  Rig rig;
  rig.run(0.0, 3.0, IntentLabel::lift);
  EXPECT_EQ(rig.loop.intents().active(), IntentLabel::lift);
  const auto& target = rig.loop.spec().trajectory.lift_target_rad;
  EXPECT_NEAR(rig.loop.state().joints[0].position_rad, target[0], 1e-3);
  EXPECT_NEAR(rig.loop.state().joints[1].position_rad, target[1], 1e-3);
  EXPECT_EQ(rig.loop.supervisor().mode(), SupervisorMode::normal);
  // Then lower back to neutral.
  rig.run(3.0, 6.0, IntentLabel::lower);
  EXPECT_NEAR(rig.loop.state().joints[1].position_rad, rig.loop.spec().trajectory.neutral_rad[1], 1e-3);
}

TEST(ControlLoop, WatchdogHoldsWhenIntentsStop) {
  Rig rig;
  rig.run(0.0, 1.5, IntentLabel::gait);
  ASSERT_EQ(rig.loop.supervisor().mode(), SupervisorMode::normal);
  const double last_intent = rig.loop.supervisor().last_fresh_intent_s();
  double hold_at = -1.0;
  for (long k = 1500; k < 2500; ++k) {
    const double t = k * kDt;
    ASSERT_EQ(rig.loop.tick(t, kDt), HwStatus::ok);
    if (hold_at < 0 && rig.loop.supervisor().mode() == SupervisorMode::hold) hold_at = t;
  }
  ASSERT_GT(hold_at, 0.0);
  EXPECT_LE(hold_at - last_intent, rig.loop.spec().supervisor.watchdog_s + kDt + 1e-9);
  // Controlled hold: at rest at the end, intent state forced to hold.
  EXPECT_DOUBLE_EQ(rig.loop.command().velocity_rad_s[0], 0.0);
  EXPECT_EQ(rig.loop.intents().active(), IntentLabel::hold);
}

TEST(ControlLoop, EmergencyStopWritesPassiveZeroTorque) {
  Rig rig;
  rig.run(0.0, 1.0, IntentLabel::lift);
  rig.loop.trigger_emergency_stop(1.0);
  rig.run(1.0, 1.2, IntentLabel::lift);
  EXPECT_EQ(rig.mock.last_command().mode, CommandMode::passive);
  EXPECT_DOUBLE_EQ(rig.loop.command().torque_nm[0], 0.0);
  ASSERT_TRUE(rig.loop.reset_emergency_stop(1.2));
  rig.run(1.2, 3.0, IntentLabel::lift);
  EXPECT_EQ(rig.loop.supervisor().mode(), SupervisorMode::normal);
}

TEST(ControlLoop, ReadErrorIsReturnedAndCommandIsPassive) {
  hw::MockExoSpec mspec;
  mspec.fail_read_at = 10;
  hw::MockExo mock(mspec);
  auto loop = ControlLoop::create({}, mock).value();
  ASSERT_TRUE(loop.configure().ok());
  ASSERT_TRUE(loop.activate(0.0).ok());
  HwStatus st = HwStatus::ok;
  int k = 0;
  for (; k < 20 && st == HwStatus::ok; ++k) st = loop.tick(k * kDt, kDt);
  EXPECT_EQ(st, HwStatus::error);
  EXPECT_EQ(k, 10);
  EXPECT_EQ(loop.stats().read_errors, 1u);
  EXPECT_EQ(loop.command().mode, CommandMode::passive);
}

// A back-end whose read fails once and then recovers without re-activation (a serial hiccup).
class FlakyReadExo final : public ExoHardware {
 public:
  explicit FlakyReadExo(std::uint64_t fail_at) : fail_at_(fail_at) {}
  Status configure() override { return mock_.configure(); }
  Status activate() override { return mock_.activate(); }
  Status deactivate() override { return mock_.deactivate(); }
  HwStatus read(double t_s, double dt_s, ExoState& state) noexcept override {
    if (++reads_ == fail_at_) return HwStatus::error;
    return mock_.read(t_s, dt_s, state);
  }
  HwStatus write(double t_s, double dt_s, const ExoCommand& command) noexcept override {
    return mock_.write(t_s, dt_s, command);
  }
  LifecycleState lifecycle_state() const noexcept override { return mock_.lifecycle_state(); }
  const char* name() const noexcept override { return "flaky"; }

 private:
  hw::MockExo mock_;
  std::uint64_t fail_at_ = 0, reads_ = 0;
};

// A device that failed once is not trusted again by itself: the output stays passive (the supervisor latched a
// hardware fault, like an emergency stop) although every later read succeeds, until an explicit reset; after the
// reset and a fresh intent, torque ramps up from zero at the rate limit.
TEST(ControlLoop, ReadErrorLatchesUntilResetThenTorqueRampsFromZero) {
  FlakyReadExo hw(1000);  // fails mid-lift, when the joints carry torque
  auto loop = ControlLoop::create({}, hw).value();
  ASSERT_TRUE(loop.configure().ok());
  ASSERT_TRUE(loop.activate(0.0).ok());
  double torque_before = 0.0;
  const long reset_at = 1300;
  for (long k = 0; k < 1700; ++k) {
    const double t = k * kDt;
    // The person asks for lift, then (after the reset) asks for it again as a new intent: lower, then lift.
    IntentLabel asked = k < reset_at ? IntentLabel::lift : (k < reset_at + 100 ? IntentLabel::lower : IntentLabel::lift);
    if (k % 50 == 0) loop.push_intent(Intent{asked, 0.95, t - 0.002, t}, t);
    if (k == reset_at) {
      EXPECT_TRUE(loop.reset_emergency_stop(t));
    }
    const HwStatus st = loop.tick(t, kDt);
    if (k == 998) torque_before = std::abs(loop.command().torque_nm[0]) + std::abs(loop.command().torque_nm[1]);
    if (k == 999) {
      ASSERT_EQ(st, HwStatus::error);
      EXPECT_EQ(loop.command().mode, CommandMode::passive);
      EXPECT_EQ(loop.supervisor().mode(), SupervisorMode::emergency_stop);
      continue;
    }
    ASSERT_EQ(st, HwStatus::ok) << "tick " << k;
    if (k > 999 && k < reset_at) {
      ASSERT_EQ(loop.supervisor().mode(), SupervisorMode::emergency_stop) << "tick " << k << ": resumed by itself";
      ASSERT_EQ(loop.command().mode, CommandMode::passive);
      ASSERT_EQ(loop.command().torque_nm[0], 0.0);
      ASSERT_EQ(loop.command().torque_nm[1], 0.0);
    }
    if (k == reset_at) {
      // The first command after the reset (this tick) may only move one torque-rate step away from zero.
      for (std::size_t j = 0; j < kJointCount; ++j) {
        const double step = loop.spec().supervisor.limits[j].torque_rate_max_nm_s * kDt;
        EXPECT_LE(std::abs(loop.command().torque_nm[j]), step + 1e-12) << "joint " << j;
      }
    }
  }
  EXPECT_GT(torque_before, 0.0);  // the outage really cut a loaded joint
  EXPECT_EQ(loop.stats().read_errors, 1u);
  EXPECT_EQ(loop.supervisor().intervention_count(SafetyReason::hardware_fault), 1u);
  EXPECT_EQ(loop.supervisor().mode(), SupervisorMode::normal);  // moving again after the reset and a new intent
  bool logged = false;
  for (const auto& e : loop.supervisor().events()) logged = logged || e.reason == SafetyReason::hardware_fault;
  EXPECT_TRUE(logged);
}

// The safety log is a record of the device, not of one activation: re-activating keeps it.
TEST(ControlLoop, SafetyLogSurvivesReactivation) {
  hw::MockExo mock;
  auto loop = ControlLoop::create({}, mock).value();
  ASSERT_TRUE(loop.configure().ok());
  ASSERT_TRUE(loop.activate(0.0).ok());
  loop.trigger_emergency_stop(0.01);
  (void)loop.tick(0.01, kDt);
  const auto before = loop.supervisor().events().size();
  ASSERT_GT(before, 0u);
  ASSERT_TRUE(loop.deactivate().ok());
  ASSERT_TRUE(loop.activate(1.0).ok());
  EXPECT_GE(loop.supervisor().events().size(), before);
  bool estop_logged = false;
  for (const auto& e : loop.supervisor().events()) estop_logged = estop_logged || e.reason == SafetyReason::emergency_stop;
  EXPECT_TRUE(estop_logged);
}

// A deactivate / activate cycle is not a reset: the e-stop stays latched (passive output, whatever intents
// arrive) until the explicit reset, and then the intent asked for during the stop does not restart motion.
TEST(ControlLoop, ReactivationKeepsALatchedStop) {
  hw::MockExo mock;
  auto loop = ControlLoop::create({}, mock).value();
  ASSERT_TRUE(loop.configure().ok());
  ASSERT_TRUE(loop.activate(0.0).ok());
  loop.trigger_emergency_stop(0.01);
  ASSERT_TRUE(loop.deactivate().ok());
  ASSERT_TRUE(loop.activate(0.0).ok());  // time restarts with the activation
  EXPECT_TRUE(loop.supervisor().stop_latched());
  double t = 0.0;
  for (long k = 0; k < 500; ++k) {
    t = k * kDt;
    if (k % 20 == 0) loop.push_intent(Intent{IntentLabel::lift, 0.95, t - 0.001, t}, t);
    ASSERT_EQ(loop.tick(t, kDt), HwStatus::ok);
    ASSERT_EQ(loop.supervisor().mode(), SupervisorMode::emergency_stop) << "tick " << k;
    ASSERT_EQ(mock.last_command().mode, CommandMode::passive) << "tick " << k;
  }
  ASSERT_TRUE(loop.reset_emergency_stop(t));
  for (long k = 500; k < 1500; ++k) {
    t = k * kDt;
    if (k % 20 == 0) loop.push_intent(Intent{IntentLabel::lift, 0.95, t - 0.001, t}, t);
    ASSERT_EQ(loop.tick(t, kDt), HwStatus::ok);
  }
  EXPECT_NE(loop.intents().active(), IntentLabel::lift) << "the same intent does not restart motion after the stop";
  EXPECT_TRUE(loop.intents().awaiting_change());
}

// Time that goes backwards holds the leg (the watchdog cannot be trusted on a negative intent age).
TEST(ControlLoop, TimeGoingBackwardsHolds) {
  hw::MockExo mock;
  auto loop = ControlLoop::create({}, mock).value();
  ASSERT_TRUE(loop.configure().ok());
  ASSERT_TRUE(loop.activate(0.0).ok());
  long k = 0;
  for (; k < 600; ++k) {
    const double t = k * kDt;
    if (k % 20 == 0) loop.push_intent(Intent{IntentLabel::gait, 0.95, t - 0.001, t}, t);
    (void)loop.tick(t, kDt);
  }
  ASSERT_EQ(loop.supervisor().mode(), SupervisorMode::normal);
  // The clock jumps back by 2 s: every tick until it has caught up holds, whatever intents claim.
  for (long i = 0; i < 200; ++i) {
    const double t = (k - 2000 + i) * kDt;
    loop.push_intent(Intent{IntentLabel::gait, 0.95, t - 0.001, t}, t);
    (void)loop.tick(t, kDt);
    ASSERT_EQ(loop.supervisor().mode(), SupervisorMode::hold) << "tick " << i << " after the jump";
  }
  EXPECT_GT(loop.supervisor().intervention_count(SafetyReason::time_regression), 0u);
}

// The loop once replanned from the previous tick's set-point as if it were this tick's, so a
// mid-stride gait -> rest repeated a position (a ~4000 rad/s^2 step in the set-point's second difference) that the
// supervisor had to clip at a_max. Now the segment starts where and when that set-point was: the supervisor never
// needs to clip, at any phase of the gait cycle.
TEST(ControlLoop, GaitToRestOrHoldAtAnyPhaseNeedsNoSupervisorClipping) {
  double worst_second_diff = 0.0, worst_a_step = 0.0;
  int switches = 0;
  for (IntentLabel to : {IntentLabel::rest, IntentLabel::hold}) {
    for (int i = 0; i < 35; ++i) {
      Rig rig;
      const double t_sw = 2.0 + 1.4 * i / 35.0;  // gait (entered at 0.3 s) is on its cycle by 2 s
      rig.run(0.0, 0.3, IntentLabel::rest);
      Setpoints p1{}, p2{};
      for (long k = 300; k < std::lround((t_sw + 1.0) / kDt); ++k) {
        const double t = k * kDt;
        const IntentLabel label = t < t_sw - 1e-9 ? IntentLabel::gait : to;
        if (k % 50 == 0 || std::abs(t - t_sw) < 1e-9) rig.loop.push_intent(Intent{label, 0.95, t - 0.002, t}, t);
        ASSERT_EQ(rig.loop.tick(t, kDt), HwStatus::ok);
        const Setpoints& s = rig.loop.supervisor().last_setpoints();
        if (k >= 302 && t > t_sw - 0.2) {
          for (std::size_t j = 0; j < kJointCount; ++j) {
            const double dd = (s[j].position_rad - 2 * p1[j].position_rad + p2[j].position_rad) / (kDt * kDt);
            worst_second_diff = std::max(worst_second_diff, std::abs(dd));
            worst_a_step = std::max(worst_a_step, std::abs(s[j].acceleration_rad_s2 - p1[j].acceleration_rad_s2));
          }
        }
        p2 = p1;
        p1 = s;
      }
      ASSERT_EQ(rig.loop.intents().active(), to) << "switch " << i;
      const auto& sup = rig.loop.supervisor();
      for (SafetyReason r : {SafetyReason::acceleration_limit, SafetyReason::velocity_limit, SafetyReason::position_limit,
                             SafetyReason::setpoint_rate_limit})
        EXPECT_EQ(sup.intervention_count(r), 0u) << safety_reason_name(r) << " at switch " << i << " to " << intent_label_name(to);
      EXPECT_DOUBLE_EQ(rig.loop.command().velocity_rad_s[1], 0.0);  // stopped
      ++switches;
    }
  }
  std::printf("[loop] %d mid-stride stops: max |set-point 2nd difference| %.1f rad/s^2, max accel step %.2f rad/s^2/tick\n",
              switches, worst_second_diff, worst_a_step);
  // Within the acceleration limit of either joint (60 rad/s^2 knee), with no jump between ticks.
  EXPECT_LE(worst_second_diff, 0.8 * 60.0 + 1e-6);
  EXPECT_LE(worst_a_step, 10.0);
}

// (docs/control.md: "the user has to ask again once the cause is gone"): a decoder that keeps
// emitting the same intent after a hold must not restart the motion; changing the intent (or resume) does.
TEST(ControlLoop, AfterAFaultHoldARepeatedIntentDoesNotRestartMotion) {
  for (int variant = 0; variant < 3; ++variant) {  // 0: sensor fault, 1: watchdog (intents stop), 2: e-stop + reset
    Rig rig;
    rig.run(0.0, 0.6, IntentLabel::lift);  // mid-lift
    if (variant == 0) {
      rig.loop.set_sensor_faults(1u, 0.6);
      rig.run(0.6, 0.9, IntentLabel::lift);
      rig.loop.set_sensor_faults(0u, 0.9);
    } else if (variant == 1) {
      rig.run(0.6, 0.9, IntentLabel::lift, /*intents=*/false);
    } else {
      rig.loop.trigger_emergency_stop(0.6);
      rig.run(0.6, 0.9, IntentLabel::lift);
      ASSERT_TRUE(rig.loop.reset_emergency_stop(0.9));
    }
    rig.run(0.9, 1.0, IntentLabel::lift);
    const double held_hip = rig.loop.state().joints[0].position_rad;
    rig.run(1.0, 3.0, IntentLabel::lift);  // still "lift", 2 s after the cause is gone
    EXPECT_EQ(rig.loop.supervisor().mode(), SupervisorMode::normal) << "variant " << variant;
    EXPECT_EQ(rig.loop.intents().active(), IntentLabel::hold) << "variant " << variant;
    EXPECT_NEAR(rig.loop.state().joints[0].position_rad, held_hip, 1e-6) << "variant " << variant;
    // Asking again: rest, then lift -> the leg reaches the lift target.
    rig.run(3.0, 3.4, IntentLabel::rest);
    rig.run(3.4, 6.0, IntentLabel::lift);
    EXPECT_EQ(rig.loop.intents().active(), IntentLabel::lift) << "variant " << variant;
    EXPECT_NEAR(rig.loop.state().joints[0].position_rad, rig.loop.spec().trajectory.lift_target_rad[0], 1e-3)
        << "variant " << variant;
  }
}

TEST(ControlLoop, ExplicitResumeRestartsTheHeldIntent) {
  Rig rig;
  rig.run(0.0, 0.6, IntentLabel::lift);
  rig.loop.set_sensor_faults(1u, 0.6);
  rig.run(0.6, 0.9, IntentLabel::lift);
  rig.loop.set_sensor_faults(0u, 0.9);
  rig.run(0.9, 1.2, IntentLabel::lift);
  EXPECT_EQ(rig.loop.intents().active(), IntentLabel::hold);
  rig.loop.resume_after_hold();
  rig.run(1.2, 4.0, IntentLabel::lift);
  EXPECT_EQ(rig.loop.intents().active(), IntentLabel::lift);
  EXPECT_NEAR(rig.loop.state().joints[0].position_rad, rig.loop.spec().trajectory.lift_target_rad[0], 1e-3);
}

TEST(ControlLoop, TickAndIntentDeliveryDoNotAllocate) {
  Rig rig;
  rig.run(0.0, 0.5, IntentLabel::lift);  // warm-up
  const std::uint64_t before = g_allocations.load();
  rig.run(0.5, 3.0, IntentLabel::gait);
  rig.loop.trigger_emergency_stop(3.0);
  rig.run(3.0, 3.1, IntentLabel::gait);
  (void)rig.loop.reset_emergency_stop(3.1);
  rig.run(3.1, 4.0, IntentLabel::rest);
  EXPECT_EQ(g_allocations.load() - before, 0u);
}

// The fault paths are per-tick too (a held button, a stuck sensor, a dead decoder). None of
// them may allocate: events are enum codes + numbers in a preallocated log, refusals are bools, not Errors.
TEST(ControlLoop, FaultPathsDoNotAllocate) {
  Rig rig;
  rig.run(0.0, 0.5, IntentLabel::lift);  // warm-up
  const std::uint64_t before = g_allocations.load();
  for (long k = 500; k < 4000; ++k) {
    const double t = k * kDt;
    if (k % 50 == 0) rig.loop.push_intent(Intent{IntentLabel::gait, 0.95, t - 0.002, t}, t);
    // Stale, future, NaN and out-of-range intents every tick.
    rig.loop.push_intent(Intent{IntentLabel::lift, 0.9, t - 5.0, t - 5.0}, t);
    rig.loop.push_intent(Intent{IntentLabel::lower, 0.9, t + 1.0, t + 1.0}, t);
    rig.loop.push_intent(Intent{IntentLabel::lift, std::nan(""), t, t}, t);
    rig.loop.push_intent(Intent{static_cast<IntentLabel>(42), 0.9, t, t}, t);
    // Sensor faults toggling, e-stops and refused/accepted resets every tick of some phases.
    rig.loop.set_sensor_faults((k / 300) % 2 ? 0x5u : 0u, t);
    if (k >= 2000 && k < 2500) rig.loop.trigger_emergency_stop(t);
    (void)rig.loop.reset_emergency_stop(t);  // mostly refused: nothing latched
    if (k % 1000 == 999) rig.loop.resume_after_hold();
    ASSERT_EQ(rig.loop.tick(t, k % 700 == 0 ? std::nan("") : kDt), HwStatus::ok);
  }
  EXPECT_EQ(g_allocations.load() - before, 0u);
  EXPECT_GT(rig.loop.supervisor().intervention_count(SafetyReason::sensor_fault), 0u);
  EXPECT_GT(rig.loop.supervisor().intervention_count(SafetyReason::stale_intent), 0u);
  EXPECT_GT(rig.loop.supervisor().intervention_count(SafetyReason::emergency_stop_reset), 0u);
}

TEST(ControlLoop, RunRealtimeTicksAtMeasuredPeriod) {
  hw::MockExo mock;
  auto loop = ControlLoop::create({}, mock).value();
  ASSERT_TRUE(loop.configure().ok());
  ASSERT_TRUE(loop.activate(0.0).ok());
  const HwStatus st = loop.run_realtime(0.03, [](ControlLoop& l, double t) {
    l.push_intent(Intent{IntentLabel::lift, 0.9, t, t}, t);
  });
  EXPECT_EQ(st, HwStatus::ok);
  EXPECT_GT(loop.stats().ticks, 0u);
  EXPECT_GT(loop.stats().max_dt_s, 0.0);
  EXPECT_EQ(mock.writes(), loop.stats().ticks);
}

// ---- proportional knee ------------------------------------------------------------------------------------------

ControlLoopSpec proportional_spec() {
  ControlLoopSpec spec;
  spec.proportional.enabled = true;
  return spec;
}

/// Runs lift with a knee estimate every 50 ms from `estimate(t)` (NaN = none) between t0 and t1; returns the RMSE
/// (deg) of the knee command against the estimate over [t0 + settle, t1) and checks that nothing allocated.
double run_following(Rig& rig, double t0, double t1, IntentLabel label, const std::function<double(double)>& estimate,
                     double settle = 1.0) {
  double se = 0.0;
  long n = 0;
  const std::uint64_t before = g_allocations.load();
  for (long k = std::lround(t0 / kDt); k < std::lround(t1 / kDt); ++k) {
    const double t = k * kDt;
    if (k % 50 == 0) {
      rig.loop.push_intent(Intent{label, 0.95, t - 0.002, t}, t);
      const double e = estimate(t);
      if (!std::isnan(e)) (void)rig.loop.push_knee_estimate(e, t);
    }
    EXPECT_EQ(rig.loop.tick(t, kDt), HwStatus::ok);
    if (t >= t0 + settle) {
      const double err = rad_to_deg(rig.loop.command().position_rad[1]) - estimate(t);
      if (std::isfinite(err)) {
        se += err * err;
        ++n;
      }
    }
  }
  EXPECT_EQ(g_allocations.load() - before, 0u);
  return n > 0 ? std::sqrt(se / double(n)) : NAN;
}

TEST(ControlLoop, ProportionalKneeFollowsTheEstimateDuringLiftAndNotDuringGait) {
  Rig rig(proportional_spec());
  // The person flexes the knee slowly between 20 and 70 deg (0.3 Hz) while the classifier says lift.
  auto sine = [](double t) { return 45.0 + 25.0 * std::sin(2 * kPi * 0.3 * t); };
  const double rmse = run_following(rig, 0.0, 6.0, IntentLabel::lift, sine);
  EXPECT_TRUE(rig.loop.following());
  EXPECT_EQ(rig.loop.supervisor().mode(), SupervisorMode::normal);
  // 50 ms between estimates and the follower's lag: a few degrees, far from the canned 60 deg lift target.
  EXPECT_LT(rmse, 6.0) << "knee RMSE against the estimate";
  // The same person under gait: the gait trajectory drives the knee, the estimates are ignored.
  Rig gait_rig(proportional_spec());
  const double gait_rmse = run_following(gait_rig, 0.0, 6.0, IntentLabel::gait, sine);
  EXPECT_FALSE(gait_rig.loop.following());
  EXPECT_GT(gait_rmse, 10.0);
}

TEST(ControlLoop, ProportionalKneeStaysInsideTheLimitsAndFallsBackWhenEstimatesStop) {
  Rig rig(proportional_spec());
  const auto limits = default_joint_limits();
  // Estimates ask for 125 deg: plausible for a knee, beyond the exoskeleton's 110 deg limit.
  run_following(rig, 0.0, 3.0, IntentLabel::lift, [](double) { return 125.0; });
  EXPECT_TRUE(rig.loop.following());
  EXPECT_LE(rig.loop.command().position_rad[1], limits[1].position_max_rad + 1e-12);
  EXPECT_GT(rad_to_deg(rig.loop.command().position_rad[1]), 105.0);  // it went as far as allowed
  // Estimates stop: after stale_s the lift trajectory takes the knee back to its 60 deg target, no hold needed.
  run_following(rig, 3.0, 6.0, IntentLabel::lift, [](double) { return NAN; });
  EXPECT_FALSE(rig.loop.following());
  EXPECT_EQ(rig.loop.supervisor().mode(), SupervisorMode::normal);
  EXPECT_NEAR(rad_to_deg(rig.loop.command().position_rad[1]), 60.0, 1.0);
}

TEST(ControlLoop, KneeEstimatesChangeNothingWhenProportionalModeIsOff) {
  Rig with, without;
  run_following(with, 0.0, 3.0, IntentLabel::lift, [](double t) { return 30.0 + 10.0 * t; });
  run_following(without, 0.0, 3.0, IntentLabel::lift, [](double) { return NAN; });
  EXPECT_FALSE(with.loop.following());
  for (std::size_t j = 0; j < kJointCount; ++j) EXPECT_EQ(with.loop.command().position_rad[j], without.loop.command().position_rad[j]);
}

TEST(ControlLoop, EstimatesFromBeforeAnEmergencyStopResetDoNotMoveTheLeg) {
  Rig rig(proportional_spec());
  run_following(rig, 0.0, 2.0, IntentLabel::lift, [](double) { return 30.0; });
  EXPECT_TRUE(rig.loop.following());
  rig.loop.trigger_emergency_stop(2.0);
  ASSERT_EQ(rig.loop.tick(2.001, kDt), HwStatus::ok);
  EXPECT_EQ(rig.loop.command().mode, CommandMode::passive);
  ASSERT_TRUE(rig.loop.reset_emergency_stop(2.002));
  EXPECT_FALSE(rig.loop.follower().active(IntentLabel::lift, 2.003));
}

TEST(ControlLoop, BadRateIsRefused) {
  hw::MockExo mock;
  ControlLoopSpec spec;
  spec.rate_hz = 50.0;
  EXPECT_FALSE(ControlLoop::create(spec, mock).ok());
}

}  // namespace
}  // namespace myoexo::control
