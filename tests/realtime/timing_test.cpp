#include "realtime/timing.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace myoexo::realtime {
namespace {

TEST(DurationHistogram, EmptyHistogramSummarisesToZero) {
  DurationHistogram h;
  const auto s = h.summary();
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.p99_s, 0.0);
}

TEST(DurationHistogram, QuantilesAreWithinOneBinAndMaxIsExact) {
  DurationHistogram h;
  for (int i = 1; i <= 1000; ++i) h.record_ns(i * 1000);  // 1 us .. 1 ms uniformly
  const auto s = h.summary();
  EXPECT_EQ(s.count, 1000u);
  const double bin = std::pow(10.0, 1.0 / DurationHistogram::kBinsPerDecade);  // ~7.5 %
  EXPECT_GE(s.p50_s, 500e-6);
  EXPECT_LE(s.p50_s, 500e-6 * bin);
  EXPECT_GE(s.p99_s, 990e-6);
  EXPECT_LE(s.p99_s, 1e-3);  // capped at the exact max
  EXPECT_DOUBLE_EQ(s.max_s, 1e-3);
  EXPECT_NEAR(s.mean_s, 500.5e-6, 1e-12);
}

TEST(DurationHistogram, OutOfRangeValuesLandInTheEndBins) {
  DurationHistogram h;
  h.record_ns(-5);
  h.record_s(1e6);
  EXPECT_EQ(h.count(), 2u);
  EXPECT_DOUBLE_EQ(h.quantile_s(0.0), DurationHistogram::kMinS);  // negative -> the first bin
  EXPECT_DOUBLE_EQ(h.summary().max_s, 1e6);
}

}  // namespace
}  // namespace myoexo::realtime
