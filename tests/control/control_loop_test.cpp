#include "control/control_loop.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>

#include "hw/mock_exo.hpp"

// Allocation counter for the real-time claim: every operator new in this test binary is counted.
namespace {
std::atomic<std::uint64_t> g_allocations{0};
}
void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// Our operator new is malloc, so free is the matching release; GCC cannot see that through inlining.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace myoexo::control {
namespace {

constexpr double kDt = 0.001;

struct Rig {
  hw::MockExo mock;
  ControlLoop loop;
  explicit Rig(ControlLoopSpec spec = {}) : mock(), loop(ControlLoop::create(spec, mock).value()) {
    EXPECT_TRUE(loop.configure().ok());
    EXPECT_TRUE(loop.activate(0.0).ok());
  }
  // Run from t0 to t1, offering `label` every 50 ms (like the intent pipeline's hop) while `intents` is true.
  void run(double t0, double t1, IntentLabel label, bool intents = true) {
    for (long k = std::lround(t0 / kDt); k < std::lround(t1 / kDt); ++k) {
      const double t = k * kDt;
      if (intents && k % 50 == 0) loop.push_intent(Intent{label, 0.95, t - 0.002, t}, t);
      ASSERT_EQ(loop.tick(t, kDt), HwStatus::ok);
    }
  }
};

TEST(ControlLoop, LiftIntentMovesLegToLiftTarget) {
  Rig rig;
  rig.run(0.0, 3.0, IntentLabel::lift);
  EXPECT_EQ(rig.loop.intents().active(), IntentLabel::lift);
  const auto& target = rig.loop.spec().trajectory.lift_target_rad;
  EXPECT_NEAR(rig.loop.state().joints[0].position_rad, target[0], 1e-3);
  EXPECT_NEAR(rig.loop.state().joints[1].position_rad, target[1], 1e-3);
  EXPECT_EQ(rig.loop.supervisor().mode(), SupervisorMode::normal);
  // Then lower back to neutral.
  rig.run(3.0, 6.0, IntentLabel::lower);
  EXPECT_NEAR(rig.loop.state().joints[1].position_rad, rig.loop.spec().trajectory.neutral_rad[1], 1e-3);
}

TEST(ControlLoop, WatchdogHoldsWhenIntentsStop) {
  Rig rig;
  rig.run(0.0, 1.5, IntentLabel::gait);
  ASSERT_EQ(rig.loop.supervisor().mode(), SupervisorMode::normal);
  const double last_intent = rig.loop.supervisor().last_fresh_intent_s();
  double hold_at = -1.0;
  for (long k = 1500; k < 2500; ++k) {
    const double t = k * kDt;
    ASSERT_EQ(rig.loop.tick(t, kDt), HwStatus::ok);
    if (hold_at < 0 && rig.loop.supervisor().mode() == SupervisorMode::hold) hold_at = t;
  }
  ASSERT_GT(hold_at, 0.0);
  EXPECT_LE(hold_at - last_intent, rig.loop.spec().supervisor.watchdog_s + kDt + 1e-9);
  // Controlled hold: at rest at the end, intent state forced to hold.
  EXPECT_DOUBLE_EQ(rig.loop.command().velocity_rad_s[0], 0.0);
  EXPECT_EQ(rig.loop.intents().active(), IntentLabel::hold);
}

TEST(ControlLoop, EmergencyStopWritesPassiveZeroTorque) {
  Rig rig;
  rig.run(0.0, 1.0, IntentLabel::lift);
  rig.loop.trigger_emergency_stop(1.0);
  rig.run(1.0, 1.2, IntentLabel::lift);
  EXPECT_EQ(rig.mock.last_command().mode, CommandMode::passive);
  EXPECT_DOUBLE_EQ(rig.loop.command().torque_nm[0], 0.0);
  ASSERT_TRUE(rig.loop.reset_emergency_stop(1.2).ok());
  rig.run(1.2, 3.0, IntentLabel::lift);
  EXPECT_EQ(rig.loop.supervisor().mode(), SupervisorMode::normal);
}

TEST(ControlLoop, ReadErrorIsReturnedAndCommandIsPassive) {
  hw::MockExoSpec mspec;
  mspec.fail_read_at = 10;
  hw::MockExo mock(mspec);
  auto loop = ControlLoop::create({}, mock).value();
  ASSERT_TRUE(loop.configure().ok());
  ASSERT_TRUE(loop.activate(0.0).ok());
  HwStatus st = HwStatus::ok;
  int k = 0;
  for (; k < 20 && st == HwStatus::ok; ++k) st = loop.tick(k * kDt, kDt);
  EXPECT_EQ(st, HwStatus::error);
  EXPECT_EQ(k, 10);
  EXPECT_EQ(loop.stats().read_errors, 1u);
  EXPECT_EQ(loop.command().mode, CommandMode::passive);
}

// A back-end whose read fails once and then recovers without re-activation (a serial hiccup).
class FlakyReadExo final : public ExoHardware {
 public:
  explicit FlakyReadExo(std::uint64_t fail_at) : fail_at_(fail_at) {}
  Status configure() override { return mock_.configure(); }
  Status activate() override { return mock_.activate(); }
  Status deactivate() override { return mock_.deactivate(); }
  HwStatus read(double t_s, double dt_s, ExoState& state) noexcept override {
    if (++reads_ == fail_at_) return HwStatus::error;
    return mock_.read(t_s, dt_s, state);
  }
  HwStatus write(double t_s, double dt_s, const ExoCommand& command) noexcept override {
    return mock_.write(t_s, dt_s, command);
  }
  LifecycleState lifecycle_state() const noexcept override { return mock_.lifecycle_state(); }
  const char* name() const noexcept override { return "flaky"; }

 private:
  hw::MockExo mock_;
  std::uint64_t fail_at_ = 0, reads_ = 0;
};

TEST(ControlLoop, TorqueRampsFromZeroAfterAReadErrorCutTheOutput) {
  FlakyReadExo hw(1000);  // fails mid-lift, when the joints carry torque
  auto loop = ControlLoop::create({}, hw).value();
  ASSERT_TRUE(loop.configure().ok());
  ASSERT_TRUE(loop.activate(0.0).ok());
  double torque_before = 0.0;
  for (long k = 0; k < 1400; ++k) {
    const double t = k * kDt;
    if (k % 50 == 0) loop.push_intent(Intent{IntentLabel::lift, 0.95, t - 0.002, t}, t);
    const HwStatus st = loop.tick(t, kDt);
    if (k == 998) torque_before = std::abs(loop.command().torque_nm[0]) + std::abs(loop.command().torque_nm[1]);
    if (k == 999) {
      ASSERT_EQ(st, HwStatus::error);
      EXPECT_EQ(loop.command().mode, CommandMode::passive);
      continue;
    }
    ASSERT_EQ(st, HwStatus::ok) << "tick " << k;
    if (k == 1000) {
      // The first command after the outage may only move one torque-rate step away from the zero just written.
      for (std::size_t j = 0; j < kJointCount; ++j) {
        const double step = loop.spec().supervisor.limits[j].torque_rate_max_nm_s * kDt;
        EXPECT_LE(std::abs(loop.command().torque_nm[j]), step + 1e-12) << "joint " << j;
      }
    }
  }
  EXPECT_GT(torque_before, 0.0);  // the outage really cut a loaded joint
  EXPECT_EQ(loop.stats().read_errors, 1u);
}

TEST(ControlLoop, TickAndIntentDeliveryDoNotAllocate) {
  Rig rig;
  rig.run(0.0, 0.5, IntentLabel::lift);  // warm-up
  const std::uint64_t before = g_allocations.load();
  rig.run(0.5, 3.0, IntentLabel::gait);
  rig.loop.trigger_emergency_stop(3.0);
  rig.run(3.0, 3.1, IntentLabel::gait);
  (void)rig.loop.reset_emergency_stop(3.1);
  rig.run(3.1, 4.0, IntentLabel::rest);
  EXPECT_EQ(g_allocations.load() - before, 0u);
}

TEST(ControlLoop, RunRealtimeTicksAtMeasuredPeriod) {
  hw::MockExo mock;
  auto loop = ControlLoop::create({}, mock).value();
  ASSERT_TRUE(loop.configure().ok());
  ASSERT_TRUE(loop.activate(0.0).ok());
  const HwStatus st = loop.run_realtime(0.03, [](ControlLoop& l, double t) {
    l.push_intent(Intent{IntentLabel::lift, 0.9, t, t}, t);
  });
  EXPECT_EQ(st, HwStatus::ok);
  EXPECT_GT(loop.stats().ticks, 0u);
  EXPECT_GT(loop.stats().max_dt_s, 0.0);
  EXPECT_EQ(mock.writes(), loop.stats().ticks);
}

TEST(ControlLoop, BadRateIsRefused) {
  hw::MockExo mock;
  ControlLoopSpec spec;
  spec.rate_hz = 50.0;
  EXPECT_FALSE(ControlLoop::create(spec, mock).ok());
}

}  // namespace
}  // namespace myoexo::control
