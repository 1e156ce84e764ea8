#include "control/trajectory.hpp"

#include <algorithm>
#include <cmath>

namespace myoexo::control {

MinimumJerkSegment MinimumJerkSegment::plan(double e0, double v0, double a0, double duration_s) noexcept {
  MinimumJerkSegment s;
  if (!(duration_s > 0.0) || !std::isfinite(duration_s)) return s;
  const double T = duration_s, T2 = T * T, T3 = T2 * T, T4 = T3 * T, T5 = T4 * T;
  // Quintic with e(0)=e0, e'(0)=v0, e''(0)=a0 and e(T)=e'(T)=e''(T)=0.
  s.c = {e0,
         v0,
         0.5 * a0,
         (-20.0 * e0 - 12.0 * v0 * T - 3.0 * a0 * T2) / (2.0 * T3),
         (30.0 * e0 + 16.0 * v0 * T + 3.0 * a0 * T2) / (2.0 * T4),
         (-12.0 * e0 - 6.0 * v0 * T - a0 * T2) / (2.0 * T5)};
  s.duration_s = T;
  return s;
}

JointSetpoint MinimumJerkSegment::evaluate(double tau_s) const noexcept {
  if (tau_s >= duration_s) return {};
  const double t = std::max(tau_s, 0.0);
  const auto& k = c;
  JointSetpoint p;
  p.position_rad = k[0] + t * (k[1] + t * (k[2] + t * (k[3] + t * (k[4] + t * k[5]))));
  p.velocity_rad_s = k[1] + t * (2 * k[2] + t * (3 * k[3] + t * (4 * k[4] + t * 5 * k[5])));
  p.acceleration_rad_s2 = 2 * k[2] + t * (6 * k[3] + t * (12 * k[4] + t * 20 * k[5]));
  return p;
}

GaitPattern default_gait_pattern() noexcept {
  GaitPattern g;
  const double hip[] = {14.05, 19.82, -2.55, -3.11, -2.88, -0.60, 1.80};
  const double knee[] = {23.66, -0.98, -20.77, -14.84, 6.12, -1.11, 3.88, -1.12, 0.68};
  std::copy(std::begin(hip), std::end(hip), g.hip_deg.begin());
  std::copy(std::begin(knee), std::end(knee), g.knee_deg.begin());
  g.hip_harmonics = 3;
  g.knee_harmonics = 4;
  g.stride_period_s = 1.4;
  return g;
}

JointSetpoint evaluate_gait(const GaitPattern& pattern, Joint joint, double phi_rad, double omega_rad_s) noexcept {
  const bool hip = joint == Joint::hip;
  const auto& c = hip ? pattern.hip_deg : pattern.knee_deg;
  const int n = hip ? pattern.hip_harmonics : pattern.knee_harmonics;
  double q = c[0], dq = 0.0, ddq = 0.0;
  for (int k = 1; k <= n; ++k) {
    const double a = c[2 * k - 1], b = c[2 * k];
    const double ck = std::cos(k * phi_rad), sk = std::sin(k * phi_rad);
    q += a * ck + b * sk;
    dq += k * (-a * sk + b * ck);
    ddq += -double(k * k) * (a * ck + b * sk);
  }
  return {deg_to_rad(q), deg_to_rad(dq) * omega_rad_s, deg_to_rad(ddq) * omega_rad_s * omega_rad_s};
}

Result<MinimumJerkTrajectory> MinimumJerkTrajectory::create(const TrajectorySpec& spec) {
  auto bad = [](const char* why) { return make_error(ErrorCode::invalid_argument, std::string("MinimumJerkTrajectory: ") + why); };
  for (std::size_t j = 0; j < kJointCount; ++j) {
    const auto& L = spec.limits[j];
    if (!(L.position_min_rad < L.position_max_rad) || !(L.velocity_max_rad_s > 0) || !(L.acceleration_max_rad_s2 > 0))
      return bad("limits must have min < max and positive velocity/acceleration bounds");
    for (double q : {spec.neutral_rad[j], spec.lift_target_rad[j]})
      if (!(q >= L.position_min_rad && q <= L.position_max_rad)) return bad("neutral/lift targets must lie inside the limits");
  }
  if (!(spec.limit_fraction > 0.0 && spec.limit_fraction <= 1.0)) return bad("limit_fraction must be in (0, 1]");
  if (!(spec.move_min_duration_s > 0.0) || !(spec.stop_duration_s > 0.0)) return bad("durations must be > 0");
  if (!(spec.stop_margin_rad >= 0.0) || !std::isfinite(spec.stop_margin_rad)) return bad("stop_margin_rad must be finite and >= 0");
  const auto& g = spec.gait;
  if (!(g.stride_period_s > 0.0) || g.hip_harmonics < 0 || g.knee_harmonics < 0 ||
      g.hip_harmonics > GaitPattern::kMaxHarmonics || g.knee_harmonics > GaitPattern::kMaxHarmonics)
    return bad("gait pattern needs a positive stride period and 0..6 harmonics");
  MinimumJerkTrajectory t(spec);
  Setpoints from{};
  for (std::size_t j = 0; j < kJointCount; ++j) from[j].position_rad = spec.neutral_rad[j];
  t.rebase(0.0, from);
  return t;
}

Setpoints MinimumJerkTrajectory::reference(double t_s) const noexcept {
  Setpoints r{};
  if (gait_) {
    const double omega = 2.0 * kPi / spec_.gait.stride_period_s;
    const double phi = gait_phi0_rad_ + omega * (t_s - t0_s_);
    for (std::size_t j = 0; j < kJointCount; ++j) r[j] = evaluate_gait(spec_.gait, static_cast<Joint>(j), phi, omega);
  } else {
    for (std::size_t j = 0; j < kJointCount; ++j) r[j].position_rad = target_rad_[j];
  }
  return r;
}

namespace {
// Largest |value| / cap seen by sampling; the worst ratio over the segment decides feasibility.
constexpr int kPlanSamples = 64;
constexpr double kShortestSegmentS = 0.03;  // below this a stop is a jolt; the supervisor brakes instead
constexpr double kLongestSegmentS = 30.0;
constexpr double kStretch = 1.15;           // candidate durations are a geometric grid with this ratio
}  // namespace

double MinimumJerkTrajectory::check_plan(const Setpoints& from, double T, double fraction, bool strict_stop,
                                         double give_up_above) noexcept {
  // Plans the candidate (into seg_) and returns its worst normalised excursion: max over joints and samples of
  // |v| / v_cap, |a| / a_cap and 1 + (distance beyond the position range) / range; <= 1 means within.
  double worst = 0.0;
  const double omega = 2.0 * kPi / spec_.gait.stride_period_s;
  for (std::size_t j = 0; j < kJointCount; ++j) {
    const auto& L = spec_.limits[j];
    auto sane = [](double x) { return std::isfinite(x) ? x : 0.0; };
    const double q0 = sane(from[j].position_rad), v0 = sane(from[j].velocity_rad_s), a0 = sane(from[j].acceleration_rad_s2);
    double q_lo = std::min(L.position_min_rad, q0), q_hi = std::max(L.position_max_rad, q0);
    if (stop_) {
      // Free-end minimum jerk stop: with the final position free, the optimum is the quartic that lands at
      // q0 + v0 T/2 + a0 T^2/12 (natural boundary condition: 5th derivative zero). It lands stop_margin_rad off
      // the limits (the measured joint lags the set-point when braking hard), but a posture already inside that
      // margin is not pushed out of it: rest must not move a leg that is at rest.
      const double m = std::min(spec_.stop_margin_rad, 0.25 * (L.position_max_rad - L.position_min_rad));
      const double q_in = std::clamp(q0, L.position_min_rad, L.position_max_rad);
      const double lo = std::min(q_in, L.position_min_rad + m), hi = std::max(q_in, L.position_max_rad - m);
      target_rad_[j] = std::clamp(q0 + 0.5 * v0 * T + a0 * T * T / 12.0, lo, hi);
      // Preferably a stop does not swing past its clamped target into the margin either (no overshoot-and-return).
      if (strict_stop) {
        q_lo = std::min(lo, q0);
        q_hi = std::max(hi, q0);
      }
    }
    JointSetpoint r0{};
    if (gait_) r0 = evaluate_gait(spec_.gait, static_cast<Joint>(j), gait_phi0_rad_, omega);
    else r0.position_rad = target_rad_[j];
    seg_[j] = MinimumJerkSegment::plan(q0 - r0.position_rad, v0 - r0.velocity_rad_s, a0 - r0.acceleration_rad_s2, T);
    // The start values are what they are (the supervisor already bounds them): never ask for less than them.
    const double v_cap = std::max(fraction * L.velocity_max_rad_s, std::abs(v0));
    const double a_cap = std::max(fraction * L.acceleration_max_rad_s2, std::abs(a0));
    const double span = L.position_max_rad - L.position_min_rad;
    for (int i = 1; i <= kPlanSamples; ++i) {
      const double tau = T * i / kPlanSamples;
      JointSetpoint p = seg_[j].evaluate(tau);
      JointSetpoint r{};
      if (gait_) r = evaluate_gait(spec_.gait, static_cast<Joint>(j), gait_phi0_rad_ + omega * tau, omega);
      else r.position_rad = target_rad_[j];
      p.position_rad += r.position_rad;
      p.velocity_rad_s += r.velocity_rad_s;
      p.acceleration_rad_s2 += r.acceleration_rad_s2;
      const double beyond = std::max({0.0, p.position_rad - q_hi, q_lo - p.position_rad});
      worst = std::max({worst, std::abs(p.velocity_rad_s) / v_cap, std::abs(p.acceleration_rad_s2) / a_cap,
                        beyond > 0.0 ? 1.0 + beyond / span + 1e-9 : 0.0});
      if (worst > give_up_above) return worst;  // seg_ is incomplete, but this candidate is rejected anyway
    }
  }
  return worst;
}

void MinimumJerkTrajectory::plan_blend(double t_s, const Setpoints& from, double preferred_s) noexcept {
  t0_s_ = t_s;
  // Candidate durations, in order of preference; the first one whose sampled plan keeps |v| and |a| within
  // limit_fraction of the limits and the position inside the range wins. Moves and gait entry: the shortest
  // duration >= preferred_s (the fastest move within the limits), then shorter ones (an initial velocity towards
  // a limit overshoots less when the segment is shorter). Stops: preferred_s, then shorter (a stop that would
  // coast into a limit must brake harder), then longer. Only on intent changes, never per tick; bounded work.
  const double lo = kShortestSegmentS, hi = kLongestSegmentS;
  double T0 = std::clamp(preferred_s, lo, hi);
  if (!stop_) {
    // Closed-form start: rest-to-rest minimum jerk peaks at 1.875 D/T (velocity) and 5.77 D/T^2 (acceleration).
    for (std::size_t j = 0; j < kJointCount; ++j) {
      const auto& L = spec_.limits[j];
      const double d = std::isfinite(from[j].position_rad) ? std::abs(from[j].position_rad - target_rad_[j]) : 0.0;
      if (gait_) continue;  // the gait reference moves: the sampled check decides
      T0 = std::max(T0, 1.875 * d / (spec_.limit_fraction * L.velocity_max_rad_s));
      T0 = std::max(T0, std::sqrt(5.77 * d / (spec_.limit_fraction * L.acceleration_max_rad_s2)));
    }
    T0 = std::min(T0, hi);
  }
  double best_T = T0, best_worst = 1e300;
  // Levels of preference: within limit_fraction and (stops) not entering the stop margin; within limit_fraction;
  // within the full limits. The first feasible candidate of the first level that has one wins.
  struct Level {
    double fraction;
    bool strict_stop;
  };
  const Level levels[] = {{spec_.limit_fraction, true}, {spec_.limit_fraction, false}, {1.0, false}};
  for (const Level& level : levels) {
    if (level.strict_stop && !stop_) continue;
    // First sweep in the preferred direction, then the other one.
    const bool up_first = !stop_;
    for (int pass = 0; pass < 2; ++pass) {
      const bool up = (pass == 0) == up_first;
      for (double T = (pass == 0 ? T0 : (up ? T0 * kStretch : T0 / kStretch)); T >= lo * 0.999 && T <= hi * 1.001;
           T = up ? T * kStretch : T / kStretch) {
        // Bound: a candidate worse than max(1, best so far) can neither be taken nor become the fallback, so its
        // check may stop early (same choice as the full check; a feasible one is always checked in full).
        const double worst = check_plan(from, T, level.fraction, level.strict_stop, std::max(1.0, best_worst));
        if (worst <= 1.0) return;  // seg_ and target_rad_ hold this plan
        if (worst < best_worst) {
          best_worst = worst;
          best_T = T;
        }
      }
    }
  }
  // Nothing meets every bound (e.g. a joint too fast to stop before its limit): take the least bad plan; the
  // supervisor's braking bound keeps the set-point inside the range.
  (void)check_plan(from, best_T, 1.0, false);
}

void MinimumJerkTrajectory::start(IntentLabel label, double t_s, const Setpoints& from) noexcept {
  label_ = label;
  gait_ = false;
  stop_ = false;
  switch (label) {
    case IntentLabel::lift:
      for (std::size_t j = 0; j < kJointCount; ++j) target_rad_[j] = spec_.lift_target_rad[j];
      plan_blend(t_s, from, spec_.move_min_duration_s);
      return;
    case IntentLabel::lower:
      for (std::size_t j = 0; j < kJointCount; ++j) target_rad_[j] = spec_.neutral_rad[j];
      plan_blend(t_s, from, spec_.move_min_duration_s);
      return;
    case IntentLabel::gait: {
      // Enter the cycle where it is closest to the current posture, so the blend is short.
      double best = 1e300;
      constexpr int kPhases = 100;
      for (int i = 0; i < kPhases; ++i) {
        const double phi = 2.0 * kPi * i / kPhases;
        double d = 0.0;
        for (std::size_t j = 0; j < kJointCount; ++j) {
          const double diff = evaluate_gait(spec_.gait, static_cast<Joint>(j), phi, 0.0).position_rad - from[j].position_rad;
          d += diff * diff;
        }
        if (d < best) {
          best = d;
          gait_phi0_rad_ = phi;
        }
      }
      gait_ = true;
      plan_blend(t_s, from, spec_.move_min_duration_s);
      return;
    }
    case IntentLabel::rest:
    case IntentLabel::hold:
    default:
      // "Hold the current posture": the minimum-jerk stop from the current velocity and acceleration.
      stop_ = true;
      plan_blend(t_s, from, spec_.stop_duration_s);
      return;
  }
}

void MinimumJerkTrajectory::rebase(double t_s, const Setpoints& at) noexcept {
  label_ = IntentLabel::hold;
  gait_ = false;
  stop_ = false;
  t0_s_ = t_s;
  for (std::size_t j = 0; j < kJointCount; ++j) {
    const auto& L = spec_.limits[j];
    const double q = std::isfinite(at[j].position_rad) ? at[j].position_rad : spec_.neutral_rad[j];
    target_rad_[j] = std::clamp(q, L.position_min_rad, L.position_max_rad);
    seg_[j] = MinimumJerkSegment{};
  }
}

Setpoints MinimumJerkTrajectory::evaluate(double t_s) const noexcept {
  Setpoints out = reference(t_s);
  const double tau = t_s - t0_s_;
  for (std::size_t j = 0; j < kJointCount; ++j) {
    const JointSetpoint e = seg_[j].evaluate(tau);
    out[j].position_rad += e.position_rad;
    out[j].velocity_rad_s += e.velocity_rad_s;
    out[j].acceleration_rad_s2 += e.acceleration_rad_s2;
  }
  return out;
}

}  // namespace myoexo::control
