#include "control/trajectory.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

namespace myoexo::control {
namespace {

MinimumJerkTrajectory make_trajectory() { return MinimumJerkTrajectory::create(TrajectorySpec{}).value(); }

Setpoints at_rest(double hip, double knee) {
  Setpoints s{};
  s[0].position_rad = hip;
  s[1].position_rad = knee;
  return s;
}

// Walk a trajectory at 1 kHz and return the largest |step| between consecutive set-points per joint, and the
// largest |velocity| / |acceleration| relative to the limits.
struct Walk {
  double max_step_rad = 0.0, max_v_ratio = 0.0, max_a_ratio = 0.0;
};
Walk walk(const MinimumJerkTrajectory& tr, double t0, double t1, Setpoints& last) {
  Walk w;
  const auto& lim = tr.spec().limits;
  for (long k = std::lround(t0 * 1000); k < std::lround(t1 * 1000); ++k) {
    const double t = k * 0.001;
    const Setpoints s = tr.evaluate(t);
    for (std::size_t j = 0; j < kJointCount; ++j) {
      w.max_step_rad = std::max(w.max_step_rad, std::abs(s[j].position_rad - last[j].position_rad));
      w.max_v_ratio = std::max(w.max_v_ratio, std::abs(s[j].velocity_rad_s) / lim[j].velocity_max_rad_s);
      w.max_a_ratio = std::max(w.max_a_ratio, std::abs(s[j].acceleration_rad_s2) / lim[j].acceleration_max_rad_s2);
    }
    last = s;
  }
  return w;
}

TEST(MinimumJerkSegment, MatchesBoundaryConditions) {
  const auto seg = MinimumJerkSegment::plan(0.7, -0.3, 2.0, 0.8);
  const auto s0 = seg.evaluate(0.0);
  EXPECT_NEAR(s0.position_rad, 0.7, 1e-12);
  EXPECT_NEAR(s0.velocity_rad_s, -0.3, 1e-12);
  EXPECT_NEAR(s0.acceleration_rad_s2, 2.0, 1e-12);
  const auto s1 = seg.evaluate(0.8 - 1e-9);
  EXPECT_NEAR(s1.position_rad, 0.0, 1e-7);
  EXPECT_NEAR(s1.velocity_rad_s, 0.0, 1e-6);
  EXPECT_NEAR(s1.acceleration_rad_s2, 0.0, 1e-5);
}

TEST(MinimumJerkSegment, RestToRestPeakVelocityIs1875DistanceOverTime) {
  // The classic minimum-jerk profile: peak velocity 1.875 D / T at mid-time.
  const double D = 1.0, T = 2.0;
  const auto seg = MinimumJerkSegment::plan(-D, 0.0, 0.0, T);
  EXPECT_NEAR(seg.evaluate(T / 2).velocity_rad_s, 1.875 * D / T, 1e-12);
  EXPECT_NEAR(seg.evaluate(T / 2).position_rad, -D / 2, 1e-12);
}

TEST(MinimumJerkTrajectory, LiftReachesTargetWithinLimits) {
  auto tr = make_trajectory();
  Setpoints last = at_rest(0.0, deg_to_rad(5.0));
  tr.start(IntentLabel::lift, 0.0, last);
  const double T = tr.segment_duration_s();
  const Walk w = walk(tr, 0.0, T + 0.5, last);
  EXPECT_NEAR(last[0].position_rad, tr.spec().lift_target_rad[0], 1e-9);
  EXPECT_NEAR(last[1].position_rad, tr.spec().lift_target_rad[1], 1e-9);
  EXPECT_LE(w.max_v_ratio, tr.spec().limit_fraction + 1e-9);
  EXPECT_LE(w.max_a_ratio, tr.spec().limit_fraction + 1e-9);
}

TEST(MinimumJerkTrajectory, IntentChangesMidMotionHaveNoSetpointJumps) {
  auto tr = make_trajectory();
  Setpoints last = at_rest(0.0, deg_to_rad(5.0));
  tr.start(IntentLabel::lift, 0.0, last);
  Walk w1 = walk(tr, 0.0, 0.25, last);  // ticks 0 .. 0.249
  tr.start(IntentLabel::lower, 0.25, tr.evaluate(0.25));  // reverse mid-lift
  Walk w2 = walk(tr, 0.25, 0.9, last);
  tr.start(IntentLabel::gait, 0.9, tr.evaluate(0.9));
  Walk w3 = walk(tr, 0.9, 4.0, last);
  tr.start(IntentLabel::rest, 4.0, tr.evaluate(4.0));
  Walk w4 = walk(tr, 4.0, 5.0, last);
  for (const Walk& w : {w1, w2, w3, w4}) {
    // Steps at 1 kHz bounded by the velocity limit (6 rad/s -> 6 mrad): continuity, no jumps.
    EXPECT_LE(w.max_step_rad, 0.006);
    EXPECT_LE(w.max_v_ratio, 1.0);
    EXPECT_LE(w.max_a_ratio, 1.0);
  }
  // Rest holds still once the stop segment is over.
  const auto a = tr.evaluate(6.0), b = tr.evaluate(7.0);
  EXPECT_DOUBLE_EQ(a[0].position_rad, b[0].position_rad);
  EXPECT_DOUBLE_EQ(a[1].velocity_rad_s, 0.0);
}

TEST(MinimumJerkTrajectory, GaitIsPeriodicWithNormativeRanges) {
  auto tr = make_trajectory();
  Setpoints last = at_rest(0.0, deg_to_rad(5.0));
  tr.start(IntentLabel::gait, 0.0, last);
  const double blend = tr.segment_duration_s();
  const double P = tr.spec().gait.stride_period_s;
  double hip_min = 1e9, hip_max = -1e9, knee_min = 1e9, knee_max = -1e9;
  for (double t = blend; t < blend + P; t += 0.001) {
    const auto s = tr.evaluate(t), s2 = tr.evaluate(t + P);
    EXPECT_NEAR(s[0].position_rad, s2[0].position_rad, 1e-9);
    EXPECT_NEAR(s[1].position_rad, s2[1].position_rad, 1e-9);
    hip_min = std::min(hip_min, rad_to_deg(s[0].position_rad));
    hip_max = std::max(hip_max, rad_to_deg(s[0].position_rad));
    knee_min = std::min(knee_min, rad_to_deg(s[1].position_rad));
    knee_max = std::max(knee_max, rad_to_deg(s[1].position_rad));
  }
  // Stated peaks of the fitted Fourier pattern (Winter 2009 landmarks): hip -9.4..31.9 deg, knee 5.1..62.3 deg.
  EXPECT_NEAR(hip_min, -9.4, 0.2);
  EXPECT_NEAR(hip_max, 31.9, 0.2);
  EXPECT_NEAR(knee_min, 5.1, 0.2);
  EXPECT_NEAR(knee_max, 62.3, 0.2);
}

TEST(MinimumJerkTrajectory, GaitDerivativesMatchFiniteDifferences) {
  const auto g = default_gait_pattern();
  const double omega = 2 * kPi / g.stride_period_s, h = 1e-6;
  for (double phi : {0.1, 1.0, 2.5, 4.0, 6.0}) {
    for (Joint j : {Joint::hip, Joint::knee}) {
      const auto p = evaluate_gait(g, j, phi, omega);
      const auto pp = evaluate_gait(g, j, phi + h, omega), pm = evaluate_gait(g, j, phi - h, omega);
      EXPECT_NEAR(p.velocity_rad_s, (pp.position_rad - pm.position_rad) / (2 * h) * omega, 1e-6);
      EXPECT_NEAR(p.acceleration_rad_s2, (pp.velocity_rad_s - pm.velocity_rad_s) / (2 * h) * omega, 1e-4);
    }
  }
}

TEST(MinimumJerkTrajectory, RestStopsNearCurrentPosture) {
  auto tr = make_trajectory();
  Setpoints moving = at_rest(0.5, 0.5);
  moving[0].velocity_rad_s = 1.0;
  tr.start(IntentLabel::rest, 0.0, moving);
  const auto end = tr.evaluate(10.0);
  EXPECT_NEAR(end[0].position_rad, 0.5 + 0.5 * 1.0 * tr.spec().stop_duration_s, 1e-9);
  EXPECT_DOUBLE_EQ(end[1].position_rad, 0.5);
  EXPECT_DOUBLE_EQ(end[0].velocity_rad_s, 0.0);
}

// A replanned segment must continue the current set-point in position, velocity AND
// acceleration, and stay within the limits, whatever the gait phase at which the intent changes.
TEST(MinimumJerkTrajectory, SwitchFromGaitAtAnyPhaseIsC2AndWithinLimits) {
  auto gait = make_trajectory();
  gait.start(IntentLabel::gait, 0.0, at_rest(0.0, deg_to_rad(5.0)));
  const double t_cycle = gait.segment_duration_s() + 0.5;  // on the cycle
  const auto& lim = gait.spec().limits;
  const double P = gait.spec().gait.stride_period_s;
  double worst_a_ratio = 0.0, worst_v_ratio = 0.0, worst_jerk = 0.0;
  int switches = 0;
  for (int i = 0; i < 140; ++i) {
    const double t_sw = t_cycle + P * i / 140.0;
    for (IntentLabel to : {IntentLabel::rest, IntentLabel::hold, IntentLabel::lift, IntentLabel::lower}) {
      auto tr = gait;  // a copy continues the same gait
      const Setpoints before = tr.evaluate(t_sw);
      tr.start(to, t_sw, before);
      const Setpoints after = tr.evaluate(t_sw);
      for (std::size_t j = 0; j < kJointCount; ++j) {
        EXPECT_NEAR(after[j].position_rad, before[j].position_rad, 1e-12);
        EXPECT_NEAR(after[j].velocity_rad_s, before[j].velocity_rad_s, 1e-9);
        EXPECT_NEAR(after[j].acceleration_rad_s2, before[j].acceleration_rad_s2, 1e-7) << "phase " << i;
      }
      // Walk the new segment at 1 kHz: within the limits, inside the range, and the acceleration changes by at
      // most a bounded jerk per tick (no jumps: before the fix, a replanned segment jumped by ~2000 rad/s^2).
      Setpoints prev = after;
      const double T = tr.segment_duration_s();
      for (int k = 1; k <= static_cast<int>((T + 0.1) * 1000); ++k) {
        const Setpoints s = tr.evaluate(t_sw + k * 0.001);
        for (std::size_t j = 0; j < kJointCount; ++j) {
          const auto& L = lim[j];
          ASSERT_GE(s[j].position_rad, L.position_min_rad - 1e-9) << "phase " << i << " to " << intent_label_name(to);
          ASSERT_LE(s[j].position_rad, L.position_max_rad + 1e-9) << "phase " << i << " to " << intent_label_name(to);
          worst_v_ratio = std::max(worst_v_ratio, std::abs(s[j].velocity_rad_s) / L.velocity_max_rad_s);
          worst_a_ratio = std::max(worst_a_ratio, std::abs(s[j].acceleration_rad_s2) / L.acceleration_max_rad_s2);
          worst_jerk = std::max(worst_jerk, std::abs(s[j].acceleration_rad_s2 - prev[j].acceleration_rad_s2) / 0.001);
        }
        prev = s;
      }
      if (to == IntentLabel::rest || to == IntentLabel::hold) {
        EXPECT_DOUBLE_EQ(prev[0].velocity_rad_s, 0.0);
        EXPECT_DOUBLE_EQ(prev[1].velocity_rad_s, 0.0);
      }
      ++switches;
    }
  }
  std::printf("[trajectory] %d switches: peak |v|/v_max %.3f, |a|/a_max %.3f, jerk %.0f rad/s^3\n", switches,
              worst_v_ratio, worst_a_ratio, worst_jerk);
  EXPECT_LE(worst_v_ratio, 1.0);
  EXPECT_LE(worst_a_ratio, 1.0);
  EXPECT_LE(worst_jerk, 10000.0);  // <= 10 rad/s^2 per 1 ms tick (a jump would be >= 10^5)
}

TEST(MinimumJerkTrajectory, FastStopTowardsALimitLandsInsideTheStopMargin) {
  // Knee extending at 4 rad/s, 0.5 rad from its lower limit (mid-stride, before heel strike): the natural
  // 0.3 s stop would coast 0.6 rad, through the limit. The plan brakes harder instead and lands >= the margin.
  auto tr = make_trajectory();
  Setpoints s = at_rest(0.3, 0.5);
  s[1].velocity_rad_s = -4.0;
  tr.start(IntentLabel::rest, 0.0, s);
  const auto& L = tr.spec().limits[1];
  double lowest = 1e9, worst_a = 0.0;
  for (int k = 0; k <= 2000; ++k) {
    const auto p = tr.evaluate(k * 0.001);
    lowest = std::min(lowest, p[1].position_rad);
    worst_a = std::max(worst_a, std::abs(p[1].acceleration_rad_s2));
  }
  EXPECT_GE(lowest, L.position_min_rad + tr.spec().stop_margin_rad - 1e-9);
  EXPECT_LE(worst_a, L.acceleration_max_rad_s2 + 1e-9);
  EXPECT_DOUBLE_EQ(tr.evaluate(3.0)[1].velocity_rad_s, 0.0);
}

TEST(MinimumJerkTrajectory, RestDoesNotMoveALegAtRestInsideTheStopMargin) {
  auto tr = make_trajectory();
  const Setpoints s = at_rest(0.0, deg_to_rad(5.0));  // neutral knee, inside the 12 deg stop margin
  tr.start(IntentLabel::rest, 0.0, s);
  EXPECT_DOUBLE_EQ(tr.evaluate(2.0)[1].position_rad, deg_to_rad(5.0));
  EXPECT_DOUBLE_EQ(tr.evaluate(2.0)[0].position_rad, 0.0);
}

TEST(MinimumJerkTrajectory, TargetsOutsideLimitsAreRefused) {
  TrajectorySpec spec;
  spec.lift_target_rad[1] = deg_to_rad(150.0);
  EXPECT_FALSE(MinimumJerkTrajectory::create(spec).ok());
  spec = TrajectorySpec{};
  spec.gait.stride_period_s = 0.0;
  EXPECT_FALSE(MinimumJerkTrajectory::create(spec).ok());
}

}  // namespace
}  // namespace myoexo::control
