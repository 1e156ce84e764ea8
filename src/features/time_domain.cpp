// Time-domain feature math. Definitions are in features.hpp; the comments here say why the code is shaped
// the way it is. Two-pass (mean first) formulas are used wherever a variance is formed, because raw EMG may
// carry a DC offset and a one-pass sum of squares would cancel catastrophically (NumPy/SciPy are two-pass
// too, which is what the 1e-9 fixture tolerance relies on).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>

#include "features/features.hpp"
#include "features/internal.hpp"

namespace myoexo::features {

namespace {

double mean_of(std::span<const double> x) noexcept { return refined_mean(x); }

// Population variance of d1 (or d2 when `second`), without materializing the differences.
double diff_variance(std::span<const double> x, bool second) noexcept {
  const std::size_t n = x.size();
  auto d = [&](std::size_t i) {
    if (!second) return x[i + 1] - x[i];
    return (x[i + 2] - x[i + 1]) - (x[i + 1] - x[i]);  // numpy.diff twice: same rounding as the reference
  };
  const std::size_t m = second ? n - 2 : n - 1;
  double s = 0.0;
  for (std::size_t i = 0; i < m; ++i) s += d(i);
  const double mu = s / static_cast<double>(m);
  double q = 0.0;
  for (std::size_t i = 0; i < m; ++i) {
    const double e = d(i) - mu;
    q += e * e;
  }
  return q / static_cast<double>(m);
}

// sqrt(a / b), 0 when b is 0 (constant input: the ratio is 0/0 and we define the feature as 0).
double safe_sqrt_ratio(double a, double b) noexcept { return b > 0.0 ? std::sqrt(a / b) : 0.0; }

int sign_of(double v) noexcept { return (v > 0.0) - (v < 0.0); }

double finite_or_zero(double v) noexcept { return std::isfinite(v) ? v : 0.0; }

// Central moments m2, m3, m4 (population) and whether SciPy would call the window constant.
struct Moments {
  double m2 = 0.0, m3 = 0.0, m4 = 0.0;
  bool degenerate = true;
};

Moments central_moments(std::span<const double> x) noexcept {
  const double mu = mean_of(x);
  double s2 = 0.0, s3 = 0.0, s4 = 0.0;
  for (double v : x) {
    const double d = v - mu;
    const double d2 = d * d;
    s2 += d2;
    s3 += d2 * d;
    s4 += d2 * d2;
  }
  const double n = static_cast<double>(x.size());
  Moments m{s2 / n, s3 / n, s4 / n, false};
  // scipy.stats.skew/kurtosis: zero = m2 <= (np.finfo(float64).resolution * mean)**2, resolution = 1e-15.
  const double tol = 1e-15 * mu;
  m.degenerate = m.m2 <= tol * tol;
  return m;
}

}  // namespace

double compute_mav(std::span<const double> x) noexcept {
  double s = 0.0;
  for (double v : x) s += std::abs(v);
  return s / static_cast<double>(x.size());
}

double compute_rms(std::span<const double> x) noexcept {
  double s = 0.0;
  for (double v : x) s += v * v;
  return std::sqrt(s / static_cast<double>(x.size()));
}

double compute_var(std::span<const double> x) noexcept {
  double s = 0.0;
  for (double v : x) s += v * v;
  return s / static_cast<double>(x.size() - 1);
}

double compute_iav(std::span<const double> x) noexcept {
  double s = 0.0;
  for (double v : x) s += std::abs(v);
  return s;
}

double compute_wl(std::span<const double> x) noexcept {
  double s = 0.0;
  for (std::size_t i = 0; i + 1 < x.size(); ++i) s += std::abs(x[i + 1] - x[i]);
  return s;
}

double compute_zc(std::span<const double> x, double threshold) noexcept {
  // Branch-free counting: EMG crosses zero at random, so a data-dependent branch mispredicts often.
  std::size_t count = 0;
  for (std::size_t i = 0; i + 1 < x.size(); ++i) {
    // Signs multiplied, not samples: the product of two tiny samples underflows to -0.
    const bool crosses = sign_of(x[i]) * sign_of(x[i + 1]) < 0;
    const bool large = std::abs(x[i] - x[i + 1]) >= threshold;
    count += static_cast<std::size_t>(crosses && large);
  }
  return static_cast<double>(count);
}

double compute_ssc(std::span<const double> x, double threshold) noexcept {
  std::size_t count = 0;
  for (std::size_t i = 1; i + 1 < x.size(); ++i) {
    const double a = x[i] - x[i - 1];
    const double b = x[i] - x[i + 1];
    const bool extremum = sign_of(a) * sign_of(b) > 0;
    const bool large = std::max(std::abs(a), std::abs(b)) >= threshold;
    count += static_cast<std::size_t>(extremum && large);
  }
  return static_cast<double>(count);
}

double compute_wamp(std::span<const double> x, double threshold) noexcept {
  std::size_t count = 0;
  for (std::size_t i = 0; i + 1 < x.size(); ++i)
    count += static_cast<std::size_t>(std::abs(x[i + 1] - x[i]) >= threshold);
  return static_cast<double>(count);
}

double compute_log(std::span<const double> x) noexcept {
  // log(0) = -inf makes the mean -inf and exp(-inf) = 0: the documented value for a window holding a zero.
  double s = 0.0;
  for (double v : x) s += std::log(std::abs(v));
  return std::exp(s / static_cast<double>(x.size()));
}

double compute_dasdv(std::span<const double> x) noexcept {
  double s = 0.0;
  for (std::size_t i = 0; i + 1 < x.size(); ++i) {
    const double d = x[i + 1] - x[i];
    s += d * d;
  }
  return std::sqrt(s / static_cast<double>(x.size() - 1));
}

double compute_skew(std::span<const double> x) noexcept {
  const Moments m = central_moments(x);
  if (m.degenerate) return 0.0;
  return m.m3 / std::pow(m.m2, 1.5);
}

double compute_kurt(std::span<const double> x) noexcept {
  const Moments m = central_moments(x);
  if (m.degenerate) return 0.0;
  return m.m4 / (m.m2 * m.m2) - 3.0;
}

Hjorth compute_hjorth(std::span<const double> x) noexcept {
  const double mu = mean_of(x);
  double q = 0.0;
  for (double v : x) q += (v - mu) * (v - mu);
  const double var0 = q / static_cast<double>(x.size());
  const double var1 = diff_variance(x, false);
  const double var2 = diff_variance(x, true);
  Hjorth h;
  h.activity = var0;
  h.mobility = safe_sqrt_ratio(var1, var0);
  const double mobility_d1 = safe_sqrt_ratio(var2, var1);
  h.complexity = h.mobility > 0.0 ? mobility_d1 / h.mobility : 0.0;
  return h;
}

void compute_ar(std::span<const double> x, std::span<double> coeffs, std::span<double> scratch) noexcept {
  const std::size_t p = coeffs.size();
  const std::size_t n = x.size();
  for (double& a : coeffs) a = 0.0;
  if (p == 0 || p >= n || scratch.size() < 2 * p + 1) return;
  double* r = scratch.data();          // r[0..p]
  double* prev = scratch.data() + p + 1;  // previous order's coefficients
  const double mu = mean_of(x);
  for (std::size_t k = 0; k <= p; ++k) {
    double s = 0.0;
    for (std::size_t i = 0; i + k < n; ++i) s += (x[i] - mu) * (x[i + k] - mu);
    r[k] = s / static_cast<double>(n);
  }
  double err = r[0];
  // Constant window (SciPy's skew test on the variance r[0]): rounding leaves ~1e-34 "variance" that would
  // give arbitrary coefficients, so no AR structure, all zeros.
  const double tol = 1e-15 * mu;
  if (!(err > tol * tol)) return;
  for (std::size_t m = 1; m <= p; ++m) {
    double acc = r[m];
    for (std::size_t j = 1; j < m; ++j) acc -= coeffs[j - 1] * r[m - j];
    const double k = acc / err;
    for (std::size_t j = 0; j + 1 < m; ++j) prev[j] = coeffs[j];
    coeffs[m - 1] = k;
    for (std::size_t j = 1; j < m; ++j) coeffs[j - 1] = prev[j - 1] - k * prev[m - j - 1];
    err *= (1.0 - k * k);
    // A perfectly predictable window drives the error to 0; higher orders would divide by it.
    if (!(err > 0.0)) return;
  }
}

namespace {

// LibEMG's TD-PSD descriptor vector f(w) (see features.hpp), as an array in M0 M2 M4 SPARSI IRF WLF order.
std::array<double, 6> tdpsd_descriptors(std::span<const double> w) noexcept {
  const std::size_t n = w.size();
  const double nm1 = static_cast<double>(n - 1);
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, a1 = 0.0, a2 = 0.0;
  for (std::size_t i = 0; i < n; ++i) s0 += w[i] * w[i];
  for (std::size_t i = 0; i + 1 < n; ++i) {
    const double d = w[i + 1] - w[i];
    s1 += d * d;
    a1 += std::abs(d);
  }
  for (std::size_t i = 0; i + 2 < n; ++i) {
    const double d = (w[i + 2] - w[i + 1]) - (w[i + 1] - w[i]);
    s2 += d * d;
    a2 += std::abs(d);
  }
  auto normalise = [](double m) { return std::pow(m, 0.1) / 0.1; };
  const double m0 = normalise(std::sqrt(s0) / nm1);
  const double m2 = normalise(std::sqrt(s1 / nm1));
  const double m4 = normalise(std::sqrt(s2 / nm1));
  return {std::log(std::abs(m0)),
          std::log(std::abs(m0 - m2)),
          std::log(std::abs(m0 - m4)),
          std::log(std::abs(std::sqrt(std::abs((m0 - m2) * (m0 - m4))) / m0)),
          std::log(std::abs(m2 / std::sqrt(m0 * m4))),
          std::log(std::abs(std::sqrt(a1 / a2)))};
}

}  // namespace

Tdpsd compute_tdpsd(std::span<const double> x, std::span<double> scratch) noexcept {
  Tdpsd out;
  if (scratch.size() < x.size() || x.size() < 3) return out;
  // np.spacing(1) = DBL_EPSILON keeps log finite on exact zeros.
  constexpr double kEps = std::numeric_limits<double>::epsilon();
  for (std::size_t i = 0; i < x.size(); ++i) scratch[i] = std::log(x[i] * x[i] + kEps);
  const auto a = tdpsd_descriptors(x);
  const auto b = tdpsd_descriptors(scratch.first(x.size()));
  std::array<double, 6> o{};
  for (std::size_t k = 0; k < 6; ++k) o[k] = finite_or_zero(-2.0 * a[k] * b[k] / (a[k] * a[k] + b[k] * b[k]));
  out.m0 = o[0];
  out.m2 = o[1];
  out.m4 = o[2];
  out.sparsi = o[3];
  out.irf = o[4];
  out.wlf = o[5];
  return out;
}

}  // namespace myoexo::features
