#include "control/joint_controller.hpp"

#include <cmath>

namespace myoexo::control {

GravityModel default_gravity_model() noexcept {
  // See models/exo_leg.xml for the table; M = 75 kg, H = 1.75 m.
  constexpr double L_thigh = 0.245 * 1.75;   // 0.42875 m
  constexpr double L_shank = 0.246 * 1.75;   // 0.4305 m
  constexpr double m_thigh = 0.100 * 75.0, c_thigh = 0.433 * L_thigh;
  constexpr double m_shank = 0.0465 * 75.0, c_shank = 0.433 * L_shank;
  constexpr double m_foot = 0.0145 * 75.0;
  constexpr double foot_down = L_shank + 0.04, foot_fwd = 0.07;  // foot COM from the knee (ankle + offset)
  constexpr double m_exo_thigh = 1.2, c_exo_thigh = 0.20, m_knee_drive = 0.8;
  constexpr double m_exo_shank = 0.6, c_exo_shank = 0.15;
  GravityModel g;
  g.thigh_length_m = L_thigh;
  g.thigh_first_moment_kgm = m_thigh * c_thigh + m_exo_thigh * c_exo_thigh + m_knee_drive * L_thigh;
  g.shank_group_mass_kg = m_shank + m_foot + m_exo_shank;
  g.shank_first_moment_along_kgm = m_shank * c_shank + m_foot * foot_down + m_exo_shank * c_exo_shank;
  g.shank_first_moment_forward_kgm = m_foot * foot_fwd;
  return g;
}

std::array<double, kJointCount> gravity_torques(const GravityModel& m, double hip_rad, double knee_rad) noexcept {
  const double phi = hip_rad - knee_rad;
  const double shank = m.shank_first_moment_along_kgm * std::sin(phi) + m.shank_first_moment_forward_kgm * std::cos(phi);
  const double hip = (m.thigh_first_moment_kgm + m.shank_group_mass_kg * m.thigh_length_m) * std::sin(hip_rad) + shank;
  return {m.gravity_m_s2 * hip, -m.gravity_m_s2 * shank};
}

Result<JointController> JointController::create(const JointControllerSpec& spec) {
  for (std::size_t j = 0; j < kJointCount; ++j)
    if (!(spec.kp_nm_rad[j] >= 0.0) || !(spec.kd_nm_s_rad[j] >= 0.0) || !std::isfinite(spec.kp_nm_rad[j]) ||
        !std::isfinite(spec.kd_nm_s_rad[j]))
      return make_error(ErrorCode::invalid_argument, "JointController: gains must be finite and >= 0");
  const auto& g = spec.gravity;
  for (double v : {g.gravity_m_s2, g.thigh_length_m, g.thigh_first_moment_kgm, g.shank_group_mass_kg,
                   g.shank_first_moment_along_kgm})
    if (!std::isfinite(v) || v < 0.0)
      return make_error(ErrorCode::invalid_argument, "JointController: gravity model values must be finite and >= 0");
  if (!std::isfinite(g.shank_first_moment_forward_kgm))
    return make_error(ErrorCode::invalid_argument, "JointController: gravity model values must be finite");
  return JointController(spec);
}

void JointController::update(const ExoState& state, const Setpoints& target, ExoCommand& command) const noexcept {
  const auto& q = state.joints;
  std::array<double, kJointCount> tau_g{};
  if (spec_.gravity_compensation) tau_g = gravity_torques(spec_.gravity, q[0].position_rad, q[1].position_rad);
  command.mode = CommandMode::torque;
  for (std::size_t j = 0; j < kJointCount; ++j) {
    command.position_rad[j] = target[j].position_rad;
    command.velocity_rad_s[j] = target[j].velocity_rad_s;
    command.torque_nm[j] = tau_g[j] + spec_.kp_nm_rad[j] * (target[j].position_rad - q[j].position_rad) +
                           spec_.kd_nm_s_rad[j] * (target[j].velocity_rad_s - q[j].velocity_rad_s);
  }
}

}  // namespace myoexo::control
