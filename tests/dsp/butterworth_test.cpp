// Butterworth/notch design vs scipy.signal.butter / iirnotch (fixtures from scripts/fixtures_dsp.py).
//
// Tolerance: every coefficient within 1e-9 relative, measured as |ours - scipy| / max(|scipy|, 1e-6 * max|row|)
// (the floor only matters for coefficients that are exactly or nearly zero, e.g. b1 of a band-pass section).
#include "dsp/butterworth.hpp"

#include <gtest/gtest.h>

#include <cstdio>

#include "dsp/dsp_test_util.hpp"

namespace myoexo::dsp {
namespace {

using test::fixture;
using test::has_fixture;

constexpr double kTol = 1e-9;

double sos_rel_error(const SosDesign& d, const myoexo::test::NpyArray& ref) {
  double worst = 0.0;
  for (std::size_t s = 0; s < d.n_sections(); ++s) {
    double row_scale = 0.0;
    for (std::size_t k = 0; k < 6; ++k) row_scale = std::max(row_scale, std::abs(ref[s * 6 + k]));
    for (std::size_t k = 0; k < 6; ++k) {
      const double r = ref[s * 6 + k];
      worst = std::max(worst, std::abs(d.sections[s][k] - r) / std::max(std::abs(r), 1e-6 * row_scale));
    }
  }
  return worst;
}

// Bands symmetric about fs/4 (f1 + f2 == fs/2) have pole pairs of exactly equal modulus: SciPy orders those
// sections by last-bit rounding of its libm (see idx_worst in butterworth.cpp), so there the test checks the
// same sections in any order: denominators and normalised numerators as multisets (1e-9), and the same
// overall gain (1e-9 relative).
bool same_sections_any_order(const SosDesign& d, const myoexo::test::NpyArray& ref) {
  const std::size_t n = d.n_sections();
  std::vector<bool> used(n, false);
  double gain_ours = 1.0, gain_ref = 1.0;
  auto lead = [](const double* b) {
    for (int k = 0; k < 3; ++k)
      if (b[k] != 0.0) return b[k];
    return 1.0;
  };
  for (std::size_t s = 0; s < n; ++s) {
    const double* o = d.sections[s].data();
    const double go = lead(o);
    gain_ours *= go;
    bool found = false;
    for (std::size_t r = 0; r < n && !found; ++r) {
      if (used[r]) continue;
      const double* q = ref.data.data() + r * 6;
      const double gq = lead(q);
      bool match = true;
      for (int k = 0; k < 3; ++k) match = match && std::abs(o[k] / go - q[k] / gq) <= 1e-9 * std::max(1.0, std::abs(q[k] / gq));
      for (int k = 3; k < 6; ++k) match = match && std::abs(o[k] - q[k]) <= 1e-9 * std::max(1.0, std::abs(q[k]));
      if (match) {
        used[r] = true;
        found = true;
      }
    }
    if (!found) return false;
  }
  for (std::size_t r = 0; r < n; ++r) gain_ref *= [&] {
      const double* q = ref.data.data() + r * 6;
      for (int k = 0; k < 3; ++k)
        if (q[k] != 0.0) return q[k];
      return 1.0;
    }();
  return std::abs(gain_ours - gain_ref) <= 1e-9 * std::abs(gain_ref);
}

TEST(Butterworth, AllKindsOrders1To8MatchScipyButterSos) {
  if (!has_fixture("butter_params")) GTEST_SKIP() << "fixtures missing (run scripts/make_fixtures.py)";
  auto params = fixture("butter_params");
  const std::size_t K = params.shape[0];
  ASSERT_GT(K, 100u);
  const FilterKind kinds[] = {FilterKind::lowpass, FilterKind::highpass, FilterKind::bandpass, FilterKind::bandstop};
  double worst = 0.0;
  std::size_t ties = 0;
  for (std::size_t k = 0; k < K; ++k) {
    const int kind = static_cast<int>(params[k * 5]);
    const int order = static_cast<int>(params[k * 5 + 1]);
    const double f1 = params[k * 5 + 2], f2 = params[k * 5 + 3], fs = params[k * 5 + 4];
    auto d = kind < 2 ? design_butterworth(kinds[kind], order, f1, fs) : design_butterworth(kinds[kind], order, f1, f2, fs);
    ASSERT_TRUE(d.ok()) << d.error().message();
    auto ref = fixture("butter_sos_" + std::to_string(k));
    ASSERT_EQ(d->n_sections(), ref.shape[0]) << "case " << k;
    const double err = sos_rel_error(*d, ref);
    const bool symmetric_tie = kind >= 2 && std::abs(f1 + f2 - fs / 2.0) < 1e-9 * fs;
    if (symmetric_tie) {
      EXPECT_TRUE(same_sections_any_order(*d, ref)) << "case " << k;
      ++ties;
      continue;
    }
    EXPECT_LT(err, kTol) << "case " << k << ": kind " << kind << " order " << order << " " << f1 << "/" << f2
                         << " Hz @ " << fs;
    worst = std::max(worst, err);
    EXPECT_EQ(d->stages.size(), 1u);
    EXPECT_EQ(d->stages[0].order, order);
  }
  RecordProperty("worst_rel_error", [&] { char b[32]; std::snprintf(b, sizeof b, "%.3g", worst); return std::string(b); }());
  EXPECT_LT(ties, K / 3) << "most cases must be compared section by section";
}

TEST(Butterworth, NotchMatchesScipyIirnotch) {
  if (!has_fixture("notch_params")) GTEST_SKIP() << "fixtures missing";
  auto params = fixture("notch_params");
  for (std::size_t m = 0; m < params.shape[0]; ++m) {
    auto d = design_notch(params[m * 3], params[m * 3 + 1], params[m * 3 + 2]);
    ASSERT_TRUE(d.ok()) << d.error().message();
    ASSERT_EQ(d->n_sections(), 1u);
    EXPECT_LT(sos_rel_error(*d, fixture("notch_sos_" + std::to_string(m))), kTol) << "notch " << m;
  }
}

TEST(Butterworth, BandpassThenNotchCascadeIsOneDesign) {
  if (!has_fixture("cascade_sos")) GTEST_SKIP() << "fixtures missing";
  auto bp = design_bandpass(4, 20.0, 450.0, 1000.0);
  auto notch = design_notch(50.0, 30.0, 1000.0);
  ASSERT_TRUE(bp.ok() && notch.ok());
  auto both = cascade(*bp, *notch);
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->n_sections(), 5u);
  EXPECT_EQ(both->stages.size(), 2u);
  EXPECT_LT(sos_rel_error(*both, fixture("cascade_sos")), kTol);
  EXPECT_NE(both->describe().find("notch 50 Hz"), std::string::npos) << both->describe();
}

TEST(Butterworth, CascadeOfDifferentRatesIsAMismatch) {
  auto a = design_lowpass(2, 10.0, 1000.0);
  auto b = design_lowpass(2, 10.0, 2000.0);
  auto c = cascade(*a, *b);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().code, ErrorCode::mismatch);
}

TEST(Butterworth, InvalidArgumentsAreErrorsNotCrashes) {
  const auto expect_invalid = [](const Result<SosDesign>& r, const char* what) {
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument) << what;
    EXPECT_FALSE(r.error().reason.empty());
  };
  expect_invalid(design_lowpass(0, 10.0, 1000.0), "order 0");
  expect_invalid(design_lowpass(9, 10.0, 1000.0), "order 9");
  expect_invalid(design_lowpass(2, 500.0, 1000.0), "f == fs/2");
  expect_invalid(design_lowpass(2, 600.0, 1000.0), "f > fs/2");
  expect_invalid(design_lowpass(2, 0.0, 1000.0), "f == 0");
  expect_invalid(design_lowpass(2, 10.0, 0.0), "fs == 0");
  expect_invalid(design_lowpass(2, 10.0, -5.0), "fs < 0");
  expect_invalid(design_lowpass(2, std::nan(""), 1000.0), "f NaN");
  expect_invalid(design_bandpass(4, 100.0, 100.0, 1000.0), "low == high");
  expect_invalid(design_bandpass(4, 200.0, 100.0, 1000.0), "low > high");
  expect_invalid(design_bandpass(4, 20.0, 500.0, 1000.0), "high == fs/2");
  expect_invalid(design_bandstop(9, 20.0, 50.0, 1000.0), "bandstop order 9");
  expect_invalid(design_butterworth(FilterKind::bandpass, 2, 10.0, 1000.0), "band-pass with one edge");
  expect_invalid(design_butterworth(FilterKind::lowpass, 2, 10.0, 20.0, 1000.0), "low-pass with two edges");
  expect_invalid(design_notch(50.0, 0.0, 1000.0), "Q 0");
  expect_invalid(design_notch(500.0, 30.0, 1000.0), "notch at fs/2");
}

TEST(Butterworth, SteadyStateInitialConditionsMatchSosfiltZi) {
  if (!has_fixture("zi_bp4notch")) GTEST_SKIP() << "fixtures missing";
  auto d = cascade(*design_bandpass(4, 20.0, 450.0, 1000.0), *design_notch(50.0, 30.0, 1000.0));
  auto zi = steady_state_initial_conditions(*d);
  auto ref = fixture("zi_bp4notch");
  ASSERT_EQ(zi.size(), ref.size());
  double scale = 0.0;
  for (double v : ref.data) scale = std::max(scale, std::abs(v));
  for (std::size_t i = 0; i < zi.size(); ++i) EXPECT_NEAR(zi[i], ref[i], 1e-9 * scale) << i;
  auto lp = design_lowpass(3, 30.0, 1000.0);
  auto zl = steady_state_initial_conditions(*lp);
  auto rl = fixture("zi_lp3");
  for (std::size_t i = 0; i < zl.size(); ++i) EXPECT_NEAR(zl[i], rl[i], 1e-9 * std::max(1.0, std::abs(rl[i]))) << i;
}

}  // namespace
}  // namespace myoexo::dsp
