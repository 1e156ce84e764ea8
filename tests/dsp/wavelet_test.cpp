// Daubechies-4 DWT (periodization) and universal-threshold denoising; coefficients vs PyWavelets when the
// fixtures have them (Debian python3-pywt). Tolerances: coefficients and denoised signal 1e-10 relative
// to the largest magnitude; perfect reconstruction 1e-10 relative.
#include "dsp/wavelet.hpp"

#include <gtest/gtest.h>

#include <random>

#include "dsp/dsp_test_util.hpp"

namespace myoexo::dsp {
namespace {

using test::fixture;
using test::has_fixture;

std::vector<double> noisy_signal(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> N01;
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = std::sin(0.02 * double(i)) + (i > n / 2 ? 1.0 : 0.0) + 0.2 * N01(rng);
  return x;
}

TEST(Wavelet, PerfectReconstructionAtThresholdZero) {
  for (std::size_t n : {2u, 7u, 64u, 1000u, 2999u, 4001u}) {
    SCOPED_TRACE("n " + std::to_string(n));
    auto x = noisy_signal(n, n);
    auto y = denoise_wavelet(x, {.levels = 0, .threshold_scale = 0.0});
    ASSERT_TRUE(y.ok()) << y.error().message();
    ASSERT_EQ(y->size(), n);
    EXPECT_LT(test::max_abs_diff(*y, x), 1e-10 * test::max_abs(x));
    // Every level count, explicitly.
    for (std::size_t L = 1; L <= std::max<std::size_t>(db4_max_level(n), 1); ++L) {
      auto c = wavedec_db4(x, L);
      ASSERT_TRUE(c.ok());
      EXPECT_EQ(c->levels(), L);
      auto r = waverec_db4(*c);
      ASSERT_TRUE(r.ok());
      EXPECT_LT(test::max_abs_diff(*r, x), 1e-10 * test::max_abs(x));
    }
  }
}

TEST(Wavelet, TransformIsOrthonormalForEvenLengths) {
  auto x = noisy_signal(1024, 3);
  auto c = wavedec_db4(x).value();
  double ex = 0.0, ec = 0.0;
  for (double v : x) ex += v * v;
  for (auto& band : c.coeffs)
    for (double v : band) ec += v * v;
  EXPECT_NEAR(ec, ex, 1e-10 * ex);  // Parseval: why the universal threshold applies per band
}

TEST(Wavelet, DenoisingReducesWhiteNoise) {
  const std::size_t n = 4096;
  std::vector<double> clean(n), x(n);
  std::mt19937_64 rng(7);
  std::normal_distribution<double> N01;
  for (std::size_t i = 0; i < n; ++i) {
    clean[i] = std::sin(2 * 3.141592653589793 * double(i) / 512.0);
    x[i] = clean[i] + 0.3 * N01(rng);
  }
  double t = 0.0;
  auto y = denoise_wavelet(x, {}, &t).value();
  double e_in = 0.0, e_out = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    e_in += (x[i] - clean[i]) * (x[i] - clean[i]);
    e_out += (y[i] - clean[i]) * (y[i] - clean[i]);
  }
  EXPECT_LT(e_out, 0.25 * e_in);
  EXPECT_NEAR(t, 0.3 * std::sqrt(2.0 * std::log(double(n))), 0.1 * t);  // sigma estimate ~ 0.3
}

TEST(Wavelet, CoefficientsAndDenoisedSignalMatchPywt) {
  if (!has_fixture("wavelet_x")) GTEST_SKIP() << "pywt fixtures absent (install python3-pywt, rerun make_fixtures)";
  auto x = fixture("wavelet_x");
  const auto levels = static_cast<std::size_t>(fixture("wavelet_levels")[0]);
  auto c = wavedec_db4(x.data);  // default level = pywt's default
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->levels(), levels);
  for (std::size_t i = 0; i <= levels; ++i) {
    auto ref = fixture("wavelet_coeff_" + std::to_string(i));
    ASSERT_EQ(c->coeffs[i].size(), ref.size()) << "band " << i;
    EXPECT_LT(test::max_abs_diff(c->coeffs[i], ref.data), 1e-10 * test::max_abs(ref.data)) << "band " << i;
  }
  double t = 0.0;
  auto y = denoise_wavelet(x.data, {}, &t);
  ASSERT_TRUE(y.ok());
  EXPECT_NEAR(t, fixture("wavelet_threshold")[0], 1e-10 * t);
  auto ref = fixture("wavelet_denoised");
  EXPECT_LT(test::max_abs_diff(*y, ref.data), 1e-10 * test::max_abs(ref.data));
}

TEST(Wavelet, BadArgumentsAreErrors) {
  std::vector<double> one(1, 1.0), x(100, 1.0);
  EXPECT_FALSE(wavedec_db4(one).ok());
  EXPECT_FALSE(wavedec_db4(x, 10).ok());  // max level for 100 samples is 3
  EXPECT_FALSE(denoise_wavelet(x, {.levels = 0, .threshold_scale = -1.0}).ok());
  WaveletCoefficients broken = wavedec_db4(x).value();
  broken.coeffs[1].pop_back();
  EXPECT_FALSE(waverec_db4(broken).ok());
}

}  // namespace
}  // namespace myoexo::dsp
