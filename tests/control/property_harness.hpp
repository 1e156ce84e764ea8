// Randomized fault-injection harness for the control chain: ControlLoop (state machine, trajectories, PD + gravity,
// supervisor) on any ExoHardware (mock or MuJoCo), with EMG through a SensorFaultDetector. Each sequence draws
// random intents at random times (some stale, from the future, NaN confidence), intent gaps (watchdog), NaN bursts,
// flat lines and saturation on random EMG channels, e-stops with and without reset, corrupted measured states,
// hardware read/write errors and device stops (latched: reset only once the device works again) and clock jumps
// backwards; with proportional knee mode on (half the sequences), adversarial knee-angle estimates (noise, NaN and
// infinite bursts, steps and ramps far beyond the joint range, estimates stamped in the past). Every tick it checks what left the supervisor (the command the hardware received): inside every limit,
// passive with zero torque while a stop is latched, and never in normal mode while time is behind its latest value.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <array>
#include <functional>
#include <string>
#include <vector>

#include "control/control_loop.hpp"
#include "control/sensor_fault.hpp"

namespace myoexo::test {

/// xoshiro256** — fast, portable, seedable (std distributions differ across standard libraries).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& w : s_) {  // splitmix64 seeding
      seed += 0x9E3779B97F4A7C15ull;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      w = z ^ (z >> 31);
    }
  }
  std::uint64_t next() {
    const std::uint64_t r = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
  }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }
  double uniform(double a, double b) { return a + (b - a) * uniform(); }
  bool chance(double p) { return uniform() < p; }
  int below(int n) { return static_cast<int>(uniform() * n); }
  double gauss() {  // Box-Muller, one value
    const double u1 = std::max(uniform(), 1e-300), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

inline std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  return std::strtoull(v, nullptr, 10);
}

/// Wraps a back-end to corrupt some reads (NaN, out of range, overspeed) before the loop sees them.
class ChaosHardware final : public control::ExoHardware {
 public:
  explicit ChaosHardware(control::ExoHardware& inner) : inner_(inner) {}
  Status configure() override { return inner_.configure(); }
  Status activate() override { return inner_.activate(); }
  Status deactivate() override { return inner_.deactivate(); }
  control::HwStatus read(double t, double dt, control::ExoState& st) noexcept override {
    const auto s = inner_.read(t, dt, st);
    if (fail_reads > 0) {
      --fail_reads;
      return device_stop ? control::HwStatus::deactivate : control::HwStatus::error;
    }
    true_state = st;
    if (corrupt_reads > 0) {
      --corrupt_reads;
      const int j = corrupt_joint;
      switch (corrupt_kind) {
        case 0: st.joints[j].position_rad = std::nan(""); break;
        case 1: st.joints[j].position_rad = 4.0; break;
        default: st.joints[j].velocity_rad_s = 50.0; break;
      }
    }
    return s;
  }
  control::HwStatus write(double t, double dt, const control::ExoCommand& c) noexcept override {
    const auto s = inner_.write(t, dt, c);
    if (fail_writes > 0) {
      --fail_writes;
      return control::HwStatus::error;
    }
    return s;
  }
  control::LifecycleState lifecycle_state() const noexcept override { return inner_.lifecycle_state(); }
  const char* name() const noexcept override { return "chaos"; }

  int corrupt_reads = 0, corrupt_joint = 0, corrupt_kind = 0;
  int fail_reads = 0, fail_writes = 0;  ///< ticks whose read / write fails
  bool device_stop = false;             ///< failed reads say "deactivate" (the device's own stop) instead of error
  control::ExoState true_state{};

 private:
  control::ExoHardware& inner_;
};

/// What was injected and what was checked, summed over sequences.
struct PropertyCounts {
  std::uint64_t sequences = 0, ticks = 0, intents = 0, stale_intents = 0, intent_gaps = 0;
  std::uint64_t nan_bursts = 0, flat_lines = 0, saturations = 0, estops = 0, estop_resets = 0, corrupt_reads = 0;
  std::uint64_t hardware_faults = 0, time_jumps = 0;
  std::uint64_t knee_estimates = 0, following_ticks = 0;  ///< proportional mode: estimates pushed, ticks following
  std::uint64_t watchdog_episodes = 0, sensor_fault_episodes = 0;
  // Violations (must all stay zero).
  std::uint64_t position_violations = 0, velocity_violations = 0, rate_violations = 0, acceleration_violations = 0;
  std::uint64_t torque_violations = 0, torque_rate_violations = 0, non_finite_commands = 0;
  std::uint64_t watchdog_late = 0, unlogged_faults = 0, log_drops = 0, sim_range_violations = 0;
  std::uint64_t latched_not_passive = 0, moved_while_time_behind = 0;
  double sim_worst_excursion_rad = 0.0;  ///< largest simulated excursion beyond the supervisor's limits (0: never outside)
  double sim_worst_penetration_rad = 0.0;  ///< largest simulated excursion beyond the mechanical stops (0: never)

  std::uint64_t violations() const {
    return position_violations + velocity_violations + rate_violations + acceleration_violations + torque_violations +
           torque_rate_violations + non_finite_commands + watchdog_late + unlogged_faults + log_drops + sim_range_violations +
           latched_not_passive + moved_while_time_behind;
  }
  void print(const char* title) const {
    std::printf(
        "[%s] sequences %llu, ticks %llu; injected: intents %llu (stale %llu), intent gaps %llu, NaN bursts %llu, "
        "flat lines %llu, saturations %llu, e-stops %llu (resets %llu), corrupted reads %llu, hardware faults %llu, "
        "time jumps %llu, knee estimates %llu (ticks following %llu); episodes checked: "
        "watchdog %llu, sensor fault %llu; violations: position %llu, velocity %llu, rate %llu, acceleration %llu, "
        "torque %llu, torque rate %llu, non-finite %llu, watchdog late %llu, unlogged faults %llu, log drops %llu, "
        "sim range %llu, not passive while latched %llu, normal while time behind %llu (worst excursion beyond "
        "supervisor limits %.4f rad, into the mechanical stops %.4f rad)\n",
        title, (unsigned long long)sequences, (unsigned long long)ticks, (unsigned long long)intents,
        (unsigned long long)stale_intents, (unsigned long long)intent_gaps, (unsigned long long)nan_bursts,
        (unsigned long long)flat_lines, (unsigned long long)saturations, (unsigned long long)estops,
        (unsigned long long)estop_resets, (unsigned long long)corrupt_reads, (unsigned long long)hardware_faults,
        (unsigned long long)time_jumps, (unsigned long long)knee_estimates, (unsigned long long)following_ticks,
        (unsigned long long)watchdog_episodes,
        (unsigned long long)sensor_fault_episodes, (unsigned long long)position_violations,
        (unsigned long long)velocity_violations, (unsigned long long)rate_violations,
        (unsigned long long)acceleration_violations, (unsigned long long)torque_violations,
        (unsigned long long)torque_rate_violations, (unsigned long long)non_finite_commands,
        (unsigned long long)watchdog_late, (unsigned long long)unlogged_faults, (unsigned long long)log_drops,
        (unsigned long long)sim_range_violations, (unsigned long long)latched_not_passive,
        (unsigned long long)moved_while_time_behind, sim_worst_excursion_rad, sim_worst_penetration_rad);
    std::fflush(stdout);
  }
};

struct PropertyOptions {
  double rate_hz = 1000.0;
  double min_duration_s = 0.1, max_duration_s = 0.6;
  /// For a simulated plant: the mechanical range to check the simulated angles against (hard stops); NaN = skip.
  std::array<double, control::kJointCount> sim_min_rad{NAN, NAN}, sim_max_rad{NAN, NAN};
  double sim_tolerance_rad = 0.0;
  /// Reinitialise the plant between sequences (random posture); the mock gets it via MockExoSpec.
  std::function<void(Rng&, control::ExoHardware&)> randomize_plant;
};

/// Run one random sequence on `plant` and add to `counts`. The loop is rebuilt per sequence (create() is the
/// non-real-time part, run once per sequence as a device would be configured once per session).
inline void run_property_sequence(Rng& rng, control::ExoHardware& plant, const PropertyOptions& opt,
                                  PropertyCounts& counts, control::SensorFaultDetector& detector) {
  using namespace control;
  ChaosHardware chaos(plant);
  ControlLoopSpec spec;
  spec.rate_hz = opt.rate_hz;
  spec.intents.min_dwell_s = rng.uniform(0.0, 0.4);
  spec.proportional.enabled = rng.chance(0.5);
  auto loop_r = ControlLoop::create(spec, chaos);
  ASSERT_TRUE(loop_r.ok());
  ControlLoop& loop = loop_r.value();
  ASSERT_TRUE(loop.configure().ok());
  if (opt.randomize_plant) opt.randomize_plant(rng, plant);
  ASSERT_TRUE(loop.activate(0.0).ok());
  detector.reset();

  const auto& L = spec.supervisor.limits;
  const double w = spec.supervisor.watchdog_s;
  const double dt = 1.0 / opt.rate_hz;
  const long n_ticks = std::lround(rng.uniform(opt.min_duration_s, opt.max_duration_s) * opt.rate_hz);
  const std::size_t channels = detector.spec().channels;
  const std::size_t emg_per_tick = 1;  // EMG at the control rate in this harness

  // Independent bookkeeping (what the supervisor should do, computed here without its internals).
  double own_last_fresh = -INFINITY, estop_reset_at = -INFINITY;
  bool estop = false, prev_active = false, prev_watchdog = false;
  std::array<double, kJointCount> prev_q{}, prev_v{}, prev_tau{};
  std::uint64_t prev_resyncs = 0;
  double next_intent_t = rng.uniform(0.0, 0.06), gap_until = -1.0, estop_release_t = -1.0;
  double next_estimate_t = 0.0, estimate_deg = rng.uniform(0.0, 110.0), ramp_deg_per_s = 0.0;
  int estimate_kind = 0;
  int fault_kind = -1, fault_channel = 0;
  long corrupt_end = -10;
  long fault_left = 0;
  double fault_start_t = 0.0, flat_value = 0.0;
  struct Expect {
    SafetyReason reason;
    double t_from, t_to;
  };
  std::vector<Expect> expects;
  expects.reserve(64);
  std::vector<double> frame(channels);
  // Time is the tick clock, which may jump backwards; t_max is the latest time the loop has seen.
  double t = -dt, t_max = -INFINITY;
  bool hw_latched = false;   // the stop latched by a hardware fault (estop is set too)
  long hw_fault_end = -1;    // last tick of the injected hardware fault

  for (long k = 0; k < n_ticks; ++k) {
    t += dt;
    // --- clock jumps backwards, only while nothing else is pending (the log checks compare event times) -------
    if (k > 10 && !estop && fault_kind < 0 && detector.faults() == 0 && chaos.corrupt_reads == 0 && rng.chance(0.0008)) {
      t -= rng.uniform(0.005, 0.3);
      ++counts.time_jumps;
    }
    // --- intents ---------------------------------------------------------------------------------------------
    if (gap_until < t && rng.chance(0.0015)) {
      gap_until = t + rng.uniform(0.2, 0.8);  // the stream stalls: the watchdog must hold
      ++counts.intent_gaps;
    }
    if (t >= next_intent_t && t >= gap_until) {
      Intent in;
      in.label = static_cast<IntentLabel>(rng.below(static_cast<int>(kIntentLabelCount)));
      in.confidence = rng.chance(0.02) ? NAN : rng.uniform(0.3, 1.0);
      const double r = rng.uniform();
      const double age = r < 0.9 ? rng.uniform(0.0, 0.03) : r < 0.96 ? rng.uniform(0.31, 1.5) : r < 0.98 ? -0.05 : NAN;
      in.emit_s = t - age;
      in.window_end_s = in.emit_s - 0.001;
      const bool fresh_expected = std::isfinite(in.emit_s) && std::isfinite(in.confidence) && in.confidence >= 0 &&
                                  in.confidence <= 1 && age >= 0 && age <= w && in.emit_s >= estop_reset_at;
      if (fresh_expected) own_last_fresh = std::max(own_last_fresh, in.emit_s);
      else ++counts.stale_intents;
      loop.push_intent(in, t);
      ++counts.intents;
      next_intent_t = t + rng.uniform(0.01, 0.12);
    }
    // --- knee-angle estimates (proportional mode): what a bad regressor or a broken stream could send ----------
    if (spec.proportional.enabled && t >= next_estimate_t) {
      if (rng.chance(0.05)) {
        estimate_kind = rng.below(5);
        ramp_deg_per_s = rng.uniform(-3000.0, 3000.0);
      }
      const double step_s = rng.uniform(0.005, 0.08);
      double e = estimate_deg;
      switch (estimate_kind) {
        case 0: e = estimate_deg + 8.0 * rng.gauss(); break;                                  // noisy
        case 1: e = rng.chance(0.5) ? NAN : rng.chance(0.5) ? INFINITY : estimate_deg; break;  // NaN/inf bursts
        case 2:                                                                                // steps
          if (rng.chance(0.2)) estimate_deg = rng.uniform(-300.0, 400.0);
          e = estimate_deg;
          break;
        case 3:                                                                                // ramps past the range
          estimate_deg += ramp_deg_per_s * step_s;
          if (std::abs(estimate_deg) > 1e4) estimate_deg = rng.uniform(0.0, 110.0);
          e = estimate_deg;
          break;
        default: e = rng.uniform(-1e6, 1e6); break;                                          // garbage
      }
      (void)loop.push_knee_estimate(e, rng.chance(0.05) ? t - rng.uniform(0.0, 1.0) : t);
      ++counts.knee_estimates;
      next_estimate_t = t + step_s;
    }
    // --- EMG with injected sensor faults ----------------------------------------------------------------------
    if (fault_left == 0 && fault_kind >= 0 && detector.faults() == 0) fault_kind = -1;  // previous fault cleared
    if (fault_kind < 0 && detector.faults() == 0 && rng.chance(0.003)) {
      fault_kind = rng.below(3);
      fault_channel = rng.below(static_cast<int>(channels));
      fault_start_t = t;
      flat_value = rng.uniform(-0.2, 0.2);
      const auto& ds = detector.spec();
      if (fault_kind == 0) {
        fault_left = 1 + rng.below(40);
        ++counts.nan_bursts;
        expects.push_back({SafetyReason::sensor_fault, t, t + dt * 1.5});
      } else if (fault_kind == 1) {
        fault_left = static_cast<long>(ds.flat_min_samples) + rng.below(300);
        ++counts.flat_lines;
        expects.push_back({SafetyReason::sensor_fault, t, t + dt * (double(ds.flat_min_samples) + 1.5)});
      } else {
        fault_left = static_cast<long>(ds.saturation_min_samples) + rng.below(60);
        ++counts.saturations;
        expects.push_back({SafetyReason::sensor_fault, t, t + dt * (double(ds.saturation_min_samples) + 1.5)});
      }
      if (k + fault_left >= n_ticks) expects.pop_back();  // cannot complete before the sequence ends
    }
    for (std::size_t s = 0; s < emg_per_tick; ++s) {
      for (std::size_t c = 0; c < channels; ++c) frame[c] = 0.1 * rng.gauss();
      if (fault_left > 0) {
        double& x = frame[static_cast<std::size_t>(fault_channel)];
        x = fault_kind == 0 ? NAN : fault_kind == 1 ? flat_value : (rng.chance(0.5) ? 1.0 : -1.0);
        --fault_left;
      }
      ASSERT_TRUE(detector.push_frame(frame));
    }
    (void)fault_start_t;
    loop.set_sensor_faults(detector.faults(), t);
    // --- e-stops and corrupted reads -------------------------------------------------------------------------
    if (!estop && rng.chance(0.0008)) {
      loop.trigger_emergency_stop(t);
      estop = true;
      ++counts.estops;
      expects.push_back({SafetyReason::emergency_stop, t, t});
      estop_release_t = rng.chance(0.8) ? t + rng.uniform(0.02, 0.3) : INFINITY;
    } else if (estop && t >= estop_release_t && (!hw_latched || k > hw_fault_end)) {
      ASSERT_TRUE(loop.reset_emergency_stop(t));
      estop = false;
      hw_latched = false;
      estop_reset_at = t;
      own_last_fresh = -INFINITY;
      ++counts.estop_resets;
      expects.push_back({SafetyReason::emergency_stop_reset, t, t});
    }
    // Hardware faults: a read error, a device stop or a write error for a few ticks; latched until a reset after
    // the device works again.
    bool hw_fault_now = false;
    if (!estop && chaos.corrupt_reads == 0 && rng.chance(0.0006)) {
      const int kind = rng.below(3);
      const int n = 1 + rng.below(20);
      if (kind == 2) {
        chaos.fail_writes = n;
      } else {
        chaos.fail_reads = n;
        chaos.device_stop = kind == 1;
      }
      hw_fault_end = k + n;
      hw_fault_now = true;
      ++counts.hardware_faults;
      expects.push_back({SafetyReason::hardware_fault, t, t});
      estop_release_t = rng.chance(0.8) ? t + n * dt + rng.uniform(0.02, 0.3) : INFINITY;
    }
    const bool latched_before_tick = estop;
    SafetyReason measured_why = SafetyReason::resync;
    std::uint64_t measured_before = 0, measured_out_before = 0;
    bool measured_check = false;
    if (!hw_fault_now && chaos.corrupt_reads == 0 && k > corrupt_end + 1 && rng.chance(0.0005)) {
      chaos.corrupt_reads = 1 + rng.below(5);
      chaos.corrupt_joint = rng.below(2);
      chaos.corrupt_kind = rng.below(3);
      corrupt_end = k + chaos.corrupt_reads;
      ++counts.corrupt_reads;
      measured_why = chaos.corrupt_kind == 0   ? SafetyReason::measured_non_finite
                     : chaos.corrupt_kind == 1 ? SafetyReason::measured_out_of_range
                                               : SafetyReason::measured_overspeed;
      measured_check = !estop;  // a latched stop skips every other check
      measured_before = loop.supervisor().intervention_count(measured_why);
      measured_out_before = loop.supervisor().intervention_count(SafetyReason::measured_out_of_range);
    }

    // --- one control tick ---------------------------------------------------------------------------------
    const bool hw_fault_expected = chaos.fail_reads > 0 || chaos.fail_writes > 0;
    const HwStatus hs = loop.tick(t, dt);
    if (hw_fault_expected) {
      ASSERT_NE(hs, HwStatus::ok) << "an injected hardware fault was not reported at t=" << t;
    } else {
      ASSERT_EQ(hs, HwStatus::ok) << "plant failed at t=" << t;
    }
    if (hw_fault_now) {
      estop = true;
      hw_latched = true;
    }
    ++counts.ticks;
    if (loop.following()) ++counts.following_ticks;
    const bool time_behind = t < t_max - 1e-12;
    t_max = std::max(t_max, t);
    const ExoCommand& cmd = loop.command();
    const auto& sup = loop.supervisor();
    // A latched stop (e-stop or hardware) is passive with zero torque, whatever else happens.
    if (latched_before_tick && (cmd.mode != CommandMode::passive || cmd.torque_nm[0] != 0.0 || cmd.torque_nm[1] != 0.0 ||
                                sup.mode() != SupervisorMode::emergency_stop))
      ++counts.latched_not_passive;
    if (time_behind && sup.mode() == SupervisorMode::normal) ++counts.moved_while_time_behind;
    if (measured_check) {
      // Recognised this tick, and its episode is in the log (now, or earlier when the real plant was already
      // out of range, e.g. after an e-stop fall).
      bool logged = false;
      for (const auto& ev : sup.events()) logged = logged || (ev.reason == measured_why && ev.t_s <= t_max);
      // A joint that is really out of range (after a passive stop let the leg fall) is reported as that first:
      // the corrupted read is then recognised as the measured fault with precedence.
      const bool other = sup.intervention_count(SafetyReason::measured_out_of_range) > measured_out_before;
      if (other)
        for (const auto& ev : sup.events()) logged = logged || (ev.reason == SafetyReason::measured_out_of_range && ev.t_s <= t_max);
      if ((sup.intervention_count(measured_why) == measured_before && !other) || !logged) ++counts.unlogged_faults;
    }

    // Watchdog: hold no later than the first tick beyond the bound.
    const bool watchdog_due = !(t - own_last_fresh <= w);
    if (watchdog_due && sup.mode() == SupervisorMode::normal) ++counts.watchdog_late;
    const bool watchdog_episode = watchdog_due && !estop;
    if (watchdog_episode && !prev_watchdog) {
      ++counts.watchdog_episodes;
      expects.push_back({SafetyReason::watchdog, t, t});
    }
    prev_watchdog = watchdog_episode;

    // Commands leaving the supervisor.
    const bool active = cmd.mode != CommandMode::passive;
    const std::uint64_t resyncs = sup.intervention_count(SafetyReason::resync);
    const bool continuing = active && prev_active && resyncs == prev_resyncs;
    for (std::size_t j = 0; j < kJointCount; ++j) {
      const double q = cmd.position_rad[j], v = cmd.velocity_rad_s[j], tau = cmd.torque_nm[j];
      if (!std::isfinite(q) || !std::isfinite(v) || !std::isfinite(tau)) {
        ++counts.non_finite_commands;
        continue;
      }
      if (active) {
        constexpr double eps = 1e-9;
        if (q < L[j].position_min_rad - eps || q > L[j].position_max_rad + eps) ++counts.position_violations;
        if (std::abs(v) > L[j].velocity_max_rad_s * (1 + eps)) ++counts.velocity_violations;
        if (std::abs(tau) > L[j].torque_max_nm * (1 + eps)) ++counts.torque_violations;
        if (continuing) {
          if (std::abs(q - prev_q[j]) > L[j].setpoint_rate_max_rad_s * dt * (1 + 1e-6) + 1e-12) ++counts.rate_violations;
          if (std::abs(v - prev_v[j]) > L[j].acceleration_max_rad_s2 * dt * (1 + 1e-6) + 1e-12) ++counts.acceleration_violations;
        }
        const double prev_t = prev_active ? prev_tau[j] : 0.0;
        if (std::abs(tau - prev_t) > L[j].torque_rate_max_nm_s * dt * (1 + 1e-9) + 1e-12) ++counts.torque_rate_violations;
      } else if (tau != 0.0) {
        ++counts.torque_violations;  // passive must carry zero torque
      }
      prev_q[j] = q;
      prev_v[j] = v;
      prev_tau[j] = active ? tau : 0.0;
      // Simulated joints stay inside the mechanical range.
      if (std::isfinite(opt.sim_min_rad[j])) {
        const double qs = chaos.true_state.joints[j].position_rad;
        if (qs < opt.sim_min_rad[j] - opt.sim_tolerance_rad || qs > opt.sim_max_rad[j] + opt.sim_tolerance_rad)
          ++counts.sim_range_violations;
        counts.sim_worst_penetration_rad =
            std::max({counts.sim_worst_penetration_rad, opt.sim_min_rad[j] - qs, qs - opt.sim_max_rad[j]});
        counts.sim_worst_excursion_rad = std::max(
            {counts.sim_worst_excursion_rad, L[j].position_min_rad - qs, qs - L[j].position_max_rad});
      }
    }
    prev_active = active;
    prev_resyncs = resyncs;
  }

  EXPECT_TRUE(loop.deactivate().ok());
  // Every injected fault appears in the supervisor's log within its detection bound.
  const auto& sup = loop.supervisor();
  for (const auto& e : expects) {
    bool found = false;
    for (const auto& ev : sup.events())
      if (ev.reason == e.reason && ev.t_s >= e.t_from - 1e-12 && ev.t_s <= e.t_to + 1e-12) found = true;
    if (!found) {
      ++counts.unlogged_faults;
      if (counts.unlogged_faults <= 5)
        std::printf("unlogged %s expected in [%.4f, %.4f]\n", safety_reason_name(e.reason), e.t_from, e.t_to);
    }
  }
  counts.log_drops += sup.dropped_events();
  counts.sensor_fault_episodes += static_cast<std::uint64_t>(
      std::count_if(sup.events().begin(), sup.events().end(), [](const SafetyEvent& e) { return e.reason == SafetyReason::sensor_fault; }));
  ++counts.sequences;
}

}  // namespace myoexo::test
