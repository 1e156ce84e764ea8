#include "models/torch/frozen_cnn1d.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <Eigen/Core>

#include "core/simd.hpp"

namespace myoexo::models {

namespace {
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using CMapMat = Eigen::Map<const RowMat>;
using MapVec = Eigen::Map<Eigen::VectorXf>;
using CMapVec = Eigen::Map<const Eigen::VectorXf>;

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
void direct_conv(const float* in, std::size_t in_stride, std::size_t channels, std::size_t kernel, const float* w,
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
}  // namespace

Result<FrozenCnn1d> FrozenCnn1d::create(std::size_t channels, std::size_t window_length, std::vector<float> mean,
                                        std::vector<float> inv_std, std::vector<FrozenConvBlock> blocks,
                                        std::vector<FrozenDense> dense) {
  auto bad = [](std::string why) { return make_error(ErrorCode::invalid_argument, "FrozenCnn1d: " + why); };
  if (channels == 0 || window_length == 0) return bad("empty input");
  if (!(mean.empty() && inv_std.empty()) && (mean.size() != channels || inv_std.size() != channels))
    return bad("normalisation needs one value per channel");
  if (dense.empty()) return bad("needs an output layer");
  FrozenCnn1d f;
  f.channels_ = channels;
  f.length_ = window_length;
  std::size_t c = channels, len = window_length, max_pad = 0, max_conv = 0;
  std::size_t max_act = channels * window_length;  // largest activation between layers
  for (const FrozenConvBlock& b : blocks) {
    if (b.in_channels != c || b.kernel % 2 == 0 || b.pool == 0 || b.out_channels == 0) return bad("conv shapes");
    if (b.weight.size() != b.out_channels * b.in_channels * b.kernel || b.bias.size() != b.out_channels)
      return bad("conv weight sizes");
    f.lengths_.push_back(len);
    const std::size_t padded = round_up(len, kTile);
    f.padded_.push_back(padded);
    max_pad = std::max(max_pad, c * (padded + b.kernel - 1));
    max_conv = std::max(max_conv, round_up(b.out_channels, kOut) * padded);
    // [o][c][j] -> [o / kOut][c][j][o % kOut]; output channels past out_channels get zero weights.
    std::vector<float> packed(round_up(b.out_channels, kOut) * c * b.kernel, 0.0f);
    for (std::size_t o = 0; o < b.out_channels; ++o)
      for (std::size_t ci = 0; ci < c; ++ci)
        for (std::size_t j = 0; j < b.kernel; ++j)
          packed[((o / kOut) * c * b.kernel + ci * b.kernel + j) * kOut + o % kOut] =
              b.weight[(o * c + ci) * b.kernel + j];
    f.packed_.push_back(std::move(packed));
    c = b.out_channels;
    len /= b.pool;
    if (len == 0) return bad("pooling shrinks the window to nothing");
    max_act = std::max(max_act, c * len);
  }
  std::size_t features = c * len;
  for (const FrozenDense& d : dense) {
    if (d.in_features != features || d.weight.size() != d.in_features * d.out_features ||
        d.bias.size() != d.out_features)
      return bad("dense shapes");
    features = d.out_features;
    max_act = std::max(max_act, features);
  }
  f.mean_ = std::move(mean);
  f.inv_std_ = std::move(inv_std);
  f.blocks_ = std::move(blocks);
  f.dense_ = std::move(dense);
  f.pad_.assign(std::max<std::size_t>(max_pad, 1), 0.0f);
  f.conv_.assign(std::max<std::size_t>(max_conv, 1), 0.0f);
  f.act_a_.assign(max_act, 0.0f);
  f.act_b_.assign(max_act, 0.0f);
  f.in_f_.assign(channels * window_length, 0.0f);
  f.logits_.assign(features, 0.0f);
  return f;
}

void FrozenCnn1d::forward(const float* window, float* out, bool probs) noexcept {
  // act_a_ holds the current activation [c x len], channel-major.
  float* cur = act_a_.data();
  float* nxt = act_b_.data();
  const std::size_t n_in = channels_ * length_;
  if (mean_.empty()) {
    std::copy(window, window + n_in, cur);
  } else {
    for (std::size_t ch = 0; ch < channels_; ++ch)
      for (std::size_t i = 0; i < length_; ++i)
        cur[ch * length_ + i] = (window[ch * length_ + i] - mean_[ch]) * inv_std_[ch];
  }
  std::size_t c = channels_;
  for (std::size_t bi = 0; bi < blocks_.size(); ++bi) {
    const FrozenConvBlock& b = blocks_[bi];
    const std::size_t len = lengths_[bi], k = b.kernel, half = k / 2, padded = padded_[bi];
    const std::size_t stride = padded + k - 1;
    // Zero-padded copy ("same" padding, then zeros up to whole tiles): row ch holds pad[ch, t] = x[ch, t - half].
    for (std::size_t ch = 0; ch < c; ++ch) {
      float* p = pad_.data() + ch * stride;
      std::fill(p, p + half, 0.0f);
      std::copy(cur + ch * len, cur + (ch + 1) * len, p + half);
      std::fill(p + half + len, p + stride, 0.0f);
    }
    const std::size_t lo = len / b.pool;
    if (b.pool == 2) {  // the common case: pooling, bias and ReLU in the kernel's epilogue
      direct_conv(pad_.data(), stride, c, k, packed_[bi].data(), b.out_channels, conv_.data(), padded, b.bias.data(),
                  nxt, lo);
    } else {
      direct_conv(pad_.data(), stride, c, k, packed_[bi].data(), b.out_channels, conv_.data(), padded, nullptr,
                  nullptr, 0);
      // Bias, then max-pool and ReLU fused (they commute: both monotone).
      for (std::size_t o = 0; o < b.out_channels; ++o) {
        const float* row = conv_.data() + o * padded;
        float* dst = nxt + o * lo;
        const float bias = b.bias[o];
        for (std::size_t t = 0; t < lo; ++t) {
          float m = row[t * b.pool];
          for (std::size_t q = 1; q < b.pool; ++q) m = std::max(m, row[t * b.pool + q]);
          dst[t] = std::max(m + bias, 0.0f);
        }
      }
    }
    std::swap(cur, nxt);
    c = b.out_channels;
  }
  for (std::size_t di = 0; di < dense_.size(); ++di) {
    const FrozenDense& d = dense_[di];
    const bool last = di + 1 == dense_.size();
    float* dst = last ? out : nxt;
    CMapMat w(d.weight.data(), Eigen::Index(d.out_features), Eigen::Index(d.in_features));
    MapVec y(dst, Eigen::Index(d.out_features));
    y.noalias() = w * CMapVec(cur, Eigen::Index(d.in_features));
    y += CMapVec(d.bias.data(), Eigen::Index(d.out_features));
    if (d.relu)
      for (std::size_t i = 0; i < d.out_features; ++i) dst[i] = std::max(dst[i], 0.0f);
    if (!last) std::swap(cur, nxt);
  }
  if (probs) {
    const std::size_t k = n_classes();
    float mx = out[0];
    for (std::size_t i = 1; i < k; ++i) mx = std::max(mx, out[i]);
    float sum = 0.0f;
    for (std::size_t i = 0; i < k; ++i) sum += (out[i] = std::exp(out[i] - mx));
    for (std::size_t i = 0; i < k; ++i) out[i] /= sum;
  }
}

void FrozenCnn1d::predict_proba(const double* window, double* out_probs) noexcept {
  const std::size_t n = n_inputs(), k = n_classes();
  for (std::size_t i = 0; i < n; ++i) in_f_[i] = static_cast<float>(window[i]);
  forward(in_f_.data(), logits_.data(), true);
  for (std::size_t i = 0; i < k; ++i) out_probs[i] = logits_[i];
}

}  // namespace myoexo::models
