// The session's real-time contract: after configure()/activate() and a warm-up, pump() (source read, unit
// conversion, sensor-fault checks, pipeline) and step() (requests, decisions, loop tick, telemetry, safety events)
// allocate nothing: no operator new of any form (aligned included, as Eigen and LibTorch use) and, outside the
// sanitizer build, no malloc/calloc/realloc/posix_memalign/aligned_alloc either. Its own executable: it replaces
// the global allocation functions with counting versions.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "hw/mock_exo.hpp"
#include "realtime/replay_source.hpp"
#include "session/session.hpp"
#include "session/session_test_util.hpp"

#include "session/alloc_counter.hpp"

namespace myoexo::session {
namespace {

TEST(SessionAllocation, TheCounterSeesEveryKindOfAllocation) {
  EXPECT_GE(myoexo::test::allocations_during([] {
              auto* p = new int(1);
              asm volatile("" : : "r"(p) : "memory");
              delete p;
            }),
            1u);
  struct alignas(64) Wide {
    double x[8];
  };
  EXPECT_GE(myoexo::test::allocations_during([] {
              auto* p = new Wide{};
              asm volatile("" : : "r"(p) : "memory");
              delete p;
            }),
            1u);
#if MYOEXO_COUNT_MALLOC
  EXPECT_GE(myoexo::test::allocations_during([] {
              void* p = std::malloc(32);
              asm volatile("" : : "r"(p) : "memory");
              std::free(p);
            }),
            1u);
#endif
}

TEST(SessionAllocation, PumpAndStepAllocateNothingThroughRequestsFaultsAndResets) {
  auto model = test::make_model();
  ASSERT_TRUE(model);
  realtime::ReplayOptions ro;
  ro.chunk_frames = 10;
  ro.channels = {"RF", "BF", "VM", "ST"};
  ro.faults = {realtime::FaultEvent{realtime::FaultKind::nan_burst, 3.0, 0.2, 1}};
  auto src = std::make_unique<realtime::ReplaySource>(
      realtime::ReplaySource::create(test::make_recording("gait", 8.0, 9), ro).value());
  hw::MockExoSpec ms;
  ms.fail_read_at = 5500;  // a hardware fault inside the counted stretch
  hw::MockExo exo(ms);
  auto s = Session::create({}, model, std::move(src), exo).value();
  ASSERT_TRUE(s->configure().ok());
  ASSERT_TRUE(s->activate(0.0).ok());
  const double dt = s->control_period_s();
  std::uint64_t k = 0;
  double avail = 0;
  TickTelemetry t;
  realtime::Decision d;
  auto run_until = [&](double until) {
    while (double(k) * dt < until) {
      while (avail < double(k) * dt) {
        const auto p = s->pump();
        if (p.status != realtime::ReadStatus::ok) return;
        avail = p.stream_end_s;
      }
      if (k == 4000) s->request_emergency_stop();
      if (k == 4500) s->request_reset();
      if (k == 4600) s->request_resume();
      if (k == 6000) s->request_reset();
      s->step(double(k) * dt, dt);
      while (s->pop_telemetry(t)) {
      }
      while (s->pop_decision(d)) {
      }
      ++k;
    }
  };
  run_until(2.0);  // warm-up
  const std::size_t n = myoexo::test::allocations_during([&] { run_until(7.5); });
  EXPECT_EQ(n, 0u);
  EXPECT_GT(s->stats().decisions_delivered, 100u);
  EXPECT_GT(s->stats().hardware_errors, 0u);  // the mock stays failed after its fault
  EXPECT_EQ(s->stats().resets_refused, 1u);   // the reset at 6 s, while the device still fails
  EXPECT_GT(s->stats().pipeline.nonfinite_windows, 0u);
  EXPECT_EQ(s->stats().estop_requests, 1u);
}

}  // namespace
}  // namespace myoexo::session
