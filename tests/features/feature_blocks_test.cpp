// Feature blocks (the "lda_context" row definition): the name predicates, finish_feature_block's per-value
// rules, and ContextFeatureExtractor equal to FeatureExtractor calls over the window and the clipped context.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "features/features.hpp"

namespace mf = myoexo::features;
using Names = std::vector<std::string>;

namespace {

std::vector<double> noise(std::size_t n, unsigned seed, double amp) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> d(0.0, amp);
  std::vector<double> x(n);
  for (auto& v : x) v = d(gen);
  return x;
}

TEST(FeatureBlocks, NamePredicatesListTheAmplitudeAndLengthGrowingFeatures) {
  for (const char* f : {"MAV", "RMS", "VAR", "IAV", "WL", "DASDV", "HA", "TP", "M0", "M2", "M4"})
    EXPECT_TRUE(mf::is_amplitude_feature(f)) << f;
  for (const char* f : {"ZC", "SSC", "WAMP", "LOG", "SKEW", "KURT", "HM", "HC", "AR1", "MNF", "MDF", "PKF", "SPARSI",
                        "IRF", "WLF", "mav", ""})
    EXPECT_FALSE(mf::is_amplitude_feature(f)) << f;
  for (const char* f : {"IAV", "WL", "ZC", "SSC", "WAMP"}) EXPECT_TRUE(mf::grows_with_length(f)) << f;
  for (const char* f : {"MAV", "RMS", "VAR", "AR1", "TP", "HA", "LOG"}) EXPECT_FALSE(mf::grows_with_length(f)) << f;
}

TEST(FeatureBlocks, FinishDividesCountsThenLogsAmplitudesValueByValue) {
  const Names names{"MAV", "ZC", "WL", "AR1"};
  // Two channels; channel 1's MAV is 0 (floor) and its AR1 is NaN (stays NaN).
  std::vector<double> row{2.0, 30.0, 8.0, -0.5, 0.0, 10.0, 4.0, std::numeric_limits<double>::quiet_NaN()};
  const auto orig = row;
  mf::finish_feature_block(row.data(), 2, names, 4, {true, true});
  EXPECT_EQ(row[0], std::log(2.0));
  EXPECT_EQ(row[1], 30.0 / 4.0);
  EXPECT_EQ(row[2], std::log(8.0 / 4.0));
  EXPECT_EQ(row[3], -0.5);
  EXPECT_EQ(row[4], std::log(mf::kLogAmplitudeFloor));
  EXPECT_EQ(row[5], 10.0 / 4.0);
  EXPECT_EQ(row[6], std::log(4.0 / 4.0));
  EXPECT_TRUE(std::isnan(row[7]));

  row = orig;
  mf::finish_feature_block(row.data(), 2, names, 4, {false, true});  // a window block: log only
  EXPECT_EQ(row[1], 30.0);
  EXPECT_EQ(row[2], std::log(8.0));
  row = orig;
  mf::finish_feature_block(row.data(), 2, names, 4, {true, false});  // counts only
  EXPECT_EQ(row[0], 2.0);
  EXPECT_EQ(row[2], 2.0);
  row = orig;
  mf::finish_feature_block(row.data(), 2, names, 4, {false, false});  // nothing
  for (std::size_t i = 0; i < 7; ++i) EXPECT_EQ(row[i], orig[i]) << i;
}

/// The definition written out: window block, then the context [start - min(ctx, before), start + len).
std::vector<double> reference_row(const mf::FeatureSpec& spec, const std::vector<double>& x, std::size_t n_samples,
                                  std::size_t start, std::size_t len, std::size_t ctx, bool log_amp) {
  const std::size_t nch = x.size() / n_samples;
  auto wex = mf::FeatureExtractor::create(spec, nch, len).value();
  const std::size_t bc = wex.n_columns(), nf = wex.n_features();
  std::vector<double> row(ctx > 0 ? 2 * bc : bc);
  EXPECT_EQ(wex.compute(x.data() + start, n_samples, row.data()), mf::ComputeStatus::ok);
  for (std::size_t i = 0; i < bc; ++i)
    if (log_amp && mf::is_amplitude_feature(wex.feature_names()[i % nf])) row[i] = std::log(std::max(row[i], 1e-12));
  if (ctx == 0) return row;
  const std::size_t begin = start - std::min(ctx, start), n = start + len - begin;
  auto cex = mf::FeatureExtractor::create(spec, nch, n).value();
  EXPECT_EQ(cex.compute(x.data() + begin, n_samples, row.data() + bc), mf::ComputeStatus::ok);
  for (std::size_t i = 0; i < bc; ++i) {
    double& v = row[bc + i];
    const std::string& f = wex.feature_names()[i % nf];
    if (mf::grows_with_length(f)) v /= double(n);
    if (log_amp && mf::is_amplitude_feature(f)) v = std::log(std::max(v, 1e-12));
  }
  return row;
}

TEST(ContextFeatureExtractor, RowsEqualTheWindowAndClippedContextFeatures) {
  mf::FeatureSpec spec;
  spec.names = {"MAV", "WL", "ZC", "SSC", "RMS", "AR", "IAV", "WAMP", "TP"};
  spec.sample_rate_hz = 1000.0;
  const std::size_t n = 1600, len = 200, inc = 40, ctx = 300;  // context not a multiple of the increment
  const auto x = noise(3 * n, 5, 0.1);
  auto cfx = mf::ContextFeatureExtractor::create(spec, 3, len, inc, ctx, true).value();
  ASSERT_EQ(cfx.n_blocks(), 2u);
  ASSERT_EQ(cfx.n_features(), 12u);  // AR -> AR1..AR4
  ASSERT_EQ(cfx.n_columns(), 3u * 12u * 2u);
  std::vector<double> row(cfx.n_columns());
  for (std::size_t start = 0; start + len <= n; start += inc) {
    mf::ComputeStatus st{};
    ASSERT_TRUE(cfx.compute(x.data() + start, n, start, row.data(), st)) << start;
    EXPECT_EQ(st, mf::ComputeStatus::ok);
    EXPECT_EQ(cfx.context_length(start), len + std::min(ctx, start));
    const auto ref = reference_row(spec, x, n, start, len, ctx, true);
    for (std::size_t i = 0; i < ref.size(); ++i) EXPECT_EQ(row[i], ref[i]) << "start " << start << " column " << i;
  }
}

TEST(ContextFeatureExtractor, WithoutContextOrLogItIsTheFeatureExtractor) {
  mf::FeatureSpec spec;
  spec.names = {"HTD"};
  const auto x = noise(2 * 500, 9, 1.0);
  auto cfx = mf::ContextFeatureExtractor::create(spec, 2, 250, 50, 0, false).value();
  auto ex = mf::FeatureExtractor::create(spec, 2, 250).value();
  ASSERT_EQ(cfx.n_columns(), ex.n_columns());
  EXPECT_EQ(cfx.column_names(Names{"a", "b"}), ex.column_names(Names{"a", "b"}));
  std::vector<double> a(cfx.n_columns()), b(ex.n_columns());
  mf::ComputeStatus st{};
  ASSERT_TRUE(cfx.compute(x.data() + 100, 500, 100, a.data(), st));
  ASSERT_EQ(ex.compute(x.data() + 100, 500, b.data()), mf::ComputeStatus::ok);
  EXPECT_EQ(a, b);
}

TEST(ContextFeatureExtractor, ContextColumnsAreNamedWithTheirFullLength) {
  mf::FeatureSpec spec;
  spec.names = {"MAV", "ZC"};
  auto cfx = mf::ContextFeatureExtractor::create(spec, 2, 250, 50, 750, true).value();
  EXPECT_EQ(cfx.column_names(Names{"RF", "BF"}),
            (Names{"RF_MAV", "RF_ZC", "BF_MAV", "BF_ZC", "RF_MAV@1000", "RF_ZC@1000", "BF_MAV@1000", "BF_ZC@1000"}));
}

TEST(ContextFeatureExtractor, MisalignedWindowStartIsRefusedAndNanIsReported) {
  mf::FeatureSpec spec;
  spec.names = {"MAV", "WL"};
  auto x = noise(1200, 2, 1.0);
  auto cfx = mf::ContextFeatureExtractor::create(spec, 1, 100, 50, 200, false).value();
  std::vector<double> row(cfx.n_columns(), 7.0);
  mf::ComputeStatus st{};
  EXPECT_FALSE(cfx.compute(x.data() + 60, 1200, 60, row.data(), st));  // 60 < 200 and not k * 50: no extractor
  EXPECT_EQ(row, std::vector<double>(4, 7.0));
  EXPECT_TRUE(cfx.compute(x.data() + 630, 1200, 630, row.data(), st));  // >= the context: the full length
  EXPECT_EQ(st, mf::ComputeStatus::ok);
  x[500] = std::numeric_limits<double>::quiet_NaN();  // inside the context of a window starting at 600 only
  EXPECT_TRUE(cfx.compute(x.data() + 600, 1200, 600, row.data(), st));
  EXPECT_EQ(st, mf::ComputeStatus::nonfinite_input);
  EXPECT_TRUE(std::isfinite(row[0]));
  EXPECT_TRUE(std::isnan(row[2]));
}

TEST(ContextFeatureExtractor, BadGeometryIsAnError) {
  mf::FeatureSpec spec;
  spec.names = {"MAV"};
  EXPECT_EQ(mf::ContextFeatureExtractor::create(spec, 1, 100, 0, 10, false).error().code,
            myoexo::ErrorCode::invalid_argument);
  EXPECT_EQ(mf::ContextFeatureExtractor::create(spec, 1, 100, 1, mf::kMaxContextLengths, false).error().code,
            myoexo::ErrorCode::invalid_argument);
  EXPECT_TRUE(mf::ContextFeatureExtractor::create(spec, 1, 100, 1, mf::kMaxContextLengths - 2, false).ok());
  EXPECT_EQ(mf::ContextFeatureExtractor::create(spec, 1, 100, 1 << 20, std::size_t{1} << 30, false).error().code,
            myoexo::ErrorCode::invalid_argument);
  EXPECT_FALSE(mf::ContextFeatureExtractor::create(spec, 1, 2, 1, 10, false).ok());  // window_len < 3
  spec.names = {"NOPE"};
  EXPECT_FALSE(mf::ContextFeatureExtractor::create(spec, 1, 100, 50, 10, false).ok());
}

}  // namespace
