#include "sim/mujoco_exo.hpp"

#include <gtest/gtest.h>
#include <mujoco/mujoco.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "control/control_loop.hpp"
#include "control/exo_hardware_conformance.hpp"
#include "control/joint_controller.hpp"

namespace myoexo::sim {
namespace {

using control::CommandMode;
using control::ExoCommand;
using control::ExoState;
using control::HwStatus;
using control::Joint;

// A minimal two-link leg: 1 kg rods of 0.4 m, hip axis -y (flexion forward), knee axis +y.
constexpr const char* kTwoLinkXml = R"(
<mujoco>
  <compiler angle="degree"/>
  <option timestep="0.001" integrator="Euler"/>
  <worldbody>
    <body name="thigh" pos="0 0 1">
      <joint name="hip" type="hinge" axis="0 -1 0" range="-30 120" limited="true"/>
      <geom type="capsule" fromto="0 0 0 0 0 -0.4" size="0.02" mass="1" contype="0" conaffinity="0"/>
      <body name="shank" pos="0 0 -0.4">
        <joint name="knee" type="hinge" axis="0 1 0" range="-5 120" limited="true"/>
        <geom type="capsule" fromto="0 0 0 0 0 -0.4" size="0.02" mass="1" contype="0" conaffinity="0"/>
      </body>
    </body>
  </worldbody>
  <actuator>
    <motor name="hip_motor" joint="hip" ctrllimited="true" ctrlrange="-50 50"/>
    <motor name="knee_motor" joint="knee" ctrllimited="true" ctrlrange="-30 30"/>
  </actuator>
</mujoco>)";

std::string model_path() { return std::string(MYOEXO_MODEL_DIR) + "/exo_leg.xml"; }

std::unique_ptr<MujocoExo> load_two_link() {
  auto r = MujocoExo::load_xml(kTwoLinkXml);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message());
  return std::move(r).value();
}

TEST(MujocoExo, PassesHardwareConformance) {
  auto exo = load_two_link();
  test::check_exo_hardware_conformance(*exo, exo->control_period_s());
}

TEST(MujocoExo, PassiveLegFallsTowardsHanging) {
  auto exo = load_two_link();
  ASSERT_TRUE(exo->configure().ok());
  exo->set_posture({0.8, 0.0});
  ExoState st;
  ExoCommand passive;  // mode passive
  for (int k = 0; k < 100; ++k) {
    ASSERT_EQ(exo->read(k * 0.001, 0.001, st), HwStatus::ok);
    ASSERT_EQ(exo->write(k * 0.001, 0.001, passive), HwStatus::ok);
  }
  ASSERT_EQ(exo->read(0.1, 0.001, st), HwStatus::ok);
  EXPECT_LT(st.joints[0].position_rad, 0.8 - 0.05);  // gravity pulls a flexed hip back
  EXPECT_LT(st.joints[0].velocity_rad_s, 0.0);
  EXPECT_NEAR(exo->sim_time_s(), 0.1, 1e-9);
}

TEST(MujocoExo, SplitStepEqualsFullStep) {
  // read()/write() bracket mj_step1/mj_step2; with the same controls they must reproduce mj_step exactly.
  auto exo = load_two_link();
  ASSERT_TRUE(exo->configure().ok());
  ASSERT_TRUE(exo->activate().ok());
  exo->set_posture({0.5, 0.7});
  mjData* ref = mj_makeData(exo->model());
  mj_copyData(ref, exo->model(), exo->data());
  ExoState st;
  ExoCommand cmd;
  cmd.mode = CommandMode::torque;
  for (int k = 0; k < 500; ++k) {
    cmd.torque_nm = {5.0 * std::sin(0.01 * k), -3.0};
    ASSERT_EQ(exo->read(k * 0.001, 0.001, st), HwStatus::ok);
    ASSERT_EQ(exo->write(k * 0.001, 0.001, cmd), HwStatus::ok);
    ref->ctrl[0] = cmd.torque_nm[0];
    ref->ctrl[1] = cmd.torque_nm[1];
    mj_step(exo->model(), ref);
  }
  EXPECT_DOUBLE_EQ(exo->data()->qpos[0], ref->qpos[0]);
  EXPECT_DOUBLE_EQ(exo->data()->qpos[1], ref->qpos[1]);
  mj_deleteData(ref);
}

TEST(MujocoExo, LoadErrorsAreCodedNotThrown) {
  auto bad_xml = MujocoExo::load_xml("<mujoco><worldbody><body></mujoco>");
  ASSERT_FALSE(bad_xml.ok());
  EXPECT_EQ(bad_xml.error().code, ErrorCode::parse);

  MujocoExoSpec spec;
  spec.joint_names[1] = "ankle";
  auto missing = MujocoExo::load_xml(kTwoLinkXml, spec);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::mismatch);

  std::string rk4 = kTwoLinkXml;
  rk4.replace(rk4.find("Euler"), 5, "RK4");
  auto r = MujocoExo::load_xml(rk4);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::unsupported);

  auto nofile = MujocoExo::load_file("/nonexistent/exo.xml");
  ASSERT_FALSE(nofile.ok());
  EXPECT_EQ(nofile.error().code, ErrorCode::io);
}

// MuJoCo's default handlers exit the process (errors) or print and write MUJOCO_LOG.TXT
// (warnings), and MuJoCo silently resets a diverged state. Deliberately broken states must come back as a coded
// error with MuJoCo's message while this process carries on; configure() recovers.
TEST(MujocoExo, BadQvelIsAFaultWithMujocosMessage) {
  auto exo = load_two_link();
  ASSERT_TRUE(exo->configure().ok());
  ASSERT_TRUE(exo->activate().ok());
  exo->data()->qvel[1] = std::nan("");  // a corrupted state: MuJoCo warns (mjWARN_BADQVEL) and resets it
  ExoState st;
  EXPECT_EQ(exo->read(0.0, 0.001, st), HwStatus::error);
  EXPECT_EQ(exo->lifecycle_state(), control::LifecycleState::error);
  EXPECT_EQ(exo->last_fault().kind, SimFault::mujoco_warning);
  const Status s = exo->fault_status();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().reason.find("QVEL"), std::string::npos) << s.error().reason;
  std::printf("[sim] %s\n", s.error().message().c_str());
  // Recover.
  ASSERT_TRUE(exo->configure().ok());
  EXPECT_TRUE(exo->fault_status().ok());
  ASSERT_TRUE(exo->activate().ok());
  EXPECT_EQ(exo->read(0.0, 0.001, st), HwStatus::ok);
}

TEST(MujocoExo, InfiniteForceGivesBadQaccFaultInsteadOfASilentReset) {
  auto exo = load_two_link();
  ASSERT_TRUE(exo->configure().ok());
  ASSERT_TRUE(exo->activate().ok());
  ExoState st;
  ExoCommand cmd;
  cmd.mode = CommandMode::torque;
  ASSERT_EQ(exo->read(0.0, 0.001, st), HwStatus::ok);
  exo->data()->qfrc_applied[0] = INFINITY;  // -> non-finite qacc in mj_step2 (mjWARN_BADQACC)
  EXPECT_EQ(exo->write(0.0, 0.001, cmd), HwStatus::error);
  EXPECT_EQ(exo->last_fault().kind, SimFault::mujoco_warning);
  const Status s = exo->fault_status();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().reason.find("QACC"), std::string::npos) << s.error().reason;
  // Further steps are refused until configure().
  EXPECT_EQ(exo->read(0.001, 0.001, st), HwStatus::error);
  EXPECT_EQ(exo->write(0.001, 0.001, cmd), HwStatus::error);
}

TEST(MujocoExo, MujocoErrorIsCaughtAtTheBoundaryAndTheProcessSurvives) {
  ASSERT_TRUE(mujoco_errors_are_recoverable()) << "MuJoCo's frames lack unwind tables on this platform";
  auto exo = load_two_link();
  ASSERT_TRUE(exo->configure().ok());
  ASSERT_TRUE(exo->activate().ok());
  // A broken mjData: its stack is exhausted, so the next step's mj_stackAlloc calls mju_error. MuJoCo's default
  // handler would print, wait for Enter and exit(1); ours throws, and read() turns it into a coded fault.
  exo->data()->pstack = exo->data()->nstack;
  ExoState st;
  EXPECT_EQ(exo->read(0.0, 0.001, st), HwStatus::error);
  EXPECT_EQ(exo->last_fault().kind, SimFault::mujoco_error);
  const Status s = exo->fault_status();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(s.error().reason.find("MuJoCo error"), std::string::npos);
  std::printf("[sim] %s\n", s.error().message().c_str());
  // The whole chain: the control loop gets the error from tick(), the caller asks the back-end why.
  ASSERT_TRUE(exo->configure().ok());
  auto loop = std::move(control::ControlLoop::create({}, *exo)).value();
  ASSERT_TRUE(loop.activate(0.0).ok());
  ASSERT_EQ(loop.tick(0.0, 0.001), HwStatus::ok);
  exo->data()->pstack = exo->data()->nstack;
  EXPECT_EQ(loop.tick(0.001, 0.001), HwStatus::error);
  EXPECT_FALSE(exo->fault_status().ok());
  EXPECT_EQ(loop.command().mode, CommandMode::passive);
}

TEST(ExoLegModel, LoadsWithCitedSegmentMassesAndSafeRanges) {
  auto r = MujocoExo::load_file(model_path());
  ASSERT_TRUE(r.ok()) << r.error().message();
  auto& exo = *r.value();
  const mjModel* m = exo.model();
  auto mass = [&](const char* body) { return m->body_mass[mj_name2id(m, mjOBJ_BODY, body)]; };
  // Winter (2009): thigh 0.100 M, shank 0.0465 M, foot 0.0145 M with M = 75 kg.
  EXPECT_NEAR(mass("thigh"), 0.100 * 75.0, 1e-9);
  EXPECT_NEAR(mass("shank"), 0.0465 * 75.0, 1e-9);
  EXPECT_NEAR(mass("foot"), 0.0145 * 75.0, 1e-9);
  // The supervisor's default limits lie strictly inside the mechanical stops.
  const auto limits = control::default_joint_limits();
  for (Joint j : {Joint::hip, Joint::knee}) {
    const auto& L = limits[static_cast<std::size_t>(j)];
    EXPECT_LT(exo.joint_range_min_rad(j), L.position_min_rad);
    EXPECT_GT(exo.joint_range_max_rad(j), L.position_max_rad);
    EXPECT_GE(exo.actuator_limit_nm(j), L.torque_max_nm);
  }
  EXPECT_DOUBLE_EQ(exo.control_period_s(), 0.001);
}

TEST(ExoLegModel, GravityModelMatchesMujocoBiasForces) {
  auto exo = std::move(MujocoExo::load_file(model_path())).value();
  ASSERT_TRUE(exo->configure().ok());
  const auto g = control::default_gravity_model();
  ExoState st;
  for (double hip : {-0.3, 0.0, 0.5, 1.2, 1.6}) {
    for (double knee : {0.0, 0.4, 1.0, 1.8}) {
      exo->set_posture({hip, knee});
      ASSERT_EQ(exo->read(0.0, 0.001, st), HwStatus::ok);
      const auto bias = exo->bias_torques_nm();  // zero velocity: pure gravity
      const auto model = control::gravity_torques(g, hip, knee);
      // Equal up to the MJCF rounding COM offsets to 0.01 mm.
      EXPECT_NEAR(model[0], bias[0], 1e-3) << "hip " << hip << " knee " << knee;
      EXPECT_NEAR(model[1], bias[1], 1e-3) << "hip " << hip << " knee " << knee;
    }
  }
}

TEST(ExoLegModel, GravityCompensationHoldsPosture) {
  auto exo = std::move(MujocoExo::load_file(model_path())).value();
  ASSERT_TRUE(exo->configure().ok());
  ASSERT_TRUE(exo->activate().ok());
  exo->set_posture({1.0, 0.8});
  ExoState st;
  ExoCommand cmd;
  cmd.mode = CommandMode::torque;
  for (int k = 0; k < 1000; ++k) {
    ASSERT_EQ(exo->read(k * 0.001, 0.001, st), HwStatus::ok);
    const auto tau = control::gravity_torques(control::default_gravity_model(), st.joints[0].position_rad,
                                              st.joints[1].position_rad);
    cmd.torque_nm = {tau[0], tau[1]};
    ASSERT_EQ(exo->write(k * 0.001, 0.001, cmd), HwStatus::ok);
  }
  ASSERT_EQ(exo->read(1.0, 0.001, st), HwStatus::ok);
  EXPECT_NEAR(st.joints[0].position_rad, 1.0, 1e-3);
  EXPECT_NEAR(st.joints[1].position_rad, 0.8, 1e-3);
}

TEST(ExoLegModel, ControlLoopLiftsLowersAndWalksTheSimulatedLeg) {
  auto exo = std::move(MujocoExo::load_file(model_path())).value();
  auto loop = std::move(control::ControlLoop::create({}, *exo)).value();
  ASSERT_TRUE(loop.configure().ok());
  ASSERT_TRUE(loop.activate(0.0).ok());
  const double dt = exo->control_period_s();
  double worst_gait_error = 0.0;
  auto run = [&](double t0, double t1, control::IntentLabel label) {
    for (long k = std::lround(t0 / dt); k < std::lround(t1 / dt); ++k) {
      const double t = k * dt;
      if (k % 50 == 0) loop.push_intent(control::Intent{label, 0.95, t, t}, t);
      ASSERT_EQ(loop.tick(t, dt), HwStatus::ok);
      for (Joint j : {Joint::hip, Joint::knee}) {
        const double q = loop.state().joints[static_cast<std::size_t>(j)].position_rad;
        EXPECT_GE(q, exo->joint_range_min_rad(j));
        EXPECT_LE(q, exo->joint_range_max_rad(j));
      }
      if (label == control::IntentLabel::gait && t > t0 + 2.0)
        for (std::size_t j = 0; j < 2; ++j)
          worst_gait_error = std::max(worst_gait_error, std::abs(loop.command().position_rad[j] - loop.state().joints[j].position_rad));
    }
  };
  run(0.0, 3.0, control::IntentLabel::lift);
  const auto& tr = loop.spec().trajectory;
  EXPECT_NEAR(loop.state().joints[0].position_rad, tr.lift_target_rad[0], 0.02);
  EXPECT_NEAR(loop.state().joints[1].position_rad, tr.lift_target_rad[1], 0.02);
  run(3.0, 6.0, control::IntentLabel::lower);
  EXPECT_NEAR(loop.state().joints[0].position_rad, tr.neutral_rad[0], 0.02);
  EXPECT_NEAR(loop.state().joints[1].position_rad, tr.neutral_rad[1], 0.02);
  run(6.0, 6.5, control::IntentLabel::rest);  // the default table enters gait from rest or hold only
  run(6.5, 10.5, control::IntentLabel::gait);
  EXPECT_EQ(loop.intents().active(), control::IntentLabel::gait);
  EXPECT_LT(worst_gait_error, control::deg_to_rad(10.0));  // PD + gravity tracks the swing within 10 deg
  EXPECT_EQ(loop.stats().read_errors + loop.stats().write_errors, 0u);
  std::printf("[sim] worst gait tracking error %.2f deg\n", control::rad_to_deg(worst_gait_error));
}

// Stopping mid-stride (gait -> rest) used to replan one tick late; the supervisor braked the
// resulting step at a_max and the PD-tracked knee passed its limit by up to 0.059 rad (beyond the 0.05 rad
// out-of-range margin: a fault hold for ~100 ticks). Now, at every phase of the stride, the measured knee stays
// inside its limit and the supervisor never reports it out of range.
TEST(ExoLegModel, MidStrideGaitToRestKeepsTheKneeInsideItsLimit) {
#ifdef MYOEXO_SIM_SCALE_DOWN
  constexpr int kPhases = 14;
#else
  constexpr int kPhases = 140;  // every 10 ms of the 1.4 s stride
#endif
  const auto limits = control::default_joint_limits();
  const auto& knee = limits[static_cast<std::size_t>(Joint::knee)];
  double lowest_knee = 1e9, worst_accel = 0.0;
  for (int i = 0; i < kPhases; ++i) {
    auto exo = std::move(MujocoExo::load_file(model_path())).value();
    auto loop = std::move(control::ControlLoop::create({}, *exo)).value();
    ASSERT_TRUE(loop.configure().ok());
    ASSERT_TRUE(loop.activate(0.0).ok());
    const double dt = exo->control_period_s();
    const double t_sw = 2.0 + 1.4 * i / kPhases;
    for (long k = 0; k < std::lround((t_sw + 0.7) / dt); ++k) {
      const double t = k * dt;
      const control::IntentLabel label = t < 0.3 ? control::IntentLabel::rest
                                         : t < t_sw - 1e-9 ? control::IntentLabel::gait
                                                           : control::IntentLabel::rest;
      if (k % 50 == 0 || std::abs(t - t_sw) < 1e-9) loop.push_intent(control::Intent{label, 0.95, t, t}, t);
      ASSERT_EQ(loop.tick(t, dt), HwStatus::ok);
      if (t >= t_sw - 0.1) {
        lowest_knee = std::min(lowest_knee, loop.state().joints[1].position_rad);
        for (const auto& s : loop.supervisor().last_setpoints()) worst_accel = std::max(worst_accel, std::abs(s.acceleration_rad_s2));
      }
    }
    ASSERT_EQ(loop.intents().active(), control::IntentLabel::rest) << "phase " << i;
    EXPECT_EQ(loop.supervisor().intervention_count(control::SafetyReason::measured_out_of_range), 0u) << "phase " << i;
    EXPECT_EQ(loop.supervisor().intervention_count(control::SafetyReason::acceleration_limit), 0u) << "phase " << i;
  }
  std::printf("[sim] %d mid-stride stops: lowest measured knee %.4f rad (limit %.4f), max set-point accel %.1f rad/s^2\n",
              kPhases, lowest_knee, knee.position_min_rad, worst_accel);
  EXPECT_GE(lowest_knee, knee.position_min_rad);
  EXPECT_LE(worst_accel, knee.acceleration_max_rad_s2);
}

}  // namespace
}  // namespace myoexo::sim
