// myoexo::control — proportional knee: the knee set-point follows the knee angle estimated from EMG.
//
// The classifier still chooses the mode: only while the active intent is one where following applies (lift = the
// standing knee flexion, lower = the sitting leg extension, by default) and estimates keep arriving does the knee
// follow the person; otherwise the intent's trajectory drives both joints as before. Whatever the follower asks,
// the safety supervisor enforces the same limits afterwards (position, velocity, acceleration, set-point rate,
// torque, watchdog, e-stop): the follower is a convenience for smooth motion, never a safety layer.
//
// Each estimate passes its own plausibility checks before it becomes the target: finite, inside [min_deg, max_deg],
// and no jump larger than max_jump_deg from the last accepted estimate (a jump is accepted once the estimates
// confirm it: `jump_confirmations` in a row close to each other). Estimates older than stale_s (or none yet) end
// following. The set-point moves towards the target with bounded velocity and acceleration, braking so it does not
// overshoot. Real-time safe: no allocation, no lock, no exception.
#pragma once

#include <array>
#include <cstdint>

#include "control/exo_types.hpp"
#include "control/intent.hpp"
#include "core/error.hpp"

namespace myoexo::control {

struct ProportionalKneeSpec {
  bool enabled = false;
  /// Intents during which the knee follows the estimate (index = IntentLabel): lift and lower by default.
  std::array<bool, kIntentLabelCount> applies{false, true, true, false, false};
  double min_deg = -10.0;             ///< plausible estimates (flexion positive, degrees); outside = rejected
  double max_deg = 130.0;
  double max_jump_deg = 30.0;         ///< |estimate - last accepted| beyond this = rejected (until confirmed)
  int jump_confirmations = 3;         ///< consecutive estimates within max_jump_deg of each other confirm a jump, >= 1
  double stale_s = 0.25;              ///< following ends when the last accepted estimate is older than this, > 0
  double velocity_max_rad_s = 2.0;    ///< the follower's own bounds (inside the supervisor's), > 0
  double acceleration_max_rad_s2 = 20.0;
  double gain_per_s = 8.0;            ///< velocity asked per radian of error (1 / time constant), > 0
};

/// Errors: invalid_argument naming the field.
Status validate_proportional_knee_spec(const ProportionalKneeSpec& spec);

/// Why an estimate was not taken.
enum class EstimateOutcome : int { accepted = 0, non_finite = 1, out_of_range = 2, jump = 3, stale_time = 4 };
inline constexpr std::size_t kEstimateOutcomeCount = 5;
const char* estimate_outcome_name(EstimateOutcome o) noexcept;

class KneeAngleFollower {
 public:
  static Result<KneeAngleFollower> create(const ProportionalKneeSpec& spec);

  /// One estimate (degrees, flexion positive) made at time t_s. Estimates older than the last accepted one are
  /// `stale_time` (time that goes backwards holds).
  EstimateOutcome push_estimate(double knee_deg, double t_s) noexcept;

  /// True when following applies at t_s for `intent`: enabled, the intent is one where it applies, and an accepted
  /// estimate no older than stale_s exists.
  bool active(IntentLabel intent, double t_s) const noexcept;

  /// Starts following from the set-point the knee has now (position and velocity).
  void start(const JointSetpoint& from) noexcept;
  /// The next knee set-point, dt_s after the previous one, moving towards the last accepted estimate.
  JointSetpoint step(double dt_s) noexcept;

  /// Forget the estimates (e.g. after an e-stop reset or a new activation).
  void reset() noexcept;

  double target_rad() const noexcept { return target_rad_; }
  double last_accepted_s() const noexcept { return last_accepted_s_; }
  const std::array<std::uint64_t, kEstimateOutcomeCount>& outcome_counts() const noexcept { return counts_; }
  const ProportionalKneeSpec& spec() const noexcept { return spec_; }

 private:
  explicit KneeAngleFollower(const ProportionalKneeSpec& spec) : spec_(spec) { reset(); }
  ProportionalKneeSpec spec_;
  double target_rad_ = 0.0;
  double last_accepted_s_ = 0.0;
  bool have_estimate_ = false;
  double pending_deg_ = 0.0;   // the candidate of an unconfirmed jump
  int pending_count_ = 0;
  JointSetpoint sp_{};
  std::array<std::uint64_t, kEstimateOutcomeCount> counts_{};
};

}  // namespace myoexo::control
