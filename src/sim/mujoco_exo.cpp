#include "sim/mujoco_exo.hpp"

#include <mujoco/mujoco.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace myoexo::sim {

using control::CommandMode;
using control::HwStatus;
using control::kJointCount;
using control::LifecycleState;


MujocoExo::~MujocoExo() {
  if (d_) mj_deleteData(d_);
  if (m_) mj_deleteModel(m_);
}

Result<std::unique_ptr<MujocoExo>> MujocoExo::load_file(const std::filesystem::path& path, const MujocoExoSpec& spec) {
  if (!std::filesystem::exists(path)) return make_error(ErrorCode::io, path.string(), 0, "model file not found");
  char err[1000] = "";
  mjModel* m = mj_loadXML(path.string().c_str(), nullptr, err, sizeof(err));
  if (!m) return make_error(ErrorCode::parse, path.string(), 0, std::string("MuJoCo could not load the model: ") + err);
  std::unique_ptr<MujocoExo> exo(new MujocoExo(m, spec));  // owns m from here
  Status st = exo->bind();
  if (!st) return make_error(st.error().code, path.string(), 0, st.error().reason);
  return exo;
}

Result<std::unique_ptr<MujocoExo>> MujocoExo::load_xml(std::string_view xml, const MujocoExoSpec& spec) {
  // mjVFS holds 2000 file names inline (~2 MB): heap, not stack.
  auto vfs = std::make_unique<mjVFS>();
  mj_defaultVFS(vfs.get());
  const char* name = "inline_model.xml";
  if (mj_makeEmptyFileVFS(vfs.get(), name, static_cast<int>(xml.size())) != 0)
    return make_error(ErrorCode::invalid_argument, "MujocoExo: could not create the in-memory model file");
  const int idx = mj_findFileVFS(vfs.get(), name);
  std::memcpy(vfs->filedata[idx], xml.data(), xml.size());
  char err[1000] = "";
  mjModel* m = mj_loadXML(name, vfs.get(), err, sizeof(err));
  mj_deleteVFS(vfs.get());
  if (!m) return make_error(ErrorCode::parse, "<inline MJCF>", 0, std::string("MuJoCo could not load the model: ") + err);
  std::unique_ptr<MujocoExo> exo(new MujocoExo(m, spec));
  Status st = exo->bind();
  if (!st) return st.error();
  return exo;
}

Status MujocoExo::bind() {
  if (spec_.substeps < 1) return make_error(ErrorCode::invalid_argument, "MujocoExo: substeps must be >= 1");
  if (m_->opt.integrator == mjINT_RK4)
    return make_error(ErrorCode::unsupported, "MujocoExo: the split step (mj_step1/mj_step2) needs the Euler or implicit integrator");
  for (std::size_t j = 0; j < kJointCount; ++j) {
    const int jid = mj_name2id(m_, mjOBJ_JOINT, spec_.joint_names[j].c_str());
    if (jid < 0 || m_->jnt_type[jid] != mjJNT_HINGE)
      return make_error(ErrorCode::mismatch, "MujocoExo: model has no hinge joint named '" + spec_.joint_names[j] + "'");
    const int aid = mj_name2id(m_, mjOBJ_ACTUATOR, spec_.actuator_names[j].c_str());
    if (aid < 0 || m_->actuator_trntype[aid] != mjTRN_JOINT || m_->actuator_trnid[2 * aid] != jid)
      return make_error(ErrorCode::mismatch,
                        "MujocoExo: model has no actuator '" + spec_.actuator_names[j] + "' on joint '" + spec_.joint_names[j] + "'");
    if (std::abs(m_->actuator_gear[6 * aid] - 1.0) > 1e-12)
      return make_error(ErrorCode::mismatch, "MujocoExo: actuator '" + spec_.actuator_names[j] + "' must have gear 1 (torque in N m)");
    qpos_adr_[j] = m_->jnt_qposadr[jid];
    dof_adr_[j] = m_->jnt_dofadr[jid];
    act_id_[j] = aid;
    const bool limited = m_->jnt_limited[jid] != 0;
    range_min_[j] = limited ? m_->jnt_range[2 * jid] : -INFINITY;
    range_max_[j] = limited ? m_->jnt_range[2 * jid + 1] : INFINITY;
    const bool clim = m_->actuator_ctrllimited[aid] != 0;
    ctrl_lo_[j] = clim ? m_->actuator_ctrlrange[2 * aid] : -INFINITY;
    ctrl_hi_[j] = clim ? m_->actuator_ctrlrange[2 * aid + 1] : INFINITY;
    ctrl_max_[j] = std::min(std::abs(ctrl_lo_[j]), ctrl_hi_[j]);
  }
  d_ = mj_makeData(m_);
  if (!d_) return make_error(ErrorCode::invalid_argument, "MujocoExo: mj_makeData failed");
  return {};
}

Status MujocoExo::configure() {
  if (lifecycle_ == LifecycleState::active)
    return make_error(ErrorCode::invalid_argument, "MujocoExo: configure() while active; deactivate first");
  mj_resetData(m_, d_);
  set_posture(spec_.initial_position_rad);
  lifecycle_ = LifecycleState::inactive;
  return {};
}

Status MujocoExo::activate() {
  if (lifecycle_ != LifecycleState::inactive)
    return make_error(ErrorCode::invalid_argument, std::string("MujocoExo: activate() needs inactive, state is ") +
                                                       control::lifecycle_state_name(lifecycle_));
  lifecycle_ = LifecycleState::active;
  return {};
}

Status MujocoExo::deactivate() {
  if (lifecycle_ != LifecycleState::active) return make_error(ErrorCode::invalid_argument, "MujocoExo: deactivate() needs active");
  mju_zero(d_->ctrl, m_->nu);
  lifecycle_ = LifecycleState::inactive;
  return {};
}

void MujocoExo::set_posture(const std::array<double, kJointCount>& q_rad) noexcept {
  for (std::size_t j = 0; j < kJointCount; ++j) {
    d_->qpos[qpos_adr_[j]] = q_rad[j];
    d_->qvel[dof_adr_[j]] = 0.0;
  }
  mju_zero(d_->ctrl, m_->nu);
  mj_forward(m_, d_);
  step1_done_ = false;
}

double MujocoExo::control_period_s() const noexcept { return m_->opt.timestep * spec_.substeps; }
double MujocoExo::sim_time_s() const noexcept { return d_ ? d_->time : 0.0; }

std::array<double, kJointCount> MujocoExo::bias_torques_nm() const noexcept {
  return {d_->qfrc_bias[dof_adr_[0]], d_->qfrc_bias[dof_adr_[1]]};
}

HwStatus MujocoExo::read(double /*t_s*/, double /*dt_s*/, control::ExoState& state) noexcept {
  if (lifecycle_ != LifecycleState::inactive && lifecycle_ != LifecycleState::active) return HwStatus::error;
  if (!step1_done_) {
    mj_step1(m_, d_);
    step1_done_ = true;
  }
  state.time_s = d_->time;
  for (std::size_t j = 0; j < kJointCount; ++j) {
    state.joints[j].position_rad = d_->qpos[qpos_adr_[j]];
    state.joints[j].velocity_rad_s = d_->qvel[dof_adr_[j]];
    state.joints[j].effort_nm = d_->qfrc_actuator[dof_adr_[j]];
  }
  return HwStatus::ok;
}

HwStatus MujocoExo::write(double /*t_s*/, double /*dt_s*/, const control::ExoCommand& command) noexcept {
  if (lifecycle_ != LifecycleState::inactive && lifecycle_ != LifecycleState::active) return HwStatus::error;
  if (!step1_done_) mj_step1(m_, d_);
  const int warn_before = d_->warning[mjWARN_BADQACC].number;
  for (std::size_t j = 0; j < kJointCount; ++j) {
    double tau = 0.0;
    if (lifecycle_ == LifecycleState::active) {
      switch (command.mode) {
        case CommandMode::torque: tau = command.torque_nm[j]; break;
        case CommandMode::position:
          tau = d_->qfrc_bias[dof_adr_[j]] + command.torque_nm[j] +
                spec_.servo_kp_nm_rad[j] * (command.position_rad[j] - d_->qpos[qpos_adr_[j]]) +
                spec_.servo_kd_nm_s_rad[j] * (command.velocity_rad_s[j] - d_->qvel[dof_adr_[j]]);
          break;
        case CommandMode::passive: tau = 0.0; break;
      }
    }
    // The drive's own limit (MuJoCo would clamp too; doing it here makes qfrc_actuator honest without relying on it).
    d_->ctrl[act_id_[j]] = std::isfinite(tau) ? std::clamp(tau, ctrl_lo_[j], ctrl_hi_[j]) : 0.0;
  }
  mj_step2(m_, d_);
  for (int s = 1; s < spec_.substeps; ++s) mj_step(m_, d_);
  step1_done_ = false;
  bool finite = true;
  for (std::size_t j = 0; j < kJointCount; ++j)
    finite = finite && std::isfinite(d_->qpos[qpos_adr_[j]]) && std::isfinite(d_->qvel[dof_adr_[j]]);
  if (!finite || d_->warning[mjWARN_BADQACC].number != warn_before) {
    lifecycle_ = LifecycleState::error;  // the simulation diverged: like a drive fault, configure() recovers
    return HwStatus::error;
  }
  return HwStatus::ok;
}

}  // namespace myoexo::sim
