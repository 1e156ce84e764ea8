// Periodogram and spectral features vs scipy.signal.periodogram (boxcar, constant detrend, density).
// Tolerance 1e-7 relative for the periodogram, MNF and TP; MDF exact (it is a bin frequency); PKF must land on
// a bin whose reference power is within 1e-7 of the maximum (a flat spectrum, e.g. a single spike, has many
// maxima that differ only by FFT rounding).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <vector>

#include "dsp/fft.hpp"
#include "features/feature_fixture.hpp"
#include "features/features.hpp"

namespace mf = myoexo::features;
using myoexo::test::feature_rel_error;
using myoexo::test::FeatureFixture;

namespace {
constexpr double kSpectralRtol = 1e-7;
}

TEST(SpectralFeatures, PeriodogramMatchesScipyPeriodogram) {
  const auto fx = FeatureFixture::load();
  myoexo::dsp::RealFft fft(fx.window_len);
  std::vector<double> psd(fx.window_len / 2 + 1);
  ASSERT_EQ(psd.size(), fx.n_bins);
  for (std::size_t w = 0; w < fx.n_windows; ++w) {
    for (std::size_t c = 0; c < fx.n_channels; ++c) {
      mf::compute_periodogram(fx.window(w, c), fx.fs_hz, fft, psd);
      const auto want = fx.ref_psd(w, c);
      const double peak = *std::max_element(want.begin(), want.end());
      for (std::size_t k = 0; k < psd.size(); ++k) {
        // Relative to the window's peak: bins far below it carry only FFT rounding.
        const double denom = std::max({std::abs(want[k]), 1e-6 * peak, 1e-300});
        EXPECT_LE(std::abs(psd[k] - want[k]) / denom, kSpectralRtol) << "window " << w << " ch " << c << " bin " << k;
      }
    }
  }
}

TEST(SpectralFeatures, MeanMedianPeakFrequencyAndTotalPowerMatchScipy) {
  const auto fx = FeatureFixture::load();
  myoexo::dsp::RealFft fft(fx.window_len);
  std::vector<double> psd(fx.window_len / 2 + 1);
  const double mnf_scale = fx.scale("MNF"), tp_scale = fx.scale("TP");
  for (std::size_t w = 0; w < fx.n_windows; ++w) {
    for (std::size_t c = 0; c < fx.n_channels; ++c) {
      mf::compute_periodogram(fx.window(w, c), fx.fs_hz, fft, psd);
      const auto s = mf::compute_spectral_features(psd, fx.fs_hz, fx.window_len);
      EXPECT_LE(feature_rel_error(s.mnf_hz, fx.ref(w, c, "MNF"), mnf_scale), kSpectralRtol) << w << "/" << c;
      EXPECT_LE(feature_rel_error(s.tp, fx.ref(w, c, "TP"), tp_scale), kSpectralRtol) << w << "/" << c;
      EXPECT_EQ(s.mdf_hz, fx.ref(w, c, "MDF")) << w << "/" << c;
      const auto want = fx.ref_psd(w, c);
      const double max_power = *std::max_element(want.begin(), want.end());
      const auto bin = static_cast<std::size_t>(std::lround(s.pkf_hz * fx.window_len / fx.fs_hz));
      ASSERT_LT(bin, want.size());
      EXPECT_GE(want[bin], max_power * (1.0 - kSpectralRtol)) << "PKF " << s.pkf_hz << " window " << w << "/" << c;
    }
  }
}

TEST(SpectralFeatures, TotalPowerEqualsHjorthActivityByParseval) {
  const auto fx = FeatureFixture::load();
  myoexo::dsp::RealFft fft(fx.window_len);
  std::vector<double> psd(fx.window_len / 2 + 1);
  for (std::size_t w = 0; w < fx.n_real; ++w) {
    mf::compute_periodogram(fx.window(w, 1), fx.fs_hz, fft, psd);
    const double tp = mf::compute_spectral_features(psd, fx.fs_hz, fx.window_len).tp;
    EXPECT_NEAR(tp, mf::compute_hjorth(fx.window(w, 1)).activity, 1e-12 * tp);
  }
}

TEST(SpectralFeatures, PureToneOnABinPeaksThereWithDcIgnored) {
  const std::size_t n = 256;
  const double fs = 1024.0;  // 4 Hz bins
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = 5.0 + std::sin(2.0 * std::numbers::pi * 100.0 * double(i) / fs);
  myoexo::dsp::RealFft fft(n);
  std::vector<double> psd(n / 2 + 1);
  mf::compute_periodogram(x, fs, fft, psd);
  const auto s = mf::compute_spectral_features(psd, fs, n);
  EXPECT_EQ(s.pkf_hz, 100.0);
  EXPECT_EQ(s.mdf_hz, 100.0);
  EXPECT_NEAR(s.mnf_hz, 100.0, 1e-9);
  EXPECT_NEAR(s.tp, 0.5, 1e-12);  // a unit sine's variance; the DC offset 5 is detrended away
}

TEST(SpectralFeatures, OddLengthWindowsDoubleEveryNonDcBin) {
  const std::size_t n = 7;
  const std::vector<double> x{0.3, -1.0, 2.0, 0.5, -0.7, 1.1, 0.0};
  myoexo::dsp::RealFft fft(n);
  std::vector<double> psd(n / 2 + 1);
  mf::compute_periodogram(x, 1.0, fft, psd);
  // Parseval with the odd-length folding: sum P * fs/N equals the population variance.
  double mu = 0, var = 0, total = 0;
  for (double v : x) mu += v / n;
  for (double v : x) var += (v - mu) * (v - mu) / n;
  for (double p : psd) total += p / n;
  EXPECT_NEAR(total, var, 1e-14);
  EXPECT_LT(psd[0], 1e-20);  // the mean is removed before the transform
}

TEST(SpectralFeatures, ConstantWindowsHaveNoPowerAtAll) {
  // 0.37 is not representable: a naive mean leaves a ~1e-17 residue whose "spectrum" would be noise.
  for (double level : {0.0, 0.37, -3.7, 12.3456}) {
    std::vector<double> x(250, level), psd(126);
    myoexo::dsp::RealFft fft(250);
    mf::compute_periodogram(x, 1000.0, fft, psd);
    for (double p : psd) EXPECT_EQ(p, 0.0) << level;
    const auto s = mf::compute_spectral_features(psd, 1000.0, 250);
    EXPECT_EQ(s.mnf_hz, 0.0);
    EXPECT_EQ(s.mdf_hz, 0.0);
    EXPECT_EQ(s.tp, 0.0);
    EXPECT_EQ(s.pkf_hz, 0.0);
  }
}
