#include "models/torch/frozen_cnn1d.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <Eigen/Core>

#include "models/torch/direct_conv1d.hpp"

namespace myoexo::models {

namespace {
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using CMapMat = Eigen::Map<const RowMat>;
using MapVec = Eigen::Map<Eigen::VectorXf>;
using CMapVec = Eigen::Map<const Eigen::VectorXf>;

std::size_t round_up(std::size_t n, std::size_t m) { return (n + m - 1) / m * m; }
constexpr std::size_t kOut = direct_conv1d::kOutBlock;
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
    const std::size_t padded = direct_conv1d::padded_length(len);
    f.padded_.push_back(padded);
    max_pad = std::max(max_pad, c * (padded + b.kernel - 1));
    max_conv = std::max(max_conv, round_up(b.out_channels, kOut) * padded);
    std::vector<float> packed = direct_conv1d::pack_weights(b.weight.data(), b.out_channels, c, b.kernel, false);
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
      direct_conv1d::conv(pad_.data(), stride, c, k, packed_[bi].data(), b.out_channels, conv_.data(), padded, b.bias.data(),
                  nxt, lo);
    } else {
      direct_conv1d::conv(pad_.data(), stride, c, k, packed_[bi].data(), b.out_channels, conv_.data(), padded, nullptr,
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

void FrozenCnn1d::predict_outputs(const double* window, double* out) noexcept {
  const std::size_t n = n_inputs(), k = n_classes();
  for (std::size_t i = 0; i < n; ++i) in_f_[i] = static_cast<float>(window[i]);
  forward(in_f_.data(), logits_.data(), false);
  for (std::size_t i = 0; i < k; ++i) out[i] = logits_[i];
}

}  // namespace myoexo::models
