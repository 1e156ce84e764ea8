// myoexo::hw — the mock back-end: mirrors commands into states, so controllers and the supervisor are tested
// without hardware (as ros2_control's mock_components/GenericSystem).
#pragma once

#include <cstdint>

#include "control/exo_hardware.hpp"

namespace myoexo::hw {

struct MockExoSpec {
  /// Posture the joints report after configure() [rad] (hip, knee).
  std::array<double, control::kJointCount> initial_position_rad{0.0, 0.0873};
  /// Make the n-th read() (1-based, counted from configure) return HwStatus::error; 0 = never. For tests of the
  /// error path.
  std::uint64_t fail_read_at = 0;
};

/// Mirror semantics on write() while active:
///  - torque / position mode: position <- command position, velocity <- command velocity, effort <- command torque
///    (an ideal actuator that tracks the set-point exactly);
///  - passive (or not active): position keeps its value, velocity and effort <- 0 (the joint "stops").
class MockExo final : public control::ExoHardware {
 public:
  explicit MockExo(const MockExoSpec& spec = {}) : spec_(spec) {}

  Status configure() override;
  Status activate() override;
  Status deactivate() override;
  [[nodiscard]] control::HwStatus read(double t_s, double dt_s, control::ExoState& state) noexcept override;
  [[nodiscard]] control::HwStatus write(double t_s, double dt_s, const control::ExoCommand& command) noexcept override;
  control::LifecycleState lifecycle_state() const noexcept override { return lifecycle_; }
  const char* name() const noexcept override { return "mock"; }

  /// Set the reported state directly (tests: inject a posture, a NaN, an overspeed).
  void set_state(const control::ExoState& state) noexcept { state_ = state; }
  /// The last command honoured by write() (passive when none).
  const control::ExoCommand& last_command() const noexcept { return last_; }
  std::uint64_t reads() const noexcept { return reads_; }
  std::uint64_t writes() const noexcept { return writes_; }

 private:
  MockExoSpec spec_;
  control::LifecycleState lifecycle_ = control::LifecycleState::unconfigured;
  control::ExoState state_{};
  control::ExoCommand last_{};
  std::uint64_t reads_ = 0, writes_ = 0;
};

}  // namespace myoexo::hw
