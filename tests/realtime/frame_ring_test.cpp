#include "realtime/frame_ring.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace myoexo::realtime {
namespace {

TEST(FrameRing, CreateRejectsZeroSizes) {
  EXPECT_FALSE(FrameRing::create(0, 10).ok());
  EXPECT_FALSE(FrameRing::create(2, 0).ok());
}

TEST(FrameRing, FramesComeOutInOrderWithTheirStamps) {
  auto ring = FrameRing::create(2, 8).value();
  const std::vector<double> a{1, 10, 2, 20, 3, 30};
  EXPECT_EQ(ring.push(a, 5.0, 100.0, 111), 3u);
  const std::vector<double> b{4, 40};
  EXPECT_EQ(ring.push(b, 5.03, 100.0, 222), 1u);
  std::vector<double> out(16);
  ChunkTiming t;
  // One pop returns one arrival group only.
  ASSERT_EQ(ring.pop(out, t), 3u);
  EXPECT_EQ(t.arrival_ns, 111);
  EXPECT_DOUBLE_EQ(t.first_sample_s, 5.0);
  EXPECT_EQ(std::vector<double>(out.begin(), out.begin() + 6), a);
  ASSERT_EQ(ring.pop(out, t), 1u);
  EXPECT_EQ(t.arrival_ns, 222);
  EXPECT_DOUBLE_EQ(t.first_sample_s, 5.03);
  EXPECT_EQ(out[0], 4);
  EXPECT_EQ(ring.pop(out, t), 0u);
}

TEST(FrameRing, FullRingDropsNewFramesAndCountsThemWithoutBlocking) {
  auto ring = FrameRing::create(1, 4).value();
  const std::vector<double> six{1, 2, 3, 4, 5, 6};
  EXPECT_EQ(ring.push(six, 0.0, 1000.0, 1), 4u);
  EXPECT_EQ(ring.overrun_frames(), 2u);
  EXPECT_EQ(ring.push(six, 0.0, 1000.0, 2), 0u);
  EXPECT_EQ(ring.overrun_frames(), 8u);
  std::vector<double> out(4);
  ChunkTiming t;
  ASSERT_EQ(ring.pop(out, t), 4u);
  EXPECT_EQ(out, (std::vector<double>{1, 2, 3, 4}));
}

TEST(FrameRing, PopStopsAtTheCallersBufferSize) {
  auto ring = FrameRing::create(1, 16).value();
  const std::vector<double> v{1, 2, 3, 4, 5};
  ring.push(v, 0.0, 1000.0, 7);
  std::vector<double> out(2);
  ChunkTiming t;
  EXPECT_EQ(ring.pop(out, t), 2u);
  EXPECT_EQ(ring.pop(out, t), 2u);
  EXPECT_DOUBLE_EQ(t.first_sample_s, 0.002);  // third frame's stamp
  EXPECT_EQ(ring.pop(out, t), 1u);
}

TEST(FrameRing, ProducerAndConsumerThreadsLoseNothingUnaccounted) {
  auto ring = FrameRing::create(3, 64).value();
  constexpr int kChunks = 3000;
  std::thread producer([&] {
    std::vector<double> chunk(3 * 5);
    for (int k = 0; k < kChunks; ++k) {
      for (int j = 0; j < 5; ++j)
        for (int c = 0; c < 3; ++c) chunk[j * 3 + c] = k * 5 + j + 0.25 * c;
      ring.push(chunk, (k * 5) / 1000.0, 1000.0, k + 1);
    }
  });
  std::vector<double> out(3 * 7);
  std::uint64_t popped = 0;
  double last = -1;
  bool ordered = true, intact = true;
  for (;;) {
    ChunkTiming t;
    const std::size_t m = ring.pop(out, t);
    for (std::size_t j = 0; j < m; ++j) {
      ordered &= out[j * 3] > last;
      last = out[j * 3];
      intact &= out[j * 3 + 2] == out[j * 3] + 0.5;
    }
    popped += m;
    if (m == 0 && popped + ring.overrun_frames() == 5u * kChunks) break;
  }
  producer.join();
  EXPECT_TRUE(ordered);
  EXPECT_TRUE(intact);
  EXPECT_EQ(popped + ring.overrun_frames(), 5u * kChunks);
  EXPECT_EQ(ring.pushed_frames(), popped);
}

}  // namespace
}  // namespace myoexo::realtime
