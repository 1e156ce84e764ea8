#include "models/torch/frozen_cnn1d.hpp"

#include <algorithm>
#include <cmath>

#include <Eigen/Core>

namespace myoexo::models {

namespace {
using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MapMat = Eigen::Map<RowMat>;
using CMapMat = Eigen::Map<const RowMat>;
using MapVec = Eigen::Map<Eigen::VectorXf>;
using CMapVec = Eigen::Map<const Eigen::VectorXf>;
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
  std::size_t c = channels, len = window_length, max_pad = 0, max_col = 0, max_conv = 0;
  std::size_t max_act = channels * window_length;  // largest activation between layers
  for (const FrozenConvBlock& b : blocks) {
    if (b.in_channels != c || b.kernel % 2 == 0 || b.pool == 0 || b.out_channels == 0) return bad("conv shapes");
    if (b.weight.size() != b.out_channels * b.in_channels * b.kernel || b.bias.size() != b.out_channels)
      return bad("conv weight sizes");
    f.lengths_.push_back(len);
    max_pad = std::max(max_pad, c * (len + b.kernel - 1));
    max_col = std::max(max_col, c * b.kernel * len);
    max_conv = std::max(max_conv, b.out_channels * len);
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
  f.col_.assign(std::max<std::size_t>(max_col, 1), 0.0f);
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
    const std::size_t len = lengths_[bi], k = b.kernel, half = k / 2, plen = len + k - 1;
    // Zero-padded copy, then im2col: col[(ch*k + j), t] = pad[ch, t + j].
    for (std::size_t ch = 0; ch < c; ++ch) {
      float* p = pad_.data() + ch * plen;
      std::fill(p, p + half, 0.0f);
      std::copy(cur + ch * len, cur + (ch + 1) * len, p + half);
      std::fill(p + half + len, p + plen, 0.0f);
      for (std::size_t j = 0; j < k; ++j) std::copy(p + j, p + j + len, col_.data() + (ch * k + j) * len);
    }
    CMapMat w(b.weight.data(), Eigen::Index(b.out_channels), Eigen::Index(c * k));
    CMapMat col(col_.data(), Eigen::Index(c * k), Eigen::Index(len));
    MapMat y(conv_.data(), Eigen::Index(b.out_channels), Eigen::Index(len));
    y.noalias() = w * col;
    // Bias, then max-pool and ReLU fused (they commute: both monotone).
    const std::size_t lo = len / b.pool;
    for (std::size_t o = 0; o < b.out_channels; ++o) {
      const float* row = conv_.data() + o * len;
      float* dst = nxt + o * lo;
      const float bias = b.bias[o];
      for (std::size_t t = 0; t < lo; ++t) {
        float m = row[t * b.pool];
        for (std::size_t q = 1; q < b.pool; ++q) m = std::max(m, row[t * b.pool + q]);
        dst[t] = std::max(m + bias, 0.0f);
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
