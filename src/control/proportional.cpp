// Proportional knee: plausibility checks on the estimates and a velocity/acceleration-bounded follower.
#include "control/proportional.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace myoexo::control {

const char* estimate_outcome_name(EstimateOutcome o) noexcept {
  switch (o) {
    case EstimateOutcome::accepted: return "accepted";
    case EstimateOutcome::non_finite: return "non_finite";
    case EstimateOutcome::out_of_range: return "out_of_range";
    case EstimateOutcome::jump: return "jump";
    case EstimateOutcome::stale_time: return "stale_time";
  }
  return "?";
}

Status validate_proportional_knee_spec(const ProportionalKneeSpec& s) {
  auto bad = [](const char* what) { return make_error(ErrorCode::invalid_argument, std::string("proportional knee: ") + what); };
  if (!(std::isfinite(s.min_deg) && std::isfinite(s.max_deg) && s.min_deg < s.max_deg))
    return bad("min_deg < max_deg, both finite");
  if (!(s.max_jump_deg > 0 && std::isfinite(s.max_jump_deg))) return bad("max_jump_deg must be > 0");
  if (s.jump_confirmations < 1) return bad("jump_confirmations must be >= 1");
  if (!(s.stale_s > 0 && std::isfinite(s.stale_s))) return bad("stale_s must be > 0");
  if (!(s.velocity_max_rad_s > 0 && std::isfinite(s.velocity_max_rad_s))) return bad("velocity_max_rad_s must be > 0");
  if (!(s.acceleration_max_rad_s2 > 0 && std::isfinite(s.acceleration_max_rad_s2)))
    return bad("acceleration_max_rad_s2 must be > 0");
  if (!(s.gain_per_s > 0 && std::isfinite(s.gain_per_s))) return bad("gain_per_s must be > 0");
  return {};
}

Result<KneeAngleFollower> KneeAngleFollower::create(const ProportionalKneeSpec& spec) {
  if (Status s = validate_proportional_knee_spec(spec); !s) return s.error();
  return KneeAngleFollower(spec);
}

void KneeAngleFollower::reset() noexcept {
  have_estimate_ = false;
  pending_count_ = 0;
  target_rad_ = 0.0;
  last_accepted_s_ = -std::numeric_limits<double>::infinity();
  sp_ = {};
}

EstimateOutcome KneeAngleFollower::push_estimate(double knee_deg, double t_s) noexcept {
  auto count = [this](EstimateOutcome o) {
    ++counts_[static_cast<std::size_t>(o)];
    return o;
  };
  if (!std::isfinite(knee_deg)) return count(EstimateOutcome::non_finite);
  if (!std::isfinite(t_s) || (have_estimate_ && t_s < last_accepted_s_)) return count(EstimateOutcome::stale_time);
  if (knee_deg < spec_.min_deg || knee_deg > spec_.max_deg) {
    pending_count_ = 0;
    return count(EstimateOutcome::out_of_range);
  }
  if (have_estimate_ && std::abs(knee_deg - rad_to_deg(target_rad_)) > spec_.max_jump_deg) {
    // A real fast movement shows as several estimates near the new value; a glitch as one.
    if (pending_count_ > 0 && std::abs(knee_deg - pending_deg_) <= spec_.max_jump_deg) {
      ++pending_count_;
    } else {
      pending_count_ = 1;
    }
    pending_deg_ = knee_deg;
    if (pending_count_ < spec_.jump_confirmations) return count(EstimateOutcome::jump);
  }
  pending_count_ = 0;
  target_rad_ = deg_to_rad(knee_deg);
  last_accepted_s_ = t_s;
  have_estimate_ = true;
  return count(EstimateOutcome::accepted);
}

bool KneeAngleFollower::active(IntentLabel intent, double t_s) const noexcept {
  const auto i = static_cast<std::size_t>(intent);
  return spec_.enabled && i < spec_.applies.size() && spec_.applies[i] && have_estimate_ && std::isfinite(t_s) &&
         t_s >= last_accepted_s_ && t_s - last_accepted_s_ <= spec_.stale_s;
}

void KneeAngleFollower::start(const JointSetpoint& from) noexcept {
  sp_ = from;
  if (!std::isfinite(sp_.position_rad)) sp_.position_rad = target_rad_;
  if (!std::isfinite(sp_.velocity_rad_s)) sp_.velocity_rad_s = 0.0;
  sp_.acceleration_rad_s2 = 0.0;
}

JointSetpoint KneeAngleFollower::step(double dt_s) noexcept {
  if (!(dt_s > 0.0) || !std::isfinite(dt_s)) return sp_;
  const double vmax = spec_.velocity_max_rad_s, amax = spec_.acceleration_max_rad_s2;
  const double e = target_rad_ - sp_.position_rad;
  // The velocity that still stops at the target: proportional near it, braking-limited further out.
  double v_want = std::min({spec_.gain_per_s * std::abs(e), std::sqrt(2.0 * amax * std::abs(e)), vmax});
  v_want = std::copysign(v_want, e);
  const double a = std::clamp((v_want - sp_.velocity_rad_s) / dt_s, -amax, amax);
  sp_.velocity_rad_s = std::clamp(sp_.velocity_rad_s + a * dt_s, -vmax, vmax);
  sp_.position_rad += sp_.velocity_rad_s * dt_s;
  sp_.acceleration_rad_s2 = a;
  return sp_;
}

}  // namespace myoexo::control
