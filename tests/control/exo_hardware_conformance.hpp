// Conformance checks every control::ExoHardware back-end must pass (mock, MuJoCo, future hardware).
#pragma once

#include <gtest/gtest.h>

#include <cmath>

#include "control/exo_hardware.hpp"

namespace myoexo::test {

/// Lifecycle order, read/write status codes, passive behaviour when inactive, finite states.
inline void check_exo_hardware_conformance(control::ExoHardware& hw, double dt_s) {
  using control::HwStatus;
  using control::LifecycleState;
  control::ExoState st{};
  control::ExoCommand cmd{};
  EXPECT_EQ(hw.lifecycle_state(), LifecycleState::unconfigured) << hw.name();
  EXPECT_EQ(hw.read(0.0, dt_s, st), HwStatus::error) << "read before configure must fail, not crash";
  EXPECT_FALSE(hw.activate().ok()) << "activate before configure must be refused";

  ASSERT_TRUE(hw.configure().ok());
  EXPECT_EQ(hw.lifecycle_state(), LifecycleState::inactive);
  ASSERT_EQ(hw.read(0.0, dt_s, st), HwStatus::ok);
  for (const auto& j : st.joints) EXPECT_TRUE(std::isfinite(j.position_rad) && std::isfinite(j.velocity_rad_s));

  // Inactive: torque commands are not honoured.
  cmd.mode = control::CommandMode::torque;
  cmd.torque_nm = {20.0, 10.0};
  ASSERT_EQ(hw.write(0.0, dt_s, cmd), HwStatus::ok);
  ASSERT_EQ(hw.read(dt_s, dt_s, st), HwStatus::ok);
  EXPECT_DOUBLE_EQ(st.joints[0].effort_nm, 0.0) << hw.name() << ": inactive hardware applied torque";

  ASSERT_TRUE(hw.activate().ok());
  EXPECT_EQ(hw.lifecycle_state(), LifecycleState::active);
  EXPECT_FALSE(hw.activate().ok()) << "double activate must be refused";
  ASSERT_EQ(hw.write(dt_s, dt_s, cmd), HwStatus::ok);
  ASSERT_EQ(hw.read(2 * dt_s, dt_s, st), HwStatus::ok);
  EXPECT_NEAR(st.joints[0].effort_nm, 20.0, 1e-9) << hw.name() << ": active hardware must apply the torque";

  cmd.mode = control::CommandMode::passive;
  ASSERT_EQ(hw.write(2 * dt_s, dt_s, cmd), HwStatus::ok);
  ASSERT_EQ(hw.read(3 * dt_s, dt_s, st), HwStatus::ok);
  EXPECT_DOUBLE_EQ(st.joints[0].effort_nm, 0.0) << hw.name() << ": passive must mean zero torque";

  ASSERT_TRUE(hw.deactivate().ok());
  EXPECT_EQ(hw.lifecycle_state(), LifecycleState::inactive);
  EXPECT_FALSE(hw.deactivate().ok());
  EXPECT_EQ(hw.read(4 * dt_s, dt_s, st), HwStatus::ok) << "inactive hardware stays readable";
}

}  // namespace myoexo::test
