// STFT/spectrogram vs scipy.signal.stft / spectrogram (Hann and Hamming; nperseg/noverlap 256/128,
// 100/60, 65/10; density and spectrum scaling) on the real recording (or synthetic when absent).
//
// Tolerance: |ours - scipy| <= 1e-6 * max(|scipy|, floor) with floor = 1e-6 * (largest |value| in that
// array): values more than a million times below the array's peak (e.g. the DC bin after constant
// detrend, ~1e-17 in both) are compared absolutely at 1e-12 of the peak.
// Layout: ours [channels x frames x bins], SciPy's [channels x bins x frames].
#include "dsp/stft.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "dsp/dsp_test_util.hpp"

namespace myoexo::dsp {
namespace {

using test::fixture;
using test::has_fixture;

struct Cfg {
  const char* name;
  std::size_t nperseg, noverlap;
};
const Cfg kCfgs[] = {{"a", 256, 128}, {"b", 100, 60}, {"c", 65, 10}};
const char* win_name(WindowType w) { return w == WindowType::hann ? "hann" : "hamming"; }

// Max relative error (with the floor described above) of ours [C x F x B] against scipy's [C x B x F].
double stft_error(const double* ours, std::size_t stride, const myoexo::test::NpyArray& ref, std::size_t C,
                  std::size_t F, std::size_t B) {
  double peak = 0.0;
  for (double v : ref.data) peak = std::max(peak, std::abs(v));
  const double floor = 1e-6 * peak;
  double worst = 0.0;
  for (std::size_t c = 0; c < C; ++c)
    for (std::size_t f = 0; f < F; ++f)
      for (std::size_t b = 0; b < B; ++b) {
        const double r = ref[(c * B + b) * F + f];
        const double o = ours[((c * F + f) * B + b) * stride];
        worst = std::max(worst, std::abs(o - r) / std::max(std::abs(r), floor));
      }
  return worst;
}

TEST(Stft, ComplexStftMatchesScipyStft) {
  if (!has_fixture("stft_x")) GTEST_SKIP() << "fixtures missing";
  auto x = fixture("stft_x");
  const std::size_t C = x.shape[0], n = x.shape[1];
  for (auto w : {WindowType::hann, WindowType::hamming})
    for (const auto& cfg : kCfgs)
      for (auto scaling : {SpectrumScaling::spectrum, SpectrumScaling::density}) {
        const std::string tag = std::string(win_name(w)) + "_" + cfg.name;
        SCOPED_TRACE(tag);
        StftConfig sc = StftConfig::scipy_stft(1000.0, w);
        sc.nperseg = cfg.nperseg;
        sc.noverlap = cfg.noverlap;
        sc.scaling = scaling;
        auto plan = StftPlan::create(sc, C, n);
        ASSERT_TRUE(plan.ok()) << plan.error().message();
        const std::string prefix = scaling == SpectrumScaling::spectrum ? "stft_" : "stftd_";
        auto re = fixture(prefix + tag + "_re"), im = fixture(prefix + tag + "_im");
        ASSERT_EQ(plan->frames(), re.shape[2]);
        ASSERT_EQ(plan->bins(), re.shape[1]);
        std::vector<std::complex<double>> out(plan->output_size());
        ASSERT_TRUE(plan->execute(x.data, out).ok());
        const double* p = reinterpret_cast<const double*>(out.data());
        const double e = std::max(stft_error(p, 2, re, C, plan->frames(), plan->bins()),
                                  stft_error(p + 1, 2, im, C, plan->frames(), plan->bins()));
        EXPECT_LT(e, 1e-6);
        RecordProperty(prefix + tag + "_rel_err", test::fmt_err(e));
        if (w == WindowType::hann && scaling == SpectrumScaling::spectrum) {
          auto t = fixture(std::string("stft_times_") + cfg.name), f = fixture(std::string("stft_freqs_") + cfg.name);
          auto tt = plan->times_s(), ff = plan->frequencies_hz();
          for (std::size_t k = 0; k < tt.size(); ++k) EXPECT_NEAR(tt[k], t[k], 1e-12);
          for (std::size_t k = 0; k < ff.size(); ++k) EXPECT_NEAR(ff[k], f[k], 1e-9);
        }
      }
}

TEST(Stft, PowerSpectrogramMatchesScipySpectrogram) {
  if (!has_fixture("stft_x")) GTEST_SKIP() << "fixtures missing";
  auto x = fixture("stft_x");
  const std::size_t C = x.shape[0], n = x.shape[1];
  for (auto w : {WindowType::hann, WindowType::hamming})
    for (const auto& cfg : kCfgs)
      for (auto scaling : {SpectrumScaling::density, SpectrumScaling::spectrum}) {
        const std::string tag = std::string(win_name(w)) + "_" +
                                (scaling == SpectrumScaling::density ? "density" : "spectrum") + "_" + cfg.name;
        SCOPED_TRACE(tag);
        StftConfig sc = StftConfig::scipy_spectrogram(1000.0, w);
        sc.nperseg = cfg.nperseg;
        sc.noverlap = cfg.noverlap;
        sc.scaling = scaling;
        auto plan = StftPlan::create(sc, C, n).value();
        auto ref = fixture("spec_" + tag);
        ASSERT_EQ(plan.frames(), ref.shape[2]);
        std::vector<double> out(plan.output_size());
        ASSERT_TRUE(plan.execute(x.data, out).ok());
        const double e = stft_error(out.data(), 1, ref, C, plan.frames(), plan.bins());
        EXPECT_LT(e, 1e-6);
        RecordProperty("spec_" + tag + "_rel_err", test::fmt_err(e));
        if (w == WindowType::hann && scaling == SpectrumScaling::density) {
          auto t = fixture(std::string("spec_times_") + cfg.name);
          auto tt = plan.times_s();
          for (std::size_t k = 0; k < tt.size(); ++k) EXPECT_NEAR(tt[k], t[k], 1e-12);
          // dB output is 10 log10(max(power, floor)) of the same numbers.
          sc.output = StftOutput::db;
          auto db_plan = StftPlan::create(sc, C, n).value();
          std::vector<double> db(out.size());
          ASSERT_TRUE(db_plan.execute(x.data, db).ok());
          for (std::size_t i = 0; i < db.size(); ++i)
            ASSERT_DOUBLE_EQ(db[i], 10.0 * std::log10(std::max(out[i], sc.db_floor)));
        }
      }
}

TEST(Stft, DefaultsAre256SamplesHalfOverlapHann) {
  StftConfig c;
  EXPECT_EQ(c.nperseg, 256u);
  EXPECT_EQ(c.noverlap, 128u);
  EXPECT_EQ(c.window, WindowType::hann);
  EXPECT_EQ(StftConfig::scipy_spectrogram(1000.0).noverlap, 128u);
  if (has_fixture("window_hann_256")) {
    auto w = make_window(WindowType::hann, 256);
    auto h = make_window(WindowType::hamming, 256);
    auto rw = fixture("window_hann_256"), rh = fixture("window_hamming_256");
    for (std::size_t i = 0; i < 256; ++i) {
      EXPECT_NEAR(w[i], rw[i], 1e-15);
      EXPECT_NEAR(h[i], rh[i], 1e-15);
    }
  }
}

std::vector<double> random_signal(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> N01;
  std::vector<double> x(n);
  for (auto& v : x) v = N01(rng);
  return x;
}

TEST(Stft, StreamingFramesAreBitIdenticalToOfflineForAnyChunking) {
  const std::size_t C = 3, n = 1000;
  auto cm = random_signal(C * n, 99);  // channel-major
  std::vector<double> il(C * n);
  for (std::size_t c = 0; c < C; ++c)
    for (std::size_t i = 0; i < n; ++i) il[i * C + c] = cm[c * n + i];
  for (bool spectrogram : {false, true}) {
    StftConfig sc = spectrogram ? StftConfig::scipy_spectrogram(500.0) : StftConfig::scipy_stft(500.0);
    sc.nperseg = 64;
    sc.noverlap = 24;
    auto plan = StftPlan::create(sc, C, n).value();
    std::vector<std::complex<double>> ref_c(plan.output_size());
    std::vector<double> ref_v(plan.output_size());
    ASSERT_TRUE(spectrogram ? plan.execute(cm, ref_v).ok() : plan.execute(cm, ref_c).ok());
    const auto times = plan.times_s();
    const std::size_t B = plan.bins(), F = plan.frames();
    for (std::uint64_t seed : {0u, 5u, 6u}) {
      SCOPED_TRACE("spectrogram " + std::to_string(spectrogram) + " seed " + std::to_string(seed));
      auto st = Stft::create(sc, C).value();
      std::size_t got = 0;
      auto on_frame = [&](const StftFrame& fr) {
        ASSERT_LT(fr.index, F);
        EXPECT_EQ(fr.index, got);
        EXPECT_DOUBLE_EQ(fr.time_s, times[fr.index]);
        for (std::size_t c = 0; c < C; ++c)
          for (std::size_t b = 0; b < B; ++b) {
            const std::size_t o = (c * F + fr.index) * B + b;
            if (spectrogram) {
              ASSERT_EQ(std::memcmp(&fr.values[c * B + b], &ref_v[o], sizeof(double)), 0);
            } else {
              ASSERT_EQ(std::memcmp(&fr.complex[c * B + b], &ref_c[o], sizeof(std::complex<double>)), 0);
            }
          }
        ++got;
      };
      std::mt19937_64 rng(seed);
      std::uniform_int_distribution<std::size_t> len(0, 150);
      for (std::size_t i = 0; i < n;) {
        const std::size_t k = std::min(n - i, seed == 0 ? 1 : len(rng));
        ASSERT_TRUE(st.push(std::span(il).subspan(i * C, k * C), on_frame).ok());
        i += k;
      }
      ASSERT_TRUE(st.finish(on_frame).ok());
      EXPECT_EQ(got, F);
    }
  }
}

TEST(Stft, BatchEqualsOneSignalAtATime) {
  const std::size_t batch = 3, C = 16, n = 4000;
  auto x = random_signal(batch * C * n, 4);
  auto plan = StftPlan::create(StftConfig::scipy_stft(1000.0), C, n).value();
  EXPECT_EQ(plan.frames(), 33u);  // SciPy: 4000 samples at 256/128 with boundary + padding
  std::vector<std::complex<double>> all(batch * plan.output_size()), one(plan.output_size());
  ASSERT_TRUE(plan.execute_batch(x, all).ok());
  for (std::size_t b = 0; b < batch; ++b) {
    ASSERT_TRUE(plan.execute(std::span(x).subspan(b * C * n, C * n), one).ok());
    EXPECT_TRUE(std::equal(one.begin(), one.end(), all.begin() + static_cast<std::ptrdiff_t>(b * one.size())));
  }
  std::vector<double> wrong(plan.output_size());
  EXPECT_FALSE(plan.execute(std::span(x).first(C * n), wrong).ok());  // complex config, real output
  EXPECT_FALSE(plan.execute(std::span(x).first(C * n - 1), one).ok());
}

TEST(Stft, InvalidConfigsAreErrors) {
  StftConfig c;
  c.noverlap = 256;
  EXPECT_FALSE(StftPlan::create(c, 1, 1000).ok());
  c = StftConfig{};
  c.nperseg = 1;
  c.noverlap = 0;
  EXPECT_FALSE(Stft::create(c, 1).ok());
  c = StftConfig{};
  EXPECT_FALSE(StftPlan::create(c, 1, 100).ok());  // shorter than nperseg
  EXPECT_FALSE(StftPlan::create(c, 0, 1000).ok());
  c.sample_rate_hz = 0.0;
  EXPECT_FALSE(StftPlan::create(c, 1, 1000).ok());
}

}  // namespace
}  // namespace myoexo::dsp
