#include "models/torch/direct_conv1d.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "core/simd.hpp"

namespace myoexo::models::direct_conv1d {

namespace {
// The convolution kernel's tile: kOut output channels x kTime vectors of kLanes consecutive outputs, 16
// accumulators that stay in registers while the kernel runs over every input channel and tap (each step: kTime
// unaligned loads of the padded input, kOut broadcast weights, kOut * kTime multiply-adds). GCC vector
// extensions, so the width follows the target (AVX-512, AVX or SSE2) as in the filter kernel.
constexpr std::size_t kLanes = core::kSimdBytes / sizeof(float);
constexpr std::size_t kOut = 4, kTime = 4, kTile = kLanes * kTime;
typedef float Vec __attribute__((vector_size(kLanes * sizeof(float))));
static_assert(kTime % 2 == 0, "the pool-2 epilogue pairs the tile's vectors");

inline Vec load(const float* p) noexcept {
  Vec v;
  std::memcpy(&v, p, sizeof(Vec));
  return v;
}
inline void store(float* p, Vec v) noexcept { std::memcpy(p, &v, sizeof(Vec)); }

std::size_t round_up(std::size_t n, std::size_t m) { return (n + m - 1) / m * m; }

typedef int IVec __attribute__((vector_size(kLanes * sizeof(int))));

// Lane masks picking the even and the odd elements of two concatenated vectors (a pool of 2).
struct PairMasks {
  IVec even, odd;
  PairMasks() noexcept {
    for (std::size_t i = 0; i < kLanes; ++i) {
      even[i] = int(2 * i);
      odd[i] = int(2 * i + 1);
    }
  }
};
const PairMasks kPairs;

// out[o, t] = sum over c, j of w[o, c, j] * in[c, t + j] for o in [0, n_out4), t in [0, padded): `in` rows are
// `in_stride` apart and hold at least padded + kernel - 1 values; `w` is packed [n_out4/kOut][c][kernel][kOut].
// With `pooled` (pool 2), each tile leaves as relu(max(out[o, 2u], out[o, 2u + 1]) + bias[o]) for u < n_pooled,
// written to pooled[o * n_pooled + u] for o < n_out (the block's whole epilogue); else the raw sums go to `out`
// [n_out4 x padded].
void conv_impl(const float* in, std::size_t in_stride, std::size_t channels, std::size_t kernel, const float* w,
               std::size_t n_out, float* out, std::size_t padded, const float* bias, float* pooled,
               std::size_t n_pooled) noexcept {
  const std::size_t n_out4 = round_up(n_out, kOut);
  for (std::size_t ob = 0; ob < n_out4; ob += kOut) {
    const float* wb = w + ob * channels * kernel;
    for (std::size_t t0 = 0; t0 < padded; t0 += kTile) {
      Vec acc[kOut][kTime] = {};
      for (std::size_t c = 0; c < channels; ++c) {
        const float* x = in + c * in_stride + t0;
        const float* wc = wb + c * kernel * kOut;
        for (std::size_t j = 0; j < kernel; ++j) {
          Vec xv[kTime];
#pragma GCC unroll 4
          for (std::size_t i = 0; i < kTime; ++i) xv[i] = load(x + j + i * kLanes);
#pragma GCC unroll 4
          for (std::size_t o = 0; o < kOut; ++o) {
            const float wv = wc[j * kOut + o];
#pragma GCC unroll 4
            for (std::size_t i = 0; i < kTime; ++i) acc[o][i] += wv * xv[i];
          }
        }
      }
      if (pooled == nullptr) {
#pragma GCC unroll 4
        for (std::size_t o = 0; o < kOut; ++o)
#pragma GCC unroll 4
          for (std::size_t i = 0; i < kTime; ++i) store(out + (ob + o) * padded + t0 + i * kLanes, acc[o][i]);
        continue;
      }
      const Vec zero = {};
      for (std::size_t o = 0; o < kOut && ob + o < n_out; ++o) {
        const float b = bias[ob + o];
        for (std::size_t i = 0; i < kTime; i += 2) {
          const std::size_t u0 = (t0 + i * kLanes) / 2;
          if (u0 >= n_pooled) break;
          const Vec even = __builtin_shuffle(acc[o][i], acc[o][i + 1], kPairs.even);
          const Vec odd = __builtin_shuffle(acc[o][i], acc[o][i + 1], kPairs.odd);
          Vec m = (even > odd ? even : odd) + b;
          m = m > zero ? m : zero;
          float* dst = pooled + (ob + o) * n_pooled + u0;
          if (u0 + kLanes <= n_pooled) store(dst, m);
          else std::memcpy(dst, &m, (n_pooled - u0) * sizeof(float));
        }
      }
    }
  }
}

// The weight gradient's tile: kOut output channels x J taps, one accumulator vector each, running along time
// over every sample; per step kOut loads of the output gradient, J unaligned loads of the input, kOut * J
// multiply-adds. J <= 7 keeps the accumulators (28) and the loaded rows in AVX-512's 32 registers.
constexpr std::size_t kMaxTaps = 7;

inline float hsum(Vec v) noexcept {
  float s = 0.0f;
  for (std::size_t i = 0; i < kLanes; ++i) s += v[i];
  return s;
}

// rows[q] + n * row_strides[q] is output channel q's gradient for sample n (a stride of 0 repeats a zero row).
template <std::size_t J>
void weight_grad_tile(const float* const* rows, const std::size_t* row_strides, const float* x_row,
                      std::size_t x_sample_stride, std::size_t n_samples, std::size_t padded, float* dw,
                      std::size_t dw_row_stride) noexcept {
  Vec acc[kOut][J] = {};
  for (std::size_t n = 0; n < n_samples; ++n) {
    const float* x = x_row + n * x_sample_stride;
    const float* g0 = rows[0] + n * row_strides[0];
    const float* g1 = rows[1] + n * row_strides[1];
    const float* g2 = rows[2] + n * row_strides[2];
    const float* g3 = rows[3] + n * row_strides[3];
    for (std::size_t t = 0; t < padded; t += kLanes) {
      const Vec g[kOut] = {load(g0 + t), load(g1 + t), load(g2 + t), load(g3 + t)};
#pragma GCC unroll 7
      for (std::size_t j = 0; j < J; ++j) {
        const Vec xv = load(x + t + j);
#pragma GCC unroll 4
        for (std::size_t o = 0; o < kOut; ++o) acc[o][j] += g[o] * xv;
      }
    }
  }
  for (std::size_t o = 0; o < kOut; ++o)
    for (std::size_t j = 0; j < J; ++j) dw[o * dw_row_stride + j] = hsum(acc[o][j]);
}

using TileFn = void (*)(const float* const*, const std::size_t*, const float*, std::size_t, std::size_t, std::size_t,
                        float*, std::size_t) noexcept;
constexpr TileFn kTiles[kMaxTaps] = {weight_grad_tile<1>, weight_grad_tile<2>, weight_grad_tile<3>,
                                     weight_grad_tile<4>, weight_grad_tile<5>, weight_grad_tile<6>,
                                     weight_grad_tile<7>};

}  // namespace

std::size_t time_tile() noexcept { return kTile; }
std::size_t padded_length(std::size_t n) noexcept { return round_up(n, kTile); }

std::vector<float> pack_weights(const float* w, std::size_t out, std::size_t in, std::size_t kernel,
                                bool transpose_flip) {
  // The convolution this packs maps n_in channels to n_out: the layer's own, or its transpose for the input
  // gradient.
  const std::size_t n_out = transpose_flip ? in : out, n_in = transpose_flip ? out : in;
  std::vector<float> packed(round_up(n_out, kOut) * n_in * kernel, 0.0f);
  for (std::size_t o = 0; o < n_out; ++o)
    for (std::size_t c = 0; c < n_in; ++c)
      for (std::size_t j = 0; j < kernel; ++j) {
        const float v = transpose_flip ? w[(c * in + o) * kernel + (kernel - 1 - j)] : w[(o * in + c) * kernel + j];
        packed[((o / kOut) * n_in * kernel + c * kernel + j) * kOut + o % kOut] = v;
      }
  return packed;
}

void conv(const float* in, std::size_t in_stride, std::size_t channels, std::size_t kernel, const float* packed,
          std::size_t n_out, float* out, std::size_t padded, const float* bias, float* pooled,
          std::size_t n_pooled) noexcept {
  conv_impl(in, in_stride, channels, kernel, packed, n_out, out, padded, bias, pooled, n_pooled);
}

void pad_rows(const float* x, std::size_t n0, std::size_t n1, std::size_t rows, std::size_t len, std::size_t left,
              std::size_t stride, float* dst) noexcept {
  for (std::size_t r = n0 * rows; r < n1 * rows; ++r) {
    float* p = dst + r * stride;
    std::fill(p, p + left, 0.0f);
    std::memcpy(p + left, x + r * len, len * sizeof(float));
    std::fill(p + left + len, p + stride, 0.0f);
  }
}

void forward_batch(const float* xpad, std::size_t n0, std::size_t n1, std::size_t channels, std::size_t len,
                   std::size_t kernel, const float* packed, const float* bias, std::size_t out, float* scratch,
                   float* y) noexcept {
  const std::size_t padded = padded_length(len), stride = padded + kernel - 1;
  for (std::size_t n = n0; n < n1; ++n) {
    conv_impl(xpad + n * channels * stride, stride, channels, kernel, packed, out, scratch, padded, nullptr,
              nullptr, 0);
    for (std::size_t o = 0; o < out; ++o) {
      const float* src = scratch + o * padded;
      float* dst = y + (n * out + o) * len;
      const float b = bias != nullptr ? bias[o] : 0.0f;
      for (std::size_t t = 0; t < len; ++t) dst[t] = src[t] + b;
    }
  }
}

void weight_grad_batch(const float* xpad, const float* gypad, std::size_t n_samples, std::size_t channels,
                       std::size_t len, std::size_t kernel, std::size_t out, std::size_t o0, std::size_t o1, float* gw,
                       float* gb) {
  const std::size_t padded = padded_length(len), stride = padded + kernel - 1, half = kernel / 2;
  // Output channels past `out` in the last block read a row of zeros and write to a scratch block.
  std::vector<float> zeros(padded, 0.0f);
  std::vector<float> spill(kOut * channels * kernel);
  const std::size_t gy_sample_stride = out * stride, x_sample_stride = channels * stride;
  for (std::size_t ob = o0; ob < o1; ob += kOut) {
    const float* rows[kOut];
    std::size_t row_strides[kOut];
    for (std::size_t q = 0; q < kOut; ++q) {
      const bool real = ob + q < out;
      rows[q] = real ? gypad + (ob + q) * stride + half : zeros.data();
      row_strides[q] = real ? gy_sample_stride : 0;
    }
    const bool whole = ob + kOut <= out;
    float* dw = whole ? gw + ob * channels * kernel : spill.data();
    for (std::size_t c = 0; c < channels; ++c)
      for (std::size_t j0 = 0; j0 < kernel; j0 += kMaxTaps)
        kTiles[std::min(kMaxTaps, kernel - j0) - 1](rows, row_strides, xpad + c * stride + j0, x_sample_stride,
                                                     n_samples, padded, dw + c * kernel + j0, channels * kernel);
    if (!whole)
      std::copy(spill.begin(), spill.begin() + std::ptrdiff_t((out - ob) * channels * kernel),
                gw + ob * channels * kernel);
  }
  if (gb != nullptr) {
    for (std::size_t o = o0; o < std::min(o1, out); ++o) {
      double s = 0.0;
      for (std::size_t n = 0; n < n_samples; ++n) {
        const float* g = gypad + (n * out + o) * stride + half;
        float r = 0.0f;
        for (std::size_t t = 0; t < len; ++t) r += g[t];
        s += r;
      }
      gb[o] = static_cast<float>(s);
    }
  }
}

}  // namespace myoexo::models::direct_conv1d
