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

void MinimumJerkTrajectory::plan_blend(double t_s, const Setpoints& from, double min_duration_s) noexcept {
  t0_s_ = t_s;
  const Setpoints r0 = reference(t_s);
  std::array<double, kJointCount> e0{}, v0{}, a0{};
  double T = min_duration_s;
  const double f = spec_.limit_fraction;
  for (std::size_t j = 0; j < kJointCount; ++j) {
    auto sane = [](double x) { return std::isfinite(x) ? x : 0.0; };
    e0[j] = sane(from[j].position_rad) - r0[j].position_rad;
    v0[j] = sane(from[j].velocity_rad_s) - r0[j].velocity_rad_s;
    a0[j] = sane(from[j].acceleration_rad_s2) - r0[j].acceleration_rad_s2;
    const auto& L = spec_.limits[j];
    // Rest-to-rest minimum jerk peaks at 1.875 D/T in velocity and 5.77 D/T^2 in acceleration.
    T = std::max(T, 1.875 * std::abs(e0[j]) / (f * L.velocity_max_rad_s));
    T = std::max(T, std::sqrt(5.77 * std::abs(e0[j]) / (f * L.acceleration_max_rad_s2)));
  }
  // Initial velocity/acceleration and the gait reference make the closed forms optimistic: check the sampled plan
  // and stretch it (bounded number of tries; only on intent changes, never per tick).
  for (int attempt = 0; attempt < 12; ++attempt) {
    bool within = true;
    for (std::size_t j = 0; j < kJointCount && within; ++j) {
      seg_[j] = MinimumJerkSegment::plan(e0[j], v0[j], a0[j], T);
      const auto& L = spec_.limits[j];
      const double v_cap = std::max(f * L.velocity_max_rad_s, std::abs(from[j].velocity_rad_s));
      const double a_cap = std::max(f * L.acceleration_max_rad_s2, std::abs(from[j].acceleration_rad_s2));
      constexpr int kSamples = 32;
      for (int i = 1; i <= kSamples && within; ++i) {
        const double tau = T * i / kSamples;
        const JointSetpoint e = seg_[j].evaluate(tau);
        JointSetpoint r{};
        if (gait_) {
          const double omega = 2.0 * kPi / spec_.gait.stride_period_s;
          r = evaluate_gait(spec_.gait, static_cast<Joint>(j), gait_phi0_rad_ + omega * tau, omega);
        }
        within = std::abs(e.velocity_rad_s + r.velocity_rad_s) <= v_cap &&
                 std::abs(e.acceleration_rad_s2 + r.acceleration_rad_s2) <= a_cap;
      }
    }
    if (within) break;
    T *= 1.3;
  }
  for (std::size_t j = 0; j < kJointCount; ++j) seg_[j] = MinimumJerkSegment::plan(e0[j], v0[j], a0[j], T);
}

void MinimumJerkTrajectory::start(IntentLabel label, double t_s, const Setpoints& from) noexcept {
  label_ = label;
  gait_ = false;
  auto clamp_target = [&](std::size_t j, double q) {
    const auto& L = spec_.limits[j];
    return std::clamp(std::isfinite(q) ? q : spec_.neutral_rad[j], L.position_min_rad, L.position_max_rad);
  };
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
      // "Hold the current posture": stop where a smooth deceleration from the current velocity lands.
      for (std::size_t j = 0; j < kJointCount; ++j)
        target_rad_[j] = clamp_target(j, from[j].position_rad + 0.5 * from[j].velocity_rad_s * spec_.stop_duration_s);
      plan_blend(t_s, from, spec_.stop_duration_s);
      return;
  }
}

void MinimumJerkTrajectory::rebase(double t_s, const Setpoints& at) noexcept {
  label_ = IntentLabel::hold;
  gait_ = false;
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
