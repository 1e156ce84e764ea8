#include "control/sensor_fault.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace myoexo::control {
namespace {

constexpr std::size_t kCh = 3;

// Noisy EMG-like signal, channel-major [kCh x n], with a NaN burst, a flat line and a saturation episode.
std::vector<double> make_signal(std::size_t n) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.0, 0.1);
  std::vector<double> x(kCh * n);
  for (auto& v : x) v = noise(rng);
  for (std::size_t i = 300; i < 310; ++i) x[0 * n + i] = std::nan("");
  for (std::size_t i = 1000; i < 1300; ++i) x[1 * n + i] = 0.25;
  for (std::size_t i = 2000; i < 2050; ++i) x[2 * n + i] = 1.0;
  return x;
}

SensorFaultDetector make_detector() {
  auto spec = default_sensor_fault_spec(kCh, 1000.0, 1.0);
  return SensorFaultDetector::create(spec).value();
}

TEST(SensorFaultDetector, FlagsEachFaultKindOnItsChannel) {
  const std::size_t n = 3000;
  const auto x = make_signal(n);
  auto det = make_detector();
  std::vector<std::uint32_t> seen(kCh, 0);
  for (std::size_t i = 0; i < n; ++i) {
    double frame[kCh];
    for (std::size_t c = 0; c < kCh; ++c) frame[c] = x[c * n + i];
    ASSERT_TRUE(det.push_frame(frame));
    for (std::size_t c = 0; c < kCh; ++c) seen[c] |= det.channel_faults(c);
    if (i == 300) {
      EXPECT_TRUE(det.channel_faults(0) & sensor_fault_non_finite);  // immediately
    }
    if (i == 1098) {
      EXPECT_FALSE(det.channel_faults(1) & sensor_fault_flat_line);  // 99 equal samples: not yet
    }
    if (i == 1099) {
      EXPECT_TRUE(det.channel_faults(1) & sensor_fault_flat_line);  // 100 equal samples
    }
  }
  EXPECT_EQ(seen[0], sensor_fault_non_finite);
  EXPECT_EQ(seen[1], sensor_fault_flat_line);
  EXPECT_EQ(seen[2], sensor_fault_saturation);
  EXPECT_EQ(det.fault_onsets(), 3u);
  EXPECT_EQ(det.faults(), 0u);  // all cleared after 200 clean samples
}

TEST(SensorFaultDetector, AnyChunkingGivesIdenticalFlags) {
  const std::size_t n = 3000;
  const auto x = make_signal(n);
  auto whole = make_detector();
  ASSERT_TRUE(whole.process(x, n));
  for (std::size_t chunk : {1u, 7u, 64u, 999u}) {
    auto det = make_detector();
    std::vector<double> buf;
    for (std::size_t i0 = 0; i0 < n; i0 += chunk) {
      const std::size_t m = std::min(chunk, n - i0);
      buf.assign(kCh * m, 0.0);
      for (std::size_t c = 0; c < kCh; ++c)
        for (std::size_t i = 0; i < m; ++i) buf[c * m + i] = x[c * n + i0 + i];
      ASSERT_TRUE(det.process(buf, m));
    }
    EXPECT_EQ(det.fault_onsets(), whole.fault_onsets()) << "chunk " << chunk;
    EXPECT_EQ(det.faults(), whole.faults());
    EXPECT_EQ(det.samples_seen(), n);
  }
}

TEST(SensorFaultDetector, ElectrodeOffIsALargeSlowOffset) {
  auto det = make_detector();
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0.0, 0.1);
  bool flagged = false;
  for (int i = 0; i < 5000; ++i) {
    const double v = 0.6 + noise(rng);  // the input floated to +0.6 of full scale
    ASSERT_TRUE(det.push_frame(std::vector<double>{v, noise(rng), noise(rng)}));
    flagged = flagged || (det.channel_faults(0) & sensor_fault_electrode_off);
  }
  EXPECT_TRUE(flagged);
  EXPECT_EQ(det.channel_faults(1), 0u);
}

TEST(SensorFaultDetector, FaultClearsOnlyAfterCleanSamples) {
  auto det = make_detector();
  ASSERT_TRUE(det.push_frame(std::vector<double>{std::nan(""), 0.0, 0.0}));
  for (int i = 0; i < 199; ++i) ASSERT_TRUE(det.push_frame(std::vector<double>{0.01 * (i % 7), 0.02 * (i % 5), 0.01 * (i % 3)}));
  EXPECT_NE(det.faults(), 0u);
  ASSERT_TRUE(det.push_frame(std::vector<double>{0.05, 0.07, 0.03}));
  EXPECT_EQ(det.faults(), 0u);
}

TEST(SensorFaultDetector, WrongSizeChunkIsRejectedNotConsumed) {
  auto det = make_detector();
  std::vector<double> x(7, 0.0);
  EXPECT_FALSE(det.process(x, 2));
  EXPECT_EQ(det.samples_seen(), 0u);
}

TEST(SensorFaultDetector, BadSpecIsRefused) {
  SensorFaultSpec spec;
  EXPECT_FALSE(SensorFaultDetector::create(spec).ok());  // zero channels
  spec = default_sensor_fault_spec(2, 1000.0, 1.0);
  spec.mean_alpha = 0.0;
  EXPECT_FALSE(SensorFaultDetector::create(spec).ok());
}

TEST(SensorFaultDetector, NamesListEveryBit) {
  char buf[96];
  EXPECT_STREQ(sensor_fault_names(sensor_fault_non_finite | sensor_fault_saturation, buf, sizeof buf), "non_finite|saturation");
  EXPECT_STREQ(sensor_fault_names(0, buf, sizeof buf), "none");
}

}  // namespace
}  // namespace myoexo::control
