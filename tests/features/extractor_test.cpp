// FeatureExtractor and extract_features: equal to the direct feature calls, stride/offset independent, no
// allocation per window, NaN input reported, bad specs rejected, and on real UCI windows (read by
// io::read_uci_lower_limb) equal to NumPy/SciPy.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>
#include <string>
#include <vector>

#include "features/feature_fixture.hpp"
#include "features/features.hpp"
#include "io/io.hpp"

// ---- allocation counter: every operator new in this test binary goes through here ----------------------------
namespace {
std::atomic<bool> g_count_allocs{false};
std::atomic<std::size_t> g_allocs{0};
void* counted_alloc(std::size_t n) {
  if (g_count_allocs.load(std::memory_order_relaxed)) g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
}  // namespace
void* operator new(std::size_t n) { return counted_alloc(n); }
void* operator new[](std::size_t n) { return counted_alloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace mf = myoexo::features;
using myoexo::test::feature_rel_error;
using myoexo::test::FeatureFixture;
using Names = std::vector<std::string>;

namespace {

mf::FeatureSpec all_spec(const FeatureFixture& fx) {
  mf::FeatureSpec spec;
  spec.names = {"ALL"};
  spec.thresholds = {fx.zc, fx.ssc, fx.wamp};
  spec.ar_order = fx.ar_order;
  spec.sample_rate_hz = fx.fs_hz;
  return spec;
}

// A deterministic multi-channel test signal, channel-major [channels x n].
std::vector<double> make_signal(std::size_t channels, std::size_t n, std::uint64_t seed) {
  std::vector<double> s(channels * n);
  std::uint64_t state = seed;
  for (auto& v : s) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    v = (static_cast<double>(state >> 11) / 9007199254740992.0 - 0.5) * 0.1;
  }
  return s;
}

}  // namespace

TEST(FeatureExtractor, RowEqualsTheDirectFeatureCallsBitForBit) {
  const auto fx = FeatureFixture::load();
  auto ex = mf::FeatureExtractor::create(all_spec(fx), fx.n_channels, fx.window_len);
  ASSERT_TRUE(ex.ok()) << ex.error().message();
  ASSERT_EQ(ex->feature_names(), myoexo::test::reference_feature_order());
  std::vector<double> row(ex->n_columns());
  myoexo::dsp::RealFft fft(fx.window_len);
  std::vector<double> psd(fx.n_bins), ar(4), ar_scratch(9), scratch(fx.window_len);
  for (std::size_t w = 0; w < fx.n_windows; ++w) {
    ASSERT_EQ(ex->compute(fx.window_block(w), fx.window_len, row.data()), mf::ComputeStatus::ok);
    for (std::size_t c = 0; c < fx.n_channels; ++c) {
      const auto x = fx.window(w, c);
      const double* r = row.data() + c * ex->n_features();
      EXPECT_EQ(r[0], mf::compute_mav(x));
      EXPECT_EQ(r[5], mf::compute_zc(x, fx.zc));
      EXPECT_EQ(r[13], mf::compute_hjorth(x).mobility);
      mf::compute_ar(x, ar, ar_scratch);
      EXPECT_EQ(r[17], ar[2]);
      mf::compute_periodogram(x, fx.fs_hz, fft, psd);
      EXPECT_EQ(r[20], mf::compute_spectral_features(psd, fx.fs_hz, fx.window_len).mdf_hz);
      EXPECT_EQ(r[28], mf::compute_tdpsd(x, scratch).wlf);
      // And the whole row against the SciPy reference (spectral tolerance, the looser of the two).
      for (std::size_t f = 0; f < ex->n_features(); ++f) {
        const auto& name = ex->feature_names()[f];
        if (name == "PKF") continue;  // ties on flat spectra; checked in spectral_test
        EXPECT_LE(feature_rel_error(r[f], fx.ref(w, c, name), fx.scale(name)), 1e-7)
            << name << " window " << w << " ch " << c;
      }
    }
  }
}

TEST(FeatureExtractor, StridedWindowsEqualContiguousCopies) {
  const std::size_t channels = 3, n = 1000, len = 128;
  const auto signal = make_signal(channels, n, 7);
  mf::FeatureSpec spec;
  spec.names = {"ALL"};
  spec.sample_rate_hz = 1000.0;
  auto ex = mf::FeatureExtractor::create(spec, channels, len);
  ASSERT_TRUE(ex.ok());
  std::vector<double> strided(ex->n_columns()), direct(ex->n_columns()), copy(channels * len);
  for (std::size_t start : {0u, 1u, 77u, 500u, 872u}) {
    ASSERT_EQ(ex->compute(signal.data() + start, n, strided.data()), mf::ComputeStatus::ok);
    for (std::size_t c = 0; c < channels; ++c)
      std::copy_n(signal.begin() + static_cast<std::ptrdiff_t>(c * n + start), len, copy.begin() + c * len);
    ASSERT_EQ(ex->compute(copy.data(), len, direct.data()), mf::ComputeStatus::ok);
    EXPECT_EQ(strided, direct) << "start " << start;
  }
}

TEST(FeatureExtractor, ComputeAllocatesNothingAfterCreate) {
  mf::FeatureSpec spec;
  spec.names = {"ALL"};
  spec.sample_rate_hz = 1000.0;
  const auto signal = make_signal(4, 250, 3);
  auto ex = mf::FeatureExtractor::create(spec, 4, 250);
  ASSERT_TRUE(ex.ok());
  std::vector<double> row(ex->n_columns());
  auto bad = signal;
  bad[300] = std::numeric_limits<double>::quiet_NaN();
  g_allocs = 0;
  g_count_allocs = true;
  for (int i = 0; i < 20; ++i) {
    (void)ex->compute(signal.data(), 250, row.data());
    (void)ex->compute(bad.data(), 250, row.data());
  }
  g_count_allocs = false;
  EXPECT_EQ(g_allocs.load(), 0u);
}

TEST(FeatureExtractor, NonFiniteInputIsCountedAndOnlyItsChannelBecomesNan) {
  mf::FeatureSpec spec;
  spec.names = {"TDAR", "RMS", "MNF"};
  spec.sample_rate_hz = 1000.0;
  auto signal = make_signal(4, 250, 11);
  auto ex = mf::FeatureExtractor::create(spec, 4, 250);
  ASSERT_TRUE(ex.ok());
  std::vector<double> clean(ex->n_columns()), dirty(ex->n_columns());
  ASSERT_EQ(ex->compute(signal.data(), 250, clean.data()), mf::ComputeStatus::ok);
  signal[2 * 250 + 17] = std::numeric_limits<double>::quiet_NaN();
  signal[2 * 250 + 18] = std::numeric_limits<double>::infinity();
  EXPECT_EQ(ex->compute(signal.data(), 250, dirty.data()), mf::ComputeStatus::nonfinite_input);
  const std::size_t nf = ex->n_features();
  for (std::size_t c = 0; c < 4; ++c)
    for (std::size_t f = 0; f < nf; ++f) {
      if (c == 2) EXPECT_TRUE(std::isnan(dirty[c * nf + f]));
      else EXPECT_EQ(dirty[c * nf + f], clean[c * nf + f]);
    }
  EXPECT_EQ(ex->nonfinite_windows(), 1u);
  EXPECT_EQ(ex->nonfinite_samples(), 2u);
  ex->reset();
  EXPECT_EQ(ex->nonfinite_windows(), 0u);
  EXPECT_EQ(ex->nonfinite_samples(), 0u);
}

TEST(FeatureExtractor, BadSpecsAreInvalidArgumentErrors) {
  mf::FeatureSpec ok;
  ok.sample_rate_hz = 1000.0;
  EXPECT_TRUE(mf::FeatureExtractor::create(ok, 4, 250).ok());
  auto fails = [](mf::FeatureSpec s, std::size_t ch, std::size_t len) {
    auto r = mf::FeatureExtractor::create(s, ch, len);
    return !r.ok() && r.error().code == myoexo::ErrorCode::invalid_argument;
  };
  EXPECT_TRUE(fails(ok, 0, 250));
  EXPECT_TRUE(fails(ok, 4, 2));
  auto s = ok;
  s.names = {"MAV", "BOGUS"};
  EXPECT_TRUE(fails(s, 4, 250));
  s = ok;
  s.names = {};
  EXPECT_TRUE(fails(s, 4, 250));
  s = ok;
  s.names = {"MNF"};
  s.sample_rate_hz = 0.0;
  EXPECT_TRUE(fails(s, 4, 250));
  s.sample_rate_hz = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(fails(s, 4, 250));
  s = ok;
  s.names = {"TDAR"};
  s.ar_order = 8;
  EXPECT_TRUE(fails(s, 4, 8));    // window must exceed the AR order
  EXPECT_TRUE(mf::FeatureExtractor::create(s, 4, 9).ok());
  s.ar_order = 0;
  EXPECT_TRUE(fails(s, 4, 250));
  s = ok;
  s.thresholds.zc = -0.1;
  EXPECT_TRUE(fails(s, 4, 250));
  s = ok;
  s.thresholds.wamp = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(fails(s, 4, 250));
}

TEST(FeatureExtractor, SpanComputeRejectsBuffersTooSmallForTheShape) {
  mf::FeatureSpec spec;
  auto ex = mf::FeatureExtractor::create(spec, 2, 10);
  ASSERT_TRUE(ex.ok());
  std::vector<double> data(30, 0.5), row(ex->n_columns(), -1.0);
  mf::ComputeStatus st{};
  EXPECT_TRUE(ex->compute(data, 20, row, st));
  EXPECT_EQ(st, mf::ComputeStatus::ok);
  EXPECT_FALSE(ex->compute(std::span(data).first(29), 20, row, st));
  EXPECT_FALSE(ex->compute(data, 20, std::span(row).first(row.size() - 1), st));
  EXPECT_FALSE(ex->compute(data, 5, row, st));  // channels would overlap
}

TEST(FeatureExtractor, CopiesAreIndependentAndComputeTheSame) {
  mf::FeatureSpec spec;
  spec.names = {"ALL"};
  spec.sample_rate_hz = 500.0;
  auto ex = mf::FeatureExtractor::create(spec, 2, 64);
  ASSERT_TRUE(ex.ok());
  auto signal = make_signal(2, 64, 5);
  mf::FeatureExtractor copy = ex.value();
  std::vector<double> a(ex->n_columns()), b(ex->n_columns());
  ASSERT_EQ(ex->compute(signal.data(), 64, a.data()), mf::ComputeStatus::ok);
  ASSERT_EQ(copy.compute(signal.data(), 64, b.data()), mf::ComputeStatus::ok);
  EXPECT_EQ(a, b);
  signal[3] = std::numeric_limits<double>::quiet_NaN();
  (void)copy.compute(signal.data(), 64, b.data());
  EXPECT_EQ(copy.nonfinite_windows(), 1u);
  EXPECT_EQ(ex->nonfinite_windows(), 0u);
}

TEST(FeatureExtractor, ColumnNamesAreChannelUnderscoreFeature) {
  mf::FeatureSpec spec;
  auto ex = mf::FeatureExtractor::create(spec, 2, 10);
  ASSERT_TRUE(ex.ok());
  EXPECT_EQ(ex->column_names(Names{"RF", "BF"}),
            (Names{"RF_MAV", "RF_WL", "RF_ZC", "RF_SSC", "BF_MAV", "BF_WL", "BF_ZC", "BF_SSC"}));
  EXPECT_EQ(ex->column_names().front(), "ch0_MAV");
}

TEST(ExtractFeatures, RowsAreTheWindowsOfTheRecordingAtTheirStarts) {
  myoexo::io::Recording rec;
  rec.sample_rate_hz = 1000.0;
  rec.channel_names = {"RF", "BF", "VM"};
  rec.channel_units = {"mV", "mV", "mV"};
  rec.n_samples = 1000;
  rec.samples = make_signal(3, 1000, 42);
  mf::FeatureSpec spec;
  spec.names = {"HTD", "MNF"};
  auto fm = mf::extract_features(rec, spec, 250, 50);
  ASSERT_TRUE(fm.ok()) << fm.error().message();
  ASSERT_EQ(fm->n_rows(), 16u);  // (1000 - 250) / 50 + 1
  EXPECT_EQ(fm->window_starts[3], 150u);
  EXPECT_EQ(fm->column_names.front(), "RF_MAV");
  EXPECT_EQ(fm->column_names.back(), "VM_MNF");
  EXPECT_EQ(fm->sample_rate_hz, 1000.0);
  spec.sample_rate_hz = 1000.0;
  auto ex = mf::FeatureExtractor::create(spec, 3, 250);
  ASSERT_TRUE(ex.ok());
  std::vector<double> row(ex->n_columns());
  for (std::size_t r = 0; r < fm->n_rows(); ++r) {
    (void)ex->compute(rec.samples.data() + fm->window_starts[r], rec.n_samples, row.data());
    EXPECT_TRUE(std::equal(row.begin(), row.end(), fm->row(r).begin())) << "row " << r;
  }
  // A channel subset, reordered, equals the corresponding columns.
  auto sub = mf::extract_features(rec, spec, 250, 50, Names{"VM", "RF"});
  ASSERT_TRUE(sub.ok());
  EXPECT_EQ(sub->column_names.front(), "VM_MAV");
  for (std::size_t r = 0; r < fm->n_rows(); ++r)
    for (std::size_t f = 0; f < 5; ++f) {
      EXPECT_EQ(sub->row(r)[f], fm->row(r)[10 + f]);
      EXPECT_EQ(sub->row(r)[5 + f], fm->row(r)[f]);
    }
}

TEST(ExtractFeatures, BadRequestsAreTypedErrors) {
  myoexo::io::Recording rec;
  rec.sample_rate_hz = 1000.0;
  rec.channel_names = {"RF"};
  rec.channel_units = {"mV"};
  rec.n_samples = 100;
  rec.samples = make_signal(1, 100, 1);
  rec.source_path = "mem.csv";
  mf::FeatureSpec spec;
  auto short_rec = mf::extract_features(rec, spec, 250, 50);
  ASSERT_FALSE(short_rec.ok());
  EXPECT_EQ(short_rec.error().code, myoexo::ErrorCode::empty);
  EXPECT_EQ(short_rec.error().file, "mem.csv");
  EXPECT_EQ(mf::extract_features(rec, spec, 50, 0).error().code, myoexo::ErrorCode::invalid_argument);
  EXPECT_EQ(mf::extract_features(rec, spec, 50, 10, Names{"XX"}).error().code, myoexo::ErrorCode::invalid_argument);
  spec.sample_rate_hz = 2000.0;
  EXPECT_EQ(mf::extract_features(rec, spec, 50, 10).error().code, myoexo::ErrorCode::mismatch);
  spec.sample_rate_hz = 0.0;
  rec.samples.pop_back();
  EXPECT_EQ(mf::extract_features(rec, spec, 50, 10).error().code, myoexo::ErrorCode::mismatch);
}

TEST(ExtractFeatures, NonFiniteSamplesAreCountedPerWindow) {
  myoexo::io::Recording rec;
  rec.sample_rate_hz = 1000.0;
  rec.channel_names = {"RF", "BF"};
  rec.channel_units = {"mV", "mV"};
  rec.n_samples = 300;
  rec.samples = make_signal(2, 300, 9);
  rec.samples[300 + 120] = std::numeric_limits<double>::quiet_NaN();  // BF sample 120
  mf::FeatureSpec spec;
  auto fm = mf::extract_features(rec, spec, 100, 50);  // windows at 0, 50, 100, 150, 200
  ASSERT_TRUE(fm.ok());
  EXPECT_EQ(fm->n_rows(), 5u);
  EXPECT_EQ(fm->nonfinite_windows, 2u);  // windows starting at 50 and 100 contain sample 120
  EXPECT_EQ(fm->nonfinite_samples, 2u);
  EXPECT_TRUE(std::isnan(fm->row(1)[4]));
  EXPECT_FALSE(std::isnan(fm->row(1)[0]));
  EXPECT_FALSE(std::isnan(fm->row(0)[4]));
}

TEST(ExtractFeatures, RealUciWindowsMatchTheScipyReferenceEndToEnd) {
  const auto root = myoexo::test::data_root();
  if (!root) GTEST_SKIP() << "data sets not found (set MYOEXO_DATA)";
  const auto fx = FeatureFixture::load();
  if (fx.n_real == 0) GTEST_SKIP() << "fixtures were generated without the real data";
  const std::vector<std::string> files{"uci-lower-limb/N_TXT/1Nmar.txt", "uci-lower-limb/A_TXT/3Asen.txt"};
  for (std::size_t fi = 0; fi < files.size(); ++fi) {
    // The io stage's reader; the fixture script applies the same row rule (incomplete/corrupt rows skipped),
    // and the exact sample comparison below proves both sides use the same rows.
    auto read = myoexo::io::read_uci_lower_limb(*root / files[fi]);
    ASSERT_TRUE(read.ok()) << read.error().message();
    const myoexo::io::Recording& rec = read.value();
    ASSERT_EQ(rec.sample_rate_hz, fx.fs_hz);
    const Names emg{"RF", "BF", "VM", "ST"};
    for (const auto& name : emg) ASSERT_GE(rec.channel_index(name), 0) << name;
    auto fm = mf::extract_features(rec, all_spec(fx), fx.window_len, 50, emg);
    ASSERT_TRUE(fm.ok()) << fm.error().message();
    for (std::size_t w = 0; w < fx.n_real; ++w) {
      if (static_cast<std::size_t>(fx.real_rows[2 * w]) != fi) continue;
      const auto start = static_cast<std::size_t>(fx.real_rows[2 * w + 1]);
      // Same rows on both sides: the parsed samples equal the fixture's window exactly.
      for (std::size_t c = 0; c < 4; ++c) {
        const auto ch = rec.channel(static_cast<std::size_t>(rec.channel_index(emg[c])));
        for (std::size_t i = 0; i < fx.window_len; ++i)
          ASSERT_EQ(ch[start + i], fx.window(w, c)[i]) << files[fi] << " " << emg[c] << " data row " << start + i;
      }
      ASSERT_EQ(start % 50, 0u);
      const auto row = fm->row(start / 50);
      const auto& names = myoexo::test::reference_feature_order();
      for (std::size_t c = 0; c < 4; ++c)
        for (std::size_t f = 0; f < names.size(); ++f) {
          if (names[f] == "PKF") continue;
          EXPECT_LE(feature_rel_error(row[c * names.size() + f], fx.ref(w, c, names[f]), fx.scale(names[f])), 1e-7)
              << files[fi] << " start " << start << " " << fm->column_names[c * names.size() + f];
        }
    }
  }
}
