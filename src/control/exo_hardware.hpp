// myoexo::control — the one interface every actuator back-end implements (mock, MuJoCo, hardware).
//
// Modelled on ros2_control's hardware component lifecycle: unconfigured -> configure() -> inactive ->
// activate() -> active -> deactivate() -> inactive. Commands are honoured only while active; read()/write() return
// a status and never throw, so a failing device cannot unwind through the real-time loop. See src/hw/README.md.
#pragma once

#include "control/exo_types.hpp"
#include "core/error.hpp"

namespace myoexo::control {

/// Where a back-end is in its lifecycle.
enum class LifecycleState : int { unconfigured = 0, inactive = 1, active = 2, error = 3 };
const char* lifecycle_state_name(LifecycleState state) noexcept;

/// Result of a real-time read/write. ok: carry on; error: the device failed (the loop zeroes torque and stops
/// writing); deactivate: the device asks to be deactivated (e.g. its own e-stop), not a failure.
enum class HwStatus : int { ok = 0, error = 1, deactivate = 2 };

class ExoHardware {
 public:
  virtual ~ExoHardware() = default;

  /// Non-real-time: open comms, size every buffer; afterwards read() works. unconfigured/error -> inactive.
  virtual Status configure() = 0;
  /// Non-real-time: enable power; afterwards write() is honoured. inactive -> active.
  virtual Status activate() = 0;
  /// Non-real-time: zero torque and disable power. active -> inactive.
  virtual Status deactivate() = 0;

  /// Real-time: fill `state` with the joints at time t_s. `dt_s` is the measured period since the last read.
  /// Allowed when inactive or active. No allocation, no exceptions.
  [[nodiscard]] virtual HwStatus read(double t_s, double dt_s, ExoState& state) noexcept = 0;
  /// Real-time: send `command` (already limited by the supervisor). Ignored (returns ok, applies passive) when not
  /// active. No allocation, no exceptions.
  [[nodiscard]] virtual HwStatus write(double t_s, double dt_s, const ExoCommand& command) noexcept = 0;

  virtual LifecycleState lifecycle_state() const noexcept = 0;
  /// Short name for logs ("mock", "mujoco").
  virtual const char* name() const noexcept = 0;
};

}  // namespace myoexo::control
