#include "control/joint_controller.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace myoexo::control {
namespace {

TEST(GravityModel, HangingLegNeedsNoTorque) {
  const auto tau = gravity_torques(default_gravity_model(), 0.0, 0.0);
  // Only the foot's forward COM offset loads the joints when the leg hangs straight.
  const auto g = default_gravity_model();
  EXPECT_NEAR(tau[0], g.gravity_m_s2 * g.shank_first_moment_forward_kgm, 1e-12);
  EXPECT_NEAR(tau[1], -g.gravity_m_s2 * g.shank_first_moment_forward_kgm, 1e-12);
}

TEST(GravityModel, HorizontalStraightLegLoadsHipWithWholeLegMoment) {
  const auto g = default_gravity_model();
  const auto tau = gravity_torques(g, kPi / 2, 0.0);
  const double expect = g.gravity_m_s2 * (g.thigh_first_moment_kgm + g.shank_group_mass_kg * g.thigh_length_m +
                                          g.shank_first_moment_along_kgm);
  EXPECT_NEAR(tau[0], expect, 1e-9);
  EXPECT_GT(tau[0], 40.0);  // ~45 N m for the 75 kg subject: the torque limits must cover it
  EXPECT_LT(tau[0], 80.0);
}

TEST(GravityModel, MatchesFiniteDifferenceOfPotentialEnergy) {
  const auto g = default_gravity_model();
  // V(q) of the two-link model; the gravity torque is dV/dq.
  auto V = [&](double h, double k) {
    const double phi = h - k;
    return g.gravity_m_s2 * (-(g.thigh_first_moment_kgm + g.shank_group_mass_kg * g.thigh_length_m) * std::cos(h) -
                             g.shank_first_moment_along_kgm * std::cos(phi) + g.shank_first_moment_forward_kgm * std::sin(phi));
  };
  const double e = 1e-6;
  for (double h : {-0.3, 0.2, 1.1}) {
    for (double k : {0.0, 0.6, 1.5}) {
      const auto tau = gravity_torques(g, h, k);
      EXPECT_NEAR(tau[0], (V(h + e, k) - V(h - e, k)) / (2 * e), 1e-6);
      EXPECT_NEAR(tau[1], (V(h, k + e) - V(h, k - e)) / (2 * e), 1e-6);
    }
  }
}

TEST(JointController, PdPlusGravityAtMeasuredState) {
  const auto ctl = JointController::create(JointControllerSpec{}).value();
  ExoState st{};
  st.joints[0] = {0.4, 0.1, 0.0};
  st.joints[1] = {0.6, -0.2, 0.0};
  Setpoints sp{};
  sp[0] = {0.5, 0.3, 0.0};
  sp[1] = {0.5, 0.0, 0.0};
  ExoCommand cmd;
  ctl.update(st, sp, cmd);
  const auto g = gravity_torques(ctl.spec().gravity, 0.4, 0.6);
  EXPECT_EQ(cmd.mode, CommandMode::torque);
  EXPECT_NEAR(cmd.torque_nm[0], g[0] + 300.0 * 0.1 + 45.0 * 0.2, 1e-9);
  EXPECT_NEAR(cmd.torque_nm[1], g[1] + 150.0 * -0.1 + 13.0 * 0.2, 1e-9);
  EXPECT_DOUBLE_EQ(cmd.position_rad[0], 0.5);
}

TEST(JointController, NegativeGainIsRefused) {
  JointControllerSpec spec;
  spec.kp_nm_rad[1] = -1.0;
  EXPECT_FALSE(JointController::create(spec).ok());
}

}  // namespace
}  // namespace myoexo::control
