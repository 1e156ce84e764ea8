#include "hw/mock_exo.hpp"

#include <gtest/gtest.h>

#include "control/exo_hardware_conformance.hpp"

namespace myoexo::hw {
namespace {

TEST(MockExo, PassesHardwareConformance) {
  MockExo mock;
  test::check_exo_hardware_conformance(mock, 0.001);
}

TEST(MockExo, MirrorsCommandsIntoStates) {
  MockExo mock;
  ASSERT_TRUE(mock.configure().ok());
  ASSERT_TRUE(mock.activate().ok());
  control::ExoCommand cmd;
  cmd.mode = control::CommandMode::position;
  cmd.position_rad = {0.3, 0.7};
  cmd.velocity_rad_s = {0.1, -0.2};
  cmd.torque_nm = {5.0, -3.0};
  ASSERT_EQ(mock.write(0.0, 0.001, cmd), control::HwStatus::ok);
  control::ExoState st;
  ASSERT_EQ(mock.read(0.001, 0.001, st), control::HwStatus::ok);
  EXPECT_DOUBLE_EQ(st.joints[0].position_rad, 0.3);
  EXPECT_DOUBLE_EQ(st.joints[1].velocity_rad_s, -0.2);
  EXPECT_DOUBLE_EQ(st.joints[1].effort_nm, -3.0);
  EXPECT_DOUBLE_EQ(st.time_s, 0.001);
}

TEST(MockExo, InjectedReadFailureReturnsErrorAndConfigureRecovers) {
  MockExoSpec spec;
  spec.fail_read_at = 2;
  MockExo mock(spec);
  ASSERT_TRUE(mock.configure().ok());
  control::ExoState st;
  EXPECT_EQ(mock.read(0.0, 0.001, st), control::HwStatus::ok);
  EXPECT_EQ(mock.read(0.001, 0.001, st), control::HwStatus::error);
  EXPECT_EQ(mock.lifecycle_state(), control::LifecycleState::error);
  EXPECT_FALSE(mock.activate().ok());
  ASSERT_TRUE(mock.configure().ok());
  EXPECT_EQ(mock.read(0.002, 0.001, st), control::HwStatus::ok);
}

}  // namespace
}  // namespace myoexo::hw
