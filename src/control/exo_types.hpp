// myoexo::control — joint names, states, set-points and commands shared by controller, supervisor and actuators.
//
// Conventions (sagittal plane, the MJCF in models/exo_leg.xml uses the same):
//  - hip angle: 0 = thigh hanging straight down, positive = flexion (thigh forward) [rad];
//  - knee angle: 0 = knee straight, positive = flexion (shank behind the thigh line) [rad];
//  - torques are joint torques [N m] in the same positive directions.
#pragma once

#include <array>
#include <cstddef>

namespace myoexo::control {

/// The actuated joints of the hip-knee exoskeleton (one leg).
enum class Joint : int { hip = 0, knee = 1 };
inline constexpr std::size_t kJointCount = 2;
/// "hip", "knee" — also the prefix of the interface names ("knee/position").
const char* joint_name(Joint joint) noexcept;

/// Measured state of one joint.
struct JointState {
  double position_rad = 0.0;
  double velocity_rad_s = 0.0;
  double effort_nm = 0.0;  ///< torque the actuator applied in the last period [N m]
};

/// Measured state of the exoskeleton at time `time_s` (read from the hardware each tick).
struct ExoState {
  double time_s = 0.0;
  std::array<JointState, kJointCount> joints{};
};

/// Desired motion of one joint: position and its first two derivatives (the trajectory's output).
struct JointSetpoint {
  double position_rad = 0.0;
  double velocity_rad_s = 0.0;
  double acceleration_rad_s2 = 0.0;
};
using Setpoints = std::array<JointSetpoint, kJointCount>;

/// How the actuators interpret a command.
///  - torque:   apply `torque_nm` (the controller closed the loop);
///  - position: track `position_rad`/`velocity_rad_s` with the drive's own servo, `torque_nm` as feed-forward;
///  - passive:  no active torque at all (emergency stop, not active): the joint is back-drivable.
enum class CommandMode : int { torque = 0, position = 1, passive = 2 };

/// What goes to the actuators each tick (after the supervisor).
struct ExoCommand {
  CommandMode mode = CommandMode::passive;
  std::array<double, kJointCount> position_rad{};
  std::array<double, kJointCount> velocity_rad_s{};
  std::array<double, kJointCount> torque_nm{};
};

/// Per-joint limits the supervisor enforces. Defaults (see default_joint_limits()) sit inside the mechanical
/// ranges of models/exo_leg.xml so that a set-point at a limit never drives the joint into its hard stop.
struct JointLimits {
  double position_min_rad = 0.0;
  double position_max_rad = 0.0;
  double velocity_max_rad_s = 0.0;      ///< |set-point velocity| and |measured velocity| bound
  double acceleration_max_rad_s2 = 0.0; ///< |set-point acceleration| bound
  double setpoint_rate_max_rad_s = 0.0; ///< |q_k - q_{k-1}| / dt bound on consecutive set-points
  double torque_max_nm = 0.0;           ///< |torque| bound
  double torque_rate_max_nm_s = 0.0;    ///< |tau_k - tau_{k-1}| / dt bound
};
using ExoLimits = std::array<JointLimits, kJointCount>;

/// Hip: [-20, 100] deg, 4 rad/s, 40 rad/s^2, 80 N m, 2000 N m/s.
/// Knee: [0, 110] deg, 6 rad/s, 60 rad/s^2, 50 N m, 2000 N m/s.
/// Velocities/accelerations leave ~1.4x margin over the default gait pattern (1.4 s stride; peaks: hip 2.6 rad/s,
/// 17 rad/s^2; knee 4.6 rad/s, 39 rad/s^2), torques cover the gravity load of the leg held horizontal (~45 N m hip).
ExoLimits default_joint_limits() noexcept;

inline constexpr double kPi = 3.14159265358979323846;
inline constexpr double deg_to_rad(double deg) noexcept { return deg * kPi / 180.0; }
inline constexpr double rad_to_deg(double rad) noexcept { return rad * 180.0 / kPi; }

}  // namespace myoexo::control
