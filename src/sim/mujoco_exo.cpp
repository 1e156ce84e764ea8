#include "sim/mujoco_exo.hpp"

#include <mujoco/mujoco.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>

// GNU unwinder (libgcc_s / LLVM libunwind): the FDE (unwind table entry) covering a code address, or null.
extern "C" {
struct myoexo_dwarf_eh_bases {
  void* tbase;
  void* dbase;
  void* func;
};
const void* _Unwind_Find_FDE(void* pc, myoexo_dwarf_eh_bases* bases);
}

namespace myoexo::sim {

using control::CommandMode;
using control::HwStatus;
using control::kJointCount;
using control::LifecycleState;

namespace {

// --- MuJoCo's error and warning handlers -------------------------------------------------------------------------
// MuJoCo 2.2.2 (Debian libmujoco2.2.2): mju_error() calls mju_user_error if set, and otherwise prints, blocks on
// getchar() and exit(1)s. If a user handler *returns*, mju_error returns to its caller, which carries on: for a
// stack overflow (mj_stackAlloc) that means writing past the mjData stack. So the handler must not return: it
// throws. The exception unwinds through MuJoCo's C frames, which is well defined on this platform only when each
// of those frames has unwind tables (.eh_frame); C frames run no cleanups, so the mjData is left mid-step (e.g. its
// stack pointer raised) — we never step it again before configure() (mj_resetData). We check the unwind tables
// once at install time for every MuJoCo entry point this file calls and for mju_error itself (readelf on the
// Debian build: all 303 exported functions have FDEs). No longjmp, no thread-local flags polled by MuJoCo.
class MujocoError final : public std::exception {
 public:
  explicit MujocoError(const char* msg) noexcept {
    std::snprintf(msg_, sizeof(msg_), "%s", msg ? msg : "(no message)");
  }
  const char* what() const noexcept override { return msg_; }

 private:
  char msg_[256];
};

thread_local MujocoExo* t_receiver = nullptr;  // the instance whose guarded MuJoCo call runs on this thread
bool g_recoverable = false;

[[noreturn]] void throw_mujoco_error(const char* msg) { throw MujocoError(msg); }

[[noreturn]] void abort_on_mujoco_error(const char* msg) {
  std::fprintf(stderr, "myoexo: fatal MuJoCo error (cannot unwind through MuJoCo here): %s\n", msg ? msg : "");
  std::abort();
}

void record_mujoco_warning(const char* msg) {
  // Warnings outside a guarded call (none in this file) are dropped rather than printed from a real-time thread.
  if (t_receiver != nullptr) t_receiver->note_mujoco_warning(msg);
}

bool has_unwind_table(const void* fn) {
  myoexo_dwarf_eh_bases bases{};
  // +1: an address inside the function, as a return address would be.
  return _Unwind_Find_FDE(const_cast<char*>(static_cast<const char*>(fn)) + 1, &bases) != nullptr;
}

void install_mujoco_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    const void* entry_points[] = {
        reinterpret_cast<const void*>(&mju_error),   reinterpret_cast<const void*>(&mj_loadXML),
        reinterpret_cast<const void*>(&mj_makeData), reinterpret_cast<const void*>(&mj_resetData),
        reinterpret_cast<const void*>(&mj_forward),  reinterpret_cast<const void*>(&mj_step),
        reinterpret_cast<const void*>(&mj_step1),    reinterpret_cast<const void*>(&mj_step2),
        reinterpret_cast<const void*>(&mj_stackAlloc)};
    bool ok = true;
    for (const void* fn : entry_points) ok = ok && has_unwind_table(fn);
    g_recoverable = ok;
    mju_user_error = ok ? &throw_mujoco_error : &abort_on_mujoco_error;
    mju_user_warning = &record_mujoco_warning;
  });
}

const char* warning_name(int w) {
  switch (w) {
    case mjWARN_INERTIA: return "near-singular inertia matrix (mjWARN_INERTIA)";
    case mjWARN_CONTACTFULL: return "contact list full (mjWARN_CONTACTFULL)";
    case mjWARN_CNSTRFULL: return "constraint buffer full (mjWARN_CNSTRFULL)";
    case mjWARN_VGEOMFULL: return "visual geom buffer full (mjWARN_VGEOMFULL)";
    case mjWARN_BADQPOS: return "bad number in qpos, state reset by MuJoCo (mjWARN_BADQPOS)";
    case mjWARN_BADQVEL: return "bad number in qvel, state reset by MuJoCo (mjWARN_BADQVEL)";
    case mjWARN_BADQACC: return "bad number in qacc, state reset by MuJoCo (mjWARN_BADQACC)";
    case mjWARN_BADCTRL: return "bad number in ctrl (mjWARN_BADCTRL)";
    default: return "MuJoCo warning";
  }
}

}  // namespace

bool mujoco_errors_are_recoverable() noexcept {
  install_mujoco_handlers();
  return g_recoverable;
}

const char* sim_fault_name(SimFault fault) noexcept {
  switch (fault) {
    case SimFault::none: return "none";
    case SimFault::mujoco_error: return "mujoco_error";
    case SimFault::mujoco_warning: return "mujoco_warning";
    case SimFault::non_finite_state: return "non_finite_state";
  }
  return "unknown";
}

template <typename F>
bool MujocoExo::guarded(F&& f) noexcept {
  MujocoExo* const outer = t_receiver;
  t_receiver = this;
  warned_ = false;
  in_guard_ = true;
  guard_time_s_ = d_ ? d_->time : 0.0;  // MuJoCo may reset the state (and its clock) before we record
  const int warnings_before = d_ ? warning_total() : 0;
  bool ok = true;
  try {
    f();
  } catch (const MujocoError& e) {
    record_fault(SimFault::mujoco_error, -1, e.what());
    ok = false;
  } catch (...) {
    record_fault(SimFault::mujoco_error, -1, "unknown exception from MuJoCo");
    ok = false;
  }
  t_receiver = outer;
  in_guard_ = false;
  if (ok && d_ && warning_total() > warnings_before && !warned_) {
    // A counter moved without the handler seeing it (cannot happen in 2.2.2, which always calls mju_warning).
    int which = -1;
    for (int w = 0; w < mjNWARNING && which < 0; ++w)
      if (d_->warning[w].number != 0) which = w;
    record_fault(SimFault::mujoco_warning, which, which >= 0 ? warning_name(which) : "MuJoCo warning");
  }
  if (warned_) ok = false;
  if (!ok) {
    lifecycle_ = LifecycleState::error;  // like a drive fault: configure() resets the simulation
    step1_done_ = false;
  }
  return ok;
}

int MujocoExo::warning_total() const noexcept {
  int n = 0;
  for (int w = 0; w < mjNWARNING; ++w) n += d_->warning[w].number;
  return n;
}

void MujocoExo::note_mujoco_warning(const char* message) noexcept {
  warned_ = true;
  record_fault(SimFault::mujoco_warning, -1, message ? message : "MuJoCo warning");
}

void MujocoExo::record_fault(SimFault kind, int warning, const char* message) noexcept {
  ++fault_count_;
  if (fault_.kind != SimFault::none) return;  // keep the first: later ones are usually its consequences
  fault_.kind = kind;
  fault_.warning = warning;
  fault_.sim_time_s = in_guard_ ? guard_time_s_ : (d_ ? d_->time : 0.0);
  std::snprintf(fault_.message, sizeof(fault_.message), "%s", message);
}

Status MujocoExo::fault_status() const {
  if (fault_.kind == SimFault::none) return {};
  char buf[400];
  std::snprintf(buf, sizeof(buf), "MujocoExo: %s at t=%.4f s: %s (back-end in the error state; configure() resets it)",
                fault_.kind == SimFault::mujoco_error     ? "MuJoCo error"
                : fault_.kind == SimFault::mujoco_warning ? "MuJoCo warning"
                                                          : "non-finite simulation state",
                fault_.sim_time_s, fault_.message);
  return make_error(ErrorCode::invalid_argument, buf);
}


MujocoExo::~MujocoExo() {
  if (d_) mj_deleteData(d_);
  if (m_) mj_deleteModel(m_);
}

Result<std::unique_ptr<MujocoExo>> MujocoExo::load_file(const std::filesystem::path& path, const MujocoExoSpec& spec) {
  if (!std::filesystem::exists(path)) return make_error(ErrorCode::io, path.string(), 0, "model file not found");
  install_mujoco_handlers();
  char err[1000] = "";
  mjModel* m = nullptr;
  try {
    m = mj_loadXML(path.string().c_str(), nullptr, err, sizeof(err));
  } catch (const MujocoError& e) {
    std::snprintf(err, sizeof(err), "%s", e.what());
  }
  if (!m) return make_error(ErrorCode::parse, path.string(), 0, std::string("MuJoCo could not load the model: ") + err);
  std::unique_ptr<MujocoExo> exo(new MujocoExo(m, spec));  // owns m from here
  Status st = exo->bind();
  if (!st) return make_error(st.error().code, path.string(), 0, st.error().reason);
  return exo;
}

Result<std::unique_ptr<MujocoExo>> MujocoExo::load_xml(std::string_view xml, const MujocoExoSpec& spec) {
  install_mujoco_handlers();
  // mjVFS holds 2000 file names inline (~2 MB): heap, not stack.
  auto vfs = std::make_unique<mjVFS>();
  mj_defaultVFS(vfs.get());
  const char* name = "inline_model.xml";
  if (mj_makeEmptyFileVFS(vfs.get(), name, static_cast<int>(xml.size())) != 0)
    return make_error(ErrorCode::invalid_argument, "MujocoExo: could not create the in-memory model file");
  const int idx = mj_findFileVFS(vfs.get(), name);
  std::memcpy(vfs->filedata[idx], xml.data(), xml.size());
  char err[1000] = "";
  mjModel* m = nullptr;
  try {
    m = mj_loadXML(name, vfs.get(), err, sizeof(err));
  } catch (const MujocoError& e) {
    std::snprintf(err, sizeof(err), "%s", e.what());
  }
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
  if (!guarded([&] { d_ = mj_makeData(m_); }) || !d_) {
    Status st = fault_status();
    return st ? make_error(ErrorCode::invalid_argument, "MujocoExo: mj_makeData failed") : st;
  }
  return {};
}

Status MujocoExo::configure() {
  if (lifecycle_ == LifecycleState::active)
    return make_error(ErrorCode::invalid_argument, "MujocoExo: configure() while active; deactivate first");
  fault_ = SimFaultRecord{};
  fault_count_ = 0;
  lifecycle_ = LifecycleState::inactive;
  if (!guarded([&] { mj_resetData(m_, d_); })) return fault_status();
  set_posture(spec_.initial_position_rad);
  if (fault_.kind != SimFault::none) return fault_status();
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
  step1_done_ = false;
  (void)guarded([&] { mj_forward(m_, d_); });
}

double MujocoExo::control_period_s() const noexcept { return m_->opt.timestep * spec_.substeps; }
double MujocoExo::sim_time_s() const noexcept { return d_ ? d_->time : 0.0; }

std::array<double, kJointCount> MujocoExo::bias_torques_nm() const noexcept {
  return {d_->qfrc_bias[dof_adr_[0]], d_->qfrc_bias[dof_adr_[1]]};
}

HwStatus MujocoExo::read(double /*t_s*/, double /*dt_s*/, control::ExoState& state) noexcept {
  if (lifecycle_ != LifecycleState::inactive && lifecycle_ != LifecycleState::active) return HwStatus::error;
  if (!step1_done_) {
    if (!guarded([&] { mj_step1(m_, d_); })) return HwStatus::error;
    step1_done_ = true;
  }
  state.time_s = d_->time;
  for (std::size_t j = 0; j < kJointCount; ++j) {
    state.joints[j].position_rad = d_->qpos[qpos_adr_[j]];
    state.joints[j].velocity_rad_s = d_->qvel[dof_adr_[j]];
    state.joints[j].effort_nm = d_->qfrc_actuator[dof_adr_[j]];
    if (!std::isfinite(state.joints[j].position_rad) || !std::isfinite(state.joints[j].velocity_rad_s)) {
      record_fault(SimFault::non_finite_state, -1, "non-finite joint position or velocity");
      lifecycle_ = LifecycleState::error;
      return HwStatus::error;
    }
  }
  return HwStatus::ok;
}

HwStatus MujocoExo::write(double /*t_s*/, double /*dt_s*/, const control::ExoCommand& command) noexcept {
  if (lifecycle_ != LifecycleState::inactive && lifecycle_ != LifecycleState::active) return HwStatus::error;
  if (!step1_done_ && !guarded([&] { mj_step1(m_, d_); })) return HwStatus::error;
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
  const bool stepped = guarded([&] {
    mj_step2(m_, d_);
    for (int s = 1; s < spec_.substeps; ++s) mj_step(m_, d_);
  });
  step1_done_ = false;
  if (!stepped) return HwStatus::error;
  for (std::size_t j = 0; j < kJointCount; ++j) {
    if (!std::isfinite(d_->qpos[qpos_adr_[j]]) || !std::isfinite(d_->qvel[dof_adr_[j]])) {
      record_fault(SimFault::non_finite_state, -1, "non-finite joint position or velocity after the step");
      lifecycle_ = LifecycleState::error;  // the simulation diverged: like a drive fault, configure() recovers
      return HwStatus::error;
    }
  }
  return HwStatus::ok;
}

}  // namespace myoexo::sim
