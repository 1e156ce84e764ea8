// Property test of the control chain on the mock back-end: >= 1e5 random fault-injected sequences (Release).
#include <gtest/gtest.h>

#include "control/property_harness.hpp"
#include "hw/mock_exo.hpp"

namespace myoexo::control {
namespace {

std::uint64_t default_sequences() {
#ifdef MYOEXO_PROPERTY_SCALE_DOWN
  return 2000;  // sanitizer builds: ~50x slower per tick
#else
  return 100000;
#endif
}

TEST(SupervisorProperty, RandomFaultSequencesNeverViolateLimitsAndAlwaysLog) {
  const std::uint64_t seed = test::env_u64("MYOEXO_PROPERTY_SEED", 20240611);
  const std::uint64_t n = test::env_u64("MYOEXO_PROPERTY_SEQUENCES", default_sequences());
  std::printf("[property] seed %llu (MYOEXO_PROPERTY_SEED), sequences %llu (MYOEXO_PROPERTY_SEQUENCES)\n",
              (unsigned long long)seed, (unsigned long long)n);
  test::Rng rng(seed);
  hw::MockExo mock;
  auto detector = SensorFaultDetector::create(default_sensor_fault_spec(4, 1000.0, 1.0)).value();
  const auto limits = default_joint_limits();
  test::PropertyOptions opt;
  opt.randomize_plant = [&](test::Rng& r, ExoHardware&) {
    ExoState s{};
    for (std::size_t j = 0; j < kJointCount; ++j)
      s.joints[j].position_rad = r.uniform(limits[j].position_min_rad, limits[j].position_max_rad);
    mock.set_state(s);
  };
  test::PropertyCounts counts;
  for (std::uint64_t i = 0; i < n; ++i) {
    opt.rate_hz = rng.chance(0.5) ? 1000.0 : 500.0;
    test::run_property_sequence(rng, mock, opt, counts, detector);
    if (HasFatalFailure()) break;
  }
  counts.print("property/mock");
  RecordProperty("sequences", std::to_string(counts.sequences));
  RecordProperty("ticks", std::to_string(counts.ticks));
  EXPECT_EQ(counts.sequences, n);
  EXPECT_EQ(counts.violations(), 0u);
  EXPECT_EQ(counts.position_violations, 0u);
  EXPECT_EQ(counts.velocity_violations, 0u);
  EXPECT_EQ(counts.rate_violations, 0u);
  EXPECT_EQ(counts.acceleration_violations, 0u);
  EXPECT_EQ(counts.torque_violations, 0u);
  EXPECT_EQ(counts.torque_rate_violations, 0u);
  EXPECT_EQ(counts.watchdog_late, 0u);
  EXPECT_EQ(counts.unlogged_faults, 0u);
  // The injections really happened.
  EXPECT_GT(counts.nan_bursts, 0u);
  EXPECT_GT(counts.flat_lines, 0u);
  EXPECT_GT(counts.estops, 0u);
  EXPECT_GT(counts.stale_intents, 0u);
  EXPECT_GT(counts.watchdog_episodes, 0u);
  EXPECT_GT(counts.knee_estimates, 0u);
  EXPECT_GT(counts.following_ticks, 0u);  // the knee really followed estimates in some sequences
}

// The supervisor alone, fed garbage: set-points that jump, oscillate beyond every limit or are NaN, torques up to
// +-500 N m or NaN, jittered/zero/NaN periods, intents that come and go, sensor-fault bits, e-stops. The output
// must satisfy every limit in every tick regardless of the input.
TEST(SupervisorProperty, GarbageSetpointsAndTorquesAreAlwaysLimited) {
  const std::uint64_t seed = test::env_u64("MYOEXO_PROPERTY_SEED", 20240611) + 1;
  const std::uint64_t n = test::env_u64("MYOEXO_PROPERTY_SEQUENCES", default_sequences());
  test::Rng rng(seed);
  auto sup = SafetySupervisor::create({}).value();
  const auto& L = sup.spec().limits;
  const double nominal = sup.spec().nominal_period_s;
  std::uint64_t ticks = 0, violations = 0, unlogged = 0, estops = 0, nan_inputs = 0, clamps = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    sup.reset();
    ExoState meas{};
    std::array<double, kJointCount> base{}, amp{}, freq{}, q_prev{}, v_prev{}, tau_prev{};
    for (std::size_t j = 0; j < kJointCount; ++j) {
      meas.joints[j].position_rad = rng.uniform(L[j].position_min_rad, L[j].position_max_rad);
      base[j] = rng.uniform(L[j].position_min_rad - 1.0, L[j].position_max_rad + 1.0);
      amp[j] = rng.uniform(0.0, 2.0);
      freq[j] = rng.uniform(0.0, 10.0);
    }
    bool prev_active = false, estop = false;
    std::uint64_t prev_resyncs = 0;
    double t = 0.0;
    const int n_ticks = 50 + rng.below(250);
    for (int k = 0; k < n_ticks; ++k) {
      double dt = nominal * rng.uniform(0.5, 1.5);
      double dt_given = dt;
      if (rng.chance(0.005)) dt_given = rng.chance(0.5) ? 0.0 : NAN;
      if (!(dt_given > 0)) dt = nominal;
      t += dt;
      if (rng.chance(0.9)) (void)sup.notify_intent(Intent{IntentLabel::gait, 0.9, t, t - rng.uniform(0.0, 0.01)}, t);
      sup.set_sensor_faults(rng.chance(0.02) ? 1u + rng.below(15) : 0u, t);
      if (!estop && rng.chance(0.005)) {
        sup.trigger_emergency_stop(t);
        estop = true;
        ++estops;
        const auto ev = sup.events();
        if (ev.empty() || ev.back().reason != SafetyReason::emergency_stop) ++unlogged;
      } else if (estop && rng.chance(0.02)) {
        ASSERT_TRUE(sup.reset_emergency_stop(t));
        estop = false;
      }
      Setpoints sp{};
      for (std::size_t j = 0; j < kJointCount; ++j) {
        if (rng.chance(0.02)) base[j] = rng.uniform(L[j].position_min_rad - 1.0, L[j].position_max_rad + 1.0);
        sp[j].position_rad = base[j] + amp[j] * std::sin(2 * kPi * freq[j] * t);
        if (rng.chance(0.003)) {
          sp[j].position_rad = rng.chance(0.5) ? NAN : INFINITY;
          ++nan_inputs;
        }
        meas.joints[j].position_rad = sup.last_setpoints()[j].position_rad + 0.01 * rng.gauss();
        meas.joints[j].velocity_rad_s = sup.last_setpoints()[j].velocity_rad_s;
      }
      const std::uint64_t nf_before = sup.intervention_count(SafetyReason::non_finite_setpoint);
      const bool had_nan = !std::isfinite(sp[0].position_rad) || !std::isfinite(sp[1].position_rad);
      sup.enforce_setpoint(meas, sp, t, dt_given);
      if (had_nan && !estop && sup.intervention_count(SafetyReason::non_finite_setpoint) == nf_before) ++unlogged;
      ExoCommand cmd;
      cmd.mode = CommandMode::torque;
      for (std::size_t j = 0; j < kJointCount; ++j) {
        cmd.torque_nm[j] = rng.chance(0.003) ? NAN : rng.uniform(-500.0, 500.0);
      }
      sup.enforce_command(cmd, t, dt_given);
      ++ticks;
      const bool active = cmd.mode != CommandMode::passive;
      const std::uint64_t resyncs = sup.intervention_count(SafetyReason::resync);
      const bool continuing = active && prev_active && resyncs == prev_resyncs;
      for (std::size_t j = 0; j < kJointCount; ++j) {
        const double q = cmd.position_rad[j], v = cmd.velocity_rad_s[j], tau = cmd.torque_nm[j];
        if (!std::isfinite(q) || !std::isfinite(v) || !std::isfinite(tau)) {
          ++violations;
          continue;
        }
        auto bad = [&](const char* what, double value) {
          if (++violations <= 5)
            std::printf("violation %s joint %zu value %.9g at tick %d of sequence %llu (dt %.6g given %.6g, mode %s)\n",
                        what, j, value, k, (unsigned long long)i, dt, dt_given, supervisor_mode_name(sup.mode()));
        };
        if (active) {
          if (q < L[j].position_min_rad - 1e-9 || q > L[j].position_max_rad + 1e-9) bad("position", q);
          if (std::abs(v) > L[j].velocity_max_rad_s * (1 + 1e-9)) bad("velocity", v);
          if (std::abs(tau) > L[j].torque_max_nm * (1 + 1e-9)) bad("torque", tau);
          if (continuing && std::abs(q - q_prev[j]) > L[j].setpoint_rate_max_rad_s * dt * (1 + 1e-6) + 1e-12)
            bad("rate", (q - q_prev[j]) / dt);
          if (continuing && std::abs(v - v_prev[j]) > L[j].acceleration_max_rad_s2 * dt * (1 + 1e-6) + 1e-12)
            bad("acceleration", (v - v_prev[j]) / dt);
          if (std::abs(tau - (prev_active ? tau_prev[j] : 0.0)) > L[j].torque_rate_max_nm_s * dt * (1 + 1e-9) + 1e-12)
            bad("torque rate", (tau - tau_prev[j]) / dt);
        } else if (tau != 0.0) {
          bad("passive torque", tau);
        }
        q_prev[j] = q;
        v_prev[j] = v;
        tau_prev[j] = active ? tau : 0.0;
      }
      prev_active = active;
      prev_resyncs = resyncs;
    }
    clamps += sup.intervention_count(SafetyReason::position_limit) + sup.intervention_count(SafetyReason::velocity_limit) +
              sup.intervention_count(SafetyReason::acceleration_limit) + sup.intervention_count(SafetyReason::torque_limit) +
              sup.intervention_count(SafetyReason::torque_rate_limit);
    if (sup.dropped_events() != 0) ++unlogged;
  }
  std::printf("[property/supervisor] seed %llu, sequences %llu, ticks %llu, e-stops %llu, non-finite set-points %llu, "
              "limit interventions %llu; violations %llu, unlogged %llu\n",
              (unsigned long long)seed, (unsigned long long)n, (unsigned long long)ticks, (unsigned long long)estops,
              (unsigned long long)nan_inputs, (unsigned long long)clamps, (unsigned long long)violations,
              (unsigned long long)unlogged);
  EXPECT_EQ(violations, 0u);
  EXPECT_EQ(unlogged, 0u);
  EXPECT_GT(clamps, ticks / 2);  // the input really was out of bounds most of the time
}

}  // namespace
}  // namespace myoexo::control
