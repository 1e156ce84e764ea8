// bench_control — the cost of planning a trajectory segment on an intent change (MinimumJerkTrajectory::start),
// the only control-loop step whose work varies: it sweeps candidate durations until one keeps |v|, |a| and the
// position within the limits. Ticks without an intent change only evaluate the current segment.
//
// Start states are drawn (fixed seed) across each joint's range with velocities and accelerations up to the
// limits, so hard cases (a fast joint near a limit, whose stop cannot stay within every bound) are included.
// Besides Google Benchmark's mean, each case reports the worst single start as the counter `max_cpu_us`, in
// thread CPU time (a wall-clock maximum on a shared machine measures the scheduler, not the planner).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <ctime>
#include <random>
#include <vector>

#include "control/trajectory.hpp"

namespace {

using namespace myoexo::control;

std::vector<Setpoints> draw_states(std::size_t n, const ExoLimits& limits) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> u(0.0, 1.0), s(-1.0, 1.0);
  std::vector<Setpoints> out(n);
  for (auto& st : out)
    for (std::size_t j = 0; j < kJointCount; ++j) {
      const auto& L = limits[j];
      st[j].position_rad = L.position_min_rad + u(rng) * (L.position_max_rad - L.position_min_rad);
      st[j].velocity_rad_s = s(rng) * L.velocity_max_rad_s;
      st[j].acceleration_rad_s2 = s(rng) * L.acceleration_max_rad_s2;
    }
  return out;
}

void BM_TrajectoryStart(benchmark::State& state) {
  const auto label = static_cast<IntentLabel>(state.range(0));
  auto traj = MinimumJerkTrajectory::create(TrajectorySpec{});
  if (!traj) {
    state.SkipWithError("trajectory spec");
    return;
  }
  const auto states = draw_states(512, traj->spec().limits);
  std::size_t i = 0;
  double max_us = 0.0;
  auto cpu_us = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e6 + double(ts.tv_nsec) * 1e-3;
  };
  for (auto _ : state) {
    const double t0 = cpu_us();
    traj->start(label, 0.0, states[i]);
    max_us = std::max(max_us, cpu_us() - t0);
    benchmark::DoNotOptimize(traj->segment_duration_s());
    i = (i + 1) % states.size();
  }
  state.counters["max_cpu_us"] = max_us;
  state.SetLabel(intent_label_name(label));
}
BENCHMARK(BM_TrajectoryStart)
    ->Arg(static_cast<int>(IntentLabel::rest))
    ->Arg(static_cast<int>(IntentLabel::lift))
    ->Arg(static_cast<int>(IntentLabel::lower))
    ->Arg(static_cast<int>(IntentLabel::gait))
    ->Iterations(2048)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
