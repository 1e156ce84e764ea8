#include "hw/mock_exo.hpp"

namespace myoexo::hw {

using control::CommandMode;
using control::HwStatus;
using control::LifecycleState;

Status MockExo::configure() {
  if (lifecycle_ == LifecycleState::active)
    return make_error(ErrorCode::invalid_argument, "MockExo: configure() while active; deactivate first");
  state_ = {};
  for (std::size_t j = 0; j < control::kJointCount; ++j) state_.joints[j].position_rad = spec_.initial_position_rad[j];
  last_ = {};
  reads_ = writes_ = 0;
  lifecycle_ = LifecycleState::inactive;
  return {};
}

Status MockExo::activate() {
  if (lifecycle_ != LifecycleState::inactive)
    return make_error(ErrorCode::invalid_argument, std::string("MockExo: activate() needs inactive, state is ") +
                                                       control::lifecycle_state_name(lifecycle_));
  lifecycle_ = LifecycleState::active;
  return {};
}

Status MockExo::deactivate() {
  if (lifecycle_ != LifecycleState::active)
    return make_error(ErrorCode::invalid_argument, "MockExo: deactivate() needs active");
  last_ = {};
  for (auto& j : state_.joints) j.effort_nm = 0.0;
  lifecycle_ = LifecycleState::inactive;
  return {};
}

HwStatus MockExo::read(double t_s, double /*dt_s*/, control::ExoState& state) noexcept {
  if (lifecycle_ != LifecycleState::inactive && lifecycle_ != LifecycleState::active) return HwStatus::error;
  ++reads_;
  if (spec_.fail_read_at != 0 && reads_ == spec_.fail_read_at) {
    lifecycle_ = LifecycleState::error;
    return HwStatus::error;
  }
  state_.time_s = t_s;
  state = state_;
  return HwStatus::ok;
}

HwStatus MockExo::write(double /*t_s*/, double /*dt_s*/, const control::ExoCommand& command) noexcept {
  if (lifecycle_ == LifecycleState::error || lifecycle_ == LifecycleState::unconfigured) return HwStatus::error;
  ++writes_;
  if (lifecycle_ != LifecycleState::active || command.mode == CommandMode::passive) {
    last_ = control::ExoCommand{};
    for (auto& j : state_.joints) {
      j.velocity_rad_s = 0.0;
      j.effort_nm = 0.0;
    }
    return HwStatus::ok;
  }
  last_ = command;
  for (std::size_t j = 0; j < control::kJointCount; ++j) {
    state_.joints[j].position_rad = command.position_rad[j];
    state_.joints[j].velocity_rad_s = command.velocity_rad_s[j];
    state_.joints[j].effort_nm = command.torque_nm[j];
  }
  return HwStatus::ok;
}

}  // namespace myoexo::hw
