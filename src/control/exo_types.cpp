#include "control/exo_types.hpp"

#include "control/exo_hardware.hpp"

namespace myoexo::control {

const char* joint_name(Joint joint) noexcept {
  switch (joint) {
    case Joint::hip: return "hip";
    case Joint::knee: return "knee";
  }
  return "unknown";
}

ExoLimits default_joint_limits() noexcept {
  ExoLimits limits{};
  limits[0] = JointLimits{deg_to_rad(-20.0), deg_to_rad(100.0), 4.0, 40.0, 4.0, 80.0, 2000.0};
  limits[1] = JointLimits{deg_to_rad(0.0), deg_to_rad(110.0), 6.0, 60.0, 6.0, 50.0, 2000.0};
  return limits;
}

const char* lifecycle_state_name(LifecycleState state) noexcept {
  switch (state) {
    case LifecycleState::unconfigured: return "unconfigured";
    case LifecycleState::inactive: return "inactive";
    case LifecycleState::active: return "active";
    case LifecycleState::error: return "error";
  }
  return "unknown";
}

}  // namespace myoexo::control
