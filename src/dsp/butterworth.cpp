// Butterworth and notch design. The steps follow SciPy 1.10 (signal/_filter_design.py: buttap,
// lp2{lp,hp,bp,bs}_zpk, bilinear_zpk, _cplxreal, zpk2sos with 'nearest' pairing) so that the same poles
// end up in the same sections in the same order; the code is our own.
#include "dsp/butterworth.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <numeric>
#include <numbers>
#include <sstream>

namespace myoexo::dsp {

namespace {

using cd = std::complex<double>;
using Roots = std::vector<cd>;

constexpr double kPi = std::numbers::pi;

const char* kind_text(FilterKind k) noexcept {
  switch (k) {
    case FilterKind::lowpass: return "lowpass";
    case FilterKind::highpass: return "highpass";
    case FilterKind::bandpass: return "bandpass";
    case FilterKind::bandstop: return "bandstop";
    case FilterKind::notch: return "notch";
  }
  return "?";
}

bool is_real(cd v) { return v.imag() == 0.0; }  // np.isreal: exactly zero imaginary part

cd prod(const Roots& r) {
  cd acc(1.0, 0.0);
  for (cd v : r) acc *= v;
  return acc;
}

// _cplxreal: conjugate pairs -> one value with positive imaginary part (sorted by real part, then |imag|),
// followed by the real values (sorted). Returned concatenated, as zpk2sos uses it.
Roots cplxreal(Roots z) {
  if (z.empty()) return z;
  const double tol = 100.0 * std::numeric_limits<double>::epsilon();
  std::vector<std::size_t> idx(z.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
    if (z[a].real() != z[b].real()) return z[a].real() < z[b].real();
    return std::abs(z[a].imag()) < std::abs(z[b].imag());
  });
  Roots sorted;
  for (auto i : idx) sorted.push_back(z[i]);
  Roots zr, zp, zn;
  for (cd v : sorted) {
    if (std::abs(v.imag()) <= tol * std::abs(v)) {
      zr.emplace_back(v.real(), 0.0);
    } else if (v.imag() > 0) {
      zp.push_back(v);
    } else {
      zn.push_back(v);
    }
  }
  if (zp.size() != zn.size()) throw std::logic_error("cplxreal: complex value with no conjugate");
  // Runs of (nearly) equal real part are re-sorted by |imag| so that conjugates line up.
  const std::size_t m = zp.size();
  std::size_t i = 0;
  while (i < m) {
    std::size_t j = i;
    while (j + 1 < m && zp[j + 1].real() - zp[j].real() <= tol * std::abs(zp[j])) ++j;
    if (j > i) {
      auto by_imag = [](cd a, cd b) { return std::abs(a.imag()) < std::abs(b.imag()); };
      std::stable_sort(zp.begin() + static_cast<std::ptrdiff_t>(i), zp.begin() + static_cast<std::ptrdiff_t>(j + 1), by_imag);
      std::stable_sort(zn.begin() + static_cast<std::ptrdiff_t>(i), zn.begin() + static_cast<std::ptrdiff_t>(j + 1), by_imag);
    }
    i = j + 1;
  }
  Roots out;
  for (std::size_t k = 0; k < m; ++k) {
    if (std::abs(zp[k] - std::conj(zn[k])) > tol * std::abs(zn[k]))
      throw std::logic_error("cplxreal: complex value with no conjugate");
    out.push_back((zp[k] + std::conj(zn[k])) / 2.0);
  }
  out.insert(out.end(), zr.begin(), zr.end());
  return out;
}

// np.poly of up to two roots, real part (the roots are real or a conjugate pair).
std::array<double, 3> poly2(const Roots& r) {
  // np.poly convolves [1, -r0] with [1, -r1]: [1, -r0 - r1 ... ] computed as convolution terms.
  if (r.empty()) return {1.0, 0.0, 0.0};
  if (r.size() == 1) return {1.0, -r[0].real(), 0.0};
  cd c1 = -r[0] + -r[1];
  cd c2 = r[0] * r[1];
  return {1.0, c1.real(), c2.real()};
}

// _single_zpksos(z, p, 1): numerator/denominator right-aligned in their 3 slots.
std::array<double, 6> single_section(const Roots& z, const Roots& p) {
  std::array<double, 6> s{};
  auto b = poly2(z);
  auto a = poly2(p);
  const std::size_t nb = z.size() + 1, na = p.size() + 1;
  for (std::size_t i = 0; i < nb; ++i) s[3 - nb + i] = b[i];
  for (std::size_t i = 0; i < na; ++i) s[6 - na + i] = a[i];
  return s;
}

// The pole closest to the unit circle (np.argmin(abs(1 - abs(p)))). Distances equal to ~1e-12 relative are
// treated as a tie, won by the earlier pole (lower real part after cplxreal's sort). Such ties are
// mathematical (a band symmetric about fs/4 gives pole pairs p, -conj(p) of equal modulus): SciPy then
// decides by last-bit rounding of its platform's libm (NumPy's SVML on AVX-512 differs from glibc), which
// no portable code can reproduce; our choice is deterministic everywhere. Either choice is the same filter.
std::size_t idx_worst(const Roots& p) {
  std::size_t best = 0;
  double bv = std::abs(1.0 - std::abs(p[0]));
  for (std::size_t i = 1; i < p.size(); ++i) {
    double v = std::abs(1.0 - std::abs(p[i]));
    if (v < bv - 1e-12 * std::max(bv, 1e-300)) {
      bv = v;
      best = i;
    }
  }
  return best;
}

enum class Which { real, complex, any };

// _nearest_real_complex_idx: nearest element of `fro` to `to` with the requested realness.
std::size_t nearest_idx(const Roots& fro, cd to, Which which) {
  std::vector<std::size_t> order(fro.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return std::abs(fro[a] - to) < std::abs(fro[b] - to); });
  for (auto i : order) {
    if (which == Which::any) return i;
    if ((which == Which::real) == is_real(fro[i])) return i;
  }
  throw std::logic_error("zpk2sos: no root of the requested kind");
}

template <typename T>
T take(std::vector<T>& v, std::size_t i) {
  T x = v[i];
  v.erase(v.begin() + static_cast<std::ptrdiff_t>(i));
  return x;
}

std::size_t count_real(const Roots& r) {
  return static_cast<std::size_t>(std::count_if(r.begin(), r.end(), is_real));
}

// zpk2sos(z, p, k, pairing='nearest') for a digital filter.
std::vector<std::array<double, 6>> zpk2sos(Roots z, Roots p, double k) {
  if (z.empty() && p.empty()) return {{k, 0.0, 0.0, 1.0, 0.0, 0.0}};
  while (p.size() < z.size()) p.emplace_back(0.0, 0.0);
  while (z.size() < p.size()) z.emplace_back(0.0, 0.0);
  const std::size_t n_sections = (p.size() + 1) / 2;
  if (p.size() % 2 == 1) {
    p.emplace_back(0.0, 0.0);
    z.emplace_back(0.0, 0.0);
  }
  z = cplxreal(z);
  p = cplxreal(p);
  std::vector<std::array<double, 6>> sos(n_sections);
  for (std::size_t si = n_sections; si-- > 0;) {
    cd p1 = take(p, idx_worst(p));
    if (is_real(p1) && count_real(p) == 0) {
      cd z1 = take(z, nearest_idx(z, p1, Which::real));
      sos[si] = single_section({z1, 0.0}, {p1, 0.0});
    } else if (p.size() + 1 == z.size() && !is_real(p1) && count_real(p) == 1 && count_real(z) == 1) {
      cd z1 = take(z, nearest_idx(z, p1, Which::complex));
      sos[si] = single_section({z1, std::conj(z1)}, {p1, std::conj(p1)});
    } else {
      cd p2;
      if (is_real(p1)) {
        Roots reals;
        std::vector<std::size_t> where;
        for (std::size_t i = 0; i < p.size(); ++i)
          if (is_real(p[i])) {
            reals.push_back(p[i]);
            where.push_back(i);
          }
        p2 = take(p, where[idx_worst(reals)]);
      } else {
        p2 = std::conj(p1);
      }
      if (!z.empty()) {
        cd z1 = take(z, nearest_idx(z, p1, Which::any));
        if (!is_real(z1)) {
          sos[si] = single_section({z1, std::conj(z1)}, {p1, p2});
        } else if (!z.empty()) {
          cd z2 = take(z, nearest_idx(z, p1, Which::real));
          sos[si] = single_section({z1, z2}, {p1, p2});
        } else {
          sos[si] = single_section({z1}, {p1, p2});
        }
      } else {
        sos[si] = single_section({}, {p1, p2});
      }
    }
  }
  for (int i = 0; i < 3; ++i) sos[0][static_cast<std::size_t>(i)] *= k;
  return sos;
}

Error bad(std::string reason) { return make_error(ErrorCode::invalid_argument, std::move(reason)); }

std::string fmt(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// iirfilter(N, Wn, btype, ftype='butter', output='sos', fs=...) with Wn already validated.
SosDesign butter_sos(FilterKind kind, int order, double w_low, double w_high, double fs_hz) {
  // buttap
  Roots z, p;
  for (int m = -order + 1; m < order; m += 2) p.push_back(-std::exp(cd(0.0, 1.0) * (kPi * m / (2.0 * order))));
  double k = 1.0;
  // Pre-warp (digital design at fs = 2 as SciPy does after normalising by fs/2).
  const double fs = 2.0;
  auto warp = [&](double wn) { return 2.0 * fs * std::tan(kPi * wn / fs); };
  const std::size_t degree = p.size() - z.size();
  if (kind == FilterKind::lowpass) {
    const double wo = warp(w_low);
    for (auto& v : z) v *= wo;
    for (auto& v : p) v *= wo;
    k *= std::pow(wo, static_cast<double>(degree));
  } else if (kind == FilterKind::highpass) {
    const double wo = warp(w_low);
    Roots nz, np_;
    cd mz(1.0), mp(1.0);
    for (auto v : z) mz *= -v;
    for (auto v : p) mp *= -v;
    for (auto v : z) nz.push_back(wo / v);
    for (auto v : p) np_.push_back(wo / v);
    for (std::size_t i = 0; i < degree; ++i) nz.emplace_back(0.0, 0.0);
    k *= (mz / mp).real();
    z = nz;
    p = np_;
  } else {
    const double w0 = warp(w_low), w1 = warp(w_high);
    const double bw = w1 - w0, wo = std::sqrt(w0 * w1);
    if (kind == FilterKind::bandpass) {
      Roots zl, pl;
      for (auto v : z) zl.push_back(v * bw / 2.0);
      for (auto v : p) pl.push_back(v * bw / 2.0);
      Roots nz, np_;
      for (auto v : zl) nz.push_back(v + std::sqrt(v * v - wo * wo));
      for (auto v : zl) nz.push_back(v - std::sqrt(v * v - wo * wo));
      for (auto v : pl) np_.push_back(v + std::sqrt(v * v - wo * wo));
      for (auto v : pl) np_.push_back(v - std::sqrt(v * v - wo * wo));
      for (std::size_t i = 0; i < degree; ++i) nz.emplace_back(0.0, 0.0);
      k *= std::pow(bw, static_cast<double>(degree));
      z = nz;
      p = np_;
    } else {
      cd mz(1.0), mp(1.0);
      for (auto v : z) mz *= -v;
      for (auto v : p) mp *= -v;
      Roots zh, ph;
      for (auto v : z) zh.push_back((bw / 2.0) / v);
      for (auto v : p) ph.push_back((bw / 2.0) / v);
      Roots nz, np_;
      for (auto v : zh) nz.push_back(v + std::sqrt(v * v - wo * wo));
      for (auto v : zh) nz.push_back(v - std::sqrt(v * v - wo * wo));
      for (auto v : ph) np_.push_back(v + std::sqrt(v * v - wo * wo));
      for (auto v : ph) np_.push_back(v - std::sqrt(v * v - wo * wo));
      for (std::size_t i = 0; i < degree; ++i) nz.emplace_back(0.0, wo);
      for (std::size_t i = 0; i < degree; ++i) nz.emplace_back(0.0, -wo);
      k *= (mz / mp).real();
      z = nz;
      p = np_;
    }
  }
  // bilinear_zpk
  {
    const double fs2 = 2.0 * fs;
    const std::size_t deg = p.size() - z.size();
    Roots dz, dp, nz, np_;
    for (auto v : z) dz.push_back(fs2 - v);
    for (auto v : p) dp.push_back(fs2 - v);
    for (auto v : z) nz.push_back((fs2 + v) / (fs2 - v));
    for (auto v : p) np_.push_back((fs2 + v) / (fs2 - v));
    for (std::size_t i = 0; i < deg; ++i) nz.emplace_back(-1.0, 0.0);
    k *= (prod(dz) / prod(dp)).real();
    z = nz;
    p = np_;
  }
  SosDesign d;
  d.sections = zpk2sos(z, p, k);
  d.sample_rate_hz = fs_hz;
  return d;
}

Status check_rate(double fs_hz) {
  if (!(fs_hz > 0.0) || !std::isfinite(fs_hz)) return bad("sample_rate_hz must be > 0 and finite, got " + fmt(fs_hz));
  return {};
}

Status check_order(int order) {
  if (order < 1 || order > 8) return bad("Butterworth order must be 1..8, got " + std::to_string(order));
  return {};
}

Status check_freq(const char* what, double f_hz, double fs_hz) {
  if (!(f_hz > 0.0) || !(f_hz < fs_hz / 2.0))
    return bad(std::string(what) + " must satisfy 0 < f < sample_rate_hz/2 = " + fmt(fs_hz / 2.0) + ", got " + fmt(f_hz));
  return {};
}

}  // namespace

const char* filter_kind_name(FilterKind kind) noexcept { return kind_text(kind); }

std::string SosDesign::describe() const {
  std::ostringstream os;
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const auto& s = stages[i];
    if (i) os << " + ";
    os << kind_text(s.kind);
    if (s.kind == FilterKind::notch) {
      os << ' ' << s.low_hz << " Hz Q " << s.quality;
    } else {
      os << " order " << s.order << ' ' << s.low_hz;
      if (s.kind == FilterKind::bandpass || s.kind == FilterKind::bandstop) os << '-' << s.high_hz;
      os << " Hz";
    }
  }
  os << " @ " << sample_rate_hz << " Hz (" << sections.size() << " sections)";
  return os.str();
}

Result<SosDesign> design_butterworth(FilterKind kind, int order, double cutoff_hz, double sample_rate_hz) {
  if (kind != FilterKind::lowpass && kind != FilterKind::highpass)
    return bad(std::string("design_butterworth with one cutoff needs lowpass or highpass, got ") + kind_text(kind));
  if (auto s = check_rate(sample_rate_hz); !s) return s.error();
  if (auto s = check_order(order); !s) return s.error();
  if (auto s = check_freq("cutoff_hz", cutoff_hz, sample_rate_hz); !s) return s.error();
  SosDesign d = butter_sos(kind, order, 2.0 * cutoff_hz / sample_rate_hz, 0.0, sample_rate_hz);
  d.stages.push_back(DesignStage{kind, order, cutoff_hz, 0.0, 0.0, sample_rate_hz});
  return d;
}

Result<SosDesign> design_butterworth(FilterKind kind, int order, double low_hz, double high_hz,
                                     double sample_rate_hz) {
  if (kind != FilterKind::bandpass && kind != FilterKind::bandstop)
    return bad(std::string("design_butterworth with two edges needs bandpass or bandstop, got ") + kind_text(kind));
  if (auto s = check_rate(sample_rate_hz); !s) return s.error();
  if (auto s = check_order(order); !s) return s.error();
  if (auto s = check_freq("low_hz", low_hz, sample_rate_hz); !s) return s.error();
  if (auto s = check_freq("high_hz", high_hz, sample_rate_hz); !s) return s.error();
  if (!(low_hz < high_hz)) return bad("low_hz must be < high_hz, got " + fmt(low_hz) + " >= " + fmt(high_hz));
  SosDesign d = butter_sos(kind, order, 2.0 * low_hz / sample_rate_hz, 2.0 * high_hz / sample_rate_hz, sample_rate_hz);
  d.stages.push_back(DesignStage{kind, order, low_hz, high_hz, 0.0, sample_rate_hz});
  return d;
}

Result<SosDesign> design_notch(double centre_hz, double quality, double sample_rate_hz) {
  if (auto s = check_rate(sample_rate_hz); !s) return s.error();
  if (auto s = check_freq("centre_hz", centre_hz, sample_rate_hz); !s) return s.error();
  if (!(quality > 0.0) || !std::isfinite(quality)) return bad("notch quality must be > 0, got " + fmt(quality));
  // _design_notch_peak_filter(w0, Q, "notch", fs)
  double w0 = 2.0 * centre_hz / sample_rate_hz;
  double bw = w0 / quality * kPi;
  w0 = w0 * kPi;
  const double gb = 1.0 / std::sqrt(2.0);
  const double beta = (std::sqrt(1.0 - std::pow(gb, 2.0)) / gb) * std::tan(bw / 2.0);
  const double gain = 1.0 / (1.0 + beta);
  SosDesign d;
  d.sections.push_back({gain * 1.0, gain * (-2.0 * std::cos(w0)), gain * 1.0, 1.0, -2.0 * gain * std::cos(w0),
                        2.0 * gain - 1.0});
  d.sample_rate_hz = sample_rate_hz;
  d.stages.push_back(DesignStage{FilterKind::notch, 0, centre_hz, 0.0, quality, sample_rate_hz});
  return d;
}

Result<SosDesign> cascade(const SosDesign& first, const SosDesign& second) {
  if (first.sample_rate_hz != second.sample_rate_hz)
    return make_error(ErrorCode::mismatch, "cascade: designs are for different sample rates (" +
                                               fmt(first.sample_rate_hz) + " vs " + fmt(second.sample_rate_hz) + " Hz)");
  SosDesign d = first;
  d.sections.insert(d.sections.end(), second.sections.begin(), second.sections.end());
  d.stages.insert(d.stages.end(), second.stages.begin(), second.stages.end());
  return d;
}

std::vector<double> steady_state_initial_conditions(const SosDesign& design) {
  // sosfilt_zi: per section lfilter_zi(b, a) scaled by the DC gain of the sections before it.
  std::vector<double> zi(design.n_sections() * 2);
  double scale = 1.0;
  for (std::size_t s = 0; s < design.n_sections(); ++s) {
    auto c = design.sections[s];
    const double a0 = c[3];
    double b0 = c[0], b1 = c[1], b2 = c[2], a1 = c[4], a2 = c[5];
    if (a0 != 1.0) {
      b0 /= a0; b1 /= a0; b2 /= a0; a1 /= a0; a2 /= a0;
    }
    // Solve (I - A^T) zi = B with A the companion matrix: [[1+a1, -1], [a2, 1]] zi = [b1 - a1 b0, b2 - a2 b0].
    const double B0 = b1 - a1 * b0, B1 = b2 - a2 * b0;
    const double z0 = (B0 + B1) / (1.0 + a1 + a2);
    const double z1 = B1 - a2 * z0;
    zi[2 * s] = scale * z0;
    zi[2 * s + 1] = scale * z1;
    scale *= (c[0] + c[1] + c[2]) / (c[3] + c[4] + c[5]);
  }
  return zi;
}

}  // namespace myoexo::dsp
