// myoexo::sim — the MuJoCo back-end of control::ExoHardware (MuJoCo 2.2 C API), headless.
//
// read() and write() bracket MuJoCo's split step exactly: read() runs mj_step1 (positions/velocities-dependent
// quantities at time t) and reports the state; write() sets the controls and runs mj_step2 (actuation,
// acceleration, integration to t + dt). So the controller at t sees the state at t, as on hardware.
// The split step needs the Euler (or implicit) integrator; create() refuses RK4 models.
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
  /// Set the posture (and zero velocities); recomputes derived quantities. Not real-time.
  void set_posture(const std::array<double, control::kJointCount>& q_rad) noexcept;

  const mjModel_* model() const noexcept { return m_; }
  mjData_* data() noexcept { return d_; }

 private:
  MujocoExo(mjModel_* m, const MujocoExoSpec& spec) : m_(m), spec_(spec) {}
  Status bind();

  mjModel_* m_ = nullptr;
  mjData_* d_ = nullptr;
  MujocoExoSpec spec_;
  control::LifecycleState lifecycle_ = control::LifecycleState::unconfigured;
  std::array<int, control::kJointCount> qpos_adr_{}, dof_adr_{}, act_id_{};
  std::array<double, control::kJointCount> range_min_{}, range_max_{}, ctrl_max_{}, ctrl_lo_{}, ctrl_hi_{};
  bool step1_done_ = false;
};

}  // namespace myoexo::sim
