// Property test of the control chain on the MuJoCo leg (10^4 sequences, a tenth of the mock run: a physics
// tick costs ~5x a mock tick). Simulated joint angles must stay inside the mechanical stops.
#include <gtest/gtest.h>

#include "control/property_harness.hpp"
#include "sim/mujoco_exo.hpp"

namespace myoexo::sim {
namespace {

std::uint64_t default_sequences() {
#ifdef MYOEXO_PROPERTY_SCALE_DOWN
  return 200;
#else
  return 10000;
#endif
}

TEST(SimProperty, RandomFaultSequencesKeepSimulatedLegInRange) {
  const std::uint64_t seed = test::env_u64("MYOEXO_PROPERTY_SEED", 20240611) + 2;
  const std::uint64_t n = test::env_u64("MYOEXO_SIM_PROPERTY_SEQUENCES", default_sequences());
  std::printf("[property/sim] seed %llu, sequences %llu (MYOEXO_SIM_PROPERTY_SEQUENCES)\n", (unsigned long long)seed,
              (unsigned long long)n);
  auto exo = std::move(MujocoExo::load_file(std::string(MYOEXO_MODEL_DIR) + "/exo_leg.xml")).value();
  auto detector = control::SensorFaultDetector::create(control::default_sensor_fault_spec(4, 1000.0, 1.0)).value();
  const auto limits = control::default_joint_limits();
  test::PropertyOptions opt;
  opt.rate_hz = 1.0 / exo->control_period_s();
  for (control::Joint j : {control::Joint::hip, control::Joint::knee}) {
    opt.sim_min_rad[static_cast<std::size_t>(j)] = exo->joint_range_min_rad(j);
    opt.sim_max_rad[static_cast<std::size_t>(j)] = exo->joint_range_max_rad(j);
  }
  // The MJCF joint limits are soft constraints (solreflimit 4 ms): a passive leg falling onto a stop during an
  // e-stop penetrates it by a few mrad. Allow 0.01 rad; the worst penetration is printed.
  opt.sim_tolerance_rad = 0.01;
  opt.randomize_plant = [&](test::Rng& r, control::ExoHardware&) {
    exo->set_posture({r.uniform(limits[0].position_min_rad, limits[0].position_max_rad),
                      r.uniform(limits[1].position_min_rad, limits[1].position_max_rad)});
  };
  test::PropertyCounts counts;
  test::Rng rng(seed);
  for (std::uint64_t i = 0; i < n; ++i) {
    test::run_property_sequence(rng, *exo, opt, counts, detector);
    if (HasFatalFailure()) break;
  }
  counts.print("property/sim");
  EXPECT_EQ(counts.sequences, n);
  EXPECT_EQ(counts.violations(), 0u);
  EXPECT_EQ(counts.sim_range_violations, 0u);
  EXPECT_EQ(counts.unlogged_faults, 0u);
  EXPECT_EQ(counts.watchdog_late, 0u);
}

}  // namespace
}  // namespace myoexo::sim
