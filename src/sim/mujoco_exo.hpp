// myoexo::sim — the MuJoCo back-end of control::ExoHardware (MuJoCo 2.2 C API), headless.
//
// read() and write() bracket MuJoCo's split step exactly: read() runs mj_step1 (positions/velocities-dependent
// quantities at time t) and reports the state; write() sets the controls and runs mj_step2 (actuation,
// acceleration, integration to t + dt). So the controller at t sees the state at t, as on hardware.
// The split step needs the Euler (or implicit) integrator; create() refuses RK4 models.
//
// MuJoCo errors and warnings (why and how, details in mujoco_exo.cpp): MuJoCo 2.2's default error handler prints,
// waits for Enter and exit()s the process; its default warning handler prints and appends to MUJOCO_LOG.TXT in
// the working directory. Creating a MujocoExo installs process-wide handlers (mju_user_error/mju_user_warning)
// once: an error throws a C++ exception that unwinds through MuJoCo's C frames (checked at install time: every
// frame between our call and the handler must have unwind tables) and is caught at this class's boundary, a
// warning is recorded. Either, or any increase of mjData.warning[] counters (MuJoCo resets the state after a bad
// qpos/qvel/qacc/ctrl: the simulation jumped), or a non-finite state, is a fault: read()/write() return
// HwStatus::error, the back-end goes to LifecycleState::error (configure() recovers), and fault_status() returns
// the Error with MuJoCo's message. The record is a fixed buffer: read()/write() never allocate, except for the
// exception object on a MuJoCo *error*, which ends the session anyway.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "control/exo_hardware.hpp"
#include "core/error.hpp"

struct mjModel_;
struct mjData_;

namespace myoexo::sim {

/// What went wrong in the simulation.
enum class SimFault : int {
  none = 0,
  mujoco_error = 1,      ///< mju_error (e.g. mjData stack overflow): the step was aborted
  mujoco_warning = 2,    ///< a MuJoCo warning / warning counter increase (bad qpos/qvel/qacc/ctrl, full buffers)
  non_finite_state = 3,  ///< qpos/qvel of an actuated joint became NaN/Inf
};
/// "none", "mujoco_error", "mujoco_warning", "non_finite_state".
const char* sim_fault_name(SimFault fault) noexcept;

/// The first fault since configure() (later ones only count), held in fixed storage.
struct SimFaultRecord {
  SimFault kind = SimFault::none;
  int warning = -1;          ///< mjtWarning index for counter-detected warnings, else -1
  double sim_time_s = 0.0;   ///< simulated time when it was detected [s]
  char message[256] = {};    ///< MuJoCo's text (truncated), NUL-terminated
};

/// Whether MuJoCo errors can be thrown through MuJoCo's C frames in this process (decided once, when the
/// handlers are installed: every MuJoCo entry point we call has unwind tables). False means an error aborts
/// the process with the message on stderr (still never the default getchar()/exit()).
bool mujoco_errors_are_recoverable() noexcept;

struct MujocoExoSpec {
  std::array<std::string, control::kJointCount> joint_names{"hip", "knee"};            ///< hinge joints
  std::array<std::string, control::kJointCount> actuator_names{"hip_motor", "knee_motor"};  ///< torque motors (gear 1)
  std::array<double, control::kJointCount> initial_position_rad{0.0, 0.0873};  ///< posture set by configure()
  /// Position mode emulates an ideal servo drive: tau = bias(q, qd) + kp (q_d - q) + kd (qd_d - qd) + feed-forward,
  /// clipped to the actuator's ctrlrange.
  std::array<double, control::kJointCount> servo_kp_nm_rad{300.0, 150.0};
  std::array<double, control::kJointCount> servo_kd_nm_s_rad{45.0, 13.0};
  /// MuJoCo steps per write(); the control period is substeps x the model's timestep, >= 1.
  int substeps = 1;
};

/// RAII owner of one mjModel + mjData.
class MujocoExo final : public control::ExoHardware {
 public:
  /// Load an MJCF file (relative includes resolve against its folder). Errors carry MuJoCo's message.
  static Result<std::unique_ptr<MujocoExo>> load_file(const std::filesystem::path& path, const MujocoExoSpec& spec = {});
  /// Load MJCF text (tests: small inline models).
  static Result<std::unique_ptr<MujocoExo>> load_xml(std::string_view xml, const MujocoExoSpec& spec = {});
  ~MujocoExo() override;
  MujocoExo(const MujocoExo&) = delete;
  MujocoExo& operator=(const MujocoExo&) = delete;

  Status configure() override;
  Status activate() override;
  Status deactivate() override;
  [[nodiscard]] control::HwStatus read(double t_s, double dt_s, control::ExoState& state) noexcept override;
  [[nodiscard]] control::HwStatus write(double t_s, double dt_s, const control::ExoCommand& command) noexcept override;
  control::LifecycleState lifecycle_state() const noexcept override { return lifecycle_; }
  const char* name() const noexcept override { return "mujoco"; }

  /// Model timestep x substeps [s]: the period the loop should run at.
  double control_period_s() const noexcept;
  /// Simulated time [s].
  double sim_time_s() const noexcept;
  /// Mechanical joint range from the model [rad] (the hard stops).
  double joint_range_min_rad(control::Joint j) const noexcept { return range_min_[static_cast<std::size_t>(j)]; }
  double joint_range_max_rad(control::Joint j) const noexcept { return range_max_[static_cast<std::size_t>(j)]; }
  /// Actuator torque limit from the model's ctrlrange [N m] (symmetric part: min(|lo|, hi)).
  double actuator_limit_nm(control::Joint j) const noexcept { return ctrl_max_[static_cast<std::size_t>(j)]; }
  /// Gravity + Coriolis torques at the current state (MuJoCo's qfrc_bias) [N m], valid after read().
  std::array<double, control::kJointCount> bias_torques_nm() const noexcept;
  /// Set the posture (and zero velocities); recomputes derived quantities. Not real-time. A MuJoCo fault while
  /// recomputing is recorded like one in read()/write() (the back-end goes to the error state).
  void set_posture(const std::array<double, control::kJointCount>& q_rad) noexcept;

  /// The first fault since the last configure() (kind none if there was none). Real-time safe.
  const SimFaultRecord& last_fault() const noexcept { return fault_; }
  /// Faults seen since configure() (the first is in last_fault()).
  std::uint64_t fault_count() const noexcept { return fault_count_; }
  /// last_fault() as an Error (ErrorCode::invalid_argument: the model or state MuJoCo was given cannot be
  /// simulated), e.g. "MuJoCo warning at t=0.012 s: Nan, Inf or huge value in QACC at DOF 0. ..."; ok when none.
  /// Allocates: call it after read()/write() returned HwStatus::error, not per tick.
  Status fault_status() const;
  /// Called by the process-wide warning handler while this instance runs MuJoCo (internal).
  void note_mujoco_warning(const char* message) noexcept;

  const mjModel_* model() const noexcept { return m_; }
  mjData_* data() noexcept { return d_; }

 private:
  MujocoExo(mjModel_* m, const MujocoExoSpec& spec) : m_(m), spec_(spec) {}
  Status bind();
  // Run `f` (MuJoCo calls) with this instance as the receiver of MuJoCo warnings; a MuJoCo error (thrown by the
  // handler) is caught here, recorded, and turns the back-end to the error state. Returns false on any fault.
  template <typename F>
  bool guarded(F&& f) noexcept;
  void record_fault(SimFault kind, int warning, const char* message) noexcept;
  int warning_total() const noexcept;

  mjModel_* m_ = nullptr;
  mjData_* d_ = nullptr;
  MujocoExoSpec spec_;
  control::LifecycleState lifecycle_ = control::LifecycleState::unconfigured;
  std::array<int, control::kJointCount> qpos_adr_{}, dof_adr_{}, act_id_{};
  std::array<double, control::kJointCount> range_min_{}, range_max_{}, ctrl_max_{}, ctrl_lo_{}, ctrl_hi_{};
  bool step1_done_ = false;
  SimFaultRecord fault_{};
  std::uint64_t fault_count_ = 0;
  bool warned_ = false;  // the warning handler fired during the current guarded() call
  bool in_guard_ = false;
  double guard_time_s_ = 0.0;
};

}  // namespace myoexo::sim
