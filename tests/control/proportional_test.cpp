// The knee-angle follower alone: plausibility checks on the estimates, bounded tracking.
#include "control/proportional.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace myoexo::control {
namespace {

ProportionalKneeSpec enabled_spec() {
  ProportionalKneeSpec s;
  s.enabled = true;
  return s;
}

TEST(KneeAngleFollower, ImplausibleEstimatesAreRejectedAndJumpsNeedConfirmation) {
  auto f = KneeAngleFollower::create(enabled_spec()).value();
  EXPECT_FALSE(f.active(IntentLabel::lift, 0.0));  // nothing accepted yet
  EXPECT_EQ(f.push_estimate(std::numeric_limits<double>::quiet_NaN(), 0.00), EstimateOutcome::non_finite);
  EXPECT_EQ(f.push_estimate(200.0, 0.01), EstimateOutcome::out_of_range);
  EXPECT_EQ(f.push_estimate(-40.0, 0.02), EstimateOutcome::out_of_range);
  EXPECT_EQ(f.push_estimate(40.0, 0.05), EstimateOutcome::accepted);
  EXPECT_NEAR(rad_to_deg(f.target_rad()), 40.0, 1e-12);
  // A single glitch 50 deg away is not taken; three estimates that agree on the new angle are.
  EXPECT_EQ(f.push_estimate(90.0, 0.10), EstimateOutcome::jump);
  EXPECT_EQ(f.push_estimate(42.0, 0.15), EstimateOutcome::accepted);
  EXPECT_EQ(f.push_estimate(90.0, 0.20), EstimateOutcome::jump);
  EXPECT_EQ(f.push_estimate(88.0, 0.25), EstimateOutcome::jump);
  EXPECT_EQ(f.push_estimate(91.0, 0.30), EstimateOutcome::accepted);
  EXPECT_NEAR(rad_to_deg(f.target_rad()), 91.0, 1e-12);
  // Time that goes backwards is not taken.
  EXPECT_EQ(f.push_estimate(90.0, 0.29), EstimateOutcome::stale_time);
  EXPECT_EQ(f.outcome_counts()[std::size_t(EstimateOutcome::accepted)], 3u);
  EXPECT_EQ(f.outcome_counts()[std::size_t(EstimateOutcome::jump)], 3u);
  // Following applies to lift and lower only, and only while the estimates are fresh.
  EXPECT_TRUE(f.active(IntentLabel::lift, 0.40));
  EXPECT_TRUE(f.active(IntentLabel::lower, 0.40));
  EXPECT_FALSE(f.active(IntentLabel::gait, 0.40));
  EXPECT_FALSE(f.active(IntentLabel::rest, 0.40));
  EXPECT_FALSE(f.active(IntentLabel::lift, 0.30 + 0.26));
  f.reset();
  EXPECT_FALSE(f.active(IntentLabel::lift, 0.31));

  ProportionalKneeSpec off;
  auto g = KneeAngleFollower::create(off).value();
  EXPECT_EQ(g.push_estimate(40.0, 0.0), EstimateOutcome::accepted);
  EXPECT_FALSE(g.active(IntentLabel::lift, 0.0));  // disabled: never follows
}

TEST(KneeAngleFollower, ReachesTheTargetWithinItsBoundsWithoutOvershoot) {
  const ProportionalKneeSpec spec = enabled_spec();
  auto f = KneeAngleFollower::create(spec).value();
  ASSERT_EQ(f.push_estimate(80.0, 0.0), EstimateOutcome::accepted);
  f.start({deg_to_rad(10.0), 0.0, 0.0});
  const double dt = 0.001;
  double prev_v = 0.0, max_pos = 0.0;
  double reached_s = -1.0;
  for (int k = 1; k <= 3000; ++k) {
    const JointSetpoint s = f.step(dt);
    EXPECT_LE(std::abs(s.velocity_rad_s), spec.velocity_max_rad_s + 1e-12);
    EXPECT_LE(std::abs(s.velocity_rad_s - prev_v), spec.acceleration_max_rad_s2 * dt + 1e-12);
    prev_v = s.velocity_rad_s;
    max_pos = std::max(max_pos, rad_to_deg(s.position_rad));
    if (reached_s < 0 && std::abs(rad_to_deg(s.position_rad) - 80.0) < 0.5) reached_s = k * dt;
  }
  // 70 deg at <= 2 rad/s takes >= 0.61 s; the follower gets there within a second and stays.
  EXPECT_GT(reached_s, 0.6);
  EXPECT_LT(reached_s, 1.0);
  EXPECT_LT(max_pos, 80.0 + 0.2);
}

TEST(KneeAngleFollower, BadSpecsAreRefused) {
  ProportionalKneeSpec s;
  s.min_deg = 50;
  s.max_deg = 40;
  EXPECT_FALSE(KneeAngleFollower::create(s));
  s = {};
  s.stale_s = 0;
  EXPECT_FALSE(KneeAngleFollower::create(s));
  s = {};
  s.velocity_max_rad_s = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(KneeAngleFollower::create(s));
  s = {};
  s.jump_confirmations = 0;
  EXPECT_FALSE(KneeAngleFollower::create(s));
}

}  // namespace
}  // namespace myoexo::control
