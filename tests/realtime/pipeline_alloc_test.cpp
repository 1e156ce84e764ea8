// Proves the real-time contract: after warm-up, StreamingPipeline::process() (filter, windower, features,
// LDA, post-processing, timing) and the FrameRing allocate nothing. This binary replaces the global
// operator new/delete with counting versions (so it is its own test executable).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>
#include <vector>

#include "models/tree_ensemble.hpp"
#include "realtime/frame_ring.hpp"
#include "realtime/pipeline.hpp"
#include "realtime_test_util.hpp"
#ifdef MYOEXO_HAVE_TORCH
#include "models/torch/network_regressor.hpp"
#include "models/torch/torch_classifier.hpp"
#endif

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

/// Interleaved copy of `rec` with a NaN burst on every channel over frames [nan_from, nan_to).
std::vector<double> interleave_with_nan(const io::Recording& rec, std::size_t nan_from, std::size_t nan_to) {
  const std::size_t nch = rec.n_channels();
  std::vector<double> x(nch * rec.n_samples);
  for (std::size_t i = 0; i < rec.n_samples; ++i)
    for (std::size_t c = 0; c < nch; ++c)
      x[i * nch + c] = (i >= nan_from && i < nan_to) ? std::numeric_limits<double>::quiet_NaN()
                                                     : rec.samples[c * rec.n_samples + i];
  return x;
}

/// Streams frames [from, to) of `x` in chunks of `chunk`; counts decisions and flagged decisions.
struct Feeder {
  StreamingPipeline& p;
  const std::vector<double>& x;
  std::size_t nch;
  std::size_t decisions = 0, flagged = 0, estimates = 0;  // estimates: decisions with a finite knee angle
  void operator()(std::size_t from, std::size_t to, std::size_t chunk) {
    for (std::size_t i = from; i < to; i += chunk) {
      const std::size_t m = std::min(chunk, to - i);
      (void)p.process(std::span<const double>(x).subspan(i * nch, m * nch),
                      ChunkTiming{static_cast<double>(i) / 1000.0, steady_now_ns()}, [&](const Decision& d) {
                        ++decisions;
                        flagged += d.nonfinite_input;
                        estimates += std::isfinite(d.knee_angle_deg);
                        p.record_command_sent(d, steady_now_ns());
                      });
    }
  }
};

TEST(PipelineAllocation, NanBurstAllocatesNothingPerDecision) {
  const auto rec = test::make_two_class_recording(6.0, 4, 3);
  auto lda = test::train_lda(rec, 250, 50);
  ASSERT_TRUE(lda);
  auto p = StreamingPipeline::create(test::make_spec(4, 250, 50), std::move(lda)).value();
  const auto x = interleave_with_nan(rec, 2000, 4000);  // 2 s of NaN on every channel
  Feeder feed{p, x, 4};
  feed(0, 1000, 50);  // warm-up on clean data
  const std::size_t n = allocations_during([&] {
    feed(1000, 2500, 1);   // into the burst sample by sample
    feed(2500, 4000, 37);  // through it
    feed(4000, 6000, 50);  // and out again
  });
  EXPECT_GT(feed.flagged, 40u);
  EXPECT_EQ(p.stats().nonfinite_samples, 4u * 2000u);
  EXPECT_EQ(p.stats().classifier_errors, 0u);
  EXPECT_EQ(n, 0u) << "allocations during a NaN burst";
}

TEST(PipelineAllocation, NonFiniteClassifierInputAllocatesNothing) {
  // Finite samples, but a gain of 1e300 overflows the features: every row reaching the classifier would be
  // non-finite, and the LDA would answer each with an error string (an allocation per decision). The
  // pipeline's own check must catch them first.
  const auto rec = test::make_two_class_recording(6.0, 4, 3);
  auto lda = test::train_lda(rec, 250, 50);
  ASSERT_TRUE(lda);
  auto spec = test::make_spec(4, 250, 50);
  dsp::SosDesign gain;
  gain.sample_rate_hz = 1000.0;
  gain.sections = {{1e300, 0.0, 0.0, 1.0, 0.0, 0.0}};
  spec.filter = gain;
  auto p = StreamingPipeline::create(spec, std::move(lda)).value();
  const auto x = interleave_with_nan(rec, 0, 0);
  Feeder feed{p, x, 4};
  feed(0, 1000, 50);
  const std::size_t before = feed.decisions;
  const std::size_t n = allocations_during([&] { feed(1000, 6000, 25); });
  EXPECT_EQ(feed.decisions - before, 100u);
  EXPECT_EQ(p.stats().nonfinite_classifier_inputs, p.stats().decisions);
  EXPECT_EQ(n, 0u) << "allocations on the non-finite classifier input path";
}

TEST(PipelineAllocation, ContextVariantAllocatesNothingPerDecision) {
  // The lda_context rows: window block + a block over the window and 750 past samples, clipped at the
  // stream start (so the first decisions use the 250..950-sample extractors), log amplitudes. Counting
  // starts at the first frame: the clipped contexts are on the measured path, and so is a NaN burst.
  const auto rec = test::make_two_class_recording(6.0, 4, 3);
  auto lda = test::train_context_lda(rec, 250, 50, 750, true);
  ASSERT_TRUE(lda);
  auto p = StreamingPipeline::create(test::make_context_spec(4, 250, 50, 750, true), std::move(lda)).value();
  const auto x = interleave_with_nan(rec, 3000, 3300);
  Feeder feed{p, x, 4};
  const std::size_t n = allocations_during([&] {
    feed(0, 1500, 1);      // sample by sample through every clipped context length
    feed(1500, 4500, 37);  // odd chunks, through the burst
    feed(4500, 6000, 600); // chunks larger than the filter block
  });
  EXPECT_EQ(feed.decisions, 116u);
  EXPECT_GT(feed.flagged, 15u);
  EXPECT_EQ(p.stats().classifier_errors, 0u);
  EXPECT_EQ(n, 0u) << "allocations on the context-variant decision path";
}

// The live proportional chain: the lda_context LDA and `knee` on the window + its 750 past samples, estimating every
// decision, through clipped pasts and a NaN burst: no allocation, and an estimate on every classified window.
void expect_knee_estimates_allocate_nothing(std::shared_ptr<const models::AngleRegressor> knee, const char* what) {
  const auto rec = test::make_two_class_recording(6.0, 4, 3);
  auto lda = test::train_context_lda(rec, 250, 50, 750, true);
  ASSERT_TRUE(lda);
  auto spec = test::make_context_spec(4, 250, 50, 750, true);
  spec.knee_angle = std::move(knee);
  auto p = StreamingPipeline::create(spec, std::move(lda)).value();
  const auto x = interleave_with_nan(rec, 3000, 3300);
  Feeder feed{p, x, 4};
  const std::size_t n = allocations_during([&] {
    feed(0, 1500, 1);
    feed(1500, 4500, 37);
    feed(4500, 6000, 600);
  });
  EXPECT_EQ(feed.decisions, 116u);
  EXPECT_GT(feed.flagged, 15u);
  EXPECT_EQ(feed.estimates, feed.decisions - feed.flagged);  // every classified window carries an estimate
  EXPECT_EQ(n, 0u) << "allocations on the decision path of " << what;
}

TEST(PipelineAllocation, KneeAngleTreeEstimatesAllocateNothing) {
  // Trees on the lagged envelope (zeros before the start held from the oldest amplitude).
  using N = models::TreeEnsemble::Node;
  std::vector<std::vector<N>> trees;
  // Stumps over features of every channel and age, amplitudes and waveform lengths.
  for (std::int32_t f = 0; f < 160; f += 7)
    trees.push_back({N{f, -3.0f, 1, 2, f % 2 == 0}, N{-1, 1.0f}, N{-1, 2.5f}});
  auto ensemble = models::TreeEnsemble::create(std::move(trees), 20.0, 160);
  ASSERT_TRUE(ensemble) << ensemble.error().message();
  auto knee = models::EnvelopeTreeRegressor::create(models::LaggedEnvelope{}, 4, std::move(*ensemble));
  ASSERT_TRUE(knee) << knee.error().message();
  expect_knee_estimates_allocate_nothing(std::make_shared<models::EnvelopeTreeRegressor>(std::move(*knee)),
                                         "the knee-angle trees");
}

#ifdef MYOEXO_HAVE_TORCH
TEST(PipelineAllocation, TorchCnn1dSteadyStateAndNanBurstAllocateNothing) {
  // An untrained CNN1d (the frozen path) of the real-time geometry: 4 channels x 250 samples, every 50.
  models::NetworkSpec ns;
  ns.input.channel_names = {"ch0", "ch1", "ch2", "ch3"};
  ns.input.window_length = 250;
  ns.input.window_increment = 50;
  ns.arch.kind = models::ArchKind::cnn1d;
  ns.class_names = {"rest", "gait"};
  auto net = models::TorchClassifier::create(ns, 7);
  ASSERT_TRUE(net) << net.error().message();
  auto spec = test::make_spec(4, 250, 50);
  spec.post.rejection_threshold = 0.0;  // untrained: accept whatever it says, so the vote path runs too
  auto p = StreamingPipeline::create(spec, std::make_unique<models::TorchClassifier>(std::move(*net))).value();
  const auto rec = test::make_two_class_recording(6.0, 4, 3);
  const auto x = interleave_with_nan(rec, 3000, 4000);
  Feeder feed{p, x, 4};
  feed(0, 1000, 50);  // warm-up (reserve and the first forward happened at create)
  const std::size_t before = feed.decisions;
  const std::size_t n = allocations_during([&] {
    feed(1000, 3000, 1);
    feed(3000, 6000, 50);
  });
  EXPECT_EQ(feed.decisions - before, 100u);
  EXPECT_GT(feed.flagged, 15u);
  EXPECT_EQ(p.stats().classifier_errors, 0u);
  EXPECT_EQ(n, 0u) << "allocations through the CNN1d pipeline (steady state and NaN burst)";
}

TEST(PipelineAllocation, KneeAngleNetworkEstimatesAllocateNothing) {
  // A one-output CNN1d as configs/cnn1d_context.toml (1000-sample windows, pool 4).
  models::NetworkSpec ns;
  ns.input.channel_names = {"ch0", "ch1", "ch2", "ch3"};
  ns.input.window_length = 1000;
  ns.input.window_increment = 50;
  ns.arch.kind = models::ArchKind::cnn1d;
  ns.arch.pool_size = 4;
  ns.class_names = {models::kKneeAngleOutputName};
  auto net = models::TorchClassifier::create(ns, 5);
  ASSERT_TRUE(net) << net.error().message();
  auto knee = models::NetworkAngleRegressor::create(std::move(*net));
  ASSERT_TRUE(knee) << knee.error().message();
  expect_knee_estimates_allocate_nothing(std::make_shared<models::NetworkAngleRegressor>(std::move(*knee)),
                                         "the knee-angle network");
}
#endif

}  // namespace
}  // namespace myoexo::realtime
