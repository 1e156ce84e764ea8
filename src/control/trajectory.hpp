// myoexo::control — minimum-jerk hip/knee set-points per intent, and the normative gait pattern.
//
// Every intent change starts a new segment q(t) = r(t) + e(t): r is the intent's reference (a constant target for
// lift/lower/rest/hold, the gait pattern for gait) and e is a quintic that decays the initial mismatch
// (position, velocity, acceleration) between the current set-point and r to zero over the segment duration. For a
// constant r this is exactly the minimum-jerk move from (q0, v0, a0) to (target, 0, 0) (Flash & Hogan 1985); for
// gait it is a C2 blend onto the cycle. Set-points are therefore continuous in position, velocity and acceleration
// across any intent change: no jumps for the supervisor to clip.
#pragma once

#include <array>
#include <limits>

#include "control/exo_types.hpp"
#include "control/intent.hpp"
#include "core/error.hpp"

namespace myoexo::control {

/// One joint's quintic from (e0, v0, a0) at tau = 0 to (0, 0, 0) at tau = duration (the minimum-jerk solution
/// with free initial conditions). Pure value type.
struct MinimumJerkSegment {
  std::array<double, 6> c{};  ///< e(tau) = sum c[i] tau^i
  double duration_s = 0.0;

  /// duration_s > 0 (programmer error otherwise: returns a zero segment).
  static MinimumJerkSegment plan(double e0, double v0, double a0, double duration_s) noexcept;
  /// Offset and its derivatives at tau [s]; (0, 0, 0) for tau >= duration_s, the start values for tau <= 0.
  JointSetpoint evaluate(double tau_s) const noexcept;
};

/// A cyclic hip-knee walking pattern: angle(phi) = a0 + sum_k (a_k cos(k phi) + b_k sin(k phi)) [deg],
/// phi = 2 pi (gait-cycle fraction), phi = 0 at heel strike. coeffs = {a0, a1, b1, a2, b2, ...}.
struct GaitPattern {
  static constexpr int kMaxHarmonics = 6;
  std::array<double, 2 * kMaxHarmonics + 1> hip_deg{};
  std::array<double, 2 * kMaxHarmonics + 1> knee_deg{};
  int hip_harmonics = 0;   ///< in [0, kMaxHarmonics]
  int knee_harmonics = 0;  ///< in [0, kMaxHarmonics]
  double stride_period_s = 1.4;  ///< one full gait cycle [s], > 0
};

/// Normal level walking, sagittal plane, after Winter, D.A. (2009) Biomechanics and Motor Control of Human Movement,
/// 4th ed., Wiley (normative hip and knee angle curves over the gait cycle, natural cadence).
///
/// How it was obtained (honestly): we did not have Winter's tabulated data at hand. We read landmark values of the
/// published normative curves (hip: ~30 deg flexion at heel strike, ~10 deg extension near 50-55 %, peak ~32 deg
/// flexion near 85-90 %; knee: ~5 deg at heel strike, ~19 deg loading-response peak at 15 %, ~5 deg at 40 %,
/// ~62 deg swing peak at 73 %) at 16 (hip) and 20 (knee) points of the cycle and least-squares fitted a Fourier
/// series of 3 (hip) and 4 (knee) harmonics (numpy.linalg.lstsq). Fit residual: hip RMS 0.3 deg, knee RMS 0.5 deg
/// (max 1.3 deg) at the landmarks. Coefficients [deg], {a0, a1, b1, a2, b2, ...}:
///   hip  = {14.05, 19.82, -2.55, -3.11, -2.88, -0.60, 1.80}  -> min -9.4 deg at 54 %, max 31.9 deg at 88 %
///   knee = {23.66, -0.98, -20.77, -14.84, 6.12, -1.11, 3.88, -1.12, 0.68} -> min 5.1 deg at 43 %, max 62.3 deg at 74 %
/// The stride is slowed to 1.4 s (natural cadence is ~1.1 s) as exoskeleton walking is slower; peaks at 1.4 s:
/// hip 2.6 rad/s, 17 rad/s^2; knee 4.6 rad/s, 39 rad/s^2. This is a shape for a swinging leg in the simulator, not
/// a clinical reference.
GaitPattern default_gait_pattern() noexcept;

/// Gait angles (and derivatives) of one joint at phase phi [rad], for a phase rate omega [rad/s].
JointSetpoint evaluate_gait(const GaitPattern& pattern, Joint joint, double phi_rad, double omega_rad_s) noexcept;

/// Targets and timing of the trajectories.
struct TrajectorySpec {
  std::array<double, kJointCount> neutral_rad{0.0, deg_to_rad(5.0)};                    ///< "lower" target
  std::array<double, kJointCount> lift_target_rad{deg_to_rad(45.0), deg_to_rad(60.0)};  ///< "lift" target
  GaitPattern gait = default_gait_pattern();
  ExoLimits limits = default_joint_limits();  ///< targets are clamped inside, plans respect a fraction of them
  double limit_fraction = 0.8;        ///< plans keep |v| and |a| below this fraction of the limits, in (0, 1]
  double move_min_duration_s = 0.5;   ///< shortest lift/lower/gait-entry segment [s], > 0
  double stop_duration_s = 0.3;       ///< preferred duration of a rest/hold stop [s], > 0
  /// A rest/hold stop lands at least this far inside the position range [rad], >= 0 (capped at a quarter of the
  /// range; a posture already inside it is not moved). 12 deg: the PD-tracked knee of models/exo_leg.xml lags the
  /// set-point by up to ~0.07 rad when a mid-stride stop brakes at ~40 rad/s^2; 12 deg keeps it off the limit.
  double stop_margin_rad = deg_to_rad(12.0);
};

/// Set-point generator per intent; one per exoskeleton. start() and evaluate() are real-time safe.
class MinimumJerkTrajectory {
 public:
  /// Validates targets (inside limits), the gait pattern and durations.
  static Result<MinimumJerkTrajectory> create(const TrajectorySpec& spec);

  /// Start the segment of `label` at time t_s from the set-points `from` valid AT t_s: position, velocity and
  /// acceleration are all continuous there (a caller holding set-points of an earlier tick passes that tick's
  /// time, not the current one, or the segment starts one tick late: a position step).
  /// rest/hold: the minimum-jerk stop (free end position) from the current velocity/acceleration, landing at
  /// least stop_margin_rad inside the range; lift: move to lift_target; lower: move to neutral; gait: blend onto
  /// the gait cycle at the phase closest to the current posture.
  /// The duration is chosen from a geometric grid of candidates (ratio 1.15, 0.03..30 s) as the first whose
  /// sampled plan (64 points per joint, including the gait reference) keeps |v| <= limit_fraction * v_max,
  /// |a| <= limit_fraction * a_max (or the start values, if larger) and the position inside the range (a stop:
  /// preferably not even inside the stop margin); failing that at limit_fraction, at the full limits; failing
  /// that, the least bad candidate (the supervisor's braking bound then keeps the set-point in range).
  /// Bounded work (< ~60 candidates), no allocation; called on intent changes only.
  void start(IntentLabel label, double t_s, const Setpoints& from) noexcept;
  /// Hold exactly `at` (positions) from now on, no blend (used while the supervisor holds).
  void rebase(double t_s, const Setpoints& at) noexcept;
  /// Set-points at time t_s (>= the last start()).
  Setpoints evaluate(double t_s) const noexcept;

  IntentLabel label() const noexcept { return label_; }
  double segment_start_s() const noexcept { return t0_s_; }
  double segment_duration_s() const noexcept { return seg_[0].duration_s; }
  const TrajectorySpec& spec() const noexcept { return spec_; }

 private:
  explicit MinimumJerkTrajectory(const TrajectorySpec& spec) : spec_(spec) {}
  Setpoints reference(double t_s) const noexcept;
  void plan_blend(double t_s, const Setpoints& from, double preferred_s) noexcept;
  // Returns as soon as the running worst exceeds give_up_above (the candidate can then neither be feasible nor
  // the least bad one), so a sweep costs far less than candidates x joints x samples.
  double check_plan(const Setpoints& from, double duration_s, double fraction, bool strict_stop,
                    double give_up_above = std::numeric_limits<double>::infinity()) noexcept;

  TrajectorySpec spec_;
  IntentLabel label_ = IntentLabel::hold;
  double t0_s_ = 0.0;
  bool gait_ = false;
  bool stop_ = false;  // rest/hold: the target is the free-end stop point, recomputed per candidate duration
  double gait_phi0_rad_ = 0.0;
  std::array<double, kJointCount> target_rad_{};
  std::array<MinimumJerkSegment, kJointCount> seg_{};
};

}  // namespace myoexo::control
