#include "control/safety_supervisor.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace myoexo::control {
namespace {

constexpr double kDt = 0.001;

ExoState posture(double hip, double knee) {
  ExoState s{};
  s.joints[0].position_rad = hip;
  s.joints[1].position_rad = knee;
  return s;
}

Setpoints target(double hip, double knee) {
  Setpoints s{};
  s[0].position_rad = hip;
  s[1].position_rad = knee;
  return s;
}

Intent fresh_intent(double t) { return Intent{IntentLabel::lift, 0.95, t, t}; }

bool logged(const SafetySupervisor& sup, SafetyReason reason, double t_from = -1e9, double t_to = 1e9) {
  for (const auto& e : sup.events())
    if (e.reason == reason && e.t_s >= t_from && e.t_s <= t_to) return true;
  return false;
}

// A supervisor that has resynchronised at (0.2, 0.3) rad and has a fresh intent at t = 0.
SafetySupervisor make_running(SafetySupervisorSpec spec = {}) {
  auto sup = SafetySupervisor::create(spec).value();
  EXPECT_TRUE(sup.notify_intent(fresh_intent(0.0), 0.0));
  Setpoints sp = target(0.2, 0.3);
  EXPECT_EQ(sup.enforce_setpoint(posture(0.2, 0.3), sp, 0.0, kDt), SupervisorMode::normal);
  return sup;
}

TEST(SafetySupervisor, HoldsUntilTheFirstFreshIntent) {
  auto sup = SafetySupervisor::create({}).value();
  Setpoints sp = target(0.5, 0.5);
  EXPECT_EQ(sup.enforce_setpoint(posture(0.2, 0.3), sp, 0.0, kDt), SupervisorMode::hold);
  EXPECT_TRUE(logged(sup, SafetyReason::watchdog));
  EXPECT_TRUE(logged(sup, SafetyReason::resync));
  EXPECT_DOUBLE_EQ(sp[0].position_rad, 0.2);  // resynchronised to the measured posture
}

TEST(SafetySupervisor, SetpointStepIsRateAndAccelerationLimited) {
  auto sup = make_running();
  const auto& L = sup.spec().limits;
  double t = 0.0, v_prev = 0.0;
  for (int k = 1; k <= 50; ++k) {
    t = k * kDt;
    Setpoints sp = target(1.5, 1.5);  // a jump of >1 rad
    ASSERT_EQ(sup.enforce_setpoint(posture(0.2, 0.3), sp, t, kDt), SupervisorMode::normal);
    EXPECT_LE(std::abs(sp[0].velocity_rad_s), L[0].velocity_max_rad_s + 1e-12);
    EXPECT_LE(std::abs(sp[0].velocity_rad_s - v_prev) / kDt, L[0].acceleration_max_rad_s2 * (1 + 1e-9));
    v_prev = sp[0].velocity_rad_s;
    ASSERT_TRUE(sup.notify_intent(fresh_intent(t), t));
  }
  EXPECT_TRUE(logged(sup, SafetyReason::acceleration_limit));
  EXPECT_GT(sup.intervention_count(SafetyReason::acceleration_limit), 1u);
}

TEST(SafetySupervisor, SupervisorClampsVelocityAndSetpointRate) {
  SafetySupervisorSpec spec;
  spec.limits[0].setpoint_rate_max_rad_s = 1.0;  // tighter than the 4 rad/s velocity limit
  auto sup = make_running(spec);
  Setpoints sp{};
  for (int k = 1; k <= 400; ++k) {
    const double t = k * kDt;
    ASSERT_TRUE(sup.notify_intent(fresh_intent(t), t));
    sp = target(1.5, 0.3);
    sup.enforce_setpoint(posture(0.2, 0.3), sp, t, kDt);
    EXPECT_LE(std::abs(sp[0].velocity_rad_s), 1.0 + 1e-12);
  }
  EXPECT_TRUE(logged(sup, SafetyReason::setpoint_rate_limit));
}

TEST(SafetySupervisor, SetpointNeverLeavesPositionRangeAndBrakesSmoothly) {
  auto sup = make_running();
  const auto& L = sup.spec().limits[1];
  double v_prev = 0.0;
  for (int k = 1; k <= 2000; ++k) {
    const double t = k * kDt;
    ASSERT_TRUE(sup.notify_intent(fresh_intent(t), t));
    Setpoints sp = target(0.2, 5.0);  // far beyond the knee's 110 deg
    sup.enforce_setpoint(posture(0.2, 0.3), sp, t, kDt);
    EXPECT_LE(sp[1].position_rad, L.position_max_rad);
    EXPECT_LE(std::abs(sp[1].velocity_rad_s - v_prev) / kDt, L.acceleration_max_rad_s2 * (1 + 1e-9));
    v_prev = sp[1].velocity_rad_s;
  }
  EXPECT_NEAR(sup.last_setpoints()[1].position_rad, L.position_max_rad, 1e-3);
  EXPECT_TRUE(logged(sup, SafetyReason::position_limit));
}

TEST(SafetySupervisor, SupervisorClampsTorqueRate) {
  auto sup = make_running();
  ExoCommand cmd;
  cmd.mode = CommandMode::torque;
  cmd.torque_nm = {70.0, -40.0};
  sup.enforce_command(cmd, 0.0, kDt);
  const auto& L = sup.spec().limits;
  EXPECT_DOUBLE_EQ(cmd.torque_nm[0], L[0].torque_rate_max_nm_s * kDt);  // 2 N m per ms from zero
  EXPECT_DOUBLE_EQ(cmd.torque_nm[1], -L[1].torque_rate_max_nm_s * kDt);
  EXPECT_TRUE(logged(sup, SafetyReason::torque_rate_limit));
}

TEST(SafetySupervisor, SupervisorClampsTorqueMagnitude) {
  auto sup = make_running();
  ExoCommand cmd;
  double tau = 0.0;
  for (int k = 0; k < 200; ++k) {
    cmd.mode = CommandMode::torque;
    cmd.torque_nm = {500.0, 0.0};
    sup.enforce_command(cmd, k * kDt, kDt);
    tau = cmd.torque_nm[0];
  }
  EXPECT_DOUBLE_EQ(tau, sup.spec().limits[0].torque_max_nm);
  EXPECT_TRUE(logged(sup, SafetyReason::torque_limit));
}

TEST(SafetySupervisor, NonFiniteTorqueRampsToZeroAndIsLogged) {
  auto sup = make_running();
  ExoCommand cmd;
  cmd.mode = CommandMode::torque;
  cmd.torque_nm = {2.0, 0.0};
  sup.enforce_command(cmd, 0.0, kDt);
  cmd.torque_nm = {std::nan(""), 0.0};
  sup.enforce_command(cmd, kDt, kDt);
  EXPECT_DOUBLE_EQ(cmd.torque_nm[0], 0.0);
  EXPECT_TRUE(logged(sup, SafetyReason::non_finite_torque));
}

TEST(SafetySupervisor, WatchdogHoldsWithinBound) {
  auto sup = make_running();
  // Last fresh intent emitted at t = 0; the watchdog bound is 0.3 s.
  double hold_at = -1.0;
  for (int k = 1; k <= 500; ++k) {
    const double t = k * kDt;
    Setpoints sp = target(0.2, 0.3);
    if (sup.enforce_setpoint(posture(0.2, 0.3), sp, t, kDt) == SupervisorMode::hold && hold_at < 0) hold_at = t;
  }
  ASSERT_GT(hold_at, 0.0);
  EXPECT_GT(hold_at, 0.3);
  EXPECT_LE(hold_at, 0.3 + kDt + 1e-12);
  EXPECT_TRUE(logged(sup, SafetyReason::watchdog, 0.3, 0.3 + kDt + 1e-12));
}

TEST(SafetySupervisor, HoldDeceleratesToRestWithinAccelerationLimit) {
  auto sup = make_running();
  // Get moving at a few rad/s, then lose the intent stream.
  double t = 0.0;
  for (int k = 1; k <= 200; ++k) {
    t = k * kDt;
    ASSERT_TRUE(sup.notify_intent(fresh_intent(t), t));
    Setpoints sp = target(0.2 + 3.0 * t, 0.3);
    sup.enforce_setpoint(posture(0.2, 0.3), sp, t, kDt);
  }
  ASSERT_GT(sup.last_setpoints()[0].velocity_rad_s, 2.0);
  double v_prev = sup.last_setpoints()[0].velocity_rad_s;
  sup.set_sensor_faults(1u, t);
  for (int k = 1; k <= 300; ++k) {
    const double tk = t + k * kDt;
    Setpoints sp = target(3.0, 3.0);  // ignored while holding
    EXPECT_EQ(sup.enforce_setpoint(posture(0.2, 0.3), sp, tk, kDt), SupervisorMode::hold);
    EXPECT_LE(std::abs(sp[0].velocity_rad_s - v_prev) / kDt, sup.spec().limits[0].acceleration_max_rad_s2 * (1 + 1e-9));
    v_prev = sp[0].velocity_rad_s;
  }
  EXPECT_DOUBLE_EQ(sup.last_setpoints()[0].velocity_rad_s, 0.0);
  EXPECT_TRUE(logged(sup, SafetyReason::sensor_fault));
}

TEST(SafetySupervisor, EmergencyStopLatchesUntilReset) {
  auto sup = make_running();
  sup.trigger_emergency_stop(0.01);
  ExoCommand cmd;
  for (int k = 2; k < 100; ++k) {
    const double t = k * kDt;
    (void)sup.notify_intent(fresh_intent(t), t);  // intents do not release a latched stop
    Setpoints sp = target(0.5, 0.5);
    EXPECT_EQ(sup.enforce_setpoint(posture(0.2, 0.3), sp, t, kDt), SupervisorMode::emergency_stop);
    cmd.mode = CommandMode::torque;
    cmd.torque_nm = {30.0, 30.0};
    sup.enforce_command(cmd, t, kDt);
    EXPECT_EQ(cmd.mode, CommandMode::passive);
    EXPECT_DOUBLE_EQ(cmd.torque_nm[0], 0.0);
  }
  EXPECT_TRUE(logged(sup, SafetyReason::emergency_stop));
  ASSERT_TRUE(sup.reset_emergency_stop(0.1));
  EXPECT_FALSE(sup.reset_emergency_stop(0.1));  // nothing latched any more
  EXPECT_TRUE(logged(sup, SafetyReason::emergency_stop_reset));
  // After the reset: resync to the measured posture, hold until an intent emitted after the reset arrives.
  Setpoints sp = target(0.5, 0.5);
  EXPECT_FALSE(sup.notify_intent(fresh_intent(0.099), 0.1005));
  EXPECT_EQ(sup.enforce_setpoint(posture(0.4, 0.6), sp, 0.101, kDt), SupervisorMode::hold);
  EXPECT_DOUBLE_EQ(sp[0].position_rad, 0.4);
  EXPECT_TRUE(sup.notify_intent(fresh_intent(0.102), 0.102));
  EXPECT_EQ(sup.enforce_setpoint(posture(0.4, 0.6), sp, 0.102, kDt), SupervisorMode::normal);
}

TEST(SafetySupervisor, StaleIntentDoesNotFeedWatchdog) {
  auto sup = make_running();
  EXPECT_FALSE(sup.notify_intent(Intent{IntentLabel::gait, 0.9, 0.0, 0.0}, 0.5));    // 0.5 s old
  EXPECT_FALSE(sup.notify_intent(Intent{IntentLabel::gait, 0.9, 0.0, 0.6}, 0.5));    // from the future
  EXPECT_FALSE(sup.notify_intent(Intent{IntentLabel::gait, std::nan(""), 0.0, 0.5}, 0.5));
  EXPECT_EQ(sup.intervention_count(SafetyReason::stale_intent), 3u);
  EXPECT_TRUE(logged(sup, SafetyReason::stale_intent));
  Setpoints sp = target(0.2, 0.3);
  EXPECT_EQ(sup.enforce_setpoint(posture(0.2, 0.3), sp, 0.5, kDt), SupervisorMode::hold);
}

TEST(SafetySupervisor, MeasuredFaultsHold) {
  auto sup = make_running();
  ASSERT_TRUE(sup.notify_intent(fresh_intent(0.001), 0.001));
  Setpoints sp = target(0.2, 0.3);
  ExoState bad = posture(std::nan(""), 0.3);
  EXPECT_EQ(sup.enforce_setpoint(bad, sp, 0.001, kDt), SupervisorMode::hold);
  EXPECT_TRUE(logged(sup, SafetyReason::measured_non_finite));
  bad = posture(0.2, 0.3);
  bad.joints[1].velocity_rad_s = 100.0;
  EXPECT_EQ(sup.enforce_setpoint(bad, sp, 0.002, kDt), SupervisorMode::hold);
  EXPECT_TRUE(logged(sup, SafetyReason::measured_overspeed));
  EXPECT_EQ(sup.enforce_setpoint(posture(3.0, 0.3), sp, 0.003, kDt), SupervisorMode::hold);
  EXPECT_TRUE(logged(sup, SafetyReason::measured_out_of_range));
}

TEST(SafetySupervisor, NonFiniteSetpointAndPeriodAreReplaced) {
  auto sup = make_running();
  ASSERT_TRUE(sup.notify_intent(fresh_intent(0.001), 0.001));
  Setpoints sp = target(std::nan(""), 0.3);
  EXPECT_EQ(sup.enforce_setpoint(posture(0.2, 0.3), sp, 0.001, std::nan("")), SupervisorMode::hold);
  EXPECT_TRUE(std::isfinite(sp[0].position_rad));
  EXPECT_TRUE(logged(sup, SafetyReason::non_finite_setpoint));
  EXPECT_TRUE(logged(sup, SafetyReason::invalid_period));
}

// A stalled loop (the control thread late by 200 ms while fresh intents kept coming) moves the leg and the torque
// by at most what max_period_factor nominal periods allow, not by what 200 ms would.
TEST(SafetySupervisor, ALongPeriodIsLimitedLikeAStalledOne) {
  auto sup = make_running();
  const auto& spec = sup.spec();
  const double max_dt = spec.max_period_factor * spec.nominal_period_s;
  ASSERT_TRUE(sup.notify_intent(fresh_intent(0.2), 0.2));
  Setpoints sp = target(1.5, 1.5);
  EXPECT_EQ(sup.enforce_setpoint(posture(0.2, 0.3), sp, 0.2, 0.2), SupervisorMode::normal);
  for (std::size_t j = 0; j < kJointCount; ++j) {
    const double a = spec.limits[j].acceleration_max_rad_s2;
    // From rest: v <= a dt, so the step is at most a dt^2 with the limited dt.
    EXPECT_LE(std::abs(sp[j].position_rad - (j == 0 ? 0.2 : 0.3)), a * max_dt * max_dt * (1 + 1e-9)) << j;
  }
  EXPECT_TRUE(logged(sup, SafetyReason::invalid_period));
  ExoCommand cmd;
  cmd.mode = CommandMode::torque;
  cmd.torque_nm = {80.0, -80.0};
  sup.enforce_command(cmd, 0.2, 0.2);
  EXPECT_DOUBLE_EQ(cmd.torque_nm[0], spec.limits[0].torque_rate_max_nm_s * max_dt);
  EXPECT_DOUBLE_EQ(cmd.torque_nm[1], -spec.limits[1].torque_rate_max_nm_s * max_dt);
  // A period within the factor is used as measured.
  const auto events = sup.intervention_count(SafetyReason::invalid_period);
  ASSERT_TRUE(sup.notify_intent(fresh_intent(0.2015), 0.2015));
  sp = target(0.2, 0.3);
  (void)sup.enforce_setpoint(posture(0.2, 0.3), sp, 0.2015, 1.5 * kDt);
  EXPECT_EQ(sup.intervention_count(SafetyReason::invalid_period), events);
}

// A latched stop survives a re-activation (restart): only the explicit reset clears it.
TEST(SafetySupervisor, ALatchedStopSurvivesARestart) {
  for (const bool hardware : {false, true}) {
    auto sup = make_running();
    if (hardware) sup.latch_hardware_fault(0.01, 3);
    else sup.trigger_emergency_stop(0.01);
    sup.restart(1.0);
    EXPECT_TRUE(sup.stop_latched()) << hardware;
    EXPECT_EQ(sup.mode(), SupervisorMode::emergency_stop) << hardware;
    (void)sup.notify_intent(fresh_intent(1.001), 1.001);
    Setpoints sp = target(0.5, 0.5);
    EXPECT_EQ(sup.enforce_setpoint(posture(0.2, 0.3), sp, 1.001, kDt), SupervisorMode::emergency_stop) << hardware;
    ExoCommand cmd;
    cmd.mode = CommandMode::torque;
    cmd.torque_nm = {30.0, 30.0};
    sup.enforce_command(cmd, 1.001, kDt);
    EXPECT_EQ(cmd.mode, CommandMode::passive) << hardware;
    ASSERT_TRUE(sup.reset_emergency_stop(1.002)) << hardware;
    EXPECT_FALSE(sup.stop_latched());
  }
  // reset() is a new supervisor: nothing latched.
  auto sup = make_running();
  sup.trigger_emergency_stop(0.01);
  sup.reset(2.0);
  EXPECT_FALSE(sup.stop_latched());
}

TEST(SafetySupervisor, LogIsPreallocatedAndCountsDrops) {
  SafetySupervisorSpec spec;
  spec.log_capacity = 2;
  auto sup = SafetySupervisor::create(spec).value();
  const SafetyEvent* data = sup.events().data();
  for (int k = 0; k < 10; ++k) {
    sup.trigger_emergency_stop(k);
    ASSERT_TRUE(sup.reset_emergency_stop(k + 0.5));
  }
  EXPECT_EQ(sup.events().size(), 2u);
  EXPECT_EQ(sup.events().data(), data);  // same storage: nothing reallocated
  EXPECT_EQ(sup.dropped_events(), 18u);
}

TEST(SafetySupervisor, BadSpecIsRefused) {
  SafetySupervisorSpec spec;
  spec.limits[0].position_min_rad = 2.0;
  EXPECT_FALSE(SafetySupervisor::create(spec).ok());
  spec = SafetySupervisorSpec{};
  spec.watchdog_s = 0.0;
  EXPECT_FALSE(SafetySupervisor::create(spec).ok());
  spec = SafetySupervisorSpec{};
  spec.limits[1].torque_rate_max_nm_s = std::nan("");
  EXPECT_FALSE(SafetySupervisor::create(spec).ok());
  spec = SafetySupervisorSpec{};
  spec.max_period_factor = 0.5;
  EXPECT_FALSE(SafetySupervisor::create(spec).ok());
}

}  // namespace
}  // namespace myoexo::control
