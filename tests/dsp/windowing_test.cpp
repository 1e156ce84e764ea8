// window_starts and StreamingWindower: the streaming windows are exactly the offline ones, any chunking.
#include "dsp/windowing.hpp"

#include <gtest/gtest.h>

#include <random>

namespace myoexo::dsp {
namespace {

TEST(WindowStarts, CoversEveryCompleteWindow) {
  EXPECT_EQ(window_starts(10, 4, 3), (std::vector<std::size_t>{0, 3, 6}));
  EXPECT_EQ(window_starts(3, 4, 1), std::vector<std::size_t>{});
  EXPECT_EQ(window_starts(10, 0, 1), std::vector<std::size_t>{});
  EXPECT_EQ(window_starts(10, 2, 0), std::vector<std::size_t>{});
}

// Runs a windower over x (interleaved [n x C]) in random chunks; checks every window against the offline
// definition (window k = samples [k*inc, k*inc + len) of each channel).
void check_streaming(std::size_t C, std::size_t n, std::size_t len, std::size_t inc, std::uint64_t seed) {
  SCOPED_TRACE("C " + std::to_string(C) + " len " + std::to_string(len) + " inc " + std::to_string(inc) +
               " seed " + std::to_string(seed));
  std::vector<double> x(n * C);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<double>(i) * 0.5 - 3.0;
  const auto starts = window_starts(n, len, inc);
  auto w = StreamingWindower::create(C, len, inc).value();
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> chunk(0, 3 * len);
  std::size_t got = 0;
  std::vector<double> copy(C * len);
  for (std::size_t i = 0; i < n;) {
    const std::size_t k = std::min(n - i, seed == 0 ? 1 : chunk(rng));
    ASSERT_TRUE(w.push(std::span(x).subspan(i * C, k * C), [&](const WindowView& v) {
                   ASSERT_LT(got, starts.size());
                   EXPECT_EQ(v.index(), got);
                   EXPECT_EQ(v.start_sample(), starts[got]);
                   v.copy_channel_major(copy);
                   for (std::size_t c = 0; c < C; ++c)
                     for (std::size_t j = 0; j < len; ++j) {
                       const double expect = x[(starts[got] + j) * C + c];
                       ASSERT_EQ(v.channel(c)[j], expect);
                       ASSERT_EQ(copy[c * len + j], expect);
                     }
                   ++got;
                 }).ok());
    i += k;
  }
  EXPECT_EQ(got, starts.size());
  EXPECT_EQ(w.windows_emitted(), starts.size());
}

TEST(StreamingWindower, AnyChunkingGivesTheOfflineWindows) {
  for (std::uint64_t seed : {0u, 1u, 2u}) {
    check_streaming(4, 1000, 250, 50, seed);   // overlapping
    check_streaming(3, 777, 64, 64, seed);     // back to back
    check_streaming(2, 500, 30, 45, seed);     // gaps between windows
    check_streaming(1, 50, 1, 1, seed);
  }
}

TEST(StreamingWindower, ResetStartsOverAndBadInputIsAnError) {
  EXPECT_FALSE(StreamingWindower::create(0, 4, 1).ok());
  EXPECT_FALSE(StreamingWindower::create(2, 0, 1).ok());
  EXPECT_FALSE(StreamingWindower::create(2, 4, 0).ok());
  auto w = StreamingWindower::create(2, 4, 2).value();
  std::vector<double> x(10, 1.0);
  int n = 0;
  ASSERT_TRUE(w.push(x, [&](const WindowView&) { ++n; }).ok());
  EXPECT_EQ(n, 1);  // 5 frames: window [0,4)
  auto s = w.push(std::span(x).first(3), [&](const WindowView&) { ++n; });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(w.samples_seen(), 5u);  // nothing consumed on error
  w.reset();
  EXPECT_EQ(w.samples_seen(), 0u);
  ASSERT_TRUE(w.push(std::span(x).first(8), [&](const WindowView& v) { EXPECT_EQ(v.start_sample(), 0u); ++n; }).ok());
  EXPECT_EQ(n, 2);
}

}  // namespace
}  // namespace myoexo::dsp
