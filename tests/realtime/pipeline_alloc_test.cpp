// Proves the real-time contract: after warm-up, StreamingPipeline::process() (filter, windower, features,
// LDA, post-processing, timing) and the FrameRing allocate nothing. This binary replaces the global
// operator new/delete with counting versions (so it is its own test executable).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <vector>

#include "realtime/frame_ring.hpp"
#include "realtime/pipeline.hpp"
#include "realtime_test_util.hpp"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<std::size_t> g_allocations{0};

void* counted_alloc(std::size_t n) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace myoexo::realtime {
namespace {

/// Counts allocations made while `fn` runs.
template <typename Fn>
std::size_t allocations_during(Fn&& fn) {
  g_allocations = 0;
  g_counting = true;
  fn();
  g_counting = false;
  return g_allocations.load();
}

TEST(PipelineAllocation, CounterSeesAnAllocation) {
  // The instrument works: a vector growth is counted.
  const std::size_t n = allocations_during([] {
    std::vector<int> v;
    v.push_back(1);
    asm volatile("" : : "r"(v.data()) : "memory");
  });
  EXPECT_GE(n, 1u);
}

TEST(PipelineAllocation, SteadyStateProcessAllocatesNothing) {
  const auto rec = test::make_two_class_recording(6.0, 4, 3);
  auto lda = test::train_lda(rec, 250, 50);
  ASSERT_TRUE(lda);
  auto p = StreamingPipeline::create(test::make_spec(4, 250, 50), std::move(lda)).value();
  std::vector<double> x(4 * rec.n_samples);
  for (std::size_t i = 0; i < rec.n_samples; ++i)
    for (std::size_t c = 0; c < 4; ++c) x[i * 4 + c] = rec.samples[c * rec.n_samples + i];
  auto ring = FrameRing::create(4, 4096).value();
  std::vector<double> popped(4 * 512);
  std::size_t decisions = 0;
  auto feed = [&](std::size_t from, std::size_t to, std::size_t chunk) {
    for (std::size_t i = from; i < to; i += chunk) {
      const std::size_t m = std::min(chunk, to - i);
      ring.push(std::span<const double>(x).subspan(i * 4, m * 4), static_cast<double>(i) / 1000.0, 1000.0,
                steady_now_ns());
      ChunkTiming t;
      while (std::size_t k = ring.pop(popped, t)) {
        (void)p.process(std::span<const double>(popped.data(), k * 4), t, [&](const Decision& d) {
          ++decisions;
          p.record_command_sent(d, steady_now_ns());
        });
      }
    }
  };
  feed(0, 1000, 50);  // warm-up: first windows, first decisions
  const std::size_t before = decisions;
  const std::size_t n = allocations_during([&] {
    feed(1000, 3000, 1);     // sample by sample
    feed(3000, 4500, 37);    // odd chunks
    feed(4500, 6000, 600);   // chunks larger than the filter block
  });
  EXPECT_GT(decisions - before, 90u);
  EXPECT_EQ(n, 0u) << "allocations during steady-state processing";
}

}  // namespace
}  // namespace myoexo::realtime
