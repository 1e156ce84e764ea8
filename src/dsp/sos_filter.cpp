#include "dsp/sos_filter.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "core/simd.hpp"

namespace myoexo::dsp {

namespace {

// One SIMD vector holds one sample of `kLanes` channels (GCC/Clang vector extensions, the target's width:
// core/simd.hpp).
#if defined(MYOEXO_DSP_LANES)
constexpr std::size_t kLanes = MYOEXO_DSP_LANES;
#else
constexpr std::size_t kLanes = core::kSimdBytes / sizeof(double);
#endif
typedef double Vec __attribute__((vector_size(kLanes * sizeof(double))));

// Frames per block: a block of one group (kLanes x kBlock doubles, 16 KiB with AVX-512) stays in L1
// while all its sections run over it.
constexpr std::size_t kBlock = 256;
// Sections run together in one pass over a block. Up to 4 keeps states and coefficients in registers;
// the sections' recurrences are independent chains, so the CPU overlaps them.
constexpr std::size_t kMaxPass = 4;

inline Vec load(const double* p) noexcept {
  Vec v;
  std::memcpy(&v, p, sizeof(Vec));
  return v;
}
inline void store(double* p, Vec v) noexcept { std::memcpy(p, &v, sizeof(Vec)); }
inline Vec splat(double x) noexcept {
  Vec v;
  for (std::size_t l = 0; l < kLanes; ++l) v[l] = x;
  return v;
}

// NS sections over `frames` frames: transposed direct form II, the recurrence of scipy's sosfilt:
//   y = b0 x + z0;  z0 = b1 x - a1 y + z1;  z1 = b2 x - a2 y.
// z0 is evaluated as (b1 x + z1) - a1 y so the loop-carried chain y -> z0 -> y is two fused
// multiply-adds (8 cycles), not four operations; the result differs from SciPy's order by rounding only.
template <std::size_t NS>
void run_sections(const double* coef, double* state, const double* in, std::size_t in_stride, double* out,
                  std::size_t out_stride, std::size_t frames) noexcept {
  Vec b0[NS], b1[NS], b2[NS], a1[NS], a2[NS], z0[NS], z1[NS];
  for (std::size_t s = 0; s < NS; ++s) {
    b0[s] = splat(coef[5 * s + 0]);
    b1[s] = splat(coef[5 * s + 1]);
    b2[s] = splat(coef[5 * s + 2]);
    a1[s] = splat(coef[5 * s + 3]);
    a2[s] = splat(coef[5 * s + 4]);
    z0[s] = load(state + (2 * s) * kLanes);
    z1[s] = load(state + (2 * s + 1) * kLanes);
  }
  for (std::size_t f = 0; f < frames; ++f) {
    Vec x = load(in + f * in_stride);
#pragma GCC unroll 8
    for (std::size_t s = 0; s < NS; ++s) {
      Vec y = b0[s] * x + z0[s];
      z0[s] = (b1[s] * x + z1[s]) - a1[s] * y;
      z1[s] = b2[s] * x - a2[s] * y;
      x = y;
    }
    store(out + f * out_stride, x);
  }
  for (std::size_t s = 0; s < NS; ++s) {
    store(state + (2 * s) * kLanes, z0[s]);
    store(state + (2 * s + 1) * kLanes, z1[s]);
  }
}

void run_pass(std::size_t ns, const double* coef, double* state, const double* in, std::size_t in_stride, double* out,
              std::size_t out_stride, std::size_t frames) noexcept {
  switch (ns) {
    case 1: run_sections<1>(coef, state, in, in_stride, out, out_stride, frames); break;
    case 2: run_sections<2>(coef, state, in, in_stride, out, out_stride, frames); break;
    case 3: run_sections<3>(coef, state, in, in_stride, out, out_stride, frames); break;
    default: run_sections<4>(coef, state, in, in_stride, out, out_stride, frames); break;
  }
}

Error mismatch(std::string reason) { return make_error(ErrorCode::mismatch, std::move(reason)); }

}  // namespace

std::size_t SosFilter::lanes() noexcept { return kLanes; }

Result<SosFilter> SosFilter::create(const SosDesign& design, std::size_t channels) {
  if (channels == 0) return make_error(ErrorCode::invalid_argument, "SosFilter: channels must be >= 1");
  if (design.sections.empty()) return make_error(ErrorCode::invalid_argument, "SosFilter: design has no sections");
  SosFilter f;
  f.channels_ = channels;
  f.n_sections_ = design.sections.size();
  f.n_groups_ = (channels + kLanes - 1) / kLanes;
  f.sample_rate_hz_ = design.sample_rate_hz;
  for (std::size_t s = 0; s < f.n_sections_; ++s) {
    const auto& c = design.sections[s];
    for (double v : c)
      if (!std::isfinite(v))
        return make_error(ErrorCode::invalid_argument, "SosFilter: section " + std::to_string(s) + " has a non-finite coefficient");
    if (c[3] == 0.0)
      return make_error(ErrorCode::invalid_argument, "SosFilter: section " + std::to_string(s) + " has a0 == 0");
    const double a0 = c[3];
    if (a0 == 1.0) {
      f.coef_.insert(f.coef_.end(), {c[0], c[1], c[2], c[4], c[5]});
    } else {
      f.coef_.insert(f.coef_.end(), {c[0] / a0, c[1] / a0, c[2] / a0, c[4] / a0, c[5] / a0});
    }
  }
  f.zi_unit_ = steady_state_initial_conditions(design);
  f.state_.assign(f.n_groups_ * f.n_sections_ * 2 * kLanes, 0.0);
  f.scratch_.assign(kBlock * kLanes, 0.0);
  return f;
}

void SosFilter::reset() noexcept { std::fill(state_.begin(), state_.end(), 0.0); }

void SosFilter::run_group(std::size_t group, const double* in, std::size_t in_stride, double* out,
                          std::size_t out_stride, std::size_t frames) noexcept {
  double* st = state_.data() + group * n_sections_ * 2 * kLanes;
  for (std::size_t s0 = 0; s0 < n_sections_; s0 += kMaxPass) {
    const std::size_t ns = std::min(kMaxPass, n_sections_ - s0);
    run_pass(ns, coef_.data() + 5 * s0, st + 2 * s0 * kLanes, in, in_stride, out, out_stride, frames);
    in = out;  // later passes work in place on the previous pass's output
    in_stride = out_stride;
  }
}

Status SosFilter::process(std::span<const double> in, std::span<double> out) noexcept {
  if (in.size() != out.size())
    return mismatch("SosFilter::process: input has " + std::to_string(in.size()) + " values, output " +
                    std::to_string(out.size()));
  if (in.size() % channels_ != 0)
    return mismatch("SosFilter::process: " + std::to_string(in.size()) + " values is not a whole number of " +
                    std::to_string(channels_) + "-channel frames");
  const std::size_t frames = in.size() / channels_;
  const std::size_t C = channels_;
  for (std::size_t f0 = 0; f0 < frames; f0 += kBlock) {
    const std::size_t nf = std::min(kBlock, frames - f0);
    for (std::size_t g = 0; g < n_groups_; ++g) {
      const std::size_t c0 = g * kLanes;
      const std::size_t nl = std::min(kLanes, C - c0);
      const double* src = in.data() + f0 * C + c0;
      double* dst = out.data() + f0 * C + c0;
      if (nl == kLanes) {
        run_group(g, src, C, dst, C, nf);  // full group: straight from/to the caller's frames
      } else {
        double* sc = scratch_.data();
        for (std::size_t f = 0; f < nf; ++f)
          for (std::size_t l = 0; l < kLanes; ++l) sc[f * kLanes + l] = l < nl ? src[f * C + l] : 0.0;
        run_group(g, sc, kLanes, sc, kLanes, nf);
        for (std::size_t f = 0; f < nf; ++f)
          for (std::size_t l = 0; l < nl; ++l) dst[f * C + l] = sc[f * kLanes + l];
      }
    }
  }
  return {};
}

Status SosFilter::process_channel_major(std::span<const double> in, std::span<double> out, std::size_t frames,
                                        std::size_t channel_stride) noexcept {
  if (channel_stride == 0) channel_stride = frames;
  if (channel_stride < frames) return mismatch("SosFilter::process_channel_major: channel_stride < frames");
  const std::size_t C = channels_;
  const std::size_t need = frames == 0 ? 0 : (C - 1) * channel_stride + frames;
  if (in.size() < need || out.size() < need)
    return mismatch("SosFilter::process_channel_major: " + std::to_string(C) + " channels x " +
                    std::to_string(frames) + " frames (stride " + std::to_string(channel_stride) + ") need " +
                    std::to_string(need) + " values, got " + std::to_string(in.size()) + " in, " +
                    std::to_string(out.size()) + " out");
  run_channel_major(in.data(), out.data(), frames, channel_stride, false);
  return {};
}

void SosFilter::run_channel_major(const double* in, double* out, std::size_t frames, std::size_t stride,
                                  bool reverse) noexcept {
  const std::size_t C = channels_;
  double* sc = scratch_.data();
  for (std::size_t f0 = 0; f0 < frames; f0 += kBlock) {
    const std::size_t nf = std::min(kBlock, frames - f0);
    for (std::size_t g = 0; g < n_groups_; ++g) {
      const std::size_t c0 = g * kLanes;
      const std::size_t nl = std::min(kLanes, C - c0);
      // Transpose this group's block into interleaved scratch, filter, transpose back. Frame-outer loops:
      // `nl` sequential streams in, one contiguous vector per frame out (and the reverse on the way back).
      // Reversed: block f0 of the reversed sequence is samples frames-1-f0 down to frames-f0-nf.
      const double* src[kLanes];
      double* dst[kLanes];
      for (std::size_t l = 0; l < kLanes; ++l) {
        const std::size_t c = c0 + std::min(l, nl - 1);  // padding lanes repeat the last channel (discarded)
        src[l] = in + c * stride;
        dst[l] = out + c * stride;
      }
      if (reverse) {
        const std::size_t top = frames - 1 - f0;
        for (std::size_t f = 0; f < nf; ++f)
          for (std::size_t l = 0; l < kLanes; ++l) sc[f * kLanes + l] = src[l][top - f];
      } else {
        for (std::size_t f = 0; f < nf; ++f)
          for (std::size_t l = 0; l < kLanes; ++l) sc[f * kLanes + l] = src[l][f0 + f];
      }
      run_group(g, sc, kLanes, sc, kLanes, nf);
      if (nl == kLanes) {  // full group: frame-outer, so the compiler transposes in registers
        if (reverse) {
          const std::size_t top = frames - 1 - f0;
          for (std::size_t f = 0; f < nf; ++f)
            for (std::size_t l = 0; l < kLanes; ++l) dst[l][top - f] = sc[f * kLanes + l];
        } else {
          for (std::size_t f = 0; f < nf; ++f)
            for (std::size_t l = 0; l < kLanes; ++l) dst[l][f0 + f] = sc[f * kLanes + l];
        }
      } else if (reverse) {
        const std::size_t top = frames - 1 - f0;
        for (std::size_t l = 0; l < nl; ++l)
          for (std::size_t f = 0; f < nf; ++f) dst[l][top - f] = sc[f * kLanes + l];
      } else {
        for (std::size_t l = 0; l < nl; ++l)
          for (std::size_t f = 0; f < nf; ++f) dst[l][f0 + f] = sc[f * kLanes + l];
      }
    }
  }
}

Status SosFilter::set_steady_state(std::span<const double> first_values) noexcept {
  if (first_values.size() != channels_)
    return mismatch("SosFilter::set_steady_state: need " + std::to_string(channels_) + " values, got " +
                    std::to_string(first_values.size()));
  reset();
  for (std::size_t c = 0; c < channels_; ++c) {
    const std::size_t g = c / kLanes, l = c % kLanes;
    for (std::size_t s = 0; s < n_sections_; ++s)
      for (std::size_t k = 0; k < 2; ++k)
        state_[((g * n_sections_ + s) * 2 + k) * kLanes + l] = zi_unit_[2 * s + k] * first_values[c];
  }
  return {};
}

std::vector<double> SosFilter::state(std::size_t channel) const {
  std::vector<double> zi(n_sections_ * 2, 0.0);
  if (channel >= channels_) throw std::out_of_range("SosFilter::state: channel out of range");
  const std::size_t g = channel / kLanes, l = channel % kLanes;
  for (std::size_t s = 0; s < n_sections_; ++s)
    for (std::size_t k = 0; k < 2; ++k) zi[2 * s + k] = state_[((g * n_sections_ + s) * 2 + k) * kLanes + l];
  return zi;
}

Status SosFilter::set_state(std::size_t channel, std::span<const double> zi) noexcept {
  if (channel >= channels_) return mismatch("SosFilter::set_state: channel " + std::to_string(channel) + " out of range");
  if (zi.size() != n_sections_ * 2)
    return mismatch("SosFilter::set_state: need " + std::to_string(n_sections_ * 2) + " values");
  const std::size_t g = channel / kLanes, l = channel % kLanes;
  for (std::size_t s = 0; s < n_sections_; ++s)
    for (std::size_t k = 0; k < 2; ++k) state_[((g * n_sections_ + s) * 2 + k) * kLanes + l] = zi[2 * s + k];
  return {};
}

std::size_t sosfiltfilt_padlen(const SosDesign& design) noexcept {
  std::size_t zb = 0, za = 0;
  for (const auto& s : design.sections) {
    zb += s[2] == 0.0;
    za += s[5] == 0.0;
  }
  return 3 * (2 * design.sections.size() + 1 - std::min(zb, za));
}

Status sosfiltfilt(const SosDesign& design, std::span<const double> in, std::size_t channels, std::span<double> out) {
  if (channels == 0) return make_error(ErrorCode::invalid_argument, "sosfiltfilt: channels must be >= 1");
  if (in.size() != out.size() || in.size() % channels != 0)
    return mismatch("sosfiltfilt: input has " + std::to_string(in.size()) + " values, output " +
                    std::to_string(out.size()) + ", channels " + std::to_string(channels));
  auto made = SosFilter::create(design, channels);
  if (!made) return made.error();
  SosFilter& filt = made.value();
  const std::size_t n = in.size() / channels;
  const std::size_t edge = sosfiltfilt_padlen(design);
  if (n <= edge)
    return make_error(ErrorCode::invalid_argument, "sosfiltfilt: the signal (" + std::to_string(n) +
                                                       " samples) must be longer than the padding (padlen " +
                                                       std::to_string(edge) + " samples)");
  const std::size_t C = channels;
  // Odd extensions (built before `out`, which may alias `in`, is written), interleaved [edge x C]:
  // front[j] = 2 x[0] - x[edge - j], back[k] = 2 x[n-1] - x[n-2-k].
  std::vector<double> front(edge * C), back(edge * C), x0(C);
  for (std::size_t c = 0; c < C; ++c) {
    const double* x = in.data() + c * n;
    for (std::size_t j = 0; j < edge; ++j) front[j * C + c] = 2.0 * x[0] - x[edge - j];
    for (std::size_t k = 0; k < edge; ++k) back[k * C + c] = 2.0 * x[n - 1] - x[n - 2 - k];
  }
  // Forward over [front, x, back], starting at steady state for the first extended sample.
  if (edge > 0) {
    std::copy_n(front.data(), C, x0.data());
    (void)filt.set_steady_state(x0);
    (void)filt.process(front, front);
  } else {
    for (std::size_t c = 0; c < C; ++c) x0[c] = in[c * n];
    (void)filt.set_steady_state(x0);
  }
  filt.run_channel_major(in.data(), out.data(), n, n, false);
  (void)filt.process(back, back);
  // Backward over [back, y] reversed (the front part's backward output is cut, so it is not computed),
  // starting at steady state for the last forward output.
  if (edge > 0) {
    std::copy_n(back.data() + (edge - 1) * C, C, x0.data());
    for (std::size_t j = 0, k = edge - 1; j < k; ++j, --k)
      std::swap_ranges(back.begin() + static_cast<std::ptrdiff_t>(j * C),
                       back.begin() + static_cast<std::ptrdiff_t>((j + 1) * C),
                       back.begin() + static_cast<std::ptrdiff_t>(k * C));
    (void)filt.set_steady_state(x0);
    (void)filt.process(back, back);
  } else {
    for (std::size_t c = 0; c < C; ++c) x0[c] = out[c * n + n - 1];
    (void)filt.set_steady_state(x0);
  }
  filt.run_channel_major(out.data(), out.data(), n, n, true);
  return {};
}

}  // namespace myoexo::dsp
