// Time-domain features vs the NumPy/SciPy reference (scripts/fixtures_features.py) on real UCI lower-limb
// windows and synthetic edge cases. Tolerance: 1e-9 relative (feature_rel_error) for real-valued features,
// exact for counts.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <vector>

#include "features/feature_fixture.hpp"
#include "features/features.hpp"

namespace mf = myoexo::features;
using myoexo::test::feature_rel_error;
using myoexo::test::FeatureFixture;

namespace {

constexpr double kTimeDomainRtol = 1e-9;

using FeatureFn = std::function<double(std::span<const double>)>;

void expect_matches_reference(const FeatureFixture& fx, const std::string& name, const FeatureFn& fn,
                              double rtol) {
  const double scale = fx.scale(name);
  double worst = 0.0;
  for (std::size_t w = 0; w < fx.n_windows; ++w) {
    for (std::size_t c = 0; c < fx.n_channels; ++c) {
      const double got = fn(fx.window(w, c));
      const double want = fx.ref(w, c, name);
      const double err = feature_rel_error(got, want, scale);
      worst = std::max(worst, err);
      EXPECT_LE(err, rtol) << name << " window " << w << " channel " << c << ": got " << got << " want " << want;
    }
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2e", worst);
  ::testing::Test::RecordProperty(name + "_max_rel_error", buf);
}

}  // namespace

TEST(TimeDomainFeatures, AmplitudeFeaturesMatchNumpyOnRealWindows) {
  const auto fx = FeatureFixture::load();
  ASSERT_EQ(fx.n_channels, 4u);
  expect_matches_reference(fx, "MAV", [](auto x) { return mf::compute_mav(x); }, kTimeDomainRtol);
  expect_matches_reference(fx, "RMS", [](auto x) { return mf::compute_rms(x); }, kTimeDomainRtol);
  expect_matches_reference(fx, "VAR", [](auto x) { return mf::compute_var(x); }, kTimeDomainRtol);
  expect_matches_reference(fx, "IAV", [](auto x) { return mf::compute_iav(x); }, kTimeDomainRtol);
  expect_matches_reference(fx, "WL", [](auto x) { return mf::compute_wl(x); }, kTimeDomainRtol);
  expect_matches_reference(fx, "LOG", [](auto x) { return mf::compute_log(x); }, kTimeDomainRtol);
  expect_matches_reference(fx, "DASDV", [](auto x) { return mf::compute_dasdv(x); }, kTimeDomainRtol);
}

TEST(TimeDomainFeatures, CountsEqualNumpyExactlyWithThresholdsAndWithout) {
  const auto fx = FeatureFixture::load();
  for (std::size_t w = 0; w < fx.n_windows; ++w) {
    for (std::size_t c = 0; c < fx.n_channels; ++c) {
      const auto x = fx.window(w, c);
      EXPECT_EQ(mf::compute_zc(x, fx.zc), fx.ref(w, c, "ZC")) << "window " << w << " ch " << c;
      EXPECT_EQ(mf::compute_ssc(x, fx.ssc), fx.ref(w, c, "SSC")) << "window " << w << " ch " << c;
      EXPECT_EQ(mf::compute_wamp(x, fx.wamp), fx.ref(w, c, "WAMP")) << "window " << w << " ch " << c;
      const double* zero_thr = fx.thr0.data.data() + (w * fx.n_channels + c) * 3;
      EXPECT_EQ(mf::compute_zc(x, 0.0), zero_thr[0]);
      EXPECT_EQ(mf::compute_ssc(x, 0.0), zero_thr[1]);
      EXPECT_EQ(mf::compute_wamp(x, 0.0), zero_thr[2]);
    }
  }
}

TEST(TimeDomainFeatures, ThresholdsOnlyEverRemoveCounts) {
  const auto fx = FeatureFixture::load();
  for (std::size_t w = 0; w < fx.n_windows; ++w) {
    const auto x = fx.window(w, 0);
    EXPECT_LE(mf::compute_zc(x, fx.zc), mf::compute_zc(x, 0.0));
    EXPECT_LE(mf::compute_ssc(x, fx.ssc), mf::compute_ssc(x, 0.0));
    EXPECT_LE(mf::compute_wamp(x, fx.wamp), mf::compute_wamp(x, 0.0));
  }
}

TEST(TimeDomainFeatures, SkewAndExcessKurtosisMatchScipyStatsDefaults) {
  const auto fx = FeatureFixture::load();
  expect_matches_reference(fx, "SKEW", [](auto x) { return mf::compute_skew(x); }, kTimeDomainRtol);
  expect_matches_reference(fx, "KURT", [](auto x) { return mf::compute_kurt(x); }, kTimeDomainRtol);
  // Excess (Fisher) kurtosis: a symmetric two-level signal has kurtosis 1, excess -2.
  std::vector<double> square(250);
  for (std::size_t i = 0; i < square.size(); ++i) square[i] = (i % 2) ? 1.0 : -1.0;
  EXPECT_NEAR(mf::compute_kurt(square), -2.0, 1e-12);
}

TEST(TimeDomainFeatures, HjorthParametersMatchNumpyVarianceDefinitions) {
  const auto fx = FeatureFixture::load();
  expect_matches_reference(fx, "HA", [](auto x) { return mf::compute_hjorth(x).activity; }, kTimeDomainRtol);
  expect_matches_reference(fx, "HM", [](auto x) { return mf::compute_hjorth(x).mobility; }, kTimeDomainRtol);
  expect_matches_reference(fx, "HC", [](auto x) { return mf::compute_hjorth(x).complexity; }, kTimeDomainRtol);
}

TEST(TimeDomainFeatures, YuleWalkerArCoefficientsMatchScipySolveToeplitz) {
  const auto fx = FeatureFixture::load();
  ASSERT_EQ(fx.ar_order, 4);
  for (int k = 0; k < 4; ++k) {
    expect_matches_reference(
        fx, "AR" + std::to_string(k + 1),
        [k](auto x) {
          std::vector<double> a(4), scratch(9);
          mf::compute_ar(x, a, scratch);
          return a[static_cast<std::size_t>(k)];
        },
        kTimeDomainRtol);
  }
}

TEST(TimeDomainFeatures, ArRecoversTheCoefficientsOfAKnownProcess) {
  // x[n] = 0.6 x[n-1] - 0.3 x[n-2] + e[n], long enough that Yule-Walker is within a few 1e-2.
  std::vector<double> x(20000, 0.0);
  std::uint64_t state = 12345;
  auto noise = [&state] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / 9007199254740992.0 - 0.5;
  };
  for (std::size_t n = 2; n < x.size(); ++n) x[n] = 0.6 * x[n - 1] - 0.3 * x[n - 2] + noise();
  std::vector<double> a(2), scratch(5);
  mf::compute_ar(x, a, scratch);
  EXPECT_NEAR(a[0], 0.6, 0.03);
  EXPECT_NEAR(a[1], -0.3, 0.03);
}

TEST(TimeDomainFeatures, TdpsdOrientationsMatchLibemgFormulas) {
  const auto fx = FeatureFixture::load();
  std::vector<double> scratch(fx.window_len);
  auto via = [&scratch](double mf::Tdpsd::*field) {
    return [&scratch, field](std::span<const double> x) { return mf::compute_tdpsd(x, scratch).*field; };
  };
  expect_matches_reference(fx, "M0", via(&mf::Tdpsd::m0), kTimeDomainRtol);
  expect_matches_reference(fx, "M2", via(&mf::Tdpsd::m2), kTimeDomainRtol);
  expect_matches_reference(fx, "M4", via(&mf::Tdpsd::m4), kTimeDomainRtol);
  expect_matches_reference(fx, "SPARSI", via(&mf::Tdpsd::sparsi), kTimeDomainRtol);
  expect_matches_reference(fx, "IRF", via(&mf::Tdpsd::irf), kTimeDomainRtol);
  expect_matches_reference(fx, "WLF", via(&mf::Tdpsd::wlf), kTimeDomainRtol);
}

TEST(TimeDomainFeatures, ConstantAndZeroWindowsGiveFiniteValues) {
  // 0.1 is not exactly representable: the mean carries rounding, the "variance" is ~1e-34, not 0.
  for (double level : {0.0, 0.1, 0.37, -3.7, 12.3456, 1e-200}) {
    std::vector<double> x(250, level), scratch(250), ar(4), ar_scratch(9);
    const auto h = mf::compute_hjorth(x);
    mf::compute_ar(x, ar, ar_scratch);
    const auto t = mf::compute_tdpsd(x, scratch);
    for (double v : {mf::compute_mav(x), mf::compute_rms(x), mf::compute_var(x), mf::compute_wl(x),
                     mf::compute_zc(x, 0), mf::compute_ssc(x, 0), mf::compute_wamp(x, 0), mf::compute_log(x),
                     mf::compute_dasdv(x), mf::compute_skew(x), mf::compute_kurt(x), h.activity, h.mobility,
                     h.complexity, ar[0], ar[1], ar[2], ar[3], t.m0, t.m2, t.m4, t.sparsi, t.irf, t.wlf})
      EXPECT_TRUE(std::isfinite(v)) << "level " << level;
    EXPECT_EQ(mf::compute_skew(x), 0.0);
    EXPECT_EQ(mf::compute_kurt(x), 0.0);
    EXPECT_EQ(ar[0], 0.0);
    EXPECT_EQ(h.mobility, 0.0);
  }
}

TEST(TimeDomainFeatures, ZeroCrossingNeedsAStrictSignChange) {
  const std::vector<double> x{1.0, 0.0, -1.0, -2.0, 3.0, 3.0};
  // 1 -> 0 and 0 -> -1 touch zero without a sign change between neighbours; -2 -> 3 crosses.
  EXPECT_EQ(mf::compute_zc(x, 0.0), 1.0);
  EXPECT_EQ(mf::compute_zc(x, 5.0), 1.0);  // |(-2) - 3| = 5 >= 5
  EXPECT_EQ(mf::compute_zc(x, 5.5), 0.0);
  // Extrema: -2 (min, steps 1 and 5), no flat-top count at the 3, 3 end.
  EXPECT_EQ(mf::compute_ssc(x, 0.0), 1.0);
  EXPECT_EQ(mf::compute_ssc(x, 5.0), 1.0);  // the larger side step counts
  EXPECT_EQ(mf::compute_ssc(x, 5.1), 0.0);
}
