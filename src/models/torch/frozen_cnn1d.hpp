// myoexo::models (models/torch) — a trained CNN1d frozen for batch-1 inference on the real-time path.
//
// Why a second forward pass next to LibTorch's: at batch 1 LibTorch falls back to im2col + the system's BLAS
// for Conv1d and spends most of its 0.2-0.7 ms (OpenBLAS / reference BLAS) in dispatch and GEMM set-up.
// Folding each BatchNorm into its convolution (w' = w * gamma / sqrt(var + eps), b' = (b - mean) * gamma /
// sqrt(var + eps) + beta) and running the direct convolution kernel of direct_conv1d.hpp (register-blocked over 4
// output channels x 4 SIMD vectors of time, no im2col copy) + a fused max-pool/ReLU on preallocated buffers gives the same
// probabilities (float32, tests compare to the LibTorch forward to 1e-5) in a fraction of the time, with no
// allocation and no exception after create().
#pragma once

#include <cstddef>
#include <vector>

#include "core/error.hpp"

namespace myoexo::models {

/// One Conv1d (stride 1, "same" zero padding kernel/2) with its BatchNorm folded in, then ReLU and
/// max-pool (kernel = stride = pool; pool 1 = none; odd tails dropped as in torch).
struct FrozenConvBlock {
  std::size_t in_channels = 0, out_channels = 0, kernel = 1, pool = 1;
  std::vector<float> weight;  ///< [out_channels x (in_channels * kernel)], row-major (torch's [O, I, K])
  std::vector<float> bias;    ///< [out_channels]
};

/// y = W x + b, optionally followed by ReLU (hidden layers); the last layer gives the logits.
struct FrozenDense {
  std::size_t in_features = 0, out_features = 0;
  std::vector<float> weight;  ///< [out_features x in_features], row-major
  std::vector<float> bias;    ///< [out_features]
  bool relu = false;
};

class FrozenCnn1d {
 public:
  FrozenCnn1d() = default;
  /// channels, window_length: the input window; mean/inv_std: per-channel standardisation (size channels,
  /// or empty for none). Validates that the shapes chain. Errors: invalid_argument.
  static Result<FrozenCnn1d> create(std::size_t channels, std::size_t window_length, std::vector<float> mean,
                                    std::vector<float> inv_std, std::vector<FrozenConvBlock> blocks,
                                    std::vector<FrozenDense> dense);

  std::size_t n_inputs() const noexcept { return channels_ * length_; }
  std::size_t n_classes() const noexcept { return dense_.empty() ? 0 : dense_.back().out_features; }

  /// One window [channels x window_length] channel-major -> n_classes() probabilities (softmax).
  /// Allocation-free; not thread-safe on one object (owns scratch).
  void predict_proba(const double* window, double* out_probs) noexcept;
  /// The raw outputs (no softmax: a one-output regressor's value), n_classes() of them. Allocation-free.
  void predict_outputs(const double* window, double* out) noexcept;
  /// Same on a float window; logits only (n_classes floats) when `probs` is false.
  void forward(const float* window, float* out, bool probs) noexcept;

 private:
  std::size_t channels_ = 0, length_ = 0;
  std::vector<float> mean_, inv_std_;
  std::vector<FrozenConvBlock> blocks_;
  std::vector<FrozenDense> dense_;
  std::vector<std::size_t> lengths_;  ///< input length of each block
  std::vector<std::size_t> padded_;   ///< each block's output length rounded up to whole time tiles
  /// Each block's weights regrouped for the kernel: [out/4][in_channels][kernel][4] (zero rows pad `out` to 4).
  std::vector<std::vector<float>> packed_;
  // Scratch, sized in create(): zero-padded input, conv output, dense ping-pong, float input.
  std::vector<float> pad_, conv_, act_a_, act_b_, in_f_, logits_;
};

}  // namespace myoexo::models
