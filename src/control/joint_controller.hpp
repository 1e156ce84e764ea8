// myoexo::control — the joint-space controller: PD on the (already limited) set-points plus gravity compensation.
//
// Why PD + gravity compensation (and not position actuators): the supervisor must bound the torque that actually
// reaches the joints, so the torque has to be computed on our side of the supervisor. Gravity compensation keeps
// the PD gains moderate (a leg held horizontal needs ~45 N m at the hip) and makes holding a posture stiff
// without integral wind-up. tau = g(q) + Kp (q_d - q) + Kd (qd_d - qd), evaluated at the measured q.
#pragma once

#include <array>

#include "control/exo_types.hpp"
#include "core/error.hpp"

namespace myoexo::control {

/// Planar two-link gravity model of leg + exoskeleton (pelvis fixed, ankle fixed). Each group is everything rigidly
/// attached to the thigh or to the shank; first moments are sum(mass * offset) in the segment's frame
/// (`along` = down the segment from its proximal joint, `forward` = perpendicular, anterior).
/// Gravity torques (what the actuators must supply to hold a posture), phi = hip - knee (shank absolute angle):
///   g_hip  = g [ (S_thigh + m_shank L_thigh) sin(hip) + S_along sin(phi) + S_fwd cos(phi) ]
///   g_knee = -g [ S_along sin(phi) + S_fwd cos(phi) ]
struct GravityModel {
  double gravity_m_s2 = 9.81;
  double thigh_length_m = 0.0;              ///< hip to knee [m]
  double thigh_first_moment_kgm = 0.0;      ///< S_thigh: thigh group, along the thigh [kg m]
  double shank_group_mass_kg = 0.0;         ///< m_shank: shank + foot + exo shank parts [kg]
  double shank_first_moment_along_kgm = 0.0;    ///< S_along [kg m]
  double shank_first_moment_forward_kgm = 0.0;  ///< S_fwd [kg m]
};

/// The leg of models/exo_leg.xml: body mass 75 kg, height 1.75 m, Winter (2009) segment table (thigh 0.100 M,
/// length 0.245 H, COM 0.433 L; shank 0.0465 M, 0.246 H, COM 0.433 L; foot 0.0145 M) plus exoskeleton parts
/// (thigh link 1.2 kg at 0.20 m, knee drive 0.8 kg at the knee, shank link 0.6 kg at 0.15 m). Numbers are derived
/// in the comments of models/exo_leg.xml; tests/sim checks them against MuJoCo's bias forces.
GravityModel default_gravity_model() noexcept;

/// Gravity-compensation torques [N m] at joint angles (hip, knee) [rad].
std::array<double, kJointCount> gravity_torques(const GravityModel& model, double hip_rad, double knee_rad) noexcept;

struct JointControllerSpec {
  std::array<double, kJointCount> kp_nm_rad{300.0, 150.0};   ///< stiffness, >= 0
  std::array<double, kJointCount> kd_nm_s_rad{45.0, 13.0};   ///< damping (~0.8 of critical for the leg), >= 0
  bool gravity_compensation = true;
  GravityModel gravity = default_gravity_model();
};

/// Stateless apart from its spec; update() is real-time safe.
class JointController {
 public:
  /// Validates gains (finite, >= 0) and the gravity model (finite, lengths/masses >= 0).
  static Result<JointController> create(const JointControllerSpec& spec);

  /// Torque command for set-points `target` at the measured `state`; fills every field of `command`
  /// (mode torque, position/velocity = the set-points, torque = PD + gravity).
  void update(const ExoState& state, const Setpoints& target, ExoCommand& command) const noexcept;

  const JointControllerSpec& spec() const noexcept { return spec_; }

 private:
  explicit JointController(const JointControllerSpec& spec) : spec_(spec) {}
  JointControllerSpec spec_;
};

}  // namespace myoexo::control
